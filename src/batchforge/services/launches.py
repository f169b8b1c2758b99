"""Launching a run: validate, record the intent, submit the head job exactly once.

Order of work (never a DB transaction across an AWS call):

1. validate the request against the environment (400 naming the field);
2. store the run (status SUBMITTED, ``submit_state="intent"``, a deterministic job name, a
   lease held by this process);
3. upload the launch files (config, params, pre/post-run scripts) to
   ``<workDir>/batchforge/<runId>/launch/`` with the platform credentials (s3:PutObject);
4. find or register the job definition — or, when the run uses pipeline secrets or its trace
   token goes as a secret (:mod:`batchforge.services.run_token_delivery`), create their
   per-run copies in Secrets Manager (names recorded at step 2) and register the run's own
   definition carrying their ARNs — then SubmitJob;
5. record the job id (``submit_state="submitted"``), releasing the lease.

Step 1 also checks that the SubmitJob container overrides fit ECS's limit
(:data:`batchforge.launch.headjob.OVERRIDES_LIMIT`): a launch too big for ECS is a 400 before
anything exists in AWS, not a job that fails after submission.

An AWS rejection at steps 3-4 makes the run FAILED with the call and AWS's reason, its secrets
are deleted (:mod:`batchforge.services.run_secrets`), and the request fails with that error.
A crash or an ambiguous failure (network, throttling after retries) *during SubmitJob* leaves
the intent: once its lease expires the tracker looks the job
up by name (:func:`batchforge.services.run_tracker.reconcile_intents`) — it never submits twice.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from batchforge.aws.session import AwsAuth, AwsEnvironment, AwsSession
from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.errors import (
    AwsError,
    BatchforgeError,
    Conflict,
    InvalidInput,
    NotFound,
)
from batchforge.launch import checks, headjob, jobdefs, ratelimit
from batchforge.launch import secrets as run_copies
from batchforge.launch.params import parse_params
from batchforge.schemas.compute_envs import ComputeEnvOut
from batchforge.schemas.workflows import (
    ComputeEnvRef,
    WorkflowLaunchRequest,
    WorkflowLaunchResponse,
)
from batchforge.services import (
    compute_envs,
    credentials,
    labels,
    pipeline_schemas,
    pipeline_secrets,
    run_labels,
    run_secrets,
    run_tokens,
)
from batchforge.services import run_token_delivery as delivery
from batchforge.services.context import AppContext
from batchforge.services.ids import new_id

INTENT_LEASE_SECONDS = 120
F = "launch"
MAX_TEXT = checks.MAX_TEXT  # sizes the API accepts (re-exported)


class LaunchFailed(AwsError):
    """AWS refused the head job; the run is recorded FAILED (its id is in the body)."""

    code = "launch-failed"

    def __init__(self, error: AwsError, workflow_id: str):
        super().__init__(
            f"Launch failed: {error.service}:{error.operation}: {error.message}",
            service=error.service,
            operation=error.operation,
            aws_code=error.aws_code,
            aws_message=error.aws_message,
            transient=error.transient,
            hint=error.hint,
        )
        self.workflow_id = workflow_id

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["workflowId"] = self.workflow_id
        return body


@dataclass(frozen=True)
class Prepared:
    """A validated launch: the head job and what the run row records."""

    job: headjob.HeadJob
    definition: jobdefs.HeadJobDefinition
    env: ComputeEnvOut
    request: WorkflowLaunchRequest
    secrets: tuple[run_copies.RunSecret, ...] = ()
    token: delivery.Plan = delivery.NO_TOKEN


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{F}.{field}: {message}", field=f"{F}.{field}")


def _forged_role(env: ComputeEnvOut, suffix: str) -> str | None:
    for item in env.config.forgedResources:
        if item.get("type") == "iam-role" and str(item.get("name", "")).endswith(suffix):
            return item.get("arn")
    return None


def _first(*values: int | None) -> int:
    return next(v for v in values if v is not None)


def _resources(body: WorkflowLaunchRequest, env: ComputeEnvOut) -> tuple[int, int]:
    cpus = _first(body.headJobCpus, env.config.headJobCpus, headjob.DEFAULT_HEAD_CPUS)
    memory = _first(
        body.headJobMemoryMb, env.config.headJobMemoryMb, headjob.DEFAULT_HEAD_MEMORY_MB
    )
    if cpus < 1:
        raise _bad("headJobCpus", "must be at least 1.")
    if memory < headjob.MIN_HEAD_MEMORY_MB:
        raise _bad(
            "headJobMemoryMb",
            f"{memory} MiB is below the minimum of {headjob.MIN_HEAD_MEMORY_MB} MiB.",
        )
    return cpus, memory


def _secrets(
    ctx: AppContext,
    workspace_id: int,
    user_id: int | None,
    body: WorkflowLaunchRequest,
    run_id: str,
    execution_role: str | None,
) -> tuple[run_copies.RunSecret, ...]:
    values = pipeline_secrets.resolve_for_launch(
        ctx, workspace_id, user_id, body.workspaceSecrets, body.userSecrets, F
    )
    if values and not execution_role:
        field = "workspaceSecrets" if body.workspaceSecrets else "userSecrets"
        raise _bad(
            field,
            "pipeline secrets reach the head job through its job definition, which needs an "
            "execution role: set executionRole on the compute environment.",
        )
    return tuple(
        run_copies.RunSecret(name, run_copies.aws_name(run_id, name), value)
        for name, value in sorted(values.items())
    )


def _nextflow_session(
    ctx: AppContext, workspace_id: int, body: WorkflowLaunchRequest, work_dir: str | None
) -> tuple[str, str | None]:
    """(session id, work dir).  A resumed launch keeps the session (Nextflow's -resume id,
    also NXF_UUID) and the work dir of that session's runs; any other launch gets a new
    session, whatever ``sessionId`` says (as on Seqera)."""
    if not body.resume:
        return str(uuid.uuid4()), work_dir
    if not body.sessionId:
        raise _bad("sessionId", "resuming needs the session id of the run to resume.")
    try:
        session_id = str(uuid.UUID(body.sessionId))
    except ValueError:
        raise _bad(
            "sessionId", f"'{body.sessionId}' is not a UUID (a Nextflow session id)."
        ) from None
    with ctx.db.transaction() as session:
        earlier = session.execute(
            select(models.Run.work_dir)
            .where(models.Run.workspace_id == workspace_id, models.Run.session_id == session_id)
            .order_by(models.Run.submit.desc())
            .limit(1)
        ).scalar_one_or_none()
    if earlier is None:
        return session_id, work_dir
    if body.workDir and body.workDir.rstrip("/") != earlier.rstrip("/"):
        raise _bad(
            "workDir",
            f"a resumed run must use the work directory of its session ({earlier}): the task "
            "cache is there.  Relaunch without resume to use another one.",
        )
    return session_id, earlier


def _volumes(env: ComputeEnvOut) -> tuple[str, ...]:
    """Host paths of the environment's file systems, mounted at the same path in the jobs."""
    config, forge = env.config, env.config.forge
    paths: list[str] = []
    if forge is not None:
        if forge.efsMount and (forge.efsId or forge.efsCreate):
            paths.append(forge.efsMount)
        if forge.fsxMount and (forge.fsxName or forge.fsxSize or config.lustreId):
            paths.append(forge.fsxMount)
    paths += [v for v in config.volumes if v]
    return tuple(dict.fromkeys(p.rstrip("/") or "/" for p in paths))


def prepare(
    ctx: AppContext,
    workspace_id: int,
    body: WorkflowLaunchRequest,
    run_id: str,
    user_id: int | None = None,
    schema_workspace_id: int | None = None,
) -> Prepared:
    """Validate ``body`` against its compute environment; raises 400/404/409 errors.

    A ``pipelineSchemaId`` must name a schema of the workspace (or of
    ``schema_workspace_id``: the SHARED workspace a launched pipeline comes from), and the
    parameters are checked against it (:func:`pipeline_schemas.check_params`)."""
    checks.refuse_unsupported(body)
    checks.check_sizes(body)
    if not body.computeEnvId:
        raise _bad("computeEnvId", "a compute environment is required.")
    if not body.pipeline or not body.pipeline.strip():
        raise _bad("pipeline", "a pipeline repository URL or name is required.")
    run_name = checks.run_name(body, run_id)
    env = compute_envs.describe(ctx, workspace_id, body.computeEnvId)
    if env.status != "AVAILABLE":
        raise Conflict(
            f"{F}.computeEnvId: compute environment '{env.name}' is {env.status}; "
            "it must be AVAILABLE to launch.",
            field=f"{F}.computeEnvId",
        )
    config = env.config
    if not config.headQueue:
        raise _bad("computeEnvId", f"compute environment '{env.name}' has no head queue.")
    session_id, work_dir = _nextflow_session(
        ctx, workspace_id, body, body.workDir or config.workDir
    )
    if not work_dir:
        raise _bad("workDir", "a work directory is required (none in the environment).")
    if not work_dir.startswith("s3://"):
        raise _bad(
            "workDir",
            f"'{work_dir}' is not in S3: Nextflow's awsbatch executor needs an S3 work "
            "directory (AwsBatchExecutor.validateWorkDir), and the launch files go there.  "
            "EFS/FSx file systems of the environment are mounted in the jobs at their mount "
            "paths all the same.",
        )
    params = parse_params(body.paramsText, f"{F}.paramsText")
    pipeline_schemas.check_launch(
        ctx, workspace_id, body.pipelineSchemaId, params, F, also=schema_workspace_id
    )
    cpus, memory = _resources(body, env)
    chosen = labels.resolve(ctx, workspace_id, body.labelIds, f"{F}.labelIds")
    prefix = ctx.settings.forge_prefix + env.id
    job_role = config.headJobRole or _forged_role(env, f"{prefix}-HeadJobRole")
    execution_role = config.executionRole or _forged_role(env, f"{prefix}-ExecutionRole")
    secrets = _secrets(ctx, workspace_id, user_id, body, run_id, execution_role)
    token = delivery.plan(ctx.settings.trace_token_delivery, execution_role)
    image = body.launchContainer or ctx.settings.launcher_image
    region = config.region or ctx.settings.default_region
    volumes = _volumes(env)
    job = headjob.HeadJob(
        run_id=run_id,
        run_name=run_name,
        workspace_id=workspace_id,
        pipeline=body.pipeline.strip(),
        revision=body.revision,
        work_dir=work_dir,
        region=region,
        head_queue=config.headQueue,
        compute_queue=config.computeQueue or config.headQueue,
        cli_path=config.cliPath or ("/home/ec2-user/miniconda/bin/aws" if config.forge else None),
        session_id=session_id,
        resume=body.resume,
        execution_role=execution_role,
        compute_job_role=config.computeJobRole,
        env_config=config.nextflowConfig,
        launch_config=body.configText,
        params=params,
        profiles=tuple(body.configProfiles),
        pre_run=body.preRunScript or config.preRunScript,
        post_run=body.postRunScript or config.postRunScript,
        pull_latest=body.pullLatest,
        stub_run=body.stubRun,
        main_script=body.mainScript,
        entry_name=body.entryName,
        cpus=cpus,
        memory_mb=memory,
        environment=tuple((v.name, v.value or "") for v in config.environment if v.head),
        tags=tuple(labels.tags_of(chosen).items()),
        spot_retry=body.spotRetry,
        nextflow_version=body.nextflowVersion,
        api_endpoint=ctx.settings.effective_public_url,
        secret_names=tuple(secret.name for secret in secrets),
        commit_id=body.commitId or None,
        output_dir=body.outputDir or None,
        log_group=config.logGroup or None,
        volumes=volumes,
        task_environment=tuple((v.name, v.value or "") for v in config.environment if v.compute),
        notice=token.note,
    )
    checks.check_overrides(job)
    definition = jobdefs.HeadJobDefinition(
        image,
        job_role,
        execution_role,
        log_group=config.logGroup or None,
        region=region if config.logGroup else None,
        volumes=volumes,
    )
    return Prepared(job, definition, env, body, secrets, token)


# (id of the AwsEnvironment, auth, region) -> (that environment, session).  Holding the
# environment keeps its id from being reused by another one while the entry exists.
_sessions: dict[tuple[int, AwsAuth, str], tuple[AwsEnvironment, AwsSession]] = {}
_sessions_lock = threading.Lock()


def _session(ctx: AppContext, workspace_id: int, credentials_id: str, region: str) -> AwsSession:
    """An AWS session reused across launches with the same keys (building boto3 clients
    costs more than a launch's own work).  Keyed by the keys themselves: rotated keys get a
    new session."""
    auth = credentials.stored_keys(ctx, workspace_id, credentials_id).auth()
    key = (id(ctx.aws), auth, region)
    with _sessions_lock:
        found = _sessions.get(key)
        if found is None or found[0] is not ctx.aws:
            if len(_sessions) > 256:
                _sessions.clear()
            found = _sessions[key] = (ctx.aws, ctx.aws.session(auth, region))
        return found[1]


def _record_intent(
    ctx: AppContext,
    workspace_id: int,
    prepared: Prepared,
    user: str | None,
    pipeline_id: int | None,
) -> None:
    job, env = prepared.job, prepared.env
    now = utcnow()
    row = models.Run(
        id=job.run_id,
        workspace_id=workspace_id,
        pipeline_id=pipeline_id,
        compute_env_id=env.id,
        credentials_id=env.credentialsId,
        region=job.region,
        run_name=job.run_name,
        repository=job.pipeline,
        revision=job.revision,
        work_dir=job.work_dir,
        session_id=job.session_id,
        resume=job.resume,
        user_name=user,
        launch=prepared.request.model_dump(mode="json", exclude_none=True),
        command_line=headjob.command_line(job),
        status="SUBMITTED",
        active=True,
        submit_state="intent",
        job_name=headjob.job_name(job.run_name, job.run_id),
        job_queue=job.head_queue,
        log_group=env.config.logGroup or "/aws/batch/job",
        secret_names=_planned_secrets(prepared) or None,
        secrets_state=run_secrets.PLANNED if _planned_secrets(prepared) else None,
        error_message=prepared.token.note,
        lease_owner=ctx.worker_id,
        lease_until=now + timedelta(seconds=INTENT_LEASE_SECONDS),
        submit=now,
        updated_at=now,
    )
    with ctx.db.transaction() as session:
        session.add(row)
        run_labels.record(session, row.id, prepared.request.labelIds)
        env_row = session.get(models.ComputeEnv, env.id)
        if env_row is not None:
            env_row.last_used = now


def _planned_secrets(prepared: Prepared) -> list[str]:
    """Names of the run's Secrets Manager copies (pipeline secrets, then the trace token)."""
    names = [secret.secret_name for secret in prepared.secrets]
    if prepared.token.mode == delivery.SECRET:
        names.append(run_copies.aws_name(prepared.job.run_id, run_copies.TOKEN_NAME))
    return names


def _set(ctx: AppContext, run_id: str, guard_intent: bool = True, **values: Any) -> bool:
    query = update(models.Run).where(models.Run.id == run_id)
    if guard_intent:
        query = query.where(models.Run.submit_state == "intent")
    with ctx.db.transaction() as session:
        result = session.execute(query.values(updated_at=utcnow(), **values))
        return result.rowcount == 1  # type: ignore[attr-defined]


def _fail(ctx: AppContext, run_id: str, error: BatchforgeError) -> None:
    if isinstance(error, AwsError):
        message = f"{error.service}:{error.operation} failed: {error.message}"
    else:
        message = str(error)
    _set(
        ctx,
        run_id,
        status="FAILED",
        active=False,
        submit_state="failed",
        error_message=message,
        complete=utcnow(),
        lease_owner=None,
        lease_until=None,
    )


def _job_definition(
    ctx: AppContext, aws: AwsSession, prepared: Prepared, run_id: str, token: str | None
) -> tuple[str, headjob.HeadJob]:
    """The head job definition's ARN and the head job: the definition is shared by content
    hash, or — when the run has secrets (pipeline secrets, its trace token), whose ARNs are in
    it — the run's own (recorded on the run so cleanup can deregister it)."""
    kms, tag = prepared.env.config.secretsKmsKeyId, ctx.settings.tag_secrets
    pairs = [
        (headjob.secret_env(name), arn)
        for name, arn in run_secrets.create_for_run(aws, run_id, prepared.secrets, kms, tag)
    ]
    job, plan = prepared.job, prepared.token
    if token and plan.mode == delivery.SECRET:
        arn = delivery.create_secret(aws, run_id, token, kms, tag)
        if arn:
            pairs.append((headjob.TOKEN_ENV, arn))
        else:
            plan = _token_refused(ctx, run_id, prepared)
    if token and plan.mode == delivery.ENVIRONMENT:
        job = replace(job, trace_token=token)
        checks.check_overrides(job)
    elif token and plan.mode is None:
        run_tokens.revoke(ctx, run_id, grace=timedelta(0))
    if plan.note:
        job = replace(job, notice=plan.note)
    if not pairs:
        return jobdefs.ensure(aws, prepared.definition), job
    arn = jobdefs.register_for_run(aws, replace(prepared.definition, secrets=tuple(pairs)))
    _set(ctx, run_id, job_definition=arn)
    return arn, job


def _token_refused(ctx: AppContext, run_id: str, prepared: Prepared) -> delivery.Plan:
    """Secrets Manager refused the token's copy: the admin's fallback, recorded on the run
    (the token's name leaves the planned secrets, since there is nothing to delete)."""
    plan = delivery.refused(ctx.settings.trace_token_delivery)
    names = [secret.secret_name for secret in prepared.secrets]
    values: dict[str, Any] = {"secret_names": names or None}
    if not names:
        values["secrets_state"] = None
    if plan.note:
        values["error_message"] = plan.note
    _set(ctx, run_id, **values)
    return plan


def upload_launch_files(aws: AwsSession, job: headjob.HeadJob) -> None:
    """PutObject each launch file to ``<workDir>/batchforge/<runId>/launch/`` (where the
    bootstrap fetches it).  A refusal names the call, the object and what to do."""
    s3 = aws.client("s3")
    for name, text in headjob.launch_files(job).items():
        uri = headjob.launch_uri(job, name)
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=text.encode(), ContentType="text/plain")
        except AwsError as error:
            raise AwsError(
                f"could not upload the launch file {name} to {uri}: {error.message}",
                service="s3",
                operation="PutObject",
                aws_code=error.aws_code,
                aws_message=error.aws_message,
                transient=error.transient,
                hint="The compute environment's credentials need s3:PutObject on the work "
                f"directory ({job.work_dir}); check the bucket exists and the policy allows "
                "it, then launch again.",
            ) from None


def _abandon(ctx: AppContext, run_id: str, error: BatchforgeError) -> None:
    """The launch failed before anything ran: FAILED, and the run's secrets deleted now (the
    tracker retries the deletion if this attempt fails)."""
    _fail(ctx, run_id, error)
    run_secrets.clean_run(ctx, run_id)


def launch(
    ctx: AppContext,
    workspace_id: int,
    body: WorkflowLaunchRequest,
    user: str | None = None,
    pipeline_id: int | None = None,
    user_id: int | None = None,
    schema_workspace_id: int | None = None,
) -> str:
    """Launch a run; its id.  See the module docstring for the exactly-once protocol.
    ``user_id`` is the launching user, whose secrets ``body.userSecrets`` names;
    ``schema_workspace_id``: a SHARED workspace whose schemas ``pipelineSchemaId`` may name
    too (the launched pipeline's)."""
    run_id = new_id()
    prepared = prepare(ctx, workspace_id, body, run_id, user_id, schema_workspace_id)
    aws = _session(ctx, workspace_id, prepared.env.credentialsId or "", prepared.job.region)
    if prepared.token.mode == delivery.SECRET and delivery.recently_refused(aws):
        plan = delivery.refused(ctx.settings.trace_token_delivery)
        job = replace(prepared.job, notice=plan.note)
        prepared = replace(prepared, job=job, token=plan)
    _record_intent(ctx, workspace_id, prepared, user, pipeline_id)
    token = run_tokens.issue(ctx, run_id) if prepared.token.mode else None
    try:
        upload_launch_files(aws, prepared.job)
        arn, job = _job_definition(ctx, aws, prepared, run_id, token)
    except BatchforgeError as error:  # SubmitJob not called yet: certainly not submitted
        _abandon(ctx, run_id, error)
        raise _launch_error(error, run_id) from None
    except Exception as error:  # a fault of ours: the run ends FAILED, never half-made
        _abandon(ctx, run_id, _internal_failure(error))
        raise
    request = headjob.submit_request(job, arn)
    ratelimit.submit_bucket(aws, ctx.settings.submit_jobs_per_second).acquire()
    try:
        answer = aws.client("batch").submit_job(**request)
    except AwsError as error:
        if error.transient:  # may have reached AWS: leave the intent for reconciliation
            _set(ctx, run_id, error_message=f"Launch outcome unknown, reconciling: {error}")
        else:
            jobdefs.forget(aws, prepared.definition)  # in case it was deregistered
            _abandon(ctx, run_id, error)
        raise _launch_error(error, run_id) from None
    recorded = _set(
        ctx,
        run_id,
        submit_state="submitted",
        job_id=answer["jobId"],
        job_definition=arn,
        lease_owner=None,
        lease_until=None,
    )
    if not recorded:  # reconciled meanwhile (took too long): record the id all the same
        _set(ctx, run_id, guard_intent=False, job_id=answer["jobId"], job_definition=arn)
    with ctx.db.transaction() as session:
        row = session.get(models.Run, run_id)
        cancelled = row is not None and row.status == "CANCELLED"
    if cancelled:  # cancelled while SubmitJob was in flight: the job must not run
        aws.client("batch").terminate_job(jobId=answer["jobId"], reason="Cancelled in batchforge")
    return run_id


def _internal_failure(error: Exception) -> BatchforgeError:
    """The reason a run records when batchforge itself failed before the head job was
    submitted (the details are in the server log, not in the run)."""
    return BatchforgeError(
        f"The launch failed inside batchforge ({type(error).__name__}) before the head job "
        "was submitted; nothing runs.  The server log has the details."
    )


def _launch_error(error: BatchforgeError, run_id: str) -> BatchforgeError:
    if isinstance(error, AwsError):
        return LaunchFailed(error, run_id)
    return error


def compute_env_ref(ctx: AppContext, workspace_id: int, env_id: str | None) -> ComputeEnvRef | None:
    """The ``computeEnv`` object of a launch (Seqera's ComputeEnv_ComputeConfig_): the
    environment with its config; only its id when it is gone (deleted since)."""
    if not env_id:
        return None
    try:
        env = compute_envs.describe(ctx, workspace_id, env_id)
    except NotFound:
        return ComputeEnvRef(id=env_id)
    return ComputeEnvRef(
        id=env.id,
        name=env.name,
        platform=env.platform,
        status=env.status,
        credentialsId=env.credentialsId,
        workspaceId=env.workspaceId,
        primary=env.primary,
        message=env.message,
        config=env.config,
    )


def describe_launch(ctx: AppContext, workspace_id: int, run_id: str) -> WorkflowLaunchResponse:
    """Seqera's DescribeWorkflowLaunch: the launch a run was made with, with its session, so
    it can be posted again (``tw runs relaunch``, ``batchforge runs relaunch``).

    ``resumeDir`` is the run's work directory and ``resumeCommitId`` the revision it ran
    (``commitId`` or ``revision``): None when neither was given, as the commit Nextflow
    resolved is not reported to batchforge; ``tw runs relaunch`` then does not resume.
    """
    with ctx.db.transaction() as session:
        row = session.get(models.Run, run_id)
        if row is None or row.workspace_id != workspace_id or row.deleted:
            raise NotFound(f"Workflow '{run_id}' not found in this workspace.")
        stored = dict(row.launch or {})
        session_id, work_dir, env_id = row.session_id, row.work_dir, row.compute_env_id
        pipeline_id = row.pipeline_id
    env_ref = compute_env_ref(ctx, workspace_id, env_id)
    stored.pop("id", None)
    launch = WorkflowLaunchResponse.model_validate(stored)
    return launch.model_copy(
        update={
            "id": run_id,
            "sessionId": session_id,
            "workDir": stored.get("workDir") or work_dir,
            "computeEnvId": env_id,
            "computeEnv": env_ref,
            "pipelineId": pipeline_id,
            "resumeDir": work_dir,
            "resumeCommitId": stored.get("commitId") or stored.get("revision"),
        }
    )
