"""Typed settings: one object, read from ``BATCHFORGE_*`` environment variables.

Every field is documented here and in the README.  Nothing else in the project reads
``os.environ`` for batchforge settings; code receives a :class:`Settings` instance.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/batchforge``, else ``~/.local/share/batchforge``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "batchforge"


class Settings(BaseSettings):
    """batchforge server and CLI settings (environment prefix ``BATCHFORGE_``)."""

    model_config = SettingsConfigDict(env_prefix="BATCHFORGE_", extra="ignore")

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Directory for the SQLite database, the encryption key and the admin token.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL. Default: SQLite file batchforge.db in the data dir. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/db",
    )
    host: str = Field(default="127.0.0.1", description="Address the API server binds to.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port of the API server.")
    public_url: str | None = Field(
        default=None,
        description="URL at which clients and head jobs reach this server. "
        "Default: http://HOST:PORT",
    )
    encryption_key: SecretStr | None = Field(
        default=None,
        description="Base64 32-byte key encrypting secrets at rest. When absent, a key is "
        "generated on first start into DATA_DIR/encryption.key (mode 0600).",
    )
    aws_mode: Literal["local", "aws"] = Field(
        default="local",
        description="'local': start the embedded AWS emulator and talk only to it. "
        "'aws': real AWS (or AWS_ENDPOINT_URL / BATCHFORGE_AWS_ENDPOINT_URL).",
    )
    aws_endpoint_url: str | None = Field(
        default=None,
        description="In 'aws' mode, an endpoint to use instead of AWS's (e.g. an emulator "
        "started with `batchforge local-aws`).",
    )
    local_aws_port: int = Field(
        default=0, ge=0, le=65535, description="Port of the embedded emulator; 0 picks a free one."
    )
    default_region: str = Field(default="us-east-1", description="Region used when none is given.")
    trace_aws: bool = Field(default=False, description="Log every AWS call (secrets redacted).")
    worker_id: str | None = Field(
        default=None,
        description="This server's worker identity, under which it leases work; it survives "
        "restarts so a restarted server resumes its own work at once.  Default: one kept in "
        "the data dir (a slot per running process).  Must be unique among live replicas.",
    )
    forge_prefix: str = Field(default="TowerForge-", description="Name prefix of forged resources.")
    # The official nextflow/nextflow image, pulled from Seqera's public registry rather than
    # Docker Hub, which rate-limits anonymous pulls per IP (every instance behind one NAT
    # gateway shares the limit).  Nextflow's release pushes the same image to both:
    # nextflow-io/nextflow docker/Makefile, target `release` (v24.10.5):
    #   docker push nextflow/nextflow:${version}
    #   docker push public.cr.seqera.io/nextflow/nextflow:${version}
    launcher_image: str = Field(
        default="public.cr.seqera.io/nextflow/nextflow:24.10.5",
        description="Container image of the Nextflow head job (the launcher).  Default: the "
        "official image from Seqera's public registry (the same as Docker Hub's "
        "nextflow/nextflow, without Docker Hub's anonymous pull limits); set your own ECR "
        "mirror here for private subnets without internet access.",
    )
    submit_jobs_per_second: float = Field(
        default=50.0, gt=0, description="SubmitJob calls per second at most (AWS: 50 per account)."
    )
    tracker_interval: float = Field(
        default=10.0, gt=0, description="Seconds between two polls of active runs in AWS Batch."
    )
    secrets_sweep_interval: float = Field(
        default=3600.0,
        gt=0,
        description="Seconds between two sweeps of Secrets Manager for run secrets whose run "
        "has ended (ListSecrets per credentials and region).",
    )
    trace_token_delivery: Literal["secret", "environment", "off"] = Field(
        default="secret",
        description="How a launched run's head job gets its per-run trace token "
        "(TOWER_ACCESS_TOKEN, which lets Nextflow report tasks and progress).  'secret': as an "
        "AWS Secrets Manager secret read by ECS through the job definition (needs an execution "
        "role and secretsmanager:CreateSecret); where that cannot be done the run reports no "
        "trace and its messages say why.  'environment': the same, but where the secret "
        "cannot be made the token is a plain variable of the head job, readable by anyone "
        "allowed batch:DescribeJobs until the run ends.  'off': no token, no trace.",
    )
    stale_after_minutes: float = Field(
        default=10.0,
        gt=0,
        description="Minutes without any report from Nextflow (heartbeats come every minute) "
        "after which a traced run is marked stale, with why; a run launched elsewhere is "
        "then shown UNKNOWN until it reports again.",
    )
    runnable_after_minutes: float = Field(
        default=10.0,
        gt=0,
        description="Minutes a task may wait in AWS Batch (SUBMITTED in the trace) before "
        "batchforge explains why from its Batch job and compute environment.",
    )
    price_cache_seconds: float = Field(
        default=86400.0,
        gt=0,
        description="How long an on-demand price from the AWS Price List is reused (Spot "
        "prices: an hour at most).",
    )
    tag_secrets: bool = Field(
        default=False,
        description="Tag per-run secrets with their run id.  AWS requires "
        "secretsmanager:TagResource for this, which the seed policy does not grant.",
    )

    # --- single sign-on to the web UI (OpenID Connect, authorization code + PKCE) ------------
    oidc_issuer: str | None = Field(
        default=None,
        description="OpenID Connect issuer URL (its /.well-known/openid-configuration is read). "
        "Setting it (with the client id and secret) adds 'Sign in with <provider>' to the "
        "sign-in page.  Must be https, except on a loopback address.",
    )
    oidc_client_id: str | None = Field(default=None, description="OIDC client id.")
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="OIDC client secret (confidential client, client_secret_basic)."
    )
    oidc_provider_name: str = Field(
        default="single sign-on", description="Provider name shown on the sign-in button."
    )
    oidc_scopes: str = Field(
        default="openid email profile",
        description="Scopes requested (space-separated); add the one releasing the groups "
        "claim if your provider needs it (e.g. 'groups').",
    )
    oidc_allowed_domains: str = Field(
        default="",
        description="Comma-separated e-mail domains allowed to sign in (e.g. 'example.org'); "
        "empty: any verified e-mail the provider vouches for.",
    )
    oidc_groups_claim: str = Field(
        default="groups", description="Claim listing the user's groups (ID token or userinfo)."
    )
    oidc_owner_groups: str = Field(
        default="",
        description="Comma-separated groups whose members are owners of OIDC_ORGANIZATION "
        "(checked at every sign-in: leaving the group demotes to member, unless the last owner).",
    )
    oidc_member_groups: str = Field(
        default="",
        description="Comma-separated groups allowed to sign in as members; empty: everyone "
        "allowed by domain.  Owner groups are always allowed.",
    )
    oidc_organization: str = Field(
        default="default",
        description="Organization a user signing in with OIDC joins (member or owner).",
    )

    @field_validator("data_dir")
    @classmethod
    def _expand_data_dir(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def oidc_enabled(self) -> bool:
        """Single sign-on is offered when the issuer, client id and secret are all set."""
        return bool(self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret)

    @cached_property
    def effective_database_url(self) -> str:
        """The database URL in use: the configured one or the SQLite file in the data dir."""
        return self.database_url or f"sqlite:///{self.data_dir / 'batchforge.db'}"

    @cached_property
    def effective_public_url(self) -> str:
        """Where this server is reached; without a configured one, derived from host and port."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"
