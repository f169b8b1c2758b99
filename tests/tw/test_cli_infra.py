"""``tw`` command lines of the infrastructure groups (info, credentials, compute-envs,
workspaces, participants, members, organizations, teams) run as ``batchforge`` against a live
server: one case per command line, asserting the exit code and the effect.

Sources (seqeralabs/tower-cli): ``USAGE.md`` and the tests ``InfoCmdTest``,
``CredentialsCmdTest``, ``AwsProviderTest``, ``ComputeEnvsCmdTest``,
``AwsBatchForgePlatformTest``, ``AwsBatchManualPlatformTest``, ``WorkspacesCmdTest``,
``ParticipantsCmdTest``, ``MembersCmdTest``, ``OrganizationsCmdTest``, ``TeamsCmdTest``,
``TeamMembersCmdTest`` (named per case).  Names and ids are adapted to the world
(tests/tw/cli_infra_support.py): org ``default``, region ``us-east-1``, the emulator's bucket.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import Result

from batchforge.client import BatchforgeClient
from batchforge.local_aws import LocalAws
from tests.runs.conftest import HEAD_QUEUE
from tests.tw.cli_infra_support import Check, World, database_url, make_world  # noqa: F401

ROLE_ARN = "arn:aws:iam::123456789012:role/MyRole"
FORGE = ["compute-envs", "add", "aws-batch", "forge", "-r", "us-east-1"]
FORGE_DIR = ["--work-dir", "s3://{bucket}/forge", "--max-cpus=123"]


@pytest.fixture
def world(
    app_ctx: Any,
    admin_token: str,
    api: BatchforgeClient,
    local_aws: LocalAws,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    yield from make_world(app_ctx, admin_token, api, local_aws, tmp_path, monkeypatch)


@dataclass
class Case:
    source: str
    args: list[str]
    check: Check
    xfail: str | None = None
    setup: Callable[[World], None] | None = None
    as_user: str | None = None


def ok(w: World, r: Result) -> None:
    assert r.exit_code == 0, r.output


def exits(code: int, *texts: str) -> Check:
    def check(w: World, r: Result) -> None:
        assert r.exit_code == code, r.output
        flat = " ".join(r.output.split())
        for text in texts:
            assert text in flat, flat

    return check


def lacks(*texts: str) -> Check:
    """The output names none of ``texts``."""

    def check(w: World, r: Result) -> None:
        for text in texts:
            assert text not in r.output, r.output

    return check


def both(*checks: Check) -> Check:
    def check(w: World, r: Result) -> None:
        for one in checks:
            one(w, r)

    return check


def out_json(test: Callable[[Any], bool]) -> Check:
    def check(w: World, r: Result) -> None:
        data = w.json(r)
        assert test(data), data

    return check


def env_is(name: str, test: Callable[[dict[str, Any]], bool]) -> Check:
    """Compute environment ``name`` exists and passes ``test``."""

    def check(w: World, r: Result) -> None:
        ok(w, r)
        envs = w.envs()
        assert name in envs, (list(envs), r.output)
        assert test(envs[name]), envs[name]

    return check


def no_env(name: str) -> Check:
    def check(w: World, r: Result) -> None:
        ok(w, r)
        assert name not in w.envs()

    return check


def creds_are(test: Callable[[dict[str, Any]], bool]) -> Check:
    def check(w: World, r: Result) -> None:
        ok(w, r)
        found = w.credentials()
        assert test(found), (found, r.output)

    return check


def warned(w: World, r: Result) -> None:
    assert "shell history" in r.stderr and w.values()["secret_key"] not in r.output


def spare(w: World) -> None:
    """Second credentials ``spare`` (so a case can delete or change them)."""
    from tests.factories import keys_credentials

    w.extra["spare_id"] = w.api.create_credentials(keys_credentials("spare"))


def manual_env(name: str) -> Callable[[World], None]:
    def setup(w: World) -> None:
        w.extra[f"ce_{name}"] = w.api.create_compute_env(
            {
                "name": name,
                "platform": "aws-batch",
                "credentialsId": w.creds_id,
                "config": {
                    "region": "us-east-1",
                    "workDir": f"s3://{w.values()['bucket']}/work",
                    "headQueue": w.values()["head_queue"],
                    "computeQueue": w.values()["work_queue"],
                },
            }
        )

    return setup


def forged(w: World) -> None:
    """A Forge environment ``forged``, AVAILABLE; Forge keeps running in the background."""
    from tests.compute.conftest import wait_for

    w.start_forge()
    w.extra["forged_id"] = w.api.create_compute_env(
        {
            "name": "forged",
            "platform": "aws-batch",
            "credentialsId": w.creds_id,
            "config": {
                "region": "us-east-1",
                "workDir": f"s3://{w.values()['bucket']}/forge",
                "forge": {"type": "SPOT", "minCpus": 0, "maxCpus": 8},
            },
        }
    )
    wait_for(lambda: w.envs()["forged"]["status"] == "AVAILABLE", "forged AVAILABLE")


def forge_running(w: World) -> None:
    w.start_forge()


def workspace(name: str, participant: str | None = None) -> Callable[[World], None]:
    def setup(w: World) -> None:
        org_id = w.accounts.org_id("default")
        made = w.accounts.add_workspace(org_id, name, name)
        w.extra[f"ws_{name}"] = made["id"]
        if participant:
            added = w.accounts.add_participant(org_id, made["id"], user=participant)
            w.accounts.set_participant_role(org_id, made["id"], added["participantId"], "owner")

    return setup


def participant(name: str, team: bool = False) -> Callable[[World], None]:
    def setup(w: World) -> None:
        org_id = w.accounts.org_id("default")
        if team:
            w.accounts.add_participant(org_id, w.workspace, team_id=w.team_id)
        else:
            w.accounts.add_participant(org_id, w.workspace, user=name)

    return setup


def custom_role(name: str, *permissions: str) -> Callable[[World], None]:
    """A custom role ``name`` of org ``default`` holding ``permissions`` (``POST /roles``)."""

    def setup(w: World) -> None:
        body = {"name": name, "description": f"{name} role", "permissions": list(permissions)}
        params = {"orgId": w.accounts.org_id("default")}
        w.api.request("POST", "/roles", json=body, params=params, workspace=False)

    return setup


def setups(*steps: Callable[[World], None]) -> Callable[[World], None]:
    def setup(w: World) -> None:
        for step in steps:
            step(w)

    return setup


def collaborator(name: str) -> Callable[[World], None]:
    """``name`` stops being a member of org ``default`` and is added to the workspace: a
    collaborator of the organization (USAGE.md's ``--type=COLLABORATOR`` case)."""

    def setup(w: World) -> None:
        org_id = w.accounts.org_id("default")
        w.accounts.delete_member(org_id, w.accounts.member_id(org_id, name))
        added = w.accounts.add_participant(org_id, w.workspace, user=name)
        assert added["type"] == "COLLABORATOR", added

    return setup


def participants(w: World) -> dict[str, dict[str, Any]]:
    org_id = w.accounts.org_id("default")
    return {
        p.get("teamName") or p["userName"]: p
        for p in w.accounts.list_participants(org_id, w.workspace)
    }


def members(w: World) -> dict[str, dict[str, Any]]:
    return {m["userName"]: m for m in w.accounts.list_members(w.accounts.org_id("default"))}


def orgs(w: World) -> dict[str, dict[str, Any]]:
    return {o["name"]: o for o in w.accounts.list_orgs()}


def teams(w: World) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in w.accounts.list_teams(w.accounts.org_id("default"))}


def workspaces(w: World) -> dict[str, dict[str, Any]]:
    return {x["name"]: x for x in w.accounts.list_workspaces(w.accounts.org_id("default"))}


def that(test: Callable[[World], bool]) -> Check:
    def check(w: World, r: Result) -> None:
        ok(w, r)
        assert test(w), r.output

    return check


def team_member(w: World, team: str, user: str) -> bool:
    org_id = w.accounts.org_id("default")
    listed = w.accounts.list_team_members(org_id, w.accounts.team_id(org_id, team))
    return user in {m["userName"] for m in listed}


def alice_in_team1(w: World) -> None:
    org_id = w.accounts.org_id("default")
    w.accounts.add_team_member(org_id, w.team_id, "alice")


CASES: dict[str, Case] = {
    # --- info -----------------------------------------------------------------------------
    "info": Case("InfoCmdTest", ["info"], exits(0, "OK")),
    "info-json": Case(
        "InfoCmdTest",
        ["-o", "json", "info"],
        out_json(
            lambda d: (
                (d["connectionCheck"], d["versionCheck"], d["credentialsCheck"]) == (1, 1, 1)
                and d["opts"]["userName"] == "admin"
            )
        ),
    ),
    "info-bad-token": Case(
        "InfoCmdTest (unauthorized)",
        ["--access-token", "nope", "info"],
        exits(1, "FAILED"),
    ),
    # --- credentials ----------------------------------------------------------------------
    "credentials-add-usage": Case(
        "USAGE.md: credentials add aws --name --access-key --secret-key",
        [
            "credentials",
            "add",
            "aws",
            "--name=my_aws_creds",
            "--access-key={access_key}",
            "--secret-key={secret_key}",
        ],
        both(creds_are(lambda c: c["my_aws_creds"].keys.mode == "keys"), warned),
    ),
    "credentials-add-overwrite": Case(
        "CredentialsCmdTest: add aws --overwrite -n aws -a -s",
        [
            "credentials",
            "add",
            "aws",
            "--overwrite",
            "-n",
            "spare",
            "-a",
            "{access_key}",
            "-s",
            "{secret_key}",
        ],
        that(lambda w: w.credentials()["spare"].id != w.extra["spare_id"]),
        setup=spare,
    ),
    "credentials-add-mode-keys": Case(
        "AwsProviderTest: add aws -n aws-keys --mode=keys -a -s",
        [
            "credentials",
            "add",
            "aws",
            "-n",
            "aws-keys",
            "--mode=keys",
            "-a",
            "{access_key}",
            "-s",
            "{secret_key}",
        ],
        creds_are(lambda c: c["aws-keys"].keys.mode == "keys"),
    ),
    "credentials-add-role-arn": Case(
        "AwsProviderTest: add aws --name --assume-role-arn",
        ["credentials", "add", "aws", "--name=test_credentials", f"--assume-role-arn={ROLE_ARN}"],
        creds_are(lambda c: c["test_credentials"].keys.assumeRoleArn == ROLE_ARN),
    ),
    "credentials-add-external-id": Case(
        "AwsProviderTest: add aws -a -s -r --generate-external-id",
        [
            "credentials",
            "add",
            "aws",
            "-n",
            "aws-ext",
            "-a",
            "{access_key}",
            "-s",
            "{secret_key}",
            "-r",
            ROLE_ARN,
            "--generate-external-id",
        ],
        creds_are(lambda c: bool(c["aws-ext"].keys.externalId)),
    ),
    "credentials-add-mode-role": Case(
        "AwsProviderTest / USAGE.md: add aws --mode=role -r ARN",
        ["credentials", "add", "aws", "-n", "aws-role", "--mode=role", "-r", ROLE_ARN],
        creds_are(
            lambda c: c["aws-role"].keys.mode == "role" and bool(c["aws-role"].keys.externalId)
        ),
    ),
    "credentials-add-role-without-arn": Case(
        "AwsProviderTest: add aws --mode=role (no ARN)",
        ["credentials", "add", "aws", "-n", "aws-role-bad", "--mode=role"],
        exits(1, "'--assume-role-arn' is required"),
    ),
    "credentials-add-role-with-keys": Case(
        "AwsProviderTest: add aws --mode=role -a -s -r",
        [
            "credentials",
            "add",
            "aws",
            "-n",
            "aws-role-bad",
            "--mode=role",
            "-a",
            "{access_key}",
            "-s",
            "{secret_key}",
            "-r",
            ROLE_ARN,
        ],
        exits(1, "cannot be used with '--mode=role'"),
    ),
    "credentials-add-external-id-without-role": Case(
        "AwsProviderTest: add aws -a -s --generate-external-id",
        [
            "credentials",
            "add",
            "aws",
            "-n",
            "aws-ext-bad",
            "-a",
            "{access_key}",
            "-s",
            "{secret_key}",
            "--generate-external-id",
        ],
        exits(1, "requires '--assume-role-arn'"),
    ),
    "credentials-list": Case(
        "CredentialsCmdTest: list", ["credentials", "list"], exits(0, "aws-creds")
    ),
    "credentials-list-json": Case(
        "USAGE.md tip: --output=json credentials list",
        ["--output=json", "credentials", "list"],
        out_json(lambda d: [c["name"] for c in d["credentials"]] == ["aws-creds"]),
    ),
    "credentials-delete-name": Case(
        "USAGE.md: credentials delete --name",
        ["credentials", "delete", "--name=spare"],
        creds_are(lambda c: "spare" not in c),
        setup=spare,
    ),
    "credentials-delete-id": Case(
        "CredentialsCmdTest: delete -i ID",
        ["credentials", "delete", "-i", "{spare_id}"],
        creds_are(lambda c: "spare" not in c),
        setup=spare,
    ),
    "credentials-delete-missing": Case(
        "CredentialsCmdTest: delete -i (not found)",
        ["credentials", "delete", "-i", "1cz5A8cuBkB5iJliCwJCFT"],
        exits(1, "1cz5A8cuBkB5iJliCwJCFT"),
    ),
    "credentials-validate": Case(
        "CredentialsCmdTest: validate -i ID",
        ["credentials", "validate", "-i", "{creds_id}"],
        exits(0, "valid"),
    ),
    "credentials-update-keys": Case(
        "AwsProviderTest: update aws -i ID --mode=keys -a -s",
        [
            "credentials",
            "update",
            "aws",
            "-i",
            "{spare_id}",
            "--mode=keys",
            "-a",
            "AKIANEWKEY0000000000",
            "-s",
            "{secret_key}",
        ],
        both(creds_are(lambda c: c["spare"].keys.accessKey == "AKIANEWKEY0000000000"), warned),
        setup=spare,
    ),
    "credentials-update-role": Case(
        "AwsProviderTest: update aws -i ID --mode=role -r ARN",
        ["credentials", "update", "aws", "-i", "{spare_id}", "--mode=role", "-r", ROLE_ARN],
        creds_are(lambda c: c["spare"].keys.mode == "role"),
        setup=spare,
    ),
    "credentials-update-assume-role": Case(
        "AwsProviderTest: update aws -i ID -r ARN",
        ["credentials", "update", "aws", "-i", "{spare_id}", "-r", ROLE_ARN],
        creds_are(lambda c: c["spare"].keys.assumeRoleArn == ROLE_ARN),
        setup=spare,
    ),
    "credentials-update-missing": Case(
        "AwsProviderTest: update aws -i (not found)",
        ["credentials", "update", "aws", "-i", "kfKx9xRgzpIIZrbCMOcU5", "-r", ROLE_ARN],
        exits(1, "kfKx9xRgzpIIZrbCMOcU5"),
    ),
    # --- compute-envs: add ---------------------------------------------------------------
    "ce-forge-usage-wait": Case(
        "USAGE.md: compute-envs add aws-batch forge ... --wait=AVAILABLE",
        [
            "compute-envs",
            "add",
            "aws-batch",
            "forge",
            "--name=my_aws_ce",
            "--credentials=aws-creds",
            "--region=us-east-1",
            "--max-cpus=256",
            "--work-dir=s3://{bucket}",
            "--wait=AVAILABLE",
        ],
        both(env_is("my_aws_ce", lambda e: e["status"] == "AVAILABLE"), exits(0, "DONE")),
        setup=forge_running,
    ),
    "ce-forge-create-efs": Case(
        "AwsBatchForgePlatformTest: forge ... --create-efs",
        [*FORGE, "-n", "demo2", *FORGE_DIR, "--create-efs"],
        env_is("demo2", lambda e: e["config"]["forge"]["efsCreate"] is True),
    ),
    "ce-forge-fsx": Case(
        "AwsBatchForgePlatformTest: forge ... --fsx-size=1200 (work dir adapted to S3)",
        [*FORGE, "-n", "demo2", *FORGE_DIR, "--fsx-size=1200"],
        env_is("demo2", lambda e: e["config"]["forge"]["fsxSize"] == 1200),
    ),
    "ce-forge-fusion-wave": Case(
        "AwsBatchForgePlatformTest: forge ... --fusion-v2 --wave (refused: not supported)",
        [*FORGE, "-n", "demo2", *FORGE_DIR, "--fusion-v2", "--wave"],
        exits(1, "waveEnabled"),
    ),
    "ce-forge-fusion-v1": Case(
        "AwsBatchForgePlatformTest: forge ... --fusion",
        [*FORGE, "-n", "demo2", *FORGE_DIR, "--fusion"],
        exits(1, "--fusion-v2"),
    ),
    "ce-forge-fusion-no-wave": Case(
        "AwsBatchForgePlatformTest: forge ... --fusion-v2 (no --wave)",
        [*FORGE, "-n", "demo2", *FORGE_DIR, "--fusion-v2"],
        exits(1, "requires Wave"),
    ),
    "ce-forge-advanced": Case(
        "AwsBatchForgePlatformTest: forge ... --cli-path --min-cpus --allow-buckets (no Fusion)",
        [
            *FORGE,
            "-n",
            "demo2",
            *FORGE_DIR,
            "--cli-path=/bin/aws",
            "--min-cpus=8",
            "--allow-buckets=s3://bkt1,s3://bkt2",
        ],
        env_is(
            "demo2",
            lambda e: (
                e["config"]["cliPath"] == "/bin/aws"
                and e["config"]["forge"]["minCpus"] == 8
                and e["config"]["forge"]["allowBuckets"] == ["s3://bkt1", "s3://bkt2"]
            ),
        ),
    ),
    "ce-forge-nextflow-config": Case(
        "AwsBatchForgePlatformTest: forge ... --nextflow-config FILE",
        [*FORGE, "-n", "demo2", *FORGE_DIR, "--nextflow-config", "{file_config}"],
        env_is("demo2", lambda e: e["config"]["nextflowConfig"] == "process.cpus = 3\n"),
    ),
    "ce-forge-env": Case(
        "AwsBatchForgePlatformTest: forge ... -e HEAD= -e compute: -e both: -e head:",
        [
            *FORGE,
            "-n",
            "demo2",
            *FORGE_DIR,
            "-e",
            "HEAD=value1",
            "-e",
            "compute:COMPUTE=value2",
            "-e",
            "both:BOTH=value3",
            "-e",
            "head:HEAD=value4",
        ],
        env_is(
            "demo2",
            lambda e: (
                [
                    (v["name"], v["value"], v["head"], v["compute"])
                    for v in e["config"]["environment"]
                ]
                == [
                    ("HEAD", "value1", True, False),
                    ("COMPUTE", "value2", False, True),
                    ("BOTH", "value3", True, True),
                    ("HEAD", "value4", True, False),
                ]
            ),
        ),
    ),
    "ce-forge-roles-and-files": Case(
        "tw forge options (AwsBatchForgePlatform): AMI, roles, head job, types, scripts, labels",
        [
            *FORGE,
            "-n",
            "demo2",
            *FORGE_DIR,
            "--ami-id",
            "ami-0123456789abcdef0",
            "--batch-execution-role",
            "arn:aws:iam::123456789012:role/exec",
            "--head-job-role",
            "arn:aws:iam::123456789012:role/head",
            "--compute-job-role",
            "arn:aws:iam::123456789012:role/task",
            "--head-job-cpus",
            "2",
            "--head-job-memory",
            "4096",
            "--instance-types",
            "m5.large,c5.large",
            "--provisioning-model",
            "EC2",
            "--pre-run",
            "{file_pre}",
            "--post-run",
            "{file_post}",
            "--labels",
            "team=genomics",
            "--ecs-config",
            "{file_ecs}",
            "--boot-disk-size",
            "60",
            "-d",
            "described",
        ],
        env_is(
            "demo2",
            lambda e: (
                e["config"]["forge"]["imageId"] == "ami-0123456789abcdef0"
                and e["config"]["executionRole"].endswith("role/exec")
                and e["config"]["headJobRole"].endswith("role/head")
                and e["config"]["computeJobRole"].endswith("role/task")
                and (e["config"]["headJobCpus"], e["config"]["headJobMemoryMb"]) == (2, 4096)
                and e["config"]["forge"]["instanceTypes"] == ["m5.large", "c5.large"]
                and e["config"]["forge"]["type"] == "EC2"
                and e["config"]["preRunScript"] == "echo pre_run_this\n"
                and e["config"]["postRunScript"] == "echo post_run_this\n"
                and e["config"]["forge"]["ecsConfig"] == "ECS_IMAGE_PULL_BEHAVIOR=once\n"
                and e["config"]["forge"]["ebsBootSize"] == 60
                and e["description"] == "described"
                and [(lb["name"], lb["value"]) for lb in e["labels"]] == [("team", "genomics")]
            ),
        ),
    ),
    "ce-forge-wait-creating-json": Case(
        "tw forge --wait=CREATING with --output=json (no progress on stdout)",
        ["-o", "json", *FORGE, "-n", "demo2", *FORGE_DIR, "--wait=CREATING"],
        out_json(lambda d: d["name"] == "demo2" and d["platform"] == "aws-batch"),
    ),
    "ce-manual": Case(
        "AwsBatchManualPlatformTest: manual -n -r --work-dir --head-queue --compute-queue",
        [
            "compute-envs",
            "add",
            "aws-batch",
            "manual",
            "-n",
            "manual",
            "-r",
            "us-east-1",
            "--work-dir",
            "s3://{bucket}/manual",
            "--head-queue",
            "{head_queue}",
            "--compute-queue",
            "{work_queue}",
        ],
        env_is("manual", lambda e: e["config"]["headQueue"] == HEAD_QUEUE),
    ),
    "ce-manual-fusion": Case(
        "AwsBatchManualPlatformTest: manual ... --fusion-v2 --wave --fast-storage (refused)",
        [
            "compute-envs",
            "add",
            "aws-batch",
            "manual",
            "-n",
            "manual",
            "-r",
            "us-east-1",
            "--work-dir",
            "s3://{bucket}/manual",
            "--fusion-v2",
            "--wave",
            "--fast-storage",
            "--head-queue",
            "{head_queue}",
            "--compute-queue",
            "{work_queue}",
            "--cli-path=/bin/aws",
            "--batch-execution-role",
            "execution-arn",
        ],
        exits(1, "waveEnabled"),
    ),
    "ce-manual-roles": Case(
        "AwsBatchManualPlatformTest: manual ... --cli-path --batch-execution-role (no Fusion)",
        [
            "compute-envs",
            "add",
            "aws-batch",
            "manual",
            "-n",
            "manual",
            "-r",
            "us-east-1",
            "--work-dir",
            "s3://{bucket}/manual",
            "--head-queue",
            "{head_queue}",
            "--compute-queue",
            "{work_queue}",
            "--cli-path=/bin/aws",
            "--batch-execution-role",
            "arn:aws:iam::123456789012:role/exec",
            "--wait=AVAILABLE",
        ],
        env_is(
            "manual",
            lambda e: (
                e["config"]["cliPath"] == "/bin/aws"
                and e["config"]["executionRole"].endswith("role/exec")
                and e["status"] == "AVAILABLE"
            ),
        ),
    ),
    # --- compute-envs: the rest -----------------------------------------------------------
    "ce-list": Case("ComputeEnvsCmdTest: list", ["compute-envs", "list"], exits(0, "demo")),
    "ce-list-json": Case(
        "ComputeEnvsCmdTest: list (json)",
        ["-o", "json", "compute-envs", "list"],
        out_json(lambda d: [e["name"] for e in d["computeEnvs"]] == ["demo"]),
    ),
    "ce-list-yaml": Case(
        "compute-envs list with -o yaml (batchforge's extra format)",
        ["-o", "yaml", "compute-envs", "list", "-w", "{workspace}"],
        lambda w, r: (ok(w, r), yaml.safe_load(r.stdout)["computeEnvs"][0]["name"] == "demo"),
    ),
    "ce-view-id": Case(
        "ComputeEnvsCmdTest: view -i ID",
        ["compute-envs", "view", "-i", "{ce_id}"],
        exits(0, "demo", "AVAILABLE"),
    ),
    "ce-view-json": Case(
        "ComputeEnvsCmdTest: view -i ID (json: the environment)",
        ["-o", "json", "compute-envs", "view", "-i", "{ce_id}"],
        out_json(lambda d: d["name"] == "demo" and d["config"]["workDir"].startswith("s3://")),
    ),
    "ce-view-missing": Case(
        "ComputeEnvsCmdTest: view -i (not found)",
        ["compute-envs", "view", "-i", "isnEDBLvHDAIteOEF44om"],
        exits(1, "isnEDBLvHDAIteOEF44om"),
    ),
    "ce-delete-id": Case(
        "ComputeEnvsCmdTest: delete -i ID",
        ["compute-envs", "delete", "-i", "{ce_other}"],
        no_env("other"),
        setup=manual_env("other"),
    ),
    "ce-delete-name": Case(
        "USAGE.md: compute-envs delete --name",
        ["compute-envs", "delete", "--name=other"],
        no_env("other"),
        setup=manual_env("other"),
    ),
    "ce-delete-missing": Case(
        "ComputeEnvsCmdTest: delete -i (not found)",
        ["compute-envs", "delete", "-i", "vYOK4vn7spw7bHHWBDXZ3"],
        exits(1, "vYOK4vn7spw7bHHWBDXZ3"),
    ),
    "ce-delete-wait": Case(
        "ComputeEnvsCmdTest: delete -i ID --wait (a Forge environment)",
        ["compute-envs", "delete", "-i", "{forged_id}", "--wait"],
        both(no_env("forged"), exits(0, "DONE")),
        setup=forged,
    ),
    "ce-export": Case(
        "ComputeEnvsCmdTest: export -n NAME (stdout)",
        ["compute-envs", "export", "-n", "demo"],
        lambda w, r: (
            ok(w, r),
            json.loads(r.stdout)["workDir"].endswith("/work") or pytest.fail(r.stdout),
            "forgedResources" not in json.loads(r.stdout) or pytest.fail(r.stdout),
        ),
    ),
    "ce-export-file": Case(
        "USAGE.md: compute-envs export --name FILE",
        ["compute-envs", "export", "--name=demo", "{file_out}"],
        lambda w, r: (
            exits(0, "exported into")(w, r),
            json.loads(w.files["out"].read_text())["discriminator"] == "aws-batch"
            or pytest.fail("no export"),
        ),
    ),
    "ce-import": Case(
        "ComputeEnvsCmdTest: import FILE -n NAME -c CREDS",
        ["compute-envs", "import", "{file_export}", "-n", "json", "-c", "{creds_id}"],
        env_is(
            "json",
            lambda e: (
                e["config"]["workDir"].endswith("/imported")
                and [(lb["name"], lb["value"]) for lb in e["labels"]] == [("owner", "jaime")]
            ),
        ),
    ),
    "ce-import-overwrite": Case(
        "ComputeEnvsCmdTest: import --overwrite FILE -n NAME -c CREDS",
        [
            "compute-envs",
            "import",
            "--overwrite",
            "{file_export}",
            "-n",
            "other",
            "-c",
            "{creds_id}",
        ],
        lambda w, r: (
            env_is("other", lambda e: e["config"]["workDir"].endswith("/imported"))(w, r),
            w.envs()["other"]["id"] != w.extra["ce_other"] or pytest.fail("not replaced"),
        ),
        setup=manual_env("other"),
    ),
    "ce-import-usage": Case(
        "USAGE.md: compute-envs import --name ./FILE (credentials: the workspace's only)",
        ["compute-envs", "import", "--name=my_aws_ce_v1", "{file_export}"],
        env_is("my_aws_ce_v1", lambda e: e["credentialsId"] is not None),
    ),
    "ce-primary-get": Case(
        "ComputeEnvsCmdTest: primary get",
        ["compute-envs", "primary", "get"],
        exits(0, "demo"),
    ),
    "ce-primary-get-json": Case(
        "ComputeEnvsCmdTest: primary get (json)",
        ["-o", "json", "compute-envs", "primary", "get"],
        out_json(lambda d: d == {"id": d["id"], "name": "demo", "platform": "aws-batch"}),
    ),
    "ce-primary-set-id": Case(
        "ComputeEnvsCmdTest: primary set -i ID",
        ["compute-envs", "primary", "set", "-i", "{ce_other}"],
        env_is("other", lambda e: e["primary"] is True),
        setup=manual_env("other"),
    ),
    "ce-primary-set-workspace": Case(
        "ComputeEnvsCmdTest: primary set -i ID -w WORKSPACE",
        ["compute-envs", "primary", "set", "-i", "{ce_other}", "-w", "{workspace}"],
        env_is("other", lambda e: e["primary"] is True),
        setup=manual_env("other"),
    ),
    "ce-primary-set-usage": Case(
        "USAGE.md: compute-envs primary set --name",
        ["compute-envs", "primary", "set", "--name=other"],
        env_is("other", lambda e: e["primary"] is True),
        setup=manual_env("other"),
    ),
    "ce-update-description": Case(
        "ComputeEnvsCmdTest: update -n NAME --description",
        ["compute-envs", "update", "-n", "demo", "--description", "Test CE description"],
        env_is("demo", lambda e: e["description"] == "Test CE description"),
    ),
    "ce-update-name": Case(
        "ComputeEnvsCmdTest: update -n NAME -w WORKSPACE --new-name",
        ["compute-envs", "update", "-n", "demo", "-w", "{workspace}", "--new-name", "testCE"],
        env_is("testCE", lambda e: e["id"] is not None),
    ),
    "ce-validate": Case(
        "ComputeEnvsCmdTest: validate -i ID",
        ["compute-envs", "validate", "-i", "{ce_id}"],
        exits(0, "AVAILABLE"),
    ),
    # --- workspaces -----------------------------------------------------------------------
    "ws-add-usage": Case(
        "USAGE.md: workspaces add --name --full-name --org --visibility=SHARED",
        [
            "workspaces",
            "add",
            "--name=shared-workspace",
            "--full-name=shared-workspace-for-all",
            "--org=default",
            "--visibility=SHARED",
        ],
        that(lambda w: workspaces(w)["shared-workspace"]["visibility"] == "SHARED"),
    ),
    "ws-add": Case(
        "WorkspacesCmdTest: add -n -o -f -d -v PRIVATE",
        [
            "workspaces",
            "add",
            "-n",
            "wspNew",
            "-o",
            "default",
            "-f",
            "wsp-new",
            "-d",
            "workspace description",
            "-v",
            "PRIVATE",
        ],
        that(lambda w: workspaces(w)["wspNew"]["fullName"] == "wsp-new"),
    ),
    "ws-add-overwrite": Case(
        "WorkspacesCmdTest: add --overwrite -n -o -f -d -v",
        [
            "workspaces",
            "add",
            "--overwrite",
            "-n",
            "workspace1",
            "-o",
            "default",
            "-f",
            "wsp-one",
            "-d",
            "workspace description",
            "-v",
            "PRIVATE",
        ],
        that(
            lambda w: workspaces(w)["workspace1"]["fullName"] == "wsp-one"  # was "workspace1"
        ),
        setup=workspace("workspace1"),
    ),
    "ws-list": Case("WorkspacesCmdTest: list", ["workspaces", "list"], exits(0, "default/default")),
    "ws-list-org": Case(
        "WorkspacesCmdTest: list -o ORG (json)",
        ["-o", "json", "workspaces", "list", "-o", "default"],
        out_json(lambda d: d["userName"] == "admin" and len(d["workspaces"]) == 1),
    ),
    "ws-list-jq": Case(
        "USAGE.md tip: --output=json workspaces list | jq '.workspaces[].orgId'",
        ["--output=json", "workspaces", "list"],
        out_json(lambda d: all(isinstance(x["orgId"], int) for x in d["workspaces"])),
    ),
    "ws-view": Case(
        "WorkspacesCmdTest: view -i ID",
        ["-o", "json", "workspaces", "view", "-i", "{workspace}"],
        out_json(lambda d: d["workspace"]["name"] == "default"),
    ),
    "ws-view-missing": Case(
        "WorkspacesCmdTest: view -i (not found)",
        ["workspaces", "view", "-i", "7588715621158"],
        exits(1, "7588715621158"),
    ),
    "ws-update": Case(
        "WorkspacesCmdTest: update -i ID -f -d",
        [
            "workspaces",
            "update",
            "-i",
            "{ws_workspace1}",
            "-f",
            "wsp-new",
            "-d",
            "workspace description",
        ],
        that(lambda w: workspaces(w)["workspace1"]["fullName"] == "wsp-new"),
        setup=workspace("workspace1"),
    ),
    "ws-update-name": Case(
        "WorkspacesCmdTest: update -i ID --new-name",
        ["workspaces", "update", "-i", "{ws_workspace1}", "--new-name", "workspace2"],
        that(lambda w: "workspace2" in workspaces(w)),
        setup=workspace("workspace1"),
    ),
    "ws-delete": Case(
        "WorkspacesCmdTest: delete -i ID",
        ["workspaces", "delete", "-i", "{ws_workspace1}"],
        that(lambda w: "workspace1" not in workspaces(w)),
        setup=workspace("workspace1"),
    ),
    "ws-delete-missing": Case(
        "WorkspacesCmdTest: delete -i (not found)",
        ["workspaces", "delete", "-i", "7588715621158"],
        exits(1, "7588715621158"),
    ),
    "ws-leave": Case(
        "WorkspacesCmdTest: leave -n Org/Workspace",
        ["workspaces", "leave", "-n", "default/workspace1"],
        that(
            lambda w: (
                "alice"
                not in {
                    p.get("userName")
                    for p in w.accounts.list_participants(
                        w.accounts.org_id("default"), w.extra["ws_workspace1"]
                    )
                }
            )
        ),
        setup=workspace("workspace1", participant="alice"),
        as_user="alice",
    ),
    # --- participants ---------------------------------------------------------------------
    "part-add": Case(
        "ParticipantsCmdTest: add -w WS -n NAME -t MEMBER",
        ["participants", "add", "-w", "{workspace}", "-n", "alice", "-t", "MEMBER"],
        that(lambda w: participants(w)["alice"]["wspRole"] == "launch"),
    ),
    "part-add-overwrite": Case(
        "ParticipantsCmdTest: add --overwrite -w WS -n NAME -t MEMBER",
        ["participants", "add", "--overwrite", "-w", "{workspace}", "-n", "alice", "-t", "MEMBER"],
        that(lambda w: participants(w)["alice"]["wspRole"] == "launch"),
        setup=participant("alice"),
    ),
    "part-add-usage": Case(
        "USAGE.md: participants add --name=EMAIL --type=MEMBER",
        ["participants", "add", "--name=alice@example.org", "--type=MEMBER"],
        that(lambda w: "alice" in participants(w)),
    ),
    "part-add-team": Case(
        "ParticipantsCmdTest (team_add): add -w WS -n TEAM -t TEAM",
        ["participants", "add", "-w", "{workspace}", "-n", "team1", "-t", "TEAM"],
        that(lambda w: participants(w)["team1"]["type"] == "TEAM"),
    ),
    "part-list": Case(
        "ParticipantsCmdTest: list -w WS",
        ["-o", "json", "participants", "list", "-w", "{workspace}"],
        out_json(lambda d: d["workspaceName"] == "default" and d["participants"]),
    ),
    "part-list-type": Case(
        "ParticipantsCmdTest: list -w WS -t TEAM",
        ["-o", "json", "participants", "list", "-w", "{workspace}", "-t", "TEAM"],
        out_json(lambda d: [p["teamName"] for p in d["participants"]] == ["team1"]),
        setup=participant("team1", team=True),
    ),
    "part-list-offset": Case(
        "ParticipantsCmdTest: list -w WS --offset 1 --max 2",
        ["-o", "json", "participants", "list", "-w", "{workspace}", "--offset", "1", "--max", "2"],
        out_json(lambda d: [p["userName"] for p in d["participants"]] == ["alice"]),
        setup=participant("alice"),
    ),
    "part-list-page": Case(
        "ParticipantsCmdTest: list -w WS --page 1 --max 2",
        ["-o", "json", "participants", "list", "-w", "{workspace}", "--page", "1", "--max", "2"],
        out_json(lambda d: len(d["participants"]) == 2),
        setup=participant("alice"),
    ),
    "part-list-page-and-offset": Case(
        "ParticipantsCmdTest: list --page 1 --offset 0 --max 2 (refused)",
        ["participants", "list", "-w", "{workspace}", "--page", "1", "--offset", "0", "--max", "2"],
        exits(1, "either --page or --offset"),
    ),
    "part-update": Case(
        "ParticipantsCmdTest: update -w WS -n NAME -r owner -t MEMBER",
        [
            "participants",
            "update",
            "-w",
            "{workspace}",
            "-n",
            "alice",
            "-r",
            "owner",
            "-t",
            "MEMBER",
        ],
        that(lambda w: participants(w)["alice"]["wspRole"] == "owner"),
        setup=participant("alice"),
    ),
    "part-update-usage": Case(
        "USAGE.md: participants update --name --type=COLLABORATOR --role=MAINTAIN",
        [
            "participants",
            "update",
            "--name=alice@example.org",
            "--type=COLLABORATOR",
            "--role=MAINTAIN",
        ],
        that(
            lambda w: (
                participants(w)["alice"]["wspRole"] == "maintain"
                and participants(w)["alice"]["type"] == "COLLABORATOR"
            )
        ),
        setup=collaborator("alice"),
    ),
    "part-update-custom-role": Case(
        "ParticipantsCmdTest: update -w WS -n TEAM -r my-role -t TEAM",
        [
            "participants",
            "update",
            "-w",
            "{workspace}",
            "-n",
            "team1",
            "-r",
            "my-role",
            "-t",
            "TEAM",
        ],
        that(lambda w: participants(w)["team1"]["wspRole"] == "my-role"),
        setup=setups(
            custom_role("my-role", "pipeline:read", "launch:read"),
            participant("team1", team=True),
        ),
    ),
    "part-update-unknown-role": Case(
        "ParticipantsCmdTest: update -r ROLE with a role the organization does not have",
        ["participants", "update", "-w", "{workspace}", "-n", "team1", "-r", "ghost", "-t", "TEAM"],
        exits(1, "ghost", "custom role"),
        setup=participant("team1", team=True),
    ),
    "part-delete": Case(
        "ParticipantsCmdTest: delete -w WS -n NAME -t MEMBER",
        ["participants", "delete", "-w", "{workspace}", "-n", "alice", "-t", "MEMBER"],
        that(lambda w: "alice" not in participants(w)),
        setup=participant("alice"),
    ),
    "part-delete-team": Case(
        "ParticipantsCmdTest: delete -w WS -n TEAM -t TEAM",
        ["participants", "delete", "-w", "{workspace}", "-n", "team1", "-t", "TEAM"],
        that(lambda w: "team1" not in participants(w)),
        setup=participant("team1", team=True),
    ),
    "part-leave": Case(
        "ParticipantsCmdTest: leave -w WS",
        ["participants", "leave", "-w", "{workspace}"],
        that(lambda w: "alice" not in participants(w)),
        setup=participant("alice"),
        as_user="alice",
    ),
    # --- members --------------------------------------------------------------------------
    "members-add": Case(
        "MembersCmdTest: add -o ORG -u USER",
        ["members", "add", "-o", "default", "-u", "bob"],
        that(lambda w: members(w)["bob"]["role"] == "member"),
    ),
    "members-delete": Case(
        "MembersCmdTest: delete -o ORG -u EMAIL",
        ["members", "delete", "-o", "default", "-u", "alice@example.org"],
        that(lambda w: "alice" not in members(w)),
    ),
    "members-leave": Case(
        "MembersCmdTest: leave -o ORG",
        ["members", "leave", "-o", "default"],
        that(lambda w: "alice" not in members(w)),
        as_user="alice",
    ),
    "members-list": Case(
        "MembersCmdTest: list -o ORG",
        ["-o", "json", "members", "list", "-o", "default"],
        out_json(lambda d: sorted(m["userName"] for m in d["members"]) == ["admin", "alice"]),
    ),
    "members-list-offset": Case(
        "MembersCmdTest: list -o ORG --offset 1 --max 2",
        ["-o", "json", "members", "list", "-o", "default", "--offset", "1", "--max", "2"],
        out_json(lambda d: len(d["members"]) == 1),
    ),
    "members-list-page": Case(
        "MembersCmdTest: list -o ORG --page 1 --max 2",
        ["-o", "json", "members", "list", "-o", "default", "--page", "1", "--max", "2"],
        out_json(lambda d: len(d["members"]) == 2),
    ),
    "members-list-page-and-offset": Case(
        "MembersCmdTest: list -o ORG --page 1 --offset 0 --max 2 (refused)",
        ["members", "list", "-o", "default", "--page", "1", "--offset", "0", "--max", "2"],
        exits(1, "either --page or --offset"),
    ),
    "collaborators-list": Case(
        "CollaboratorsCmdTest: collaborators list -o ORG",
        ["-o", "json", "collaborators", "list", "-o", "default"],
        out_json(
            lambda d: (
                [m["userName"] for m in d["members"]] == ["alice"]
                and d["members"][0]["role"] == "collaborator"
                and isinstance(d["organizationId"], int)
            )
        ),
        setup=collaborator("alice"),
    ),
    "collaborators-list-none": Case(
        "CollaboratorsCmdTest: collaborators list -o ORG (members are not collaborators)",
        ["collaborators", "list", "-o", "default", "-f", "al"],
        both(exits(0, "Collaborators"), lacks("alice")),
    ),
    "members-update": Case(
        "MembersCmdTest: update -o ORG -u EMAIL -r OWNER",
        ["members", "update", "-o", "default", "-u", "alice@example.org", "-r", "OWNER"],
        that(lambda w: members(w)["alice"]["role"] == "owner"),
    ),
    # --- organizations --------------------------------------------------------------------
    "orgs-add": Case(
        "OrganizationsCmdTest: add -n NAME -f FULL",
        ["organizations", "add", "-n", "sample-organization", "-f", "sample organization"],
        that(lambda w: orgs(w)["sample-organization"]["fullName"] == "sample organization"),
    ),
    "orgs-add-overwrite": Case(
        "OrganizationsCmdTest: add --overwrite -n NAME -f FULL",
        [
            "organizations",
            "add",
            "--overwrite",
            "-n",
            "sample-organization",
            "-f",
            "sample organization",
        ],
        that(lambda w: orgs(w)["sample-organization"]["fullName"] == "sample organization"),
        setup=lambda w: w.extra.update(
            org_id=w.accounts.add_org("sample-organization", "old")["orgId"]
        ),
    ),
    "orgs-delete": Case(
        "OrganizationsCmdTest: delete -n NAME",
        ["organizations", "delete", "-n", "organization1"],
        that(lambda w: "organization1" not in orgs(w)),
        setup=lambda w: w.accounts.add_org("organization1", "one"),
    ),
    "orgs-delete-missing": Case(
        "OrganizationsCmdTest: delete -n (not found)",
        ["organizations", "delete", "-n", "organization11"],
        exits(1, "organization11"),
    ),
    "orgs-list": Case(
        "OrganizationsCmdTest: list",
        ["-o", "json", "organizations", "list"],
        out_json(lambda d: [o["orgName"] for o in d["organizations"]] == ["default"]),
    ),
    "orgs-update-name": Case(
        "OrganizationsCmdTest: update -n NAME --new-name -f FULL",
        [
            "organizations",
            "update",
            "-n",
            "organization1",
            "--new-name",
            "organization2",
            "-f",
            "sample organization",
        ],
        that(lambda w: orgs(w)["organization2"]["fullName"] == "sample organization"),
        setup=lambda w: w.accounts.add_org("organization1", "one"),
    ),
    "orgs-update": Case(
        "OrganizationsCmdTest: update -n NAME -f FULL",
        ["organizations", "update", "-n", "organization1", "-f", "sample organization"],
        that(lambda w: orgs(w)["organization1"]["fullName"] == "sample organization"),
        setup=lambda w: w.accounts.add_org("organization1", "one"),
    ),
    "orgs-view": Case(
        "OrganizationsCmdTest: view -n NAME",
        ["-o", "json", "organizations", "view", "-n", "default"],
        out_json(lambda d: d["name"] == "default"),
    ),
    "orgs-view-missing": Case(
        "OrganizationsCmdTest: view -n (not found)",
        ["organizations", "view", "-n", "organization11"],
        exits(1, "organization11"),
    ),
    # --- teams ----------------------------------------------------------------------------
    "teams-add": Case(
        "TeamsCmdTest: add -o ORG -n NAME",
        ["teams", "add", "-o", "default", "-n", "team-test"],
        that(lambda w: "team-test" in teams(w)),
    ),
    "teams-add-overwrite": Case(
        "TeamsCmdTest: add -o ORG -n NAME --overwrite",
        ["teams", "add", "-o", "default", "-n", "team1", "--overwrite"],
        that(lambda w: teams(w)["team1"]["description"] == ""),  # was "the first team",
    ),
    "teams-add-missing-org": Case(
        "TeamsCmdTest: add -o (org not found)",
        ["teams", "add", "-o", "organization-not-found", "-n", "team-test"],
        exits(1, "organization-not-found"),
    ),
    "teams-delete": Case(
        "TeamsCmdTest: delete -o ORG -i ID",
        ["teams", "delete", "-o", "default", "-i", "{team_id}"],
        that(lambda w: "team1" not in teams(w)),
    ),
    "teams-list": Case(
        "TeamsCmdTest: list -o ORG",
        ["-o", "json", "teams", "list", "-o", "default"],
        out_json(lambda d: [t["name"] for t in d["teams"]] == ["team1"]),
    ),
    "teams-list-offset": Case(
        "TeamsCmdTest: list -o ORG --offset 1 --max 2",
        ["-o", "json", "teams", "list", "-o", "default", "--offset", "1", "--max", "2"],
        out_json(lambda d: d["teams"] == []),
    ),
    "teams-list-page": Case(
        "TeamsCmdTest: list -o ORG --page 1 --max 2",
        ["-o", "json", "teams", "list", "-o", "default", "--page", "1", "--max", "2"],
        out_json(lambda d: len(d["teams"]) == 1),
    ),
    "teams-members": Case(
        "TeamMembersCmdTest: members -o ORG -t TEAM",
        ["-o", "json", "teams", "members", "-o", "default", "-t", "team1"],
        out_json(lambda d: [m["userName"] for m in d["members"]] == ["alice"]),
        setup=alice_in_team1,
    ),
    "teams-members-add": Case(
        "TeamMembersCmdTest: members -o ORG -t TEAM add -m EMAIL",
        ["teams", "members", "-o", "default", "-t", "team1", "add", "-m", "alice@example.org"],
        that(lambda w: team_member(w, "team1", "alice")),
    ),
    "teams-members-delete": Case(
        "TeamMembersCmdTest: members -o ORG -t TEAM delete -m USER",
        ["teams", "members", "-o", "default", "-t", "team1", "delete", "-m", "alice"],
        that(lambda w: not team_member(w, "team1", "alice")),
        setup=alice_in_team1,
    ),
}


def _params() -> list[Any]:
    params = []
    for key, case in CASES.items():
        marks = [pytest.mark.tw_cli]
        if case.xfail:
            marks.append(pytest.mark.xfail(reason=case.xfail, strict=True))
        params.append(pytest.param(case, id=key, marks=marks))
    return params


@pytest.mark.parametrize("case", _params())
def test_tw_command_line(world: World, case: Case) -> None:
    if case.setup:
        case.setup(world)
    result = world.run(case.args, as_user=case.as_user)
    case.check(world, result)
