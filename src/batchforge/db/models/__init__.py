"""SQLAlchemy models, one module per area; every model is re-exported here.

Every resource belongs to a workspace, and every workspace to an organization.  Users reach a
workspace as participants (directly or through a team) or as organization owners.  API tokens
are stored as SHA-256 hashes only.  Secret material lives only in ``*_encrypted`` columns
(see :mod:`batchforge.crypto`).

A new area adds its module and one import line below, so Alembic sees its tables.
"""

from batchforge.db.models.accounts import (
    ApiToken,
    Organization,
    OrgMember,
    Team,
    TeamMember,
    User,
    Workspace,
    WorkspaceParticipant,
)
from batchforge.db.models.base import Base, IdType, UtcDateTime, utcnow
from batchforge.db.models.compute import ComputeEnv, ForgeResource
from batchforge.db.models.credentials import Credentials
from batchforge.db.models.data_links import DataLink, DataLinkCredentials, DataLinkDiscovery
from batchforge.db.models.health import PriceCache, RunHealth, TaskHealth
from batchforge.db.models.labels import Label, RunLabel
from batchforge.db.models.pipeline_schemas import PipelineSchema
from batchforge.db.models.runs import Pipeline, PipelineVersion, Run
from batchforge.db.models.secrets import PipelineSecret
from batchforge.db.models.server_meta import ServerMeta
from batchforge.db.models.trace import RunProcess, RunTask, RunToken, RunTrace
from batchforge.db.models.web_sessions import UserIdentity, WebSessionRow

__all__ = [
    "ApiToken",
    "Base",
    "ComputeEnv",
    "Credentials",
    "DataLink",
    "DataLinkCredentials",
    "DataLinkDiscovery",
    "ForgeResource",
    "IdType",
    "Label",
    "OrgMember",
    "Organization",
    "Pipeline",
    "PipelineSchema",
    "PipelineSecret",
    "PipelineVersion",
    "PriceCache",
    "Run",
    "RunHealth",
    "RunLabel",
    "RunProcess",
    "RunTask",
    "RunToken",
    "RunTrace",
    "ServerMeta",
    "TaskHealth",
    "Team",
    "TeamMember",
    "User",
    "UserIdentity",
    "UtcDateTime",
    "WebSessionRow",
    "Workspace",
    "WorkspaceParticipant",
    "utcnow",
]
