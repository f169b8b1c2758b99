"""Types of the permission catalog, and the features and modes a policy is built for.

Vocabulary:

* a **feature** is something batchforge does for the user (``forge``, ``logs``, ``efs``...);
* a **section** is one statement of the seed's full policy (same Sid), with the actions it lists
  and how it can be narrowed; *extra* sections are permissions beyond the seed (never required);
* a **need** is one concrete action a feature calls, with the resources it touches and the
  request context it sends -- the unit the checker evaluates.  A need is *required* (the
  feature breaks without it) or optional (something degrades, ``why`` says what).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from batchforge.errors import InvalidInput

FEATURES: dict[str, str] = {
    "launch": "Launch pipelines: register job definitions, submit, track, tag and cancel jobs",
    "forge": "Forge mode: create/delete Batch compute environments, job queues and launch "
    "templates, and pass roles to them",
    "manual": "Manual mode: list existing job queues to choose from",
    "logs": "Show job logs from CloudWatch Logs",
    "work-dir": "S3 work directory: check the bucket, read Nextflow log files",
    "data-explorer": "Data Explorer and Studios: browse, read and write S3 buckets",
    "iam-roles": "Forge creates the IAM roles and instance profile it needs",
    "ssm-ami": "Find the ECS-optimized AMI through SSM public parameters",
    "ec2-describe": "List VPCs, subnets, security groups, instance types and key pairs",
    "fsx": "Create and delete FSx for Lustre file systems",
    "efs": "Create and delete EFS file systems",
    "secrets": "Copy pipeline secrets to AWS Secrets Manager for runs",
    "preflight": "Read the credentials' own policies to check them before creating anything "
    "(extras only)",
    "cost": "Estimate task and run costs with AWS prices: Price List, Spot price history "
    "(extras only)",
}
OPT_IN: tuple[str, ...] = ("preflight", "cost")
"""Features made only of extras: asked for by name, not part of ``all``."""

ALIASES: dict[str, tuple[str, ...]] = {
    "s3": ("work-dir", "data-explorer"),
    "studios": ("data-explorer",),
    "iam": ("iam-roles",),
    "ami": ("ssm-ami",),
    "ec2": ("ec2-describe",),
    "all": tuple(f for f in FEATURES if f not in OPT_IN),
}

MODES: dict[str, tuple[str, ...]] = {
    "forge": ("launch", "forge", "logs", "work-dir", "iam-roles", "ssm-ami", "ec2-describe"),
    "manual": ("launch", "manual", "logs", "work-dir"),
}
"""Features a compute environment of each mode uses by default."""


def resolve_features(
    features: Iterable[str] = (),
    *,
    mode: str | None = None,
    exclude: Iterable[str] = (),
) -> tuple[str, ...]:
    """Expand aliases, add the mode's defaults, drop ``exclude``; return in catalog order.

    Accepts comma-separated items.  Unknown names raise :class:`InvalidInput` with did-you-mean.
    With no features and no mode, the result is every seed feature (``all``).
    """
    chosen: set[str] = set()
    if mode is not None:
        if mode not in MODES:
            raise InvalidInput(
                f"Unknown mode {mode!r}.", field="mode", hint=f"Use one of: {', '.join(MODES)}."
            )
        chosen.update(MODES[mode])
    items = _split(features)
    chosen.update(f for item in items for f in _expand(item))
    if mode is None and not items:
        chosen.update(ALIASES["all"])
    chosen.difference_update(f for item in _split(exclude) for f in _expand(item))
    return tuple(f for f in FEATURES if f in chosen)


def _split(items: Iterable[str]) -> list[str]:
    if isinstance(items, str):
        items = [items]
    return [p.strip().lower() for item in items for p in item.split(",") if p.strip()]


def _expand(name: str) -> tuple[str, ...]:
    if name in FEATURES:
        return (name,)
    if name in ALIASES:
        return ALIASES[name]
    import difflib

    close = difflib.get_close_matches(name, [*FEATURES, *ALIASES], 2, 0.6)
    hint = f"Did you mean {' or '.join(close)}? " if close else ""
    raise InvalidInput(
        f"Unknown feature {name!r}.",
        field="features",
        hint=f"{hint}Known features: {', '.join(FEATURES)}.",
    )


@dataclass(frozen=True)
class Need:
    """A concrete action a feature calls.

    ``touches`` (resource templates) defaults to the section's; the resources actually checked
    are those among them that fit one of the action's resource types in the IAM dataset.
    ``context`` lists request-context facts batchforge sends (``iam:PassedToService``).
    """

    action: str
    feature: str
    required: bool
    why: str
    touches: tuple[str, ...] | None = None
    context: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ScopedStatement:
    """A statement of the least-privilege layout that replaces its section's statement."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    features: tuple[str, ...]


@dataclass(frozen=True)
class Section:
    """One statement of the seed's full policy (or an extra), as data.

    ``actions`` is the seed's Action list in seed order (globs allowed); ``resources`` the
    Resource templates of the quick-start layout, ``scoped_resources`` those of the
    least-privilege layout (None: the same templates).  ``scoped`` replaces the statement by
    several ones in the least-privilege layout, as the seed's own examples do.
    """

    sid: str
    title: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    needs: tuple[Need, ...]
    scoping: str
    optional: bool = False
    touches: tuple[str, ...] = ("*",)
    scoped_resources: tuple[str, ...] | None = None
    condition: dict[str, Any] | None = None
    tag_condition: bool = False
    scoped: tuple[ScopedStatement, ...] = ()
    extra: bool = False
    default_features: tuple[str, ...] = ()
    """Features of Action entries that no need maps to (kept from the seed, e.g. ``logs:List*``)."""
    note: str = ""

    @property
    def features(self) -> tuple[str, ...]:
        found = {n.feature for n in self.needs} | set(self.default_features)
        return tuple(f for f in FEATURES if f in found)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "title": self.title,
            "features": list(self.features),
            "optional": self.optional,
            "extra": self.extra,
            "actions": list(self.actions),
            "scoping": self.scoping,
            "note": self.note or None,
        }
