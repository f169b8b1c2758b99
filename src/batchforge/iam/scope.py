"""How far a policy is narrowed: account, region, names, buckets, tags.

A :class:`Scope` is validated on construction (bad input raises :class:`InvalidInput` naming the
field) and fills the ``{placeholder}`` templates of the permission catalog.  An unset account or
region means "any" (``*``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from batchforge.errors import InvalidInput

DEFAULT_PREFIX = "TowerForge-"
"""Name prefix of everything Forge creates (fixed in Seqera; the seed's policy relies on it)."""
DEFAULT_SECRETS_PREFIX = "tower-"
DEFAULT_LOG_GROUP = "/aws/batch/job"

_ACCOUNT = re.compile(r"\d{12}")
_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}")
_NAME_PREFIX = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SECRETS_PREFIX = re.compile(r"[A-Za-z0-9/_+=.@-]{1,256}")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_QUEUE = re.compile(r"[A-Za-z0-9_-]{1,128}")
_LOG_GROUP = re.compile(r"[A-Za-z0-9._/#-]{1,512}")
_TAG_KEY = re.compile(r"[\w .:/=+@-]{1,128}")
_TAG_VALUE = re.compile(r"[\w .:/=+@-]{0,256}")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _check(pattern: re.Pattern[str], value: str, fld: str, what: str) -> str:
    if not pattern.fullmatch(value):
        raise InvalidInput(f"Invalid {what}: {value!r}.", field=fld)
    return value


def parse_bucket(value: str, fld: str = "data_buckets") -> str:
    """``s3://name/``, ``name`` -> ``name`` (validated)."""
    name = value.strip().removeprefix("s3://").rstrip("/")
    if "/" in name:
        raise InvalidInput(
            f"Give a bucket name, not a path: {value!r}.",
            field=fld,
            hint="Access is granted to the whole bucket.",
        )
    return _check(_BUCKET, name, fld, "S3 bucket name")


def parse_work_dir(value: str) -> tuple[str, str]:
    """``s3://bucket/some/path`` -> (``bucket``, ``some/path``)."""
    if not value.startswith("s3://"):
        raise InvalidInput(
            f"The work directory must be an S3 URL like s3://bucket/path, got {value!r}.",
            field="work_dir",
        )
    bucket, _, path = value[len("s3://") :].partition("/")
    _check(_BUCKET, bucket, "work_dir", "S3 bucket name in the work directory")
    path = path.strip("/")
    if any(c in path for c in "*?$"):
        raise InvalidInput("The work directory path may not contain * ? or $.", field="work_dir")
    return bucket, path


def parse_tags(items: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """``["team=genomics", ...]`` -> ``(("team", "genomics"), ...)``."""
    out: list[tuple[str, str]] = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"A tag is written KEY=VALUE, got {item!r}.", field="tags")
        out.append((key.strip(), value.strip()))
    return tuple(out)


@dataclass(frozen=True)
class Scope:
    """What to restrict policies to.  Empty fields mean "any"."""

    account: str | None = None
    region: str | None = None
    prefix: str = DEFAULT_PREFIX
    secrets_prefix: str = DEFAULT_SECRETS_PREFIX
    work_dir: str | None = None
    """``s3://bucket/path`` of the Nextflow work directory."""
    data_buckets: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    """Resource tags required on Batch job resources (``StringEqualsIfExists``)."""
    queues: tuple[str, ...] = ()
    """Existing job queue names (manual mode); default: queues named ``{prefix}*``."""
    log_group: str = DEFAULT_LOG_GROUP
    _work: tuple[str, str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.account is not None:
            _check(_ACCOUNT, self.account, "account", "AWS account id (12 digits)")
        if self.region is not None:
            _check(_REGION, self.region, "region", "AWS region")
        _check(_NAME_PREFIX, self.prefix, "prefix", "name prefix")
        _check(_SECRETS_PREFIX, self.secrets_prefix, "secrets_prefix", "secrets prefix")
        _check(_LOG_GROUP, self.log_group, "log_group", "log group name")
        for queue in self.queues:
            _check(_QUEUE, queue, "queues", "job queue name")
        object.__setattr__(self, "data_buckets", tuple(parse_bucket(b) for b in self.data_buckets))
        for key, value in self.tags:
            _check(_TAG_KEY, key, "tags", "tag key")
            _check(_TAG_VALUE, value, "tags", "tag value")
        if self.work_dir is not None:
            object.__setattr__(self, "_work", parse_work_dir(self.work_dir))

    @property
    def is_scoped(self) -> bool:
        """True when anything narrows policies beyond the seed's quick-start policy."""
        return bool(
            self.account
            or self.region
            or self.work_dir
            or self.data_buckets
            or self.tags
            or self.queues
            or self.log_group != DEFAULT_LOG_GROUP
        )

    def values(self, least_privilege: bool = True) -> dict[str, list[str]]:
        """Placeholder -> values.  The quick-start layout keeps account and region open."""
        bucket, path = self._work or ("*", "")
        return {
            "region": [(self.region or "*") if least_privilege else "*"],
            "account": [(self.account or "*") if least_privilege else "*"],
            "prefix": [self.prefix],
            "secrets_prefix": [self.secrets_prefix],
            "queue": list(self.queues) or [f"{self.prefix}*"],
            "log_group": [self.log_group],
            "work_bucket": [bucket],
            "work_objects": [f"{bucket}/{path}/*" if path else f"{bucket}/*"],
            "data_bucket": list(self.data_buckets) or ["*"],
        }

    def to_dict(self) -> dict[str, object]:
        return {
            "account": self.account,
            "region": self.region,
            "prefix": self.prefix,
            "secretsPrefix": self.secrets_prefix,
            "workDir": self.work_dir,
            "dataBuckets": list(self.data_buckets),
            "tags": dict(self.tags),
            "queues": list(self.queues),
            "logGroup": self.log_group,
        }


def render(template: str, values: dict[str, list[str]]) -> list[str]:
    """Fill one template; a list-valued placeholder yields one string per value."""
    names = _PLACEHOLDER.findall(template)
    if not names:
        return [template]
    combos = itertools.product(*(values[n] for n in names))
    out = []
    for combo in combos:
        mapping = dict(zip(names, combo, strict=True))
        out.append(_PLACEHOLDER.sub(lambda m, mp=mapping: mp[m.group(1)], template))
    return out


def render_all(templates: Sequence[str], values: dict[str, list[str]]) -> list[str]:
    """Fill several templates, interleaving their expansions (``b1, b1/*, b2, b2/*``),
    without duplicates."""
    expanded = [render(t, values) for t in templates]
    out: list[str] = []
    for group in itertools.zip_longest(*expanded):
        out.extend(x for x in group if x is not None and x not in out)
    return out
