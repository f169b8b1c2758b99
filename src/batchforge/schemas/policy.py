"""Shapes of the ``/policy`` endpoints (batchforge extensions, not in Seqera's API).

Every request can narrow the policy with the same scope fields as ``batchforge policy``'s
options; features are names or aliases (``s3``, ``all``), comma-separated items allowed.
Responses are the JSON of the IAM reports (:meth:`GeneratedPolicy.to_dict`,
:meth:`Report.to_dict`, :meth:`PreflightReport.to_dict`).
"""

from __future__ import annotations

from pydantic import Field

from batchforge.schemas.common import ApiModel
from batchforge.schemas.compute_envs import AwsBatchConfig


class PolicyScopeIn(ApiModel):
    """What to narrow policies to; empty fields mean "any"."""

    account: str | None = Field(default=None, description="AWS account id (12 digits)")
    region: str | None = Field(default=None, description="AWS region")
    prefix: str = Field(default="TowerForge-", description="Name prefix of Forge resources")
    secretsPrefix: str = Field(default="tower-", description="Name prefix of pipeline secrets")
    workDir: str | None = Field(default=None, description="s3://bucket/path work directory")
    dataBuckets: list[str] = Field(default_factory=list, description="Data Explorer buckets")
    tags: dict[str, str] = Field(
        default_factory=dict, description="Resource tags required on Batch job resources"
    )
    queues: list[str] = Field(default_factory=list, description="Existing job queue names")
    logGroup: str = Field(default="/aws/batch/job", description="CloudWatch log group of jobs")


class FeaturesIn(PolicyScopeIn):
    features: list[str] = Field(default_factory=list, description="Feature names or aliases")
    mode: str | None = Field(default=None, description="forge or manual: adds its features")
    exclude: list[str] = Field(default_factory=list, description="Features to leave out")


class GeneratePolicyRequest(FeaturesIn):
    leastPrivilege: bool | None = Field(
        default=None, description="Layout; default: least-privilege when any scope is given"
    )
    dependents: bool | None = Field(
        default=None, description="Add dependent actions the seed lacks"
    )
    extras: bool = Field(default=False, description="Add optional permissions beyond the seed")
    split: bool = Field(default=True, description="Split into several managed policies if big")


class CheckPolicyRequest(FeaturesIn):
    policy: str = Field(max_length=200_000, description="The policy document, as pasted")


class PreflightRequest(FeaturesIn):
    """Live check of stored credentials.  ``region`` is the region checked (default: the
    server's default region); the account comes from the credentials."""

    credentialsId: str = Field(min_length=1, max_length=64)


class ComputeEnvPolicyRequest(ApiModel):
    """A compute environment's ``config`` (AwsBatchConfig), and optionally the account."""

    config: AwsBatchConfig
    account: str | None = None
