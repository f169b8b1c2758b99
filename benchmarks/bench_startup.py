"""Start-up figures.

- CLI cold start: `batchforge --help` in a new process (target: under 0.3 s).
- Server start to the first /service-info answer, on embedded defaults (SQLite and the local
  AWS emulator): first start on an empty data dir (migrations, admin bootstrap) and a restart.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from batchforge.local_aws import free_port

CLI = str(Path(sys.executable).parent / "batchforge")
RUNS = 10


def cli_cold_start() -> list[float]:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run([CLI, "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def server_start(data_dir: Path) -> float:
    port = free_port()
    env = dict(os.environ, BATCHFORGE_DATA_DIR=str(data_dir), BATCHFORGE_PORT=str(port))
    env.pop("BATCHFORGE_DATABASE_URL", None)
    started = time.perf_counter()
    server = subprocess.Popen(
        [CLI, "server"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/service-info", timeout=0.5).raise_for_status()
                return time.perf_counter() - started
            except httpx.HTTPError:
                if server.poll() is not None:
                    raise SystemExit("server exited") from None
                time.sleep(0.01)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)


def main() -> None:
    times = cli_cold_start()
    print(
        f"cli_cold_start_help_s median={statistics.median(times):.3f} "
        f"min={min(times):.3f} max={max(times):.3f} runs={RUNS} (target < 0.300)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        first = server_start(data_dir)
        restarts = [server_start(data_dir) for _ in range(3)]
    print(
        f"server_first_start_to_service_info_s {first:.2f} (includes migrations, bootstrap, "
        "emulator start)"
    )
    print(
        f"server_restart_to_service_info_s median={statistics.median(restarts):.2f} "
        f"min={min(restarts):.2f}"
    )


if __name__ == "__main__":
    main()
