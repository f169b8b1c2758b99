"""Benchmark: evaluate the seed's full IAM policy against every permission batchforge needs.

Run with ``.venv/bin/python benchmarks/bench_policy_eval.py [--repeat N]``.  The seed document
is read from ``../shared/reference`` beside the repository.  Prints plain figures:

* batchforge's evaluator on the catalog's resource *patterns* (containment checks), per
  permission and per whole check (compile the policy + evaluate every permission);
* the full offline check (parse + lint + evaluate + findings) per call;
* batchforge and moto's ``IAMPolicy.is_action_permitted`` on the same workload with concrete
  ARNs (every ``*`` of a pattern replaced by a sample name), their ratio and agreement.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "../shared/reference/seed-aws-batch-compute-environment.txt"

Request = tuple[str, str, dict[str, str]]


@dataclass
class Workload:
    seed_text: str
    statements: list[Any]
    features: tuple[str, ...]
    patterns: list[Request]
    concrete: list[Request]
    startup: float


def best_of(fn: Callable[[], object], repeat: int, rounds: int = 5) -> float:
    """Best mean seconds per call of ``fn`` over ``rounds`` rounds of ``repeat`` calls."""
    means = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        means.append((time.perf_counter() - start) / repeat)
    return min(means)


def load() -> Workload:
    """Imports, IAM dataset, catalog and the seed: what a server does once at start-up."""
    t0 = time.perf_counter()
    from batchforge.iam.actions import dataset
    from batchforge.iam.catalog import dependent_permissions, required_permissions
    from batchforge.iam.catalog_model import resolve_features
    from batchforge.iam.parse import iter_json_blocks, parse_policy

    seed_text = next(block for _, block in iter_json_blocks(SEED.resolve().read_text()))
    dataset()
    features = (*resolve_features(["all"]), "preflight")
    perms = required_permissions(features, include_extras=True)
    perms += dependent_permissions(features)
    policy = parse_policy(seed_text).policy
    assert policy is not None
    patterns = [(p.action, p.resource, p.context_dict) for p in perms]
    concrete = [(a, r.replace("*", "x") if r != "*" else "*", c) for a, r, c in patterns]
    return Workload(
        seed_text, policy.statements, features, patterns, concrete, time.perf_counter() - t0
    )


def ours(w: Workload, requests: list[Request], pattern: bool) -> Callable[[], list[Any]]:
    from batchforge.iam.evaluator import PolicyEvaluator

    def whole_check() -> list[Any]:
        evaluator = PolicyEvaluator(w.statements)
        return [evaluator.evaluate(a, r, c, resource_is_pattern=pattern) for a, r, c in requests]

    return whole_check


def moto(w: Workload) -> Callable[[], list[Any]]:
    from moto.iam.access_control import IAMPolicy

    policy = IAMPolicy(w.seed_text)

    def whole_check() -> list[Any]:
        return [policy.is_action_permitted(a, r, None, c) for a, r, c in w.concrete]

    return whole_check


def line(name: str, seconds: float, n: int, extra: str = "") -> str:
    return (
        f"{name}: {seconds / n * 1e6:.2f} us per permission, {seconds * 1000:.3f} ms per "
        f"whole check{extra}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200, help="calls per timing round")
    repeat = parser.parse_args().repeat

    w = load()
    n = len(w.patterns)
    first = time.perf_counter()
    allowed = sum(r.allowed for r in ours(w, w.patterns, True)())
    first_check = time.perf_counter() - first

    from moto.iam.access_control import PermissionResult

    from batchforge.iam.checker import check_policy

    t_patterns = best_of(ours(w, w.patterns, True), repeat)
    t_concrete = best_of(ours(w, w.concrete, False), repeat)
    t_full = best_of(lambda: check_policy(w.seed_text, w.features), max(repeat // 10, 5))
    t_moto = best_of(moto(w), max(repeat // 4, 5))
    mine = [r.allowed for r in ours(w, w.concrete, False)()]
    theirs = [r == PermissionResult.PERMITTED for r in moto(w)()]
    agree = sum(a == b for a, b in zip(mine, theirs, strict=True))

    print(
        f"workload: {n} permissions (all features + extras + dependents) vs the seed's full "
        f"policy ({len(w.statements)} statements)"
    )
    print(f"start-up (imports, IAM dataset, catalog, seed): {w.startup * 1000:.1f} ms")
    print(f"first whole check after start-up (cold glob caches): {first_check * 1000:.3f} ms")
    print(line("batchforge, resource patterns", t_patterns, n, f" ({allowed}/{n} allowed)"))
    print(f"batchforge full check_policy (parse+lint+evaluate+findings): {t_full * 1000:.2f} ms")
    print(line("batchforge, concrete ARNs", t_concrete, n, f" ({sum(mine)}/{n} allowed)"))
    print(line("moto IAMPolicy, concrete ARNs", t_moto, n, f" ({sum(theirs)}/{n} allowed)"))
    print(
        f"ratio moto / batchforge on the same concrete workload: {t_moto / t_concrete:.1f}x; "
        f"decisions agree on {agree}/{n}"
    )
    print(
        json.dumps(
            {
                "permissions": n,
                "patterns_ms": round(t_patterns * 1000, 4),
                "concrete_ms": round(t_concrete * 1000, 4),
                "moto_ms": round(t_moto * 1000, 4),
                "full_check_ms": round(t_full * 1000, 3),
                "ratio": round(t_moto / t_concrete, 2),
                "agree": agree,
            }
        )
    )


if __name__ == "__main__":
    main()
