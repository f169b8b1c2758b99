"""`make demo`: the user journey on embedded defaults (SQLite + the local AWS emulator).

It does what a person would do on a fresh machine, through the real surfaces only:
starts `batchforge server` (which starts the embedded emulator), makes an IAM user with the
seed's policy in the emulator (standing in for the one a user creates in their AWS account),
adds its keys as credentials with the CLI (secret key on stdin), lists and validates them,
then stops the server with Ctrl-C and checks that everything stopped cleanly.

It then forges an AWS Batch compute environment on the emulator (roles, launch template,
compute environments, queues), shows it AVAILABLE with its resources, launches a pipeline on
it and waits for the run, deletes it, and shows that nothing it created is left in the
emulator.  The run's head job really executes its command (under bash, through the launcher
image's entrypoint semantics) with a Nextflow *stand-in* on its PATH -- not Nextflow: it runs
no pipeline code, but checks its arguments and config as Nextflow 24.10 does and makes
Nextflow's AWS calls (two task jobs) with the head-job role.  Its log shows the label.  Like
Nextflow's nf-tower plugin, it reports the run to the server with the run's own token (handed
over as a Secrets Manager secret): the demo shows the tasks appear, run and finish
(``batchforge runs view RUN --tasks``) and the run's progress at the end (``--processes``).

Exit status 0 when every step did what it should.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from batchforge.emulator.standin import LABEL as STANDIN_LABEL
from batchforge.local_aws import WORK_BUCKET, create_demo_user, emulator_client, free_port

VENV_BIN = Path(sys.executable).parent
TASK_SECONDS = 4  # each task job stays RUNNING this long in the emulator
FINAL = ("SUCCEEDED", "FAILED", "CANCELLED", "UNKNOWN")
CLI = str(VENV_BIN / "batchforge")


def step(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def run_cli(env: dict[str, str], *args: str, stdin: str | None = None, check: bool = True) -> str:
    shown = " ".join(args)
    print(f"$ batchforge {shown}", flush=True)
    result = subprocess.run(
        [CLI, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )
    output = (result.stdout + result.stderr).rstrip()
    if output:
        print(output, flush=True)
    if result.returncode != 0 and check:
        raise SystemExit(f"demo failed: `batchforge {shown}` exited {result.returncode}")
    return result.stdout


def wait_for_server(url: str, server: subprocess.Popen[str], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"demo failed: the server exited with {server.returncode}")
        try:
            return httpx.get(f"{url}/service-info", timeout=1).json()["serviceInfo"]
        except (httpx.HTTPError, ValueError, KeyError):
            time.sleep(0.1)
    raise SystemExit("demo failed: the server did not answer /service-info")


def seed_policy() -> str:
    """The seed document's full IAM policy: what the catalog generates for every feature,
    unscoped (a test checks it equals the seed, statement for statement)."""
    from batchforge.iam.catalog_model import resolve_features
    from batchforge.iam.generator import generate_policy

    return json.dumps(generate_policy(resolve_features(())).document)


def forged_leftovers(endpoint: str) -> dict[str, int]:
    """Count what carries the Forge prefix in the emulator (as a user would in the console)."""
    batch, iam, ec2 = (emulator_client(endpoint, s) for s in ("batch", "iam", "ec2"))
    prefix = "TowerForge-"
    return {
        "compute environments": sum(
            c["computeEnvironmentName"].startswith(prefix)
            for c in batch.describe_compute_environments()["computeEnvironments"]
        ),
        "job queues": sum(
            q["jobQueueName"].startswith(prefix) for q in batch.describe_job_queues()["jobQueues"]
        ),
        "IAM roles": sum(r["RoleName"].startswith(prefix) for r in iam.list_roles()["Roles"]),
        "instance profiles": sum(
            p["InstanceProfileName"].startswith(prefix)
            for p in iam.list_instance_profiles()["InstanceProfiles"]
        ),
        "launch templates": sum(
            t["LaunchTemplateName"].startswith(prefix)
            for t in ec2.describe_launch_templates()["LaunchTemplates"]
        ),
    }


def run_secret_copies(endpoint: str) -> list[str]:
    """Names of the per-run pipeline secret copies in the emulator's Secrets Manager."""
    listed = emulator_client(endpoint, "secretsmanager").list_secrets(
        Filters=[{"Key": "name", "Values": ["tower-batchforge-"]}]
    )
    return [item["Name"] for item in listed["SecretList"]]


def params_file(env: dict[str, str]) -> Path:
    """The launch's params: the stand-in's knob for how many task jobs to submit."""
    path = Path(env["BATCHFORGE_DATA_DIR"]) / "demo-params.json"
    path.write_text(json.dumps({"standin_tasks": 2, "standin_task_seconds": TASK_SECONDS}))
    return path


def task_jobs(endpoint: str, run_id: str) -> list[str]:
    """Names of the Batch jobs Nextflow's naming gives the run's tasks (tw-<run id>-...)."""
    batch = emulator_client(endpoint, "batch")
    names = []
    for queue in batch.describe_job_queues()["jobQueues"]:
        for status in ("RUNNING", "SUCCEEDED", "FAILED"):
            listed = batch.list_jobs(jobQueue=queue["jobQueueName"], jobStatus=status)
            names += [j["jobName"] for j in listed["jobSummaryList"]]
    return sorted(n for n in names if n.startswith(f"tw-{run_id}-"))


def _get(env: dict[str, str], path: str) -> dict:
    answer = httpx.get(
        f"{env['BATCHFORGE_URL']}{path}",
        headers={"Authorization": f"Bearer {env['BATCHFORGE_TOKEN']}"},
        timeout=10,
    )
    answer.raise_for_status()
    return dict(answer.json())


def watch_tasks(env: dict[str, str], run_id: str, timeout: float = 180) -> list[dict]:
    """Show the run's tasks (CLI ``runs view --tasks``) each time their statuses change, until
    the run ends; the tasks at the end (from ``GET /workflow/{id}/tasks``)."""
    deadline, shown = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        status = _get(env, f"/workflow/{run_id}")["workflow"]["status"]
        tasks = [t["task"] for t in _get(env, f"/workflow/{run_id}/tasks")["tasks"]]
        seen = tuple((t["taskId"], t["status"]) for t in tasks)
        if tasks and seen != shown:
            print(f"-- run {status}; tasks: " + ", ".join(f"{i}:{s}" for i, s in seen))
            run_cli(env, "runs", "view", run_id, "--tasks")
            shown = seen
        if status in FINAL:
            return tasks
        time.sleep(0.5)
    raise SystemExit(f"demo failed: run {run_id} did not end in {timeout:.0f} s")


def launch_and_show(env: dict[str, str], endpoint: str) -> None:
    """Launch a pipeline's head job on the forged environment, wait for it, show it."""
    step("Adding a pipeline secret (value on stdin; the API never returns it)")
    run_cli(env, "secrets", "add", "--name", "DEMO_TOKEN", stdin="demo-secret-value\n")
    run_cli(env, "secrets", "list")
    step(
        "Launching nextflow-io/hello on it: the emulator runs the head job's real command "
        "under bash, with a Nextflow stand-in (not Nextflow) that submits 2 task jobs and "
        "reports them to the server as Nextflow's nf-tower plugin does"
    )
    out = run_cli(
        env,
        "launch",
        "https://github.com/nextflow-io/hello",
        "--compute-env",
        "demo-forge",
        "--name",
        "demo-hello",
        "--labels",
        "project=demo",
        "--secret",
        "DEMO_TOKEN",
        "--params-file",
        str(params_file(env)),
        "--wait",
        "RUNNING",
        "--timeout",
        "120",
        check=False,
    )
    run_id = out.split("Workflow ", 1)[1].split(" ", 1)[0]
    step("Watching its tasks appear, run and finish (reported by the head job's Nextflow)")
    final = watch_tasks(env, run_id)
    step("The run's progress at the end")
    run_cli(env, "runs", "view", run_id, "--processes")
    run_cli(env, "runs", "list")
    run_cli(env, "runs", "view", run_id)
    logs = run_cli(env, "runs", "logs", run_id)
    if STANDIN_LABEL not in logs:
        raise SystemExit("demo failed: the head job's log does not show the Nextflow stand-in")
    if "Submitted process > STANDIN (2)" not in logs:
        raise SystemExit("demo failed: the stand-in did not submit its task jobs")
    tasks = task_jobs(endpoint, run_id)
    print(f"Task jobs the stand-in submitted with the head-job role: {', '.join(tasks)}")
    if len(tasks) != 2:
        raise SystemExit("demo failed: expected 2 task jobs named tw-<run id>-...")
    status = _get(env, f"/workflow/{run_id}")["workflow"]["status"]
    if status != "SUCCEEDED":
        raise SystemExit(f"demo failed: the run is {status}, not SUCCEEDED (its log is above)")
    done = sorted(t["status"] for t in final if t.get("nativeId"))
    if done != ["COMPLETED", "COMPLETED"]:
        raise SystemExit("demo failed: the trace does not show the 2 tasks COMPLETED")
    progress = _get(env, f"/workflow/{run_id}/progress")["progress"]["workflowProgress"]
    if progress.get("succeeded") != 2:
        raise SystemExit(f"demo failed: the run's progress says {progress}")
    print("Its Nextflow reported 2 tasks, both COMPLETED, each with its Batch job id.")
    print("The head job really ran its script: its log above comes from the stand-in.")
    deadline = time.monotonic() + 30
    while run_secret_copies(endpoint) and time.monotonic() < deadline:
        time.sleep(0.5)
    if run_secret_copies(endpoint):
        raise SystemExit("demo failed: the run's secret copies outlived the run")
    print(
        "The run's Secrets Manager copies (tower-batchforge-...: the pipeline secret and the "
        "trace token) were deleted when it ended."
    )


def forge_and_dispose(env: dict[str, str], endpoint: str) -> None:
    ec2 = emulator_client(endpoint, "ec2")
    vpc = next(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["IsDefault"])
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if s["VpcId"] == vpc][:2]

    step("Forging an AWS Batch compute environment (SPOT, 0-64 CPUs)")
    run_cli(
        env,
        "compute-envs",
        "add",
        "aws-batch",
        "forge",
        "--name",
        "demo-forge",
        "--credentials",
        "demo-aws",
        "--region",
        "us-east-1",
        "--work-dir",
        f"s3://{WORK_BUCKET}/work",
        "--max-cpus",
        "64",
        "--vpc-id",
        vpc,
        "--subnets",
        ",".join(subnets),
        "--labels",
        "project=demo",
        "--wait",
    )
    run_cli(env, "compute-envs", "view", "demo-forge")
    made = forged_leftovers(endpoint)
    print("In the emulator now: " + ", ".join(f"{n} {kind}" for kind, n in made.items()))
    if made["compute environments"] != 2 or made["job queues"] != 2:
        raise SystemExit("demo failed: Forge did not create two compute environments and queues")

    launch_and_show(env, endpoint)

    step("Deleting it: Forge disposes of everything it created")
    run_cli(env, "compute-envs", "delete", "demo-forge", "--wait")
    left = forged_leftovers(endpoint)
    print("Left in the emulator: " + ", ".join(f"{n} {kind}" for kind, n in left.items()))
    if any(left.values()):
        raise SystemExit("demo failed: resources were left behind")
    print("Nothing left behind: checked.")


def main() -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="batchforge-demo-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        BATCHFORGE_DATA_DIR=str(data_dir),
        BATCHFORGE_PORT=str(port),
        BATCHFORGE_URL=url,
        BATCHFORGE_AWS_MODE="local",
    )
    env.pop("BATCHFORGE_DATABASE_URL", None)
    step(f"Starting `batchforge server` (data dir {data_dir})")
    server = subprocess.Popen(
        [CLI, "server"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        info = wait_for_server(url, server)
        token = (data_dir / "admin-token").read_text().strip()
        env["BATCHFORGE_TOKEN"] = token
        print(f"server {info['version']} answers on {url}; AWS emulator at {info['awsEndpoint']}")

        step("Creating an IAM user with the seed's policy in the emulator")
        user = create_demo_user(info["awsEndpoint"], seed_policy())
        print(f"IAM user {user.arn}, access key {user.access_key}")

        step("Adding the user's keys as AWS credentials (secret key on stdin)")
        run_cli(
            env,
            "credentials",
            "add",
            "aws",
            "--name",
            "demo-aws",
            "--access-key",
            user.access_key,
            "--secret-key-stdin",
            stdin=user.secret_key + "\n",
        )
        run_cli(env, "credentials", "list")
        run_cli(env, "credentials", "validate", "demo-aws")
        listed = json.loads(run_cli(env, "-o", "json", "credentials", "view", "demo-aws"))
        if user.secret_key in json.dumps(listed):
            raise SystemExit("demo failed: the API returned the secret key")
        print("The API never returns the secret key: checked.")
        forge_and_dispose(env, info["awsEndpoint"])
    finally:
        step("Stopping the server (Ctrl-C)")
        server.send_signal(signal.SIGINT)
        try:
            output, _ = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
        print(output.rstrip())
    if server.returncode != 0:
        print(f"demo failed: the server exited with {server.returncode}")
        return 1
    step("Done: server and emulator stopped cleanly (exit 0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
