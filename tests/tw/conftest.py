"""A batchforge server as Seqera's ``tw`` CLI meets it, for replaying ``tw``-shaped requests.

``tw_world`` (one per test module, SQLite): a live server over real HTTP (uvicorn on
127.0.0.1) with AWS credentials ``aws-creds``, a primary manual compute environment ``demo``
on the emulator's queues, a pipeline ``sleep_one_minute``, a workspace secret, a label and
an httpx client sending the admin's Bearer token.  Cases that change or delete something
make their own resource first, so the cases of a module do not depend on each other's order.

``tw_run``: a run launched from the pipeline (the head job held RUNNABLE by the Batch job
layer of ``tests/batchjobs.py``), made once per module when a case asks for it.

The test modules ``tests/tw/test_api_*.py`` mark each case ``@pytest.mark.tw_request``; the
benchmark ``benchmarks/bench_tw.py`` counts them.  The ``test_cli_*.py`` modules of this
package bring their own fixtures (``cli_*_support.py``).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from batchforge.local_aws import WORK_BUCKET, LocalAws
from batchforge.runtime import build_context
from batchforge.server.app import create_app
from batchforge.services.accounts import bootstrap_admin
from batchforge.services.context import AppContext
from batchforge.settings import Settings
from tests.batchjobs import BatchJobs
from tests.cli.conftest import serve
from tests.factories import fake_keys
from tests.runs.conftest import HEAD_QUEUE, WORK_QUEUE, make_queues

PIPELINE = "sleep_one_minute"
REPO = "https://github.com/pditommaso/nf-sleep"
_names = itertools.count()


def unique(prefix: str) -> str:
    """A name no other case of the session uses."""
    return f"{prefix}{os.getpid()}x{next(_names)}"


@dataclass
class TwWorld:
    """The server and what ``tw``'s tests assume exists in the workspace."""

    url: str
    token: str
    ctx: AppContext
    http: httpx.Client
    jobs: BatchJobs
    user_id: int
    user_name: str
    workspace_id: int
    org_id: int
    creds_id: str
    ce_id: str
    pipeline_id: int
    secret_id: int
    label_id: int
    extra: dict[str, Any] = field(default_factory=dict)

    def call(
        self,
        method: str,
        path: str,
        query: dict[str, Any] | None = None,
        body: Any = None,
        workspace: bool = True,
    ) -> httpx.Response:
        """One request as ``tw`` sends it: ``workspaceId`` added to the query unless
        ``workspace`` is false (``tw`` without ``-w`` in the user's default workspace sends
        none)."""
        params = dict(query or {})
        if workspace:
            params.setdefault("workspaceId", self.workspace_id)
        return self.http.request(method, path, params=params, json=body)

    def ok(self, response: httpx.Response, status: int = 200) -> Any:
        """The JSON body of ``response``, after checking its status."""
        assert response.status_code == status, (response.status_code, response.text)
        return response.json() if response.content else None

    def new_compute_env(self, name: str | None = None, **config: Any) -> str:
        """A manual compute environment on the emulator's queues (AVAILABLE at once)."""
        body = {
            "computeEnv": {
                "name": name or unique("ce"),
                "platform": "aws-batch",
                "credentialsId": self.creds_id,
                "config": {
                    "region": "us-east-1",
                    "workDir": f"s3://{WORK_BUCKET}/work",
                    "headQueue": HEAD_QUEUE,
                    "computeQueue": WORK_QUEUE,
                    **config,
                },
            }
        }
        return str(self.ok(self.call("POST", "/compute-envs", body=body))["computeEnvId"])

    def new_pipeline(self, name: str | None = None, **launch: Any) -> dict[str, Any]:
        body = {
            "name": name or unique("pipe"),
            "description": "made by a tw case",
            "launch": {
                "computeEnvId": self.ce_id,
                "pipeline": REPO,
                "workDir": f"s3://{WORK_BUCKET}/work",
                **launch,
            },
        }
        return self.ok(self.call("POST", "/pipelines", body=body))["pipeline"]  # type: ignore[no-any-return]


def build_world(ctx: AppContext, token: str, url: str, jobs: BatchJobs, aws: LocalAws) -> TwWorld:
    http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    me = http.get("/user-info").json()
    ws = me["defaultWorkspaceId"]
    workspaces = http.get(f"/user/{me['user']['id']}/workspaces").json()["orgsAndWorkspaces"]
    org_id = next(w["orgId"] for w in workspaces if w.get("workspaceId") == ws)
    keys = fake_keys()
    creds = http.post(
        "/credentials",
        params={"workspaceId": ws},
        json={
            "credentials": {
                "name": "aws-creds",
                "provider": "aws",
                "keys": {"accessKey": keys.access_key, "secretKey": keys.secret_key},
            }
        },
    )
    assert creds.status_code == 200, creds.text
    make_queues(aws)
    world = TwWorld(
        url, token, ctx, http, jobs, me["user"]["id"], me["user"]["userName"], ws, org_id,
        creds.json()["credentialsId"], "", 0, 0, 0,
    )  # fmt: skip
    world.ce_id = world.new_compute_env("demo")
    world.ok(world.call("POST", f"/compute-envs/{world.ce_id}/primary"), 204)
    world.pipeline_id = world.new_pipeline(PIPELINE)["pipelineId"]
    secret = world.call("POST", "/pipeline-secrets", body={"name": "name02", "value": "v02"})
    world.secret_id = world.ok(secret)["secretId"]
    label = world.call("POST", "/labels", body={"name": "some_label", "resource": False})
    world.label_id = int(world.ok(label)["id"])
    return world


@pytest.fixture(scope="module")
def tw_world(local_aws: LocalAws, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwWorld]:
    """One live server (SQLite) per test module; see the module docstring."""
    tmp = tmp_path_factory.mktemp("tw-api")
    settings = Settings(data_dir=tmp / "data", database_url=f"sqlite:///{tmp / 'tw.db'}")
    ctx = build_context(settings, emulator_url=local_aws.url)
    jobs = BatchJobs()
    ctx.aws.event_hooks.extend(jobs.hooks())
    token = bootstrap_admin(ctx).token
    assert token is not None
    try:
        with serve(create_app(ctx)) as url:
            world = build_world(ctx, token, url, jobs, local_aws)
            try:
                yield world
            finally:
                world.http.close()
    finally:
        ctx.db.dispose()


@pytest.fixture(scope="module")
def tw_run(tw_world: TwWorld) -> str:
    """A run of the world's pipeline (its head job held RUNNABLE), launched as ``tw launch
    sleep_one_minute`` does: the saved launch read, then posted to ``/workflow/launch``."""
    found = tw_world.extra.get("run_id")
    if found is None:
        pipeline = f"/pipelines/{tw_world.pipeline_id}/launch"
        saved = tw_world.ok(tw_world.call("GET", pipeline))["launch"]
        launch = {
            "computeEnvId": saved["computeEnv"]["id"],
            "pipeline": saved["pipeline"],
            "workDir": saved["workDir"],
        }
        launched = tw_world.call("POST", "/workflow/launch", body={"launch": launch})
        found = tw_world.extra["run_id"] = tw_world.ok(launched)["workflowId"]
    return str(found)


# --- tw-shaped request cases -------------------------------------------------------------


@dataclass
class Req:
    """One request shape ``tw`` sends (``source``: the tower-cli test that shows it).

    ``path``, ``query`` and ``body`` may hold placeholders (``{ce_id}``, ``{run_id}``,
    anything ``setup`` returns) filled from the world.  ``reads`` maps a dotted path in the
    answer (``pipelines[0].version.id``) to the type(s) ``tw`` needs there; ``check`` runs
    further assertions on the world and the answer."""

    id: str
    source: str
    method: str
    path: str
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    status: int = 200
    reads: dict[str, Any] = field(default_factory=dict)
    check: Any = None
    setup: Any = None
    workspace: bool = True
    needs_run: bool = False
    xfail: str | None = None  # why batchforge does not answer this one as tw needs yet

    def __str__(self) -> str:
        return self.id


def params(cases: list[Req]) -> list[Any]:
    """``cases`` as pytest parameters: one per request shape, a known gap marked
    ``xfail(strict=True)`` with its reason (counted in the total, not as passed)."""
    return [
        pytest.param(
            case,
            id=case.id,
            marks=[pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else [],
        )
        for case in cases
    ]


def fill(value: Any, values: dict[str, Any]) -> Any:
    """``value`` with ``{name}`` placeholders replaced (strings inside lists and dicts too)."""
    if isinstance(value, str):
        for key, replacement in values.items():
            token = "{" + key + "}"
            if value == token:
                return replacement
            value = value.replace(token, str(replacement))
        return value
    if isinstance(value, list):
        return [fill(item, values) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, values) for key, item in value.items()}
    return value


def dig(document: Any, path: str) -> Any:
    """The value at a dotted path with ``[n]`` indexes; AssertionError naming the path when
    it is missing."""
    current = document
    for part in path.replace("]", "").replace("[", ".").split("."):
        if isinstance(current, list):
            assert part.isdigit() and int(part) < len(current), f"{path}: no item {part}"
            current = current[int(part)]
        else:
            assert isinstance(current, dict) and part in current, f"{path}: '{part}' missing"
            current = current[part]
    return current


def replay(world: TwWorld, case: Req, run_id: str | None = None) -> Any:
    """Send ``case`` as ``tw`` does, assert its status and the fields ``tw`` reads; the
    answer's JSON (None for an empty body)."""
    values: dict[str, Any] = {
        "workspace_id": world.workspace_id,
        "org_id": world.org_id,
        "user_id": world.user_id,
        "creds_id": world.creds_id,
        "ce_id": world.ce_id,
        "pipeline_id": world.pipeline_id,
        "secret_id": world.secret_id,
        "label_id": world.label_id,
    }
    if run_id is not None:
        values["run_id"] = run_id
    if case.setup is not None:
        values.update(case.setup(world) or {})
    response = world.call(
        case.method,
        fill(case.path, values),
        fill(case.query, values),
        fill(case.body, values),
        workspace=case.workspace,
    )
    assert response.status_code == case.status, (response.status_code, response.text)
    answer = response.json() if response.content else None
    if case.status >= 400:
        assert isinstance(answer, dict) and isinstance(answer.get("message"), str), answer
    for path, kind in case.reads.items():
        found = dig(answer, path)
        assert isinstance(found, kind), f"{path}: {found!r} is not {kind}"
    if case.check is not None:
        case.check(world, answer, values)
    return answer
