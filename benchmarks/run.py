"""Run every benchmark (bench_*.py) in its own process and print its figures.

Usage: .venv/bin/python benchmarks/run.py [NAME ...]   (NAME: e.g. startup, policy_eval)
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def main(names: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in names]
    failed = 0
    for script in scripts:
        print(f"=== {script.stem} ===", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(script)], check=False)
        print(
            f"({script.stem}: {time.perf_counter() - started:.1f} s, exit {result.returncode})\n",
            flush=True,
        )
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
