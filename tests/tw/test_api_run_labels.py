"""tw-shaped requests: ``tw runs labels`` (``/workflow/labels/add|apply|remove``, as
RunsLabelsManager sends them) and ``tw labels update`` (``PUT /labels/{id}``,
UpdateLabelsCmd)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tw.conftest import Req, TwWorld, params, replay, unique

RUNS_LABELS = "src/main/java/io/seqera/tower/cli/commands/runs/RunsLabelsManager.java"
UPDATE = "src/main/java/io/seqera/tower/cli/commands/labels/UpdateLabelsCmd.java"


def _label(world: TwWorld, value: str | None = None) -> int:
    body = {"name": unique("lab"), "value": value, "resource": value is not None}
    return int(world.ok(world.call("POST", "/labels", body=body))["id"])


def _labelled(world: TwWorld) -> dict[str, Any]:
    """A label of its own, already on the run (so that remove has something to do)."""
    lid = _label(world)
    run_id = world.extra["run_id"]
    body = {"workflowIds": [run_id], "labelIds": [lid]}
    world.ok(world.call("POST", "/workflow/labels/add", body=body), 204)
    return {"lid": lid}


def _fresh(world: TwWorld) -> dict[str, Any]:
    return {"lid": _label(world)}


def _resource(world: TwWorld) -> dict[str, Any]:
    return {"lid": _label(world, "v1")}


def _carries(present: bool) -> Any:
    def check(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
        run = world.ok(world.call("GET", f"/workflow/{values['run_id']}"))
        ids = {label["id"] for label in run["labels"]}
        assert (values["lid"] in ids) == present, run["labels"]

    return check


def _listed(world: TwWorld, answer: Any, values: dict[str, Any]) -> None:
    found = world.ok(world.call("GET", "/workflow", {"attributes": "labels"}))["workflows"]
    mine = next(w for w in found if w["workflow"]["id"] == values["run_id"])
    assert values["lid"] in {label["id"] for label in mine["labels"]}, mine


CASES = [
    Req("runs-labels-set", RUNS_LABELS, "POST", "/workflow/labels/apply", needs_run=True,
        setup=_fresh, body={"workflowIds": ["{run_id}"], "labelIds": ["{lid}"]}, status=204,
        check=_carries(True)),
    Req("runs-labels-append", RUNS_LABELS, "POST", "/workflow/labels/add", needs_run=True,
        setup=_fresh, body={"workflowIds": ["{run_id}"], "labelIds": ["{lid}"]}, status=204,
        check=_listed),
    Req("runs-labels-delete", RUNS_LABELS, "POST", "/workflow/labels/remove", needs_run=True,
        setup=_labelled, body={"workflowIds": ["{run_id}"], "labelIds": ["{lid}"]},
        status=204, check=_carries(False)),
    Req("runs-labels-delete-none", RUNS_LABELS, "POST", "/workflow/labels/remove",
        needs_run=True, body={"workflowIds": ["{run_id}"], "labelIds": []}, status=204),
    Req("runs-labels-unknown", RUNS_LABELS, "POST", "/workflow/labels/add", needs_run=True,
        body={"workflowIds": ["{run_id}"], "labelIds": [20504124310835]}, status=400,
        check=lambda w, a, v: a["field"] == "labelIds[0]" or pytest.fail(str(a))),
    Req("runs-labels-missing-run", RUNS_LABELS, "POST", "/workflow/labels/apply",
        body={"workflowIds": ["5dAZoXrcmZXRO4"], "labelIds": ["{label_id}"]}, status=404),
    Req("runs-labels-resource-after-launch", RUNS_LABELS, "POST", "/workflow/labels/add",
        needs_run=True, setup=_resource,
        body={"workflowIds": ["{run_id}"], "labelIds": ["{lid}"]}, status=400),
    Req("labels-update-name", UPDATE, "PUT", "/labels/{lid}", setup=_fresh,
        body={"name": "renamed_by_tw"},
        reads={"id": int, "name": str, "isDefault": bool}),
    Req("labels-update-value", UPDATE, "PUT", "/labels/{lid}", setup=_resource,
        body={"value": "v2"},
        check=lambda w, a, v: a["value"] == "v2" or pytest.fail(str(a))),
    Req("labels-update-plain-value", UPDATE, "PUT", "/labels/{lid}", setup=_fresh,
        body={"value": "v2"}, status=400),
    Req("labels-update-missing", UPDATE, "PUT", "/labels/1234", body={"name": "x"},
        status=404),
]  # fmt: skip


@pytest.mark.tw_request
@pytest.mark.parametrize("case", params(CASES))
def test_tw_request(tw_world: TwWorld, case: Req, request: pytest.FixtureRequest) -> None:
    run_id = request.getfixturevalue("tw_run") if case.needs_run else None
    replay(tw_world, case, run_id)
