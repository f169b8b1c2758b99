"""The launch template's user data fails loudly (review finding 2; issue 12 deliverable 7).

Sources: cloud-init runs ``text/x-shellscript`` parts in order and goes on after one that failed
(cloud-init docs, "User data formats"); the ECS agent starts after cloud-final
(aws/amazon-ecs-init PR #175, ``After=cloud-final.service``), and waiting on it from user data
deadlocks (aws/amazon-ecs-agent #1707: use ``--no-block``); Miniconda's defaults channels stop a
non-interactive install (``CondaToSNonInteractiveError``, nextflow-io/nextflow PR #6685), so the
CLI comes from conda-forge only (Miniforge, github.com/conda-forge/miniforge).
"""

from __future__ import annotations

import base64
import email
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from batchforge.forge.spec import ForgeSpec
from batchforge.forge.userdata import build_user_data, user_data_parts

SPEC = ForgeSpec(
    ce_id="ce1",
    region="eu-west-1",
    work_dir="s3://nf-work/runs",
    efs_mount="/mnt/efs",
    fsx_mount="/fsx",
    ecs_config="ECS_LOGLEVEL=debug",
)


def _parts() -> list[str]:
    raw = base64.b64decode(build_user_data(SPEC, "fs-0123", "fs-0456.fsx.aws.com", "abcd1234"))
    message = email.message_from_bytes(raw)
    assert message.is_multipart() and message.get_content_type() == "multipart/mixed"
    parts = [p for p in message.walk() if not p.is_multipart()]
    assert all(p.get_content_type() == "text/x-shellscript" for p in parts)
    return [p.get_payload(decode=True).decode() for p in parts]


def test_every_part_is_strict_bash_that_parses() -> None:
    parts = _parts()
    assert len(parts) == 3
    for part in parts:
        assert part.startswith("#!/bin/bash\n")
        assert "set -Eeuo pipefail" in part
        checked = subprocess.run(["bash", "-n"], input=part, text=True, capture_output=True)
        assert checked.returncode == 0, checked.stderr


@pytest.mark.skipif(
    shutil.which("shellcheck") is None and not os.environ.get("CI"),
    reason="shellcheck is not installed (.ci/run installs it, so CI fails instead of skipping)",
)
def test_every_part_passes_shellcheck(tmp_path: Path) -> None:
    for n, part in enumerate(_parts()):
        script = tmp_path / f"part{n}.sh"
        script.write_text(part)
        checked = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout


def test_the_cli_comes_from_conda_forge_only_and_is_verified() -> None:
    cli = _parts()[1]
    assert "github.com/conda-forge/miniforge/releases" in cli
    assert "repo.anaconda.com" not in cli and "Miniconda" not in cli
    assert "--override-channels -c conda-forge awscli" in cli
    assert cli.rstrip().splitlines()[-1].startswith('"$CLI" --version')


def test_lustre_is_mounted_with_dns_name_and_mount_name() -> None:
    mounts = _parts()[2]
    assert "fs-0456.fsx.aws.com@tcp:/abcd1234 /fsx" in mounts
    assert "mount -t efs -o tls fs-0123:/ /mnt/efs" in mounts


# --- running the parts with stub commands -------------------------------------------------

STUBS = {
    # Every command the parts call on the host; each records its arguments.
    "systemctl": "exit 0",
    "shutdown": "exit 0",
    "sleep": "exit 0",
    "yum": "exit 0",
    "amazon-linux-extras": "exit 0",
    "mount": "exit 0",
    "uname": "echo x86_64",
}


class Host:
    """A temp dir standing in for the instance: stub commands on PATH that log their calls."""

    def __init__(self, root: Path, **overrides: str):
        self.root = root
        self.bin = root / "bin"
        self.bin.mkdir()
        self.log = root / "calls.log"
        self.state = root / "state"
        for name, body in {**STUBS, **overrides}.items():
            stub = self.bin / name
            stub.write_text(f'#!/bin/bash\necho "{name} $*" >> "{self.log}"\n{body}\n')
            stub.chmod(0o755)

    def run(self, script: str) -> subprocess.CompletedProcess[str]:
        script = script.replace("/etc/fstab", str(self.root / "fstab"))
        script = script.replace("/etc/ecs", str(self.root / "ecs"))
        env = {
            "PATH": f"{self.bin}:/usr/bin:/bin",
            "BATCHFORGE_STATE_DIR": str(self.state),
            "HOME": str(self.root),
        }
        return subprocess.run(
            ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60
        )

    def calls(self, name: str) -> list[str]:
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return [line for line in lines if line.split(" ", 1)[0] == name]

    def kept_out_of_ecs(self) -> bool:
        systemctl = self.calls("systemctl")
        return (
            "systemctl mask ecs" in systemctl
            and "systemctl stop --no-block ecs" in systemctl
            and bool(self.calls("shutdown"))
            and (self.state / "bootstrap-failed").exists()
        )


def _cli_part(tmp_path: Path) -> str:
    spec = ForgeSpec(
        ce_id="ce1", region="r", work_dir="s3://b/w", cli_path=f"{tmp_path}/conda/bin/aws"
    )
    return user_data_parts(spec)[1]


def _installer_writing(cli_body: str) -> str:
    """A curl stub that 'downloads' an installer which makes conda, whose install makes aws."""
    return (
        'out=""; while [ $# -gt 0 ]; do [ "$1" = -o ] && out="$2"; shift; done\n'
        "cat > \"$out\" <<'EOF'\n"
        'while [ $# -gt 0 ]; do [ "$1" = -p ] && prefix="$2"; shift; done\n'
        'mkdir -p "$prefix/bin"\n'
        "cat > \"$prefix/bin/conda\" <<'EOC'\n"
        "#!/bin/bash\n"
        'cat > "$(dirname "$0")/aws" <<\'EOA\'\n'
        "#!/bin/bash\n"
        f"{cli_body}\n"
        "EOA\n"
        'chmod +x "$(dirname "$0")/aws"\n'
        "EOC\n"
        'chmod +x "$prefix/bin/conda"\n'
        "EOF\n"
    )


def test_cli_part_installs_and_verifies_the_cli(tmp_path: Path) -> None:
    host = Host(tmp_path, curl=_installer_writing("echo aws-cli/2.22.0"))
    done = host.run(_cli_part(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "aws-cli/2.22.0" in done.stdout
    assert not host.calls("systemctl") and not host.calls("shutdown")
    assert "miniforge/releases" in host.calls("curl")[0]


def test_a_failing_download_keeps_the_instance_out_of_ecs(tmp_path: Path) -> None:
    host = Host(tmp_path, curl="exit 22")
    done = host.run(_cli_part(tmp_path))
    assert done.returncode != 0
    assert len(host.calls("curl")) == 5  # retried, bounded
    assert host.kept_out_of_ecs(), host.log.read_text()
    assert "FAILED (aws-cli)" in done.stderr


def test_a_cli_that_fails_version_keeps_the_instance_out_of_ecs(tmp_path: Path) -> None:
    host = Host(tmp_path, curl=_installer_writing("exit 1"))
    done = host.run(_cli_part(tmp_path))
    assert done.returncode != 0
    assert host.kept_out_of_ecs()
    assert "does not run" in (host.state / "bootstrap-failed").read_text()


def test_later_parts_stop_after_a_failed_one(tmp_path: Path) -> None:
    host = Host(tmp_path, curl="exit 22")
    parts = user_data_parts(SPEC, "fs-0123")
    host.run(_cli_part(tmp_path))
    calls_before = len(host.log.read_text().splitlines())
    done = host.run(parts[2])
    assert done.returncode != 0 and "earlier bootstrap part failed" in done.stderr
    assert len(host.log.read_text().splitlines()) == calls_before  # nothing mounted


def test_mounts_are_retried_then_succeed(tmp_path: Path) -> None:
    counter = tmp_path / "mount-count"
    # The first three mounts fail (DNS of a new mount target not answering yet).
    flaky = (
        f'n=$(cat "{counter}" 2>/dev/null || echo 0); echo $((n+1)) > "{counter}"; [ "$n" -ge 3 ]'
    )
    host = Host(tmp_path, mount=flaky)
    done = host.run(user_data_parts(SPEC, "fs-0123")[2])
    assert done.returncode == 0, done.stderr
    assert len(host.calls("mount")) == 4
    assert not host.calls("shutdown")
    assert "fs-0123:/ /mnt/efs efs _netdev,tls 0 0" in (tmp_path / "fstab").read_text()


def test_a_mount_that_never_works_keeps_the_instance_out_of_ecs(tmp_path: Path) -> None:
    host = Host(tmp_path, mount="exit 32")
    done = host.run(user_data_parts(SPEC, None, "fs-0456.fsx.aws.com", "abcd1234")[2])
    assert done.returncode != 0
    assert len(host.calls("mount")) == 30  # bounded
    assert host.kept_out_of_ecs()


def test_ecs_part_writes_the_agent_settings(tmp_path: Path) -> None:
    host = Host(tmp_path)
    done = host.run(user_data_parts(SPEC)[0])
    assert done.returncode == 0, done.stderr
    config = (tmp_path / "ecs" / "ecs.config").read_text()
    assert "ECS_ENABLE_SPOT_INSTANCE_DRAINING=true" in config and "ECS_LOGLEVEL=debug" in config
