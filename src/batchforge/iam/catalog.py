"""The permission catalog: which permissions each feature needs, derived from the seed's policy.

This module is the single source of truth used by the generator, the offline checker, the live
preflight and the AccessDenied explainer:

* :func:`required_permissions` -- the (action, resource pattern, context) triples a set of
  features needs for a :class:`Scope`;
* :func:`dependent_permissions` -- actions the IAM dataset lists as *dependent* on those, which
  the seed's policy lacks;
* :func:`section_for_action` / :func:`lookup_action` -- which catalog section grants an action.

Resource patterns of a need come from its templates, kept only where they fit one of the
action's resource types in the IAM dataset (an action with no resource types gets ``*``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from batchforge.iam.actions import arn_format_glob, dataset, fill_arn_format
from batchforge.iam.catalog_model import FEATURES, Need, Section
from batchforge.iam.extras import EXTRA_SECTIONS
from batchforge.iam.glob import Glob
from batchforge.iam.scope import Scope, render, render_all
from batchforge.iam.sections import SEED_SECTIONS

ALL_SECTIONS: tuple[Section, ...] = SEED_SECTIONS + EXTRA_SECTIONS
"""Seed sections in seed order, then the extras."""


@dataclass(frozen=True)
class Permission:
    """One permission to evaluate: an action on a resource pattern with a request context."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...]
    feature: str
    required: bool
    sid: str
    """Catalog section (seed Sid) that grants it; for dependents, the section of the parent."""
    why: str
    kind: str = "seed"
    """``seed``, ``extra`` (beyond the seed, never required) or ``dependent``."""
    dependent_of: str | None = None

    @property
    def context_dict(self) -> dict[str, str]:
        return dict(self.context)

    @property
    def triple(self) -> tuple[str, str, str]:
        """(action, resource, ``key=value,...``) -- the printable form."""
        return self.action, self.resource, ",".join(f"{k}={v}" for k, v in self.context)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "action": self.action,
            "resource": self.resource,
            "context": self.context_dict,
            "feature": self.feature,
            "required": self.required,
            "section": self.sid,
            "why": self.why,
            "kind": self.kind,
        }
        if self.dependent_of:
            out["dependentOf"] = self.dependent_of
        return out


def sections(*, extras: bool = True) -> tuple[Section, ...]:
    """Catalog sections in seed order, extras last."""
    return ALL_SECTIONS if extras else SEED_SECTIONS


def section_by_sid(sid: str) -> Section | None:
    for section in ALL_SECTIONS:
        if section.sid == sid or sid in {s.sid for s in section.scoped}:
            return section
    return None


def entry_features(section: Section, entry: str) -> frozenset[str]:
    """Features wanting one Action entry of a section (an entry may be a glob)."""
    return _entry_features(section.sid, entry)


@lru_cache(maxsize=1024)
def _entry_features(sid: str, entry: str) -> frozenset[str]:
    section = next(s for s in ALL_SECTIONS if s.sid == sid)
    glob = Glob.parse(entry, ignore_case=True)
    found = {n.feature for n in section.needs if glob.matches(n.action)}
    return frozenset(found or section.default_features)


@lru_cache(maxsize=1024)
def _types_for(service: str, touch: str) -> frozenset[str]:
    """The most specific resource types of ``service`` whose ARN format contains ``touch``."""
    pattern = Glob.parse(touch)
    formats = dataset().resource_arn_formats(service)
    fits = {
        name: arn_format_glob(fmt)
        for name, fmt in formats.items()
        if arn_format_glob(fmt).contains(pattern)
    }
    return frozenset(
        name
        for name, g in fits.items()
        if not any(o != name and g.contains(og) and not og.contains(g) for o, og in fits.items())
    )


def resources_for(action: str, touches: Iterable[str]) -> list[str]:
    """The ``touches`` patterns that ``action`` acts on, per the IAM dataset.

    An action with no resource-level permissions is always evaluated against ``*``.
    """
    info = dataset().action(action)
    if info is None:
        raise KeyError(f"{action} is not in the IAM dataset")
    if not info.supports_resource_level:
        return ["*"]
    own = {rt.name for rt in info.resource_types}
    out = []
    for touch in touches:
        if touch == "*" or _types_for(info.service, touch) & own:
            out.append(touch)
    return out


def _need_permissions(
    section: Section, need: Need, values: dict[str, list[str]], tags: Sequence[tuple[str, str]]
) -> list[Permission]:
    touches = render_all(need.touches or section.touches, values)
    context = need.context
    if section.tag_condition and tags:
        context = context + tuple((f"aws:ResourceTag/{k}", v) for k, v in tags)
    kind = "extra" if section.extra else "seed"
    required = need.required and not section.extra
    return [
        Permission(
            need.action, resource, context, need.feature, required, section.sid, need.why, kind
        )
        for resource in resources_for(need.action, touches)
    ]


def required_permissions(
    features: Iterable[str],
    scope: Scope | None = None,
    *,
    include_optional: bool = True,
    include_extras: bool = False,
) -> list[Permission]:
    """Every permission the given features need, for ``scope`` (default: any account/region).

    Required ones come with ``required=True``; optional ones (something degrades without them)
    are included unless ``include_optional`` is false; extras (beyond the seed) only with
    ``include_extras`` and never required.
    """
    return list(
        _permissions(frozenset(features), scope or Scope(), include_optional, include_extras)
    )


@lru_cache(maxsize=256)
def _permissions(
    chosen: frozenset[str], scope: Scope, include_optional: bool, include_extras: bool
) -> tuple[Permission, ...]:
    values = scope.values(least_privilege=True)
    out: list[Permission] = []
    seen: set[tuple[Any, ...]] = set()
    for section in sections(extras=include_extras):
        for need in section.needs:
            if need.feature not in chosen or not (need.required or include_optional):
                continue
            for perm in _need_permissions(section, need, values, scope.tags):
                key = (perm.action, perm.resource, perm.context, perm.feature)
                if key not in seen:
                    seen.add(key)
                    out.append(perm)
    return tuple(out)


@lru_cache(maxsize=1024)
def _granted_by(features: frozenset[str], action: str) -> bool:
    """Whether a section action entry wanted by ``features`` covers ``action``."""
    for section in SEED_SECTIONS:
        for entry in section.actions:
            if entry_features(section, entry) & features and Glob.parse(
                entry, ignore_case=True
            ).matches(action):
                return True
    return False


def dependent_permissions(
    features: Iterable[str], scope: Scope | None = None, *, include_extras: bool = False
) -> list[Permission]:
    """Dependent actions (per the IAM dataset) of the features' actions that the catalog's
    sections for those features do not grant.

    AWS authorizes a dependent action in addition to its parent when the request uses the
    option that triggers it (tags on create, a final backup...).  Resource patterns come from
    the dependent action's resource types shared with the parent, else its required ones.
    """
    chosen = frozenset(features)
    scope = scope or Scope()
    perms = required_permissions(chosen, scope, include_extras=include_extras)
    out: list[Permission] = []
    seen: set[str] = set()
    for perm in perms:
        parent = dataset().action(perm.action)
        if parent is None:
            continue
        for dep in parent.dependent_actions:
            info = dataset().action(dep)
            if info is None or info.name in seen or _granted_by(chosen, info.name):
                continue
            seen.add(info.name)
            why = (
                f"the IAM reference lists it as a dependent action of {parent.name}: AWS "
                "checks it too when the request uses the option that needs it"
            )
            out.extend(
                Permission(
                    info.name,
                    resource,
                    (),
                    perm.feature,
                    False,
                    perm.sid,
                    why,
                    "dependent",
                    parent.name,
                )
                for resource in dependent_resources(info.name, parent.name, scope)
            )
    return out


def dependent_resources(action: str, parent: str, scope: Scope) -> list[str]:
    """Resource patterns to grant a dependent ``action`` of ``parent`` on, for ``scope``."""
    info, parent_info = dataset().action(action), dataset().action(parent)
    assert info is not None and parent_info is not None
    if not info.supports_resource_level:
        return ["*"]
    shared = {rt.name for rt in parent_info.resource_types}
    types = (
        [rt for rt in info.resource_types if rt.name in shared]
        or [rt for rt in info.resource_types if rt.required]
        or list(info.resource_types)
    )
    region, account = scope.region or "*", scope.account or "*"
    out: list[str] = []
    for rt in types:
        arn = fill_arn_format(rt.arn, region=region, account=account)
        if arn not in out:
            out.append(arn)
    return out


@dataclass(frozen=True)
class CatalogEntry:
    """What the catalog knows about one action (for the AccessDenied explainer)."""

    action: str
    section: Section
    needs: tuple[Need, ...]
    kind: str
    dependent_of: str | None = None

    @property
    def features(self) -> tuple[str, ...]:
        found = {n.feature for n in self.needs} or set(self.section.features)
        return tuple(f for f in FEATURES if f in found)

    @property
    def required(self) -> bool:
        return any(n.required for n in self.needs) and self.kind == "seed"


def _matches_section(section: Section, action: str) -> bool:
    return any(Glob.parse(e, ignore_case=True).matches(action) for e in section.actions)


def _resource_fits(section: Section, resource: str) -> bool:
    values = Scope().values(least_privilege=True)
    templates = [*section.resources, *(section.scoped_resources or ()), *section.touches]
    for s in section.scoped:
        templates.extend(s.resources)
    return any(Glob.parse(r).matches(resource) for t in templates for r in render(t, values))


def section_for_action(action: str, resource: str | None = None) -> Section | None:
    """The catalog section whose statement grants ``action`` (seed sections before extras).

    With ``resource`` (a concrete ARN) a section whose resources fit it is preferred, e.g.
    ``iam:ListRolePolicies`` on a ``TowerForge-`` role is the seed's IAM section.
    """
    entry = lookup_action(action, resource)
    return entry.section if entry else None


def lookup_action(action: str, resource: str | None = None) -> CatalogEntry | None:
    """Catalog facts about ``action``: its section, the needs behind it, seed/extra/dependent."""
    candidates = [s for s in ALL_SECTIONS if _matches_section(s, action)]
    if resource is not None:
        fitting = [s for s in candidates if _resource_fits(s, resource)]
        candidates = fitting or candidates
    if candidates:
        section = candidates[0]
        needs = tuple(n for n in section.needs if n.action.lower() == action.lower())
        return CatalogEntry(action, section, needs, "extra" if section.extra else "seed")
    return _lookup_dependent(action)


def _lookup_dependent(action: str) -> CatalogEntry | None:
    info = dataset().action(action)
    if info is None:
        return None
    for section in ALL_SECTIONS:
        for need in section.needs:
            parent = dataset().action(need.action)
            if parent and info.name in parent.dependent_actions:
                return CatalogEntry(info.name, section, (need,), "dependent", parent.name)
    return None


def describe_catalog() -> dict[str, Any]:
    """Features, modes and sections as JSON-able data (for the API and UI)."""
    from batchforge.iam.catalog_model import MODES

    return {
        "features": [{"name": k, "description": v} for k, v in FEATURES.items()],
        "modes": {k: list(v) for k, v in MODES.items()},
        "sections": [s.to_dict() for s in ALL_SECTIONS],
    }


def catalog_actions(*, extras: bool = True) -> list[str]:
    """Every concrete action the catalog names (needs), without duplicates."""
    out: list[str] = []
    for section in sections(extras=extras):
        out.extend(n.action for n in section.needs if n.action not in out)
    return out


__all__ = [
    "ALL_SECTIONS",
    "EXTRA_SECTIONS",
    "SEED_SECTIONS",
    "CatalogEntry",
    "Permission",
    "catalog_actions",
    "dependent_permissions",
    "dependent_resources",
    "describe_catalog",
    "entry_features",
    "lookup_action",
    "required_permissions",
    "resources_for",
    "section_by_sid",
    "section_for_action",
    "sections",
]
