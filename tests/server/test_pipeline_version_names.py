"""Named pipeline versions (Seqera's ``/pipelines/{id}/versions``): the first version named
by ``POST /pipelines`` ``version.name``, bad and duplicate names refused as Seqera does, a
version looked up by name as ``tw`` does, and launching a named version runs that version's
launch, not the default's.  Each test runs on SQLite and on PostgreSQL (``database_url``)."""

from __future__ import annotations

from typing import Any

import pytest

from batchforge.client import BatchforgeClient
from batchforge.client.api import ApiError
from batchforge.local_aws import WORK_BUCKET
from batchforge.services.pipeline_versions import BAD_NAME
from tests.batchjobs import BatchJobs

REPO = "https://github.com/nextflow-io/hello"


def _create(api: BatchforgeClient, env_id: str, name: str, **extra: Any) -> dict[str, Any]:
    body = {
        "name": name,
        "launch": {
            "pipeline": REPO,
            "computeEnvId": env_id,
            "workDir": f"s3://{WORK_BUCKET}/work",
            "paramsText": "which: v1\n",
        },
        **extra,
    }
    return api.request("POST", "/pipelines", json=body).json()["pipeline"]  # type: ignore[no-any-return]


def _by_name(api: BatchforgeClient, pid: int, name: str) -> dict[str, Any]:
    """The version named ``name``, found as tw finds it (search + isPublished=true)."""
    listed = api.request(
        "GET", f"/pipelines/{pid}/versions", params={"search": name, "isPublished": "true"}
    ).json()
    found = [e["version"] for e in listed["versions"] if e["version"]["name"] == name]
    assert len(found) == 1, listed
    return found[0]


def _error(call: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value


def test_first_version_named_on_create(api: BatchforgeClient, env_id: str) -> None:
    made = _create(api, env_id, "named", version={"name": "v1.0"})
    assert made["version"]["name"] == "v1.0" and made["version"]["isDefault"] is True
    assert _by_name(api, made["pipelineId"], "v1.0")["id"] == made["version"]["id"]
    plain = _create(api, env_id, "plain", version={})
    assert plain["version"]["name"] == "plain-1"


@pytest.mark.parametrize("bad", ["!invalid!", "v", "-v1", "v 1", "v1\n", "x" * 110, ""])
def test_bad_name_on_create_is_400_naming_version_name(
    api: BatchforgeClient, env_id: str, bad: str
) -> None:
    error = _error(lambda: _create(api, env_id, "bad", version={"name": bad}))
    assert error.status == 400 and error.field == "version.name"
    assert str(error.message).startswith("Invalid pipeline version name")
    assert "bad" not in {p.name for p in api.list_pipelines()}  # nothing half-made


def test_bad_and_duplicate_names_on_manage_and_validate(api: BatchforgeClient, env_id: str) -> None:
    made = _create(api, env_id, "dup", version={"name": "v1"})
    pid, first = made["pipelineId"], made["version"]["id"]
    body = {"name": "dup", "launch": {"pipeline": REPO, "computeEnvId": env_id,
                                      "paramsText": "which: v2\n"}}  # fmt: skip
    second = api.request("POST", f"/pipelines/{pid}/versions/{first}", json=body).json()
    second_id = second["pipeline"]["version"]["id"]
    manage = f"/pipelines/{pid}/versions/{second_id}/manage"

    taken = _error(lambda: api.request("PUT", manage, json={"name": "v1"}))
    assert taken.status == 409 and taken.field == "name"
    bad = _error(lambda: api.request("PUT", manage, json={"name": "!invalid!"}))
    assert bad.status == 400 and bad.field == "name" and bad.message == BAD_NAME
    validate = f"/pipelines/{pid}/versions/validate"
    assert _error(lambda: api.request("GET", validate, params={"name": "v1"})).status == 409
    assert _error(lambda: api.request("GET", validate, params={"name": "#v"})).status == 400
    assert api.request("GET", validate, params={"name": "v2"}).status_code == 204
    # The default cannot be unset (Seqera: 409), only replaced.
    unset = _error(lambda: api.request("PUT", manage, json={"isDefault": False}))
    assert unset.status == 409
    # The same name on another pipeline is fine.
    other = _create(api, env_id, "other", version={"name": "v1"})
    assert other["version"]["name"] == "v1"


def test_launching_v1_after_v2_was_published_uses_v1(
    api: BatchforgeClient, env_id: str, jobs: BatchJobs
) -> None:
    """v1 (params which=v1) is created, v2 (which=v2) made from it, named and the default:
    launching v1 by name runs v1's params; launching the pipeline runs v2's."""
    made = _create(api, env_id, "twice", version={"name": "v1"})
    pid, v1 = made["pipelineId"], made["version"]["id"]
    body = {"name": "twice", "launch": {"pipeline": REPO, "computeEnvId": env_id,
                                        "workDir": f"s3://{WORK_BUCKET}/work",
                                        "paramsText": "which: v2\n"}}  # fmt: skip
    updated = api.request("POST", f"/pipelines/{pid}/versions/{v1}", json=body).json()
    v2 = updated["pipeline"]["version"]
    assert v2["id"] != v1 and v2["isDefault"] is True
    api.request("PUT", f"/pipelines/{pid}/versions/{v2['id']}/manage", json={"name": "v2"})
    assert _by_name(api, pid, "v2")["isDefault"] is True

    # As tw launch --version-name v1: look up, read that version's launch, post it.
    found = _by_name(api, pid, "v1")
    assert found["id"] == v1 and found["isDefault"] is False
    launch = api.request("GET", f"/pipelines/{pid}/launch", params={"versionId": v1}).json()
    launch = launch["launch"]
    assert launch["paramsText"] == "which: v1\n" and launch["id"] == v1
    sent = {k: v for k, v in launch.items() if k not in ("computeEnv", "dateCreated")}
    run_v1 = api.launch_workflow({k: v for k, v in sent.items() if v is not None})
    assert api.describe_workflow_launch(run_v1).paramsText == "which: v1\n"
    assert jobs.submits, "the head job was submitted"

    # batchforge's own POST /pipelines/{id}/launch: ?versionId= picks the version too.
    run_ext = api.request(
        "POST", f"/pipelines/{pid}/launch", params={"versionId": v1}, json={"launch": {}}
    ).json()["workflowId"]
    assert api.describe_workflow_launch(run_ext).paramsText == "which: v1\n"
    run_default = api.launch_pipeline(pid, {})
    assert api.describe_workflow_launch(run_default).paramsText == "which: v2\n"
    missing = _error(
        lambda: api.request("POST", f"/pipelines/{pid}/launch", params={"versionId": "nope"})
    )
    assert missing.status == 404


def test_version_names_of_a_100_character_pipeline_fit(api: BatchforgeClient, env_id: str) -> None:
    """``<pipeline>-<n>`` is cut short to the name column (PostgreSQL enforces its width)."""
    name = "p" * 100
    made = _create(api, env_id, name)
    assert made["version"]["name"] == "p" * 98 + "-1"
    pid, first = made["pipelineId"], made["version"]["id"]
    body = {"name": name, "launch": {"pipeline": REPO, "computeEnvId": env_id,
                                     "paramsText": "which: v2\n"}}  # fmt: skip
    updated = api.request("POST", f"/pipelines/{pid}/versions/{first}", json=body).json()
    assert updated["pipeline"]["version"]["name"] == "p" * 98 + "-2"
