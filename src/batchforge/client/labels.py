"""Labels for the CLI, as ``tw`` handles them: ``NAME`` is a plain label, ``NAME=VALUE`` a
resource label; missing ones are created.  Plain functions over :class:`BatchforgeClient`
(``GET/POST/PUT/DELETE /labels``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from batchforge.schemas.compute_envs import LabelDbDto

if TYPE_CHECKING:
    from batchforge.client import BatchforgeClient


@dataclass(frozen=True)
class LabelSpec:
    """One label as written on the command line: ``name`` or ``name=value``."""

    name: str
    value: str | None = None

    @property
    def resource(self) -> bool:
        return self.value is not None

    @classmethod
    def parse(cls, text: str) -> LabelSpec:
        name, sep, value = text.strip().partition("=")
        if not name.strip():
            raise ValueError(f"'{text}' is not a label: NAME or NAME=VALUE.")
        return cls(name.strip(), value.strip() if sep else None)


def parse_labels(values: list[str] | None) -> list[LabelSpec]:
    """``--labels a,b=c --labels d``: every comma-separated item of every value."""
    return [
        LabelSpec.parse(item) for value in values or [] for item in value.split(",") if item.strip()
    ]


def list_labels(
    client: BatchforgeClient,
    search: str | None = None,
    kind: str | None = None,
    max_results: int | None = None,
    offset: int | None = None,
) -> tuple[list[LabelDbDto], int]:
    """Labels of the client's workspace (``kind``: ``simple``/``normal``, ``resource`` or
    ``all``), filtered by name substring here too in case the server ignores ``search``."""
    params: dict[str, Any] = {"search": search, "max": max_results, "offset": offset}
    if kind and kind != "all":
        params["type"] = "simple" if kind in ("simple", "normal") else kind
    body = client.request("GET", "/labels", params=params).json()
    labels = [LabelDbDto.model_validate(item) for item in body.get("labels") or []]
    if kind == "resource":
        labels = [label for label in labels if label.resource]
    elif kind in ("simple", "normal"):
        labels = [label for label in labels if not label.resource]
    if search:
        labels = [label for label in labels if search.lower() in label.name.lower()]
    return labels, int(body.get("totalSize") or len(labels))


def create_label(client: BatchforgeClient, spec: LabelSpec) -> LabelDbDto:
    body = {"name": spec.name, "value": spec.value, "resource": spec.resource}
    return LabelDbDto.model_validate(client.request("POST", "/labels", json=body).json())


def update_label(
    client: BatchforgeClient, label_id: int, name: str | None, value: str | None
) -> LabelDbDto:
    """``PUT /labels/{id}`` (Seqera's UpdateLabelRequest: name, value; one left out is
    kept): the label as it now is."""
    body = {k: v for k, v in {"name": name, "value": value}.items() if v is not None}
    response = client.request("PUT", f"/labels/{label_id}", json=body)
    data = response.json() if response.content else {}
    return LabelDbDto.model_validate({"id": label_id, "name": name or "", **data})


def delete_label(client: BatchforgeClient, label_id: int) -> None:
    client.request("DELETE", f"/labels/{label_id}")


def find_or_create(client: BatchforgeClient, specs: list[LabelSpec]) -> list[int]:
    """The ids of ``specs``, creating the labels that do not exist yet."""
    return find_ids(client, specs, "create")


def find_ids(client: BatchforgeClient, specs: list[LabelSpec], missing: str) -> list[int]:
    """The ids of ``specs`` as ``tw``'s LabelsFinder finds them (``NAME`` a plain label,
    ``NAME=VALUE`` that resource label).  A label not found is created (``missing="create"``),
    left out (``"skip"``: tw's delete) or an error (``"fail"``: tw's ``--no-create``;
    :class:`LookupError` naming it)."""
    if missing not in ("create", "skip", "fail"):
        raise ValueError(f"missing: create, skip or fail, not {missing!r}")
    if not specs:
        return []
    existing, _ = list_labels(client, max_results=1000)
    ids: list[int] = []
    for spec in specs:
        match = next(
            (
                label.id
                for label in existing
                if label.name == spec.name
                and label.resource == spec.resource
                and (not spec.resource or label.value == spec.value)
            ),
            None,
        )
        if match is None and missing == "fail":
            shown = f"{spec.name}={spec.value}" if spec.resource else spec.name
            raise LookupError(f"Label '{shown}' does not exist in this workspace.")
        if match is None and missing == "create":
            created = create_label(client, spec)
            existing.append(created)
            match = created.id
        if match is not None and match not in ids:
            ids.append(match)
    return ids
