"""EBS auto-scaling of Docker's storage (``forge.ebsAutoScale`` / ``ebsBlockSize``).

Sources: tower-cli ``AwsBatchForgePlatform.java`` (``.ebsAutoScale(!noEbsAutoScale)``;
``--ebs-blocksize``: "Initial EBS auto-expandable volume size in GB. Additional blocks of this
size are added automatically when storage runs low. If absent, Platform defaults to 50 GB");
awslabs/amazon-ebs-autoscale at commit 8c8ac28914bf9302e4f5821ba99daac6e7fc05eb:
``install.sh`` (options, the first volume, the service), ``bin/create-ebs-volume`` and
``bin/ebs-autoscale`` (every ``aws ec2`` call the daemon makes, listed in :data:`DAEMON_CALLS`).
"""

from __future__ import annotations

import base64
import dataclasses
import email
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from batchforge.client import ApiError, BatchforgeClient
from batchforge.forge import ebs_autoscale
from batchforge.forge.plan import build_plan
from batchforge.forge.spec import ForgeSpec
from batchforge.forge.userdata import user_data_parts
from batchforge.iam import PolicyEvaluator, parse_policy
from batchforge.local_aws import LocalAws
from batchforge.services import forge_runner
from batchforge.services.context import AppContext
from tests.awsrules import AwsRules
from tests.compute.conftest import forged_names, nothing_left
from tests.compute.test_forge_userdata import Host
from tests.factories import Keys, keys_credentials
from tests.iam.users import READ_EXTRAS, SEED, make_user
from tests.iamrules import IamRules

F = "computeEnv.config.forge"
REGION = "us-east-1"
SPEC = ForgeSpec(
    ce_id="ce1", region=REGION, work_dir="s3://b/w", ebs_auto_scale=True, ebs_block_size=120
)


def _part(spec: ForgeSpec = SPEC) -> str:
    [part] = [p for p in user_data_parts(spec) if "batchforge bootstrap part: ebs-autoscale" in p]
    return part


# --- user data ----------------------------------------------------------------------------


def test_user_data_installs_the_pinned_daemon_on_docker_storage() -> None:
    part = _part()
    assert f"archive/{ebs_autoscale.COMMIT}.tar.gz" in part  # pinned, never a branch
    install = next(line for line in part.splitlines() if "/install.sh" in line)
    assert "--mountpoint /var/lib/docker" in install
    assert "--initial-size 120 --min-ebs-volume-size 120" in install  # ebsBlockSize
    assert "--imdsv2" in install  # the launch template requires IMDSv2 tokens
    assert "--file-system lvm.ext4" in install and "--volume-type gp3" in install
    assert "yum install -q -y jq lvm2" in part
    # Ordered after the AWS CLI (the daemon calls it) and before the file-system mounts.
    with_efs = dataclasses.replace(SPEC, efs_mount="/mnt/efs")
    names = [p.splitlines()[1] for p in user_data_parts(with_efs, "fs-0123")]
    assert [n.rsplit(" ", 1)[1] for n in names] == [
        "ecs-config",
        "aws-cli",
        "ebs-autoscale",
        "mounts",
    ]


def test_the_block_size_defaults_to_50_and_large_blocks_raise_the_limits() -> None:
    plain = ForgeSpec(ce_id="ce1", region=REGION, work_dir="s3://b/w", ebs_auto_scale=True)
    assert "--initial-size 50 --min-ebs-volume-size 50" in _part(plain)
    big = ForgeSpec(
        ce_id="ce1", region=REGION, work_dir="s3://b/w", ebs_auto_scale=True, ebs_block_size=2000
    )
    assert "--max-ebs-volume-size 2000 --max-total-created-size 8000" in _part(big)


def test_no_daemon_and_no_policy_without_ebs_auto_scale() -> None:
    spec = ForgeSpec(ce_id="ce1", region=REGION, work_dir="s3://b/w")
    assert not any("amazon-ebs-autoscale" in p for p in user_data_parts(spec))
    role = next(r for r in build_plan(spec) if r.key == "instance-role")
    assert "batchforge-ebs-autoscale" not in role.params["inline"]


def test_the_part_is_strict_bash_that_parses() -> None:
    part = _part()
    assert part.startswith("#!/bin/bash\n") and "set -Eeuo pipefail" in part
    checked = subprocess.run(["bash", "-n"], input=part, text=True, capture_output=True)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.skipif(
    shutil.which("shellcheck") is None and not os.environ.get("CI"),
    reason="shellcheck is not installed (.ci/run installs it, so CI fails instead of skipping)",
)
def test_the_part_passes_shellcheck(tmp_path: Path) -> None:
    script = tmp_path / "ebs.sh"
    script.write_text(_part())
    checked = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout


FAKE_INSTALL = """#!/bin/bash
echo "$@" > "{args}"
while [ $# -gt 0 ]; do [ "$1" = --mountpoint ] && mnt="$2"; shift; done
mkdir -p "$mnt"
chmod 1777 "$mnt"
touch "{mounted}"
{tail}
"""


def _upstream(tmp_path: Path, tail: str = "") -> Path:
    """A tarball shaped like GitHub's archive of the repository, with a stand-in install.sh
    that records its options and 'mounts' (marks) the mount point."""
    script = FAKE_INSTALL.format(
        args=tmp_path / "install-args", mounted=tmp_path / "mounted", tail=tail
    ).encode()
    archive = tmp_path / "upstream.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo(f"amazon-ebs-autoscale-{ebs_autoscale.COMMIT}/install.sh")
        info.size, info.mode = len(script), 0o755
        tar.addfile(info, io.BytesIO(script))
    return archive


def _host(tmp_path: Path, install_tail: str = "", mounted: bool = False) -> Host:
    archive = _upstream(tmp_path, install_tail)
    marker = tmp_path / "mounted"
    if mounted:
        marker.touch()
    return Host(
        tmp_path,
        curl='while [ $# -gt 0 ]; do [ "$1" = -o ] && out="$2"; shift; done; '
        f'cp "{archive}" "$out"',
        mountpoint=f'[ -e "{marker}" ]',
        aws="exit 0",
        df="exit 0",
    )  # systemctl (a stub answering 0): Docker runs, and so does the service once installed


def _run(host: Host, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    script = _part()
    for path, local in (
        (ebs_autoscale.MOUNT_POINT, tmp_path / "docker"),
        (ebs_autoscale.INSTALL_DIR, tmp_path / "opt"),
        (ebs_autoscale.SERVICE_DROP_IN, tmp_path / "dropin"),
    ):
        script = script.replace(path, str(local))
    return host.run(script)


def test_install_moves_docker_onto_the_new_file_system(tmp_path: Path) -> None:
    (tmp_path / "docker" / "overlay2").mkdir(parents=True)
    (tmp_path / "docker" / "overlay2" / "layer").write_text("image data")
    host = _host(tmp_path)
    done = _run(host, tmp_path)
    assert done.returncode == 0, done.stderr
    args = (tmp_path / "install-args").read_text().split()
    assert args[args.index("--mountpoint") + 1] == str(tmp_path / "docker")
    assert args[args.index("--initial-size") + 1] == "120"
    # What Docker had is on the new file system, with Docker's own mode, and Docker is back.
    assert (tmp_path / "docker" / "overlay2" / "layer").read_text() == "image data"
    assert (tmp_path / "docker").stat().st_mode & 0o7777 == 0o710
    assert not list(tmp_path.glob("docker.batchforge-*"))
    systemctl = host.calls("systemctl")
    assert systemctl.index("systemctl stop docker.socket docker.service") < systemctl.index(
        "systemctl start docker.service"
    )
    drop_in = (tmp_path / "dropin" / "batchforge.conf").read_text()
    assert "Environment=PATH=" in drop_in and drop_in.rstrip().endswith("/miniconda/bin")
    assert not host.calls("shutdown")


def test_a_failed_install_keeps_the_instance_out_of_ecs(tmp_path: Path) -> None:
    host = _host(tmp_path, install_tail="exit 1")
    done = _run(host, tmp_path)
    assert done.returncode != 0
    assert host.kept_out_of_ecs(), host.log.read_text()
    assert "FAILED (ebs-autoscale)" in done.stderr


def test_a_failed_download_is_retried_then_keeps_the_instance_out(tmp_path: Path) -> None:
    host = _host(tmp_path)
    (host.bin / "curl").write_text(f'#!/bin/bash\necho "curl $*" >> "{host.log}"\nexit 22\n')
    done = _run(host, tmp_path)
    assert done.returncode != 0
    assert len(host.calls("curl")) == 5
    assert host.kept_out_of_ecs()


def test_an_instance_already_set_up_is_left_alone(tmp_path: Path) -> None:
    host = _host(tmp_path, mounted=True)
    done = _run(host, tmp_path)
    assert done.returncode == 0, done.stderr
    assert not host.calls("curl") and not host.calls("yum") and not host.calls("systemctl")


# --- the instance role's policy --------------------------------------------------------------

ACCOUNT = "123456789012"
SELF, OTHER = "i-0123456789abcdef0", "i-0fedcba9876543210"
SELF_ARN = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{SELF}"
NEW_VOLUME = f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/vol-0new"
CALLER = {"ec2:SourceInstanceARN": SELF_ARN}
NEW_TAGS = {
    "aws:RequestTag/source-instance": SELF,
    "aws:RequestTag/amazon-ebs-autoscale-creation-time": "2026-12-05 19:00:00 UTC+0000",
    "aws:RequestTag/Name": "TowerForge-ce1",
    "aws:TagKeys": ["Name", "source-instance", "amazon-ebs-autoscale-creation-time"],
}
OWN_VOLUME = {**CALLER, "aws:ResourceTag/source-instance": SELF}
THIS_INSTANCE = {**CALLER, "ec2:InstanceID": SELF}

DAEMON_CALLS: list[tuple[str, str, dict[str, Any]]] = [
    # bin/create-ebs-volume: `aws ec2 describe-tags --filters resource-id=<instance>`
    ("ec2:DescribeTags", "*", CALLER),
    # bin/create-ebs-volume (three), bin/ebs-autoscale (get_num_devices) and
    # `aws ec2 wait volume-available`: `aws ec2 describe-volumes --filters ...`
    ("ec2:DescribeVolumes", "*", CALLER),
    # bin/create-ebs-volume: `aws ec2 create-volume --size --volume-type gp3 --iops
    # --throughput --encrypted --tag-specification ResourceType=volume,Tags=[<instance tags>,
    # {Key=source-instance,Value=<id>},{Key=amazon-ebs-autoscale-creation-time,...}]`
    (
        "ec2:CreateVolume",
        NEW_VOLUME,
        {**CALLER, **NEW_TAGS, "ec2:Encrypted": "true", "ec2:VolumeType": "gp3"},
    ),
    ("ec2:CreateTags", NEW_VOLUME, {**CALLER, **NEW_TAGS, "ec2:CreateAction": "CreateVolume"}),
    # bin/create-ebs-volume: `aws ec2 attach-volume --device --instance-id --volume-id`
    # (authorised on the volume and on the instance)
    ("ec2:AttachVolume", NEW_VOLUME, OWN_VOLUME),
    ("ec2:AttachVolume", SELF_ARN, THIS_INSTANCE),
    # bin/create-ebs-volume: `aws ec2 delete-volume` when the attachment failed
    ("ec2:DeleteVolume", NEW_VOLUME, OWN_VOLUME),
    # bin/create-ebs-volume: `aws ec2 modify-instance-attribute --block-device-mappings
    # DeviceName=...,Ebs={DeleteOnTermination=true,VolumeId=...}`
    ("ec2:ModifyInstanceAttribute", SELF_ARN, THIS_INSTANCE),
    ("ec2:ModifyInstanceAttribute", NEW_VOLUME, OWN_VOLUME),
]

NOT_ALLOWED: list[tuple[str, str, dict[str, Any]]] = [
    # Listed in the README, called by no script.
    ("ec2:DescribeVolumeStatus", "*", CALLER),
    ("ec2:DescribeVolumeAttribute", NEW_VOLUME, OWN_VOLUME),
    # uninstall.sh only, never run; and nothing else of EC2.
    ("ec2:DetachVolume", NEW_VOLUME, OWN_VOLUME),
    ("ec2:CreateSnapshot", NEW_VOLUME, OWN_VOLUME),
    ("ec2:TerminateInstances", SELF_ARN, THIS_INSTANCE),
    ("ec2:DescribeInstances", "*", CALLER),
    # Another instance's volumes, an untagged volume (a root volume), another instance.
    ("ec2:AttachVolume", NEW_VOLUME, {**CALLER, "aws:ResourceTag/source-instance": OTHER}),
    ("ec2:DeleteVolume", NEW_VOLUME, CALLER),
    ("ec2:DeleteVolume", NEW_VOLUME, {**CALLER, "aws:ResourceTag/source-instance": OTHER}),
    (
        "ec2:AttachVolume",
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{OTHER}",
        {**CALLER, "ec2:InstanceID": OTHER},
    ),
    (
        "ec2:ModifyInstanceAttribute",
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{OTHER}",
        {**CALLER, "ec2:InstanceID": OTHER},
    ),
    # Volumes the daemon would not create: unencrypted, another type, without its tags,
    # claiming another instance, in another region.
    ("ec2:CreateVolume", NEW_VOLUME, {**CALLER, **NEW_TAGS, "ec2:VolumeType": "gp3"}),
    (
        "ec2:CreateVolume",
        NEW_VOLUME,
        {**CALLER, **NEW_TAGS, "ec2:Encrypted": "true", "ec2:VolumeType": "io2"},
    ),
    ("ec2:CreateVolume", NEW_VOLUME, {**CALLER, "ec2:Encrypted": "true", "ec2:VolumeType": "gp3"}),
    (
        "ec2:CreateVolume",
        NEW_VOLUME,
        {
            **CALLER,
            **NEW_TAGS,
            "aws:RequestTag/source-instance": OTHER,
            "ec2:Encrypted": "true",
            "ec2:VolumeType": "gp3",
        },
    ),
    (
        "ec2:CreateVolume",
        NEW_VOLUME.replace(REGION, "eu-west-1"),
        {**CALLER, **NEW_TAGS, "ec2:Encrypted": "true", "ec2:VolumeType": "gp3"},
    ),
    # Tags only while creating a volume.
    ("ec2:CreateTags", NEW_VOLUME, {**CALLER, **NEW_TAGS}),
    ("ec2:CreateTags", SELF_ARN, {**THIS_INSTANCE, "ec2:CreateAction": "CreateVolume"}),
    # Another principal (no instance credentials) with the same role.
    ("ec2:AttachVolume", SELF_ARN, {"ec2:InstanceID": SELF}),
]


def _instance_role_policy() -> dict[str, Any]:
    role = next(r for r in build_plan(SPEC) if r.key == "instance-role")
    policy: dict[str, Any] = role.params["inline"]["batchforge-ebs-autoscale"]
    return policy


def _evaluator() -> PolicyEvaluator:
    parsed = parse_policy(json.dumps(_instance_role_policy()))
    assert parsed.policy is not None and not parsed.findings, parsed.findings
    return PolicyEvaluator.for_policies([parsed.policy])


@pytest.mark.parametrize(("action", "resource", "context"), DAEMON_CALLS)
def test_the_instance_role_allows_every_call_of_the_daemon(
    action: str, resource: str, context: dict[str, Any]
) -> None:
    decision = _evaluator().evaluate(action, resource, context, resource_is_pattern=False)
    assert decision.allowed, decision.reason


@pytest.mark.parametrize(("action", "resource", "context"), NOT_ALLOWED)
def test_the_instance_role_allows_nothing_more(
    action: str, resource: str, context: dict[str, Any]
) -> None:
    decision = _evaluator().evaluate(action, resource, context, resource_is_pattern=False)
    assert not decision.allowed, decision.reason


def test_the_policy_names_exactly_the_daemons_actions() -> None:
    named = set()
    for statement in _instance_role_policy()["Statement"]:
        named.update(_actions(statement))
        if statement["Resource"] != "*":  # only the describes, which have no resource level
            assert statement["Resource"].startswith(f"arn:aws:ec2:{REGION}:")
    assert named == set(ebs_autoscale.EC2_ACTIONS) == {a for a, _, _ in DAEMON_CALLS}
    assert not any("*" in a for a in named)


# --- through the API -------------------------------------------------------------------------


def _post(api: BatchforgeClient, body: dict) -> ApiError:
    with pytest.raises(ApiError) as caught:
        api.request("POST", "/compute-envs", json=body)
    return caught.value


@pytest.mark.parametrize("size", [0, -5, 16385])
def test_a_bad_block_size_is_refused_naming_the_field(
    api: BatchforgeClient, forge_body, size: int
) -> None:
    error = _post(api, forge_body(ebsAutoScale=True, ebsBlockSize=size))
    assert (error.status, error.field) == (400, f"{F}.ebsBlockSize"), error.message
    assert "16384" in error.message


def test_a_block_size_without_auto_scaling_is_refused(api: BatchforgeClient, forge_body) -> None:
    error = _post(api, forge_body(ebsAutoScale=False, ebsBlockSize=100))
    assert (error.status, error.field) == (400, f"{F}.ebsBlockSize")
    assert "ebsAutoScale" in error.message


def test_auto_scaling_with_nvme_storage_is_refused_for_the_nvme(
    api: BatchforgeClient, forge_body
) -> None:
    """Seqera's fast instance storage puts Docker on NVMe disks instead; batchforge does not
    implement it, and says so rather than blaming ebsAutoScale."""
    body = forge_body(ebsAutoScale=True)
    body["computeEnv"]["config"]["nvnmeStorageEnabled"] = True
    error = _post(api, body)
    assert (error.status, error.code) == (400, "unsupported")
    assert error.field == "computeEnv.config.nvnmeStorageEnabled"
    assert "ebsAutoScale" not in error.message


def _seed_credentials(api: BatchforgeClient, aws: LocalAws) -> str:
    """Credentials of a user holding exactly the seed policy (plus the preflight's reads)."""
    auth = make_user(aws, "seed-ebs", inline=SEED, managed=READ_EXTRAS)
    keys = Keys(auth.access_key or "", auth.secret_key or "")
    return api.create_credentials(keys_credentials("seed-ebs", keys))


def test_forge_and_dispose_with_the_seed_policy_leaves_nothing(
    api: BatchforgeClient,
    app_ctx: AppContext,
    aws: LocalAws,
    rules: AwsRules,
    iam_rules: IamRules,
    forge_body,
) -> None:
    body = forge_body(ebsAutoScale=True, ebsBlockSize=80)
    body["computeEnv"]["credentialsId"] = _seed_credentials(api, aws)
    ce_id = api.request("POST", "/compute-envs", json=body).json()["computeEnvId"]
    forge_runner.run_pending(app_ctx)
    env = api.request("GET", f"/compute-envs/{ce_id}").json()["computeEnv"]
    assert env["status"] == "AVAILABLE", env["message"]
    forge = env["config"]["forge"]
    assert (forge["ebsAutoScale"], forge["ebsBlockSize"]) == (True, 80)  # the view, as stored

    iam, ec2 = aws.boto_client("iam"), aws.boto_client("ec2")
    role = f"TowerForge-{ce_id}-InstanceRole"
    assert "batchforge-ebs-autoscale" in iam.list_role_policies(RoleName=role)["PolicyNames"]
    stored = iam.get_role_policy(RoleName=role, PolicyName="batchforge-ebs-autoscale")
    document = stored["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    assert {a for st in document["Statement"] for a in _actions(st)} == set(
        ebs_autoscale.EC2_ACTIONS
    )
    version = ec2.describe_launch_template_versions(LaunchTemplateName=f"TowerForge-{ce_id}")[
        "LaunchTemplateVersions"
    ][0]
    user_data = base64.b64decode(version["LaunchTemplateData"]["UserData"])
    parts = [
        p.get_payload(decode=True).decode()
        for p in email.message_from_bytes(user_data).walk()
        if not p.is_multipart()
    ]
    [install] = [p for p in parts if "bootstrap part: ebs-autoscale" in p]
    assert "--mountpoint /var/lib/docker" in install and "--initial-size 80" in install

    api.request("DELETE", f"/compute-envs/{ce_id}")
    forge_runner.run_pending(app_ctx)
    assert nothing_left(aws, ce_id), forged_names(aws, ce_id)
    assert not [d for d in iam_rules.denied if "seed-ebs" in d[0]], iam_rules.denied


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)
