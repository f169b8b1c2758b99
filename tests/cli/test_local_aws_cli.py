"""`batchforge local-aws`: the emulator alone on 127.0.0.1, stopped cleanly by Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from batchforge.local_aws import WORK_BUCKET, emulator_client, free_port

CLI = str(Path(sys.executable).parent / "batchforge")


def test_local_aws_runs_configured_and_stops_on_ctrl_c() -> None:
    """Waits on conditions with generous limits: a loaded 2-core CI machine starts the
    emulator (moto and its services) slowly."""
    port = free_port()
    process = subprocess.Popen(
        [CLI, "local-aws", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 240
        config = None
        while time.monotonic() < deadline:
            try:
                config = httpx.get(f"{url}/moto-api/config", timeout=10).json()
                if "batchforge-local-work" in str(
                    emulator_client(url, "s3").list_buckets().get("Buckets")
                ):
                    break
            except Exception:
                time.sleep(0.1)
        assert config is not None and config["batch"]["use_docker"] is False
        assert emulator_client(url, "s3").head_bucket(Bucket=WORK_BUCKET)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    assert f"listening on http://127.0.0.1:{port}" in output
    assert "stopped" in output
    assert "Traceback" not in output
