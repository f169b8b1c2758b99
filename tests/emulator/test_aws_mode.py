"""In ``aws`` mode the product never starts the emulator (nor its Nextflow stand-in)."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchforge import local_aws
from batchforge.server import run as server_run
from batchforge.settings import Settings


def test_aws_mode_starts_no_emulator(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """ARCHITECTURE.md: the stand-in is never used in ``aws`` mode -- ``batchforge server``
    with BATCHFORGE_AWS_MODE=aws does not spawn the emulator process at all."""
    spawned: list[object] = []
    monkeypatch.setattr(local_aws, "spawn", lambda *a, **k: spawned.append(a) or None)
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    said: list[str] = []
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        aws_mode="aws",
    )
    server_run.serve(settings, say=said.append)
    assert spawned == []
    assert not any("emulator" in line.lower() or "stand-in" in line for line in said), said


def test_emulator_banner_says_head_jobs_run_a_stand_in(tmp_path: Path) -> None:
    """The emulator labels the stand-in plainly in its banner (issue 12, deliverable 6)."""
    log = tmp_path / "emulator.log"
    emulator = local_aws.start(log_file=log)
    try:
        assert emulator.info()["execution"] is False
    finally:
        emulator.stop()
    assert "through a Nextflow stand-in, not Nextflow" in log.read_text()
