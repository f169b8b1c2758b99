"""A server process's worker identity: the name it holds leases under.

A lease owner is ``<identity>/<incarnation>``:

- the *identity* survives a restart.  By default it is ``w<node>-<slot>``: ``node`` is a random
  id kept in ``DATA_DIR/worker-node``, and ``slot`` the lowest number whose lock file
  (``DATA_DIR/workers/<slot>.lock``) this process could lock exclusively.  The operating system
  drops the lock when the process dies (even by kill -9), so two live processes on one data
  dir never hold the same identity, and a restarted process gets its old one back.
  ``BATCHFORGE_WORKER_ID`` names the identity instead (unique among live replicas: it is
  locked the same way, so two processes sharing a data dir refuse to share it);
- the *incarnation* is random per process start.

Holding an identity therefore proves that every earlier incarnation of it is dead, so work
leased by one of them is taken back at once (:func:`earlier_incarnation`) instead of after its
lease expires.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import and_, false, func

from batchforge.errors import InvalidInput

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX system
    fcntl = None  # type: ignore[assignment]

SEPARATOR = "/"
MAX_SLOTS = 64
VALID_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")

# Lock files stay open (locked) for the life of the process.
_held: list[IO[str]] = []


@dataclass(frozen=True)
class WorkerIdentity:
    """``identity`` survives restarts; ``worker_id`` (identity/incarnation) is this process."""

    identity: str
    incarnation: str

    @property
    def worker_id(self) -> str:
        return f"{self.identity}{SEPARATOR}{self.incarnation}"


def _try_lock(path: Path) -> IO[str] | None:
    handle = path.open("a+")
    if fcntl is None:  # pragma: no cover - no advisory locks: nothing better to do
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def _node_id(data_dir: Path) -> str:
    path = data_dir / "worker-node"
    try:
        node = path.read_text().strip()
    except FileNotFoundError:
        node = ""
    if not re.fullmatch(r"[0-9a-f]{10}", node):
        node = secrets.token_hex(5)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(node + "\n")
        try:
            os.link(temporary, path)  # first writer wins when two start at once
        except FileExistsError:
            node = path.read_text().strip()
        finally:
            temporary.unlink()
    return node


def acquire(data_dir: Path, configured: str | None = None) -> WorkerIdentity:
    """Take this process's identity (see the module docstring); a 400-style error naming
    ``BATCHFORGE_WORKER_ID`` when that identity is invalid or held by a live process."""
    workers = data_dir / "workers"
    workers.mkdir(parents=True, exist_ok=True)
    incarnation = secrets.token_hex(4)
    if configured:
        if not VALID_ID.match(configured):
            raise InvalidInput(
                "BATCHFORGE_WORKER_ID: use 1-40 letters, digits, '.', '_' or '-'.",
                field="BATCHFORGE_WORKER_ID",
            )
        handle = _try_lock(workers / f"id-{configured}.lock")
        if handle is None:
            raise InvalidInput(
                f"BATCHFORGE_WORKER_ID: '{configured}' is in use by another running process "
                f"on the data dir {data_dir}.",
                field="BATCHFORGE_WORKER_ID",
                hint="Give each server replica its own worker id (or leave it unset).",
            )
        _held.append(handle)
        return WorkerIdentity(configured, incarnation)
    node = _node_id(data_dir)
    for slot in range(MAX_SLOTS):
        handle = _try_lock(workers / f"{slot}.lock")
        if handle is not None:
            _held.append(handle)
            return WorkerIdentity(f"w{node}-{slot}", incarnation)
    # Every slot taken (many contexts in one test process): a one-off identity.
    return WorkerIdentity(f"w{node}-x{secrets.token_hex(3)}", incarnation)


def earlier_incarnation(column: Any, worker_id: str) -> Any:
    """SQL condition: ``column`` (a lease owner) is another incarnation of ``worker_id``'s
    identity -- a process that has died, since this one holds the identity now."""
    identity, separator, _ = worker_id.rpartition(SEPARATOR)
    if not separator or not identity:
        return false()  # an owner without an identity (e.g. a test's name): nothing to take back
    prefix = identity + SEPARATOR
    return and_(
        column.is_not(None),
        func.substr(column, 1, len(prefix)) == prefix,
        column != worker_id,
    )
