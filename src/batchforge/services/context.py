"""What every use case needs, built once per process."""

from __future__ import annotations

from dataclasses import dataclass, field

from batchforge.aws.recorder import CallRecorder
from batchforge.aws.session import AwsEnvironment
from batchforge.crypto import SecretBox
from batchforge.db.engine import Database
from batchforge.forge.waits import Pacing
from batchforge.settings import Settings


@dataclass
class AppContext:
    """Settings, the database, the secret box and the AWS environment of one process."""

    settings: Settings
    db: Database
    box: SecretBox
    aws: AwsEnvironment
    recorder: CallRecorder = field(default_factory=CallRecorder)
    pacing: Pacing = field(default_factory=Pacing)
    # This process as a lease owner among server replicas: ``<identity>/<incarnation>``,
    # the identity surviving a restart (services/worker_identity.py).  Empty: acquired.
    worker_id: str = ""

    def __post_init__(self) -> None:
        if not self.worker_id:
            from batchforge.services import worker_identity

            self.worker_id = worker_identity.acquire(
                self.settings.data_dir, self.settings.worker_id
            ).worker_id


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a user and the workspaces it may act in (id → role).

    ``run_id`` is set for a run token (``services/run_tokens.py``): the caller is that run's
    Nextflow, allowed only to report its trace (``user_id`` is then 0).  ``roles`` are the
    *effective* workspace roles (``services/accounts.effective_roles``); ``org_roles`` maps an
    organization id to ``owner`` | ``member`` | ``collaborator``; ``is_admin`` marks the system
    administrator.  ``workspace_orgs`` maps each workspace of ``roles`` and of ``shared`` to
    its organization; ``shared`` holds the SHARED workspaces of the organizations the caller
    is an owner or member of (not a collaborator) — what :mod:`~batchforge.services.authz`
    lets it use from its own workspaces.  ``permissions`` maps each workspace of ``roles`` to
    the permissions the caller holds there (the union of its roles', custom roles included:
    ``services/accounts.effective_access``); :func:`~batchforge.services.authz.holds` reads
    it, and falls back to the matrix for a workspace it lacks."""

    user_id: int
    user_name: str
    roles: dict[int, str]
    default_workspace_id: int | None
    run_id: str | None = None
    org_roles: dict[int, str] = field(default_factory=dict)
    is_admin: bool = False
    workspace_orgs: dict[int, int] = field(default_factory=dict)
    shared: frozenset[int] = frozenset()
    permissions: dict[int, frozenset[str]] = field(default_factory=dict)
