"""``batchforge policy generate`` and ``check`` through Typer's test runner."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from batchforge.cli.policy import app
from tests.iam.seed import seed_block_with, seed_full_policy_text

runner = CliRunner()


def run(*args: str, stdin: str | bytes | None = None) -> Any:
    return runner.invoke(app, list(args), input=stdin, env={"COLUMNS": "250"})


def test_generate_default_is_the_seed_policy(seed_full: dict[str, Any]) -> None:
    result = run("generate", "-o", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == seed_full


def test_generate_scoped_json() -> None:
    result = run(
        "generate",
        "--mode",
        "forge",
        "--efs",
        "--features",
        "secrets",
        "--account",
        "123456789012",
        "--region",
        "eu-west-1",
        "--work-dir",
        "s3://nf-work/work",
        "--data-bucket",
        "data-a",
        "--tag",
        "team=genomics",
        "-o",
        "json",
    )
    assert result.exit_code == 0, result.output
    policy = json.loads(result.stdout)
    sids = [s["Sid"] for s in policy["Statement"]]
    assert "EFSManagement" in sids and "OptionalPipelineSecretsManagementCanBeRestricted" in sids
    assert "S3ReadWriteBucketsForStudiosDataExplorer" not in sids  # data explorer not chosen
    assert "arn:aws:s3:::nf-work/work/*" in result.stdout
    assert "Note:" in result.stderr


def test_generate_create_roles_switch() -> None:
    without = run("generate", "--mode", "forge", "--no-create-roles", "-o", "json")
    assert without.exit_code == 0, without.output
    assert "iam:CreateRole" not in without.stdout
    with_roles = run("generate", "--mode", "manual", "--create-roles", "-o", "json")
    assert "iam:CreateRole" in with_roles.stdout


def test_generate_table_output() -> None:
    result = run("generate", "--mode", "manual", "--queue", "MyJQ", "-o", "table")
    assert result.exit_code == 0, result.output
    assert "BatchJobsManagementCanBeRestricted" in result.stdout
    assert "job-queue/MyJQ" in result.stdout


def test_generate_split_outputs_a_list() -> None:
    buckets = [arg for i in range(150) for arg in ("--data-bucket", f"bucket-number-{i:04d}")]
    result = run("generate", "-f", "data-explorer", "--region", "eu-west-1", *buckets, "-o", "json")
    assert result.exit_code == 0, result.output
    policies = json.loads(result.stdout)
    assert isinstance(policies, list) and len(policies) > 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--features", "forg"], "Unknown feature 'forg'"),
        (["--account", "12"], "Invalid AWS account id"),
        (["--tag", "novalue"], "KEY=VALUE"),
        (["--work-dir", "/local/path"], "S3 URL"),
        (["--mode", "auto"], "Unknown mode"),
    ],
)
def test_generate_bad_input_is_a_message(args: list[str], message: str) -> None:
    result = run("generate", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_check_seed_passes(tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    path.write_text(seed_full_policy_text())
    result = run("check", str(path))
    assert result.exit_code == 0, result.output
    assert "PASSED" in result.stdout


def test_check_missing_permission_exits_1(tmp_path: Path, seed_full: dict[str, Any]) -> None:
    policy = {**seed_full, "Statement": seed_full["Statement"][1:]}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(policy))
    result = run("check", str(path), "--features", "forge", "-o", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    missing = {
        p["action"] for p in report["permissions"] if p["decision"] != "ALLOWED" and p["required"]
    }
    assert "batch:CreateComputeEnvironment" in missing


def test_check_broken_json_from_stdin_exits_2_with_location() -> None:
    result = run("check", "-", stdin=seed_block_with("IAMRoleAndProfileManagement"))
    assert result.exit_code == 2
    assert "line 23, column 1" in result.stdout
    assert "Missing comma between array items" in result.stdout
    assert "Traceback" not in result.output


def test_check_binary_and_missing_files_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(b"\x00\x01\x02\xff")
    result = run("check", str(path))
    assert result.exit_code == 2
    assert "not text" in result.stdout
    missing = run("check", str(tmp_path / "nope.json"))
    assert missing.exit_code == 2
    assert "No such file" in missing.stderr


def test_check_verbose_table_and_scope(tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    path.write_text(seed_full_policy_text())
    result = run("check", str(path), "-f", "launch", "--queue", "MyCustomJQ", "-v")
    assert result.exit_code == 1
    assert "IMPLICIT_DENY" in result.stdout
    assert "MyCustomJQ" in result.stdout


def test_importing_the_cli_module_does_not_load_iam_modules() -> None:
    code = (
        "import sys, batchforge.cli.policy; "
        "print(sorted(m for m in sys.modules if m.startswith('batchforge.iam')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
