"""The seed document and the policies it contains, for the IAM tests and fixtures.

The seed lives in ``shared/reference`` beside the repository (CI clones the repo with
``shared/`` next to it).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from batchforge.iam.parse import iter_json_blocks

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED_PATH = (REPO_ROOT / "../shared/reference/seed-aws-batch-compute-environment.txt").resolve()


@cache
def seed_text() -> str:
    return SEED_PATH.read_text()


def seed_blocks() -> list[tuple[int, str]]:
    """(line in the seed, text) of every JSON-looking block of the seed document."""
    return list(iter_json_blocks(seed_text()))


def seed_full_policy_text() -> str:
    """The seed's full quick-start policy: the first big JSON block."""
    return seed_blocks()[0][1]


def seed_block_with(sid: str) -> str:
    """The block of the seed containing the statement with this exact Sid."""
    return next(text for _, text in seed_blocks() if f'"Sid": "{sid}"' in text)
