"""`batchforge compute-envs import` of a Seqera (tw) export with features batchforge does not
support: refused listing them, or imported without them with --ignore-unsupported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from batchforge.cli.main import app
from batchforge.client import BatchforgeClient
from batchforge.local_aws import WORK_BUCKET, LocalAws
from tests.cli.conftest import LiveServer
from tests.compute.test_validation_real_aws import resource_counts
from tests.factories import keys_credentials

# Shaped like `tw compute-envs export` writes it (tower-cli ComputeEnvExportFormat: the
# AwsBatchConfig object itself, NON_NULL, plus a "labels" list; fixture of tower-cli's
# ComputeEnvExportFormatTest), with Wave, Fusion v2 and a Fargate head on.
SEQERA_EXPORT = {
    "region": "us-east-1",
    "workDir": f"s3://{WORK_BUCKET}/imported",
    "waveEnabled": True,
    "fusion2Enabled": True,
    "nvnmeStorageEnabled": False,
    "forge": {
        "type": "SPOT",
        "minCpus": 0,
        "maxCpus": 2,
        "gpuEnabled": False,
        "ebsAutoScale": False,
        "disposeOnDeletion": True,
        "efsCreate": False,
        "fargateHeadEnabled": True,
        "arm64Enabled": False,
    },
    "forgedResources": [{"IamRole": "arn:aws:iam::123456789012:role/TowerForge-x-ServiceRole"}],
    "headQueue": "TowerForge-x-head",
    "computeQueue": "TowerForge-x-work",
    "discriminator": "aws-batch",
    "labels": [
        {
            "id": 130065807872087,
            "name": "owner",
            "value": "jaime",
            "resource": True,
            "isDefault": False,
        }
    ],
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("BATCHFORGE_URL", "BATCHFORGE_TOKEN", "TOWER_API_ENDPOINT", "TOWER_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BATCHFORGE_DATA_DIR", str(tmp_path / "cli-data"))


def invoke(server: LiveServer, *args: str):
    return CliRunner().invoke(app, ["--url", server.url, "--token", server.token, *args])


@pytest.fixture
def export_file(tmp_path: Path) -> Path:
    path = tmp_path / "seqera-ce.json"
    path.write_text(json.dumps(SEQERA_EXPORT, indent=2))
    return path


def test_import_refuses_unsupported_features_and_creates_nothing(
    live_server: LiveServer, api: BatchforgeClient, aws: LocalAws, export_file: Path
) -> None:
    """Issue 12, deliverable 5: an export with unsupported features on is imported only with
    an explicit --ignore-unsupported."""
    api.create_credentials(keys_credentials("aws"))
    before = resource_counts(aws)
    result = invoke(live_server, "compute-envs", "import", str(export_file), "-c", "aws")
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    for path in ("waveEnabled", "fusion2Enabled", "forge.fargateHeadEnabled"):
        assert path in text
    assert "nvnmeStorageEnabled" not in text  # off in the export: not a problem
    assert "--ignore-unsupported" in text
    assert api.list_compute_envs() == []
    assert resource_counts(aws) == before


def test_import_with_ignore_unsupported_says_what_it_dropped(
    live_server: LiveServer, api: BatchforgeClient, aws: LocalAws, export_file: Path
) -> None:
    api.create_credentials(keys_credentials("aws"))
    result = invoke(
        live_server,
        "compute-envs",
        "import",
        str(export_file),
        "-c",
        "aws",
        "-n",
        "imported",
        "--ignore-unsupported",
    )
    assert result.exit_code == 0, result.output
    dropped = [line.strip() for line in result.output.splitlines() if " = " in line]
    assert dropped == [
        "waveEnabled = true",
        "fusion2Enabled = true",
        "forge.fargateHeadEnabled = true",
    ]
    [entry] = api.list_compute_envs()
    env = api.describe_compute_env(entry.id)
    assert env.name == "imported" and env.status == "CREATING"
    assert not env.config.waveEnabled and not env.config.fusion2Enabled
    assert env.config.forge is not None and not env.config.forge.fargateHeadEnabled
    assert env.config.workDir == f"s3://{WORK_BUCKET}/imported"
    assert [(label.name, label.value) for label in env.labels] == [("owner", "jaime")]


def test_a_batchforge_export_imports_back(
    live_server: LiveServer, api: BatchforgeClient, aws: LocalAws, tmp_path: Path
) -> None:
    api.create_credentials(keys_credentials("aws"))
    source = dict(SEQERA_EXPORT)
    source.pop("waveEnabled"), source.pop("fusion2Enabled")
    source["forge"] = {**SEQERA_EXPORT["forge"], "fargateHeadEnabled": False}
    first = tmp_path / "first.json"
    first.write_text(json.dumps(source))
    assert (
        invoke(live_server, "compute-envs", "import", str(first), "-c", "aws", "-n", "a").exit_code
        == 0
    )
    out = tmp_path / "a.json"
    assert invoke(live_server, "compute-envs", "export", "a", str(out)).exit_code == 0
    result = invoke(live_server, "compute-envs", "import", str(out), "-c", "aws", "-n", "b")
    assert result.exit_code == 0, result.output
    assert sorted(e.name for e in api.list_compute_envs()) == ["a", "b"]
