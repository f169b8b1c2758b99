"""Per-run copies of pipeline secrets in AWS Secrets Manager.

Each secret a run uses is copied, at launch, to ``tower-batchforge-<runId>-<NAME>`` in the run's
region.  The ``tower-`` prefix is the only one the seed policy lets batchforge manage; the rest
makes the name deterministic (a retried launch finds the secret it already made) and lets a
sweep tell whose it is from the name alone — the seed policy has no ``secretsmanager:TagResource``,
which AWS requires for tags on CreateSecret, so tags are added only when the operator says the
credentials have it (``BATCHFORGE_TAG_SECRETS``).

Deletion is immediate (``ForceDeleteWithoutRecovery``): the copy is disposable (the value stays in
batchforge's encrypted store), a recovery window would keep a readable copy of a secret alive for
7-30 days after its run, keep costing money, and block the name.  Deleting a secret that is
already gone counts as done, so cleanup is idempotent and safe to repeat after a crash.

What a pipeline can read: the head job gets each copy through its job definition (ECS reads it
with the execution role) and stores it with ``nextflow secrets set``, so the Nextflow config
reads ``secrets.NAME``.  A process's ``secret 'NAME'`` directive gets *nothing* on AWS Batch
with open-source Nextflow: ``AwsBatchExecutor.isSecretNative()`` is true, so the task wrapper
exports no secrets (``BashWrapperBuilder``), and nf-amazon adds none to the task job
definitions (``AwsBatchTaskHandler``), as of Nextflow 24.10.5.
The head job's log says so in one line when a run has secrets
(:data:`batchforge.launch.headjob.SECRETS_NOTE`).

The run's trace token travels the same way (:func:`token_secret`): its copy
``tower-batchforge-<runId>-run-token`` becomes ``TOWER_ACCESS_TOKEN`` in the head container
(left there for Nextflow's nf-tower plugin, not moved into Nextflow's secret store), and is
deleted with the run's other copies.  ``run-token`` cannot be a pipeline secret's name (those
have no ``-``), so the two never clash.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from batchforge.aws.session import AwsSession
from batchforge.errors import AwsError

PREFIX = "tower-batchforge-"
RUN_TAG = "batchforge:run-id"
NOT_FOUND = "ResourceNotFoundException"
EXISTS = "ResourceExistsException"
TOKEN_NAME = "run-token"


def aws_name(run_id: str, name: str) -> str:
    """The Secrets Manager name of ``name``'s copy for run ``run_id`` (run ids have no '-')."""
    return f"{PREFIX}{run_id}-{name}"


def run_id_of(secret_name: str) -> str | None:
    """The run id in a name made by :func:`aws_name`, else ``None``."""
    if not secret_name.startswith(PREFIX):
        return None
    run_id, dash, rest = secret_name[len(PREFIX) :].partition("-")
    return run_id if dash and run_id and rest else None


@dataclass(frozen=True)
class RunSecret:
    """One secret to copy: its name in Nextflow and in Secrets Manager, and its value.

    ``value`` is excluded from ``repr`` so the object can be logged safely.
    """

    name: str
    secret_name: str
    value: str
    description: str | None = None

    def __repr__(self) -> str:
        return f"RunSecret(name={self.name!r}, secret_name={self.secret_name!r})"


def token_secret(run_id: str, token: str, variable: str) -> RunSecret:
    """The copy of run ``run_id``'s trace token, handed over as the variable ``variable``."""
    return RunSecret(
        variable,
        aws_name(run_id, TOKEN_NAME),
        token,
        f"batchforge run {run_id}: its trace token (Nextflow's TOWER_ACCESS_TOKEN); "
        "deleted when the run ends.",
    )


def create(
    aws: AwsSession,
    run_id: str,
    secret: RunSecret,
    kms_key_id: str | None = None,
    tag: bool = False,
) -> str:
    """Create the copy (or find the one an earlier attempt made); its ARN.

    One CreateSecret; on "already exists" one DescribeSecret.
    """
    client = aws.client("secretsmanager")
    request: dict[str, object] = {
        "Name": secret.secret_name,
        "SecretString": secret.value,
        "Description": secret.description
        or f"batchforge run {run_id}: pipeline secret {secret.name}; deleted when the run ends.",
    }
    if kms_key_id:
        request["KmsKeyId"] = kms_key_id
    if tag:
        request["Tags"] = [{"Key": RUN_TAG, "Value": run_id}]
    try:
        return str(client.create_secret(**request)["ARN"])
    except AwsError as error:
        if error.aws_code != EXISTS:
            raise
    found = client.describe_secret(SecretId=secret.secret_name)
    if found.get("DeletedDate"):
        raise AwsError(
            f"secretsmanager:CreateSecret: the secret '{secret.secret_name}' is scheduled for "
            "deletion, so it cannot be reused.",
            service="secretsmanager",
            operation="CreateSecret",
            aws_code="InvalidRequestException",
            hint="Restore or force-delete it in AWS Secrets Manager, then launch again.",
        )
    return str(found["ARN"])


def delete(aws: AwsSession, secret_name: str) -> bool:
    """Delete a copy now; ``False`` if it was already gone."""
    try:
        aws.client("secretsmanager").delete_secret(
            SecretId=secret_name, ForceDeleteWithoutRecovery=True
        )
    except AwsError as error:
        if error.aws_code == NOT_FOUND:
            return False
        raise
    return True


def list_copies(aws: AwsSession) -> Iterator[str]:
    """Names of every batchforge run secret in this account and region (ListSecrets, filtered
    by name prefix on the server side; one call per 100 secrets)."""
    pages = aws.client("secretsmanager").paginate(
        "list_secrets",
        Filters=[{"Key": "name", "Values": [PREFIX]}],
        PaginationConfig={"PageSize": 100},
    )
    for page in pages:
        for item in page.get("SecretList", []):
            name = str(item.get("Name", ""))
            if name.startswith(PREFIX):  # the filter is case-insensitive; names are not
                yield name
