"""The role matrix in ``services/authz.py`` is Seqera's documented table, cell by cell."""

from __future__ import annotations

import pytest

from batchforge.errors import Forbidden, NotFound
from batchforge.services import authz
from batchforge.services.context import Principal
from tests.conftest import SHARED

REFERENCE = SHARED / "reference" / "seqera-workspace-roles.md"


def _reference_rows() -> dict[str, list[bool]]:
    rows: dict[str, list[bool]] = {}
    for line in REFERENCE.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 7 or not cells[0].startswith("**"):
            continue
        rows[cells[0].strip("*")] = [cell == "✅" for cell in cells[1:]]
    return rows


def test_matrix_equals_the_documented_table() -> None:
    rows = _reference_rows()
    assert len(rows) == 64
    assert set(rows) == {str(p) for p in authz.Permission}
    for name, marks in rows.items():
        for role, mark in zip(authz.ROLES, marks, strict=True):
            assert authz.allowed(role, name) is mark, (role, name)


def test_unknown_names_are_refused() -> None:
    assert not authz.allowed("superuser", "pipeline:read")
    with pytest.raises(ValueError, match="unknown permission"):
        authz.allowed("owner", "pipeline:fly")
    with pytest.raises(ValueError, match="unknown permission"):
        authz.needs("pipelines:read")


def test_require_non_member_is_not_found_and_member_without_permission_forbidden() -> None:
    principal = Principal(1, "u", {7: "view"}, 7)
    authz.require(principal, 7, authz.Permission.PIPELINE_READ)
    with pytest.raises(Forbidden, match="pipeline:write"):
        authz.require(principal, 7, "pipeline:write")
    with pytest.raises(NotFound) as raised:
        authz.require(principal, 8, "pipeline:read")
    assert raised.value.field == "workspaceId"
