"""Identifiers of resources.

Seqera's string ids are short random base62 strings (at most 22 characters); ours too.
"""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_id(length: int = 14) -> str:
    """A random base62 id; 14 characters carry ~83 bits."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
