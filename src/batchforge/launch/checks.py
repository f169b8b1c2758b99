"""Launch request checks that need no database and no AWS: what batchforge refuses, sizes,
Nextflow's run-name rule and ECS's container-overrides limit.  Each failure is a 400 naming the
field (``launch.<field>``) raised before anything is recorded or created in AWS."""

from __future__ import annotations

from batchforge.errors import InvalidInput, Unsupported
from batchforge.launch import headjob
from batchforge.schemas.workflows import WorkflowLaunchRequest

F = "launch"
KIB = 1024
# Sizes the API accepts (characters).  The texts travel as files in the work dir, not in the
# job's overrides, so these only keep requests and the database sane.
MAX_TEXT = {
    "configText": 128 * KIB,
    "paramsText": 512 * KIB,
    "preRunScript": 64 * KIB,
    "postRunScript": 64 * KIB,
}
# Seqera fields batchforge does not implement (field -> feature): refused when set.
UNSUPPORTED_FIELDS: dict[str, str] = {
    "optimizationId": "resource optimization",
    "optimizationTargets": "resource optimization",
    "towerConfig": "Seqera's tower config",
}


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{F}.{field}: {message}", field=f"{F}.{field}")


def refuse_unsupported(body: WorkflowLaunchRequest) -> None:
    """A 400 ``unsupported`` naming the first Seqera field batchforge does not implement."""
    for name, feature in UNSUPPORTED_FIELDS.items():
        value = getattr(body, name)
        if value not in (None, "", []):
            raise Unsupported(
                f"{F}.{name}: {feature} is not supported by batchforge; leave it empty.",
                field=f"{F}.{name}",
            )
    if body.syntaxParser == "v2":
        raise Unsupported(
            f"{F}.syntaxParser: the v2 syntax parser is not supported by batchforge "
            "(Nextflow 24.10 has only v1); leave it empty or 'v1'.",
            field=f"{F}.syntaxParser",
        )


def check_sizes(body: WorkflowLaunchRequest) -> None:
    """A 400 naming the first text over its :data:`MAX_TEXT` limit."""
    for name, limit in MAX_TEXT.items():
        text = getattr(body, name) or ""
        if len(text) > limit:
            raise _bad(
                name,
                f"{len(text):,} characters is over the limit of {limit:,} ({limit // KIB} KiB).",
            )


def run_name(body: WorkflowLaunchRequest, run_id: str) -> str:
    """The launch's run name, checked with Nextflow's rule; else one made from the run id."""
    if body.runName is None or body.runName == "":
        name = f"run-{run_id[:8].lower()}"
        assert headjob.valid_run_name(name)
        return name
    if not headjob.valid_run_name(body.runName):
        raise _bad(
            "runName",
            f"'{body.runName}' is not a valid Nextflow run name: it must start with a letter, "
            "then up to 79 letters, digits, '-' or '_' ('-' and '_' followed by a letter or "
            "digit), and must not be 'last'.",
        )
    return body.runName


def check_overrides(job: headjob.HeadJob) -> None:
    """A 400 naming the biggest part when the overrides would not fit ECS's limit."""
    size = headjob.overrides_size(headjob.container_overrides(job))
    budget = headjob.OVERRIDES_LIMIT - headjob.OVERRIDES_RESERVE
    if size <= budget:
        return
    parts = headjob.overrides_breakdown(job)
    biggest = max(parts, key=lambda name: parts[name])
    detail = ", ".join(f"{name} {count:,}" for name, count in parts.items())
    field = "computeEnvId" if biggest == "environment variables" else "runName"
    if biggest == "bootstrap script" and job.secret_names:
        field = "workspaceSecrets"
    raise InvalidInput(
        f"{F}: the head job's container overrides would be {size:,} characters; ECS refuses "
        f"more than {headjob.OVERRIDES_LIMIT:,} (and AWS Batch adds its own variables, so "
        f"batchforge allows {budget:,}).  The biggest part is the {biggest} ({detail}).",
        field=f"{F}.{field}",
        hint="Shorten the compute environment's head-job environment variables"
        if biggest == "environment variables"
        else "Use fewer pipeline secrets or a shorter pipeline URL, run name or work directory.",
    )
