"""Least-privilege policy generation from the permission catalog.

Two layouts:

* **quick-start** (no account/region/bucket/tag scoping): the seed's full policy, statement for
  statement, keeping only the actions the chosen features want.  With every feature selected it
  *is* the seed's policy.
* **least-privilege** (some scoping given): the seed's least-privilege sections with the
  placeholders filled -- account and region in every ARN, the work directory and Data Explorer
  buckets, job queue names, resource-tag conditions on Batch job actions.

In both layouts, an action that the IAM dataset says supports no resource-level permissions is
moved out of a statement with specific resources into a sibling statement on ``"*"`` (otherwise
it would never be granted).  Dependent actions missing from the seed are added in the
least-privilege layout (or on request); extras only on request.  Output larger than a managed
policy (6,144 characters without whitespace) is split into several policies.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from batchforge.iam.actions import dataset
from batchforge.iam.catalog import dependent_permissions, entry_features, sections
from batchforge.iam.catalog_model import Section
from batchforge.iam.parse import INLINE_USER_POLICY_LIMIT, MANAGED_POLICY_LIMIT
from batchforge.iam.scope import Scope, render_all

VERSION = "2012-10-17"


@dataclass
class GeneratedPolicy:
    """Result of :func:`generate_policy`: one or more policy documents and notes about them."""

    documents: list[dict[str, Any]]
    layout: str
    features: tuple[str, ...]
    sizes: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def document(self) -> dict[str, Any]:
        """All statements in one document (what to use when no split was needed)."""
        if len(self.documents) == 1:
            return self.documents[0]
        statements = [st for doc in self.documents for st in doc["Statement"]]
        return {"Version": VERSION, "Statement": statements}

    @property
    def split(self) -> bool:
        return len(self.documents) > 1

    def to_json(self, indent: int | None = 2) -> str:
        """One policy document, or a JSON list of documents when split."""
        value: Any = self.documents[0] if not self.split else self.documents
        return json.dumps(value, indent=indent)

    def to_dict(self) -> dict[str, Any]:
        return {
            "layout": self.layout,
            "features": list(self.features),
            "split": self.split,
            "sizes": self.sizes,
            "notes": self.notes,
            "policies": self.documents,
        }


def compact_size(document: Any) -> int:
    """Characters IAM counts: the JSON without whitespace outside strings."""
    return len(json.dumps(document, separators=(",", ":"), ensure_ascii=False))


def generate_policy(
    features: Iterable[str],
    scope: Scope | None = None,
    *,
    least_privilege: bool | None = None,
    dependents: bool | None = None,
    extras: bool = False,
    split: bool = True,
) -> GeneratedPolicy:
    """Build the policy for ``features`` (see :func:`~.catalog_model.resolve_features`).

    ``least_privilege`` None picks the layout from the scope (scoped -> least-privilege).
    ``dependents`` None adds dependent actions in the least-privilege layout only, so that the
    quick-start layout stays identical to the seed's policy.
    """
    chosen = tuple(features)
    scope = scope or Scope()
    lp = scope.is_scoped if least_privilege is None else least_privilege
    values = scope.values(least_privilege=lp)
    statements: list[dict[str, Any]] = []
    for section in sections(extras=extras):
        statements.extend(_section_statements(section, set(chosen), scope, values, lp))
    with_deps = lp if dependents is None else dependents
    notes: list[str] = []
    if with_deps:
        statements.extend(_dependent_statements(chosen, scope, notes))
    _ensure_unique_sids(statements)
    documents = _split([statement for statement in statements], split, notes)
    sizes = [compact_size(d) for d in documents]
    _size_notes(sizes, notes)
    return GeneratedPolicy(
        documents, "least-privilege" if lp else "quick-start", chosen, sizes, notes
    )


def _statement(
    sid: str, actions: list[str], resources: list[str], condition: dict[str, Any] | None = None
) -> dict[str, Any]:
    st: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": actions[0] if len(actions) == 1 else list(actions),
        "Resource": resources[0] if len(resources) == 1 else list(resources),
    }
    if condition:
        st["Condition"] = condition
    return st


def _section_statements(
    section: Section, chosen: set[str], scope: Scope, values: dict[str, list[str]], lp: bool
) -> list[dict[str, Any]]:
    actions = [a for a in section.actions if entry_features(section, a) & chosen]
    if not actions:
        return []
    if lp and section.scoped:
        out: list[dict[str, Any]] = []
        for scoped in section.scoped:
            if set(scoped.features) & chosen:
                out.extend(
                    _with_any_resource(
                        scoped.sid, list(scoped.actions), render_all(scoped.resources, values), None
                    )
                )
        return out
    templates = section.scoped_resources if lp and section.scoped_resources else section.resources
    condition = dict(section.condition) if section.condition else None
    if lp and section.tag_condition and scope.tags:
        condition = condition or {}
        condition["StringEqualsIfExists"] = {f"aws:ResourceTag/{k}": v for k, v in scope.tags}
    return _with_any_resource(section.sid, actions, render_all(templates, values), condition)


def _with_any_resource(
    sid: str, actions: list[str], resources: list[str], condition: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Move actions without resource-level permissions to a sibling statement on ``*``."""
    if resources == ["*"]:
        return [_statement(sid, actions, resources, condition)]
    data = dataset()
    anywhere = [
        a
        for a in actions
        if "*" not in a
        and (info := data.action(a)) is not None
        and not info.supports_resource_level
    ]
    scoped = [a for a in actions if a not in anywhere]
    out = [_statement(sid, scoped, resources, condition)] if scoped else []
    if anywhere:
        out.append(_statement(f"{sid}AnyResource", anywhere, ["*"], condition))
    return out


def _dependent_statements(
    features: tuple[str, ...], scope: Scope, notes: list[str]
) -> list[dict[str, Any]]:
    groups: dict[tuple[str, ...], list[str]] = {}
    by_action: dict[str, list[str]] = {}
    parents: dict[str, str] = {}
    for perm in dependent_permissions(features, scope):
        by_action.setdefault(perm.action, []).append(perm.resource)
        parents[perm.action] = perm.dependent_of or ""
    for action, resources in by_action.items():
        groups.setdefault(tuple(resources), []).append(action)
    out = []
    for n, (resources, actions) in enumerate(groups.items(), start=1):
        sid = "DependentActionsNotInSeed" + (str(n) if len(groups) > 1 else "")
        out.append(_statement(sid, sorted(actions), list(resources)))
    if by_action:
        listed = ", ".join(f"{a} (for {parents[a]})" for a in sorted(by_action))
        notes.append(f"Added dependent actions the seed's policy lacks: {listed}.")
    return out


def _ensure_unique_sids(statements: list[dict[str, Any]]) -> None:
    seen: dict[str, int] = {}
    for st in statements:
        sid = st["Sid"]
        if sid in seen:
            seen[sid] += 1
            st["Sid"] = f"{sid}{seen[sid]}"
        else:
            seen[sid] = 1


def _split(statements: list[dict[str, Any]], split: bool, notes: list[str]) -> list[dict[str, Any]]:
    whole = {"Version": VERSION, "Statement": statements}
    if compact_size(whole) <= MANAGED_POLICY_LIMIT or not split:
        return [whole]
    pieces = [p for st in statements for p in _chunk_statement(st)]
    documents: list[dict[str, Any]] = []
    for piece in pieces:
        if (
            documents
            and compact_size({**documents[-1], "Statement": [*documents[-1]["Statement"], piece]})
            <= MANAGED_POLICY_LIMIT
        ):
            documents[-1]["Statement"].append(piece)
        else:
            documents.append({"Version": VERSION, "Statement": [piece]})
    notes.append(
        f"Too large for one managed policy ({compact_size(whole):,} > "
        f"{MANAGED_POLICY_LIMIT:,} characters): split into {len(documents)} managed "
        "policies; attach all of them."
    )
    return documents


def _chunk_statement(st: dict[str, Any]) -> list[dict[str, Any]]:
    """Split a statement whose Resource list alone exceeds the limit into several."""
    budget = MANAGED_POLICY_LIMIT - 200
    if compact_size(st) <= budget or not isinstance(st["Resource"], list):
        return [st]
    chunks: list[list[str]] = [[]]
    for res in st["Resource"]:
        if chunks[-1] and compact_size({**st, "Resource": [*chunks[-1], res]}) > budget:
            chunks.append([])
        chunks[-1].append(res)
    return [{**st, "Sid": f"{st['Sid']}{i}", "Resource": c} for i, c in enumerate(chunks, start=1)]


def _size_notes(sizes: list[int], notes: list[str]) -> None:
    too_big = [s for s in sizes if s > MANAGED_POLICY_LIMIT]
    if too_big:
        notes.append(
            f"The policy has {too_big[0]:,} characters: over the managed policy limit "
            f"of {MANAGED_POLICY_LIMIT:,}; use --split."
        )
    elif any(s > INLINE_USER_POLICY_LIMIT for s in sizes):
        notes.append(
            f"Create it as a managed policy: at {max(sizes):,} characters it is over "
            f"the {INLINE_USER_POLICY_LIMIT:,}-character limit of inline user "
            "policies."
        )
