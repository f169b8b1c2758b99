"""`make demo` end to end: the real server and CLI processes, on embedded defaults."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO_ROOT


def test_demo_runs_the_journey_and_stops_cleanly() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "demo.py")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Local AWS emulator listening on http://127.0.0.1:" in output
    assert "added and validated" in output
    assert "demo-aws" in output
    assert "Local AWS emulator stopped" in output
    # the head job really ran its script, through the Nextflow stand-in (labelled)
    assert "batchforge nextflow stand-in \u2014 not Nextflow" in output
    assert "Submitted process > STANDIN (2)" in output
    assert "The head job really ran its script" in output
    # and reported through the trace protocol: its tasks and progress are in the CLI
    assert "Its Nextflow reported 2 tasks, both COMPLETED" in output
    assert "Processes of run" in output
    assert "Traceback" not in output
