"""How much of Seqera's ``tw`` batchforge speaks (issue #14): request cases and command lines.

Runs the tw compatibility tests (``tests/tw``) once and counts, per kind:

- ``tw_request``: a request shaped exactly as ``tw`` sends it (method, path, query, body, taken
  from seqeralabs/tower-cli's tests), replayed against a real server; passed when the status
  and every field ``tw`` reads are right;
- ``tw_cli``: a ``tw`` command line run as ``batchforge`` against a real server; passed when it
  parses, exits as ``tw`` would and has its effect.

A case marked xfail is one known not to work yet: it counts in the total, not as passed.

Usage: .venv/bin/python benchmarks/bench_tw.py (with ``BATCHFORGE_TEST_DATABASE_URL`` set, the
PostgreSQL cases run too; without it they count as not passed, with the reason)
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("tw_request", "tw_cli")


class Tally:
    """A pytest plugin counting outcomes of the cases marked with one of :data:`KINDS`."""

    def __init__(self) -> None:
        self.total: Counter[str] = Counter()
        self.passed: Counter[str] = Counter()
        self.failed: dict[str, list[str]] = {kind: [] for kind in KINDS}
        self._kind: dict[str, str] = {}

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            for kind in KINDS:
                if item.get_closest_marker(kind):
                    self._kind[item.nodeid] = kind

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        kind = self._kind.get(report.nodeid)
        if kind is None:
            return
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.total[kind] += 1
            if report.passed and not hasattr(report, "wasxfail"):
                self.passed[kind] += 1
            elif report.skipped and not hasattr(report, "wasxfail"):
                self.failed[kind].append(f"{report.nodeid} (skipped: {_reason(report)})")
            else:
                self.failed[kind].append(report.nodeid)


def _reason(report: pytest.TestReport) -> str:
    """Why a case was skipped (e.g. its PostgreSQL variant without
    ``BATCHFORGE_TEST_DATABASE_URL``)."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def main() -> int:
    tally = Tally()
    code = pytest.main(
        ["-q", "-p", "no:cacheprovider", "-o", "addopts=", str(ROOT / "tests" / "tw")],
        plugins=[tally],
    )
    print()
    print("tw compatibility                 passed / total")
    labels = {"tw_request": "tw-shaped request cases", "tw_cli": "tw command lines run"}
    for kind in KINDS:
        print(f"  {labels[kind]:<30} {tally.passed[kind]:>6} / {tally.total[kind]}")
    for kind in KINDS:
        for nodeid in tally.failed[kind]:
            print(f"  not yet ({kind}): {nodeid}")
    # Exit code 1 means some test failed (xfails don't count): a broken benchmark run.
    return 0 if code in (0, 5) else int(code)


if __name__ == "__main__":
    sys.exit(main())
