"""The stand-in's trace client against a recording server: what nf-tower 1.9.3 (Nextflow
24.10.5) sends, in what order, with which header, and where it aborts or only warns.

Sources: nextflow-io/nextflow v24.10.5 ``plugins/nf-tower/.../TowerClient.groovy``
(``onFlowCreate``/``onFlowBegin`` abort on a non-2xx answer, ``sendTasks0`` and
``onFlowComplete`` only ``logHttpResponse``; ``setAuthToken``), ``TowerFactory.groovy``,
``modules/nf-commons/.../PluginsFacade.groovy``, ``SimpleHttpClient.groovy`` (retries on >= 500).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from batchforge.emulator.standin_trace import auth_header, enabled
from batchforge.emulator.standin_trace_data import java_time, summary
from tests.emulator.conftest import Emu, config_text

RUN_ID = "4fHk2LmQ9xZr7T"
TOKEN = "bfr_" + "x" * 43


@dataclass
class Recorder:
    """A loopback HTTP server that records each request and answers ``status[path kind]``."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: dict[str, int] = field(default_factory=dict)

    def kinds(self) -> list[str]:
        return [r["kind"] for r in self.requests]

    def bodies(self, kind: str) -> list[dict[str, Any]]:
        return [r["body"] for r in self.requests if r["kind"] == kind]


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    record = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(size) or b"{}")
            path, _, query = self.path.partition("?")
            kind = path.rsplit("/", 1)[-1]
            record.requests.append(
                {
                    "method": self.command,
                    "path": path,
                    "query": query,
                    "kind": kind,
                    "body": body,
                    "auth": self.headers.get("Authorization"),
                    "agent": self.headers.get("User-Agent"),
                }
            )
            code = record.status.get(kind, 200)
            answer: dict[str, Any] = {"status": "OK", "workflowId": RUN_ID}
            if kind == "begin":
                answer["watchUrl"] = f"{record.url}/watch/{RUN_ID}"
            if code >= 400:
                answer = {"message": f"refused {kind}"}
            data = json.dumps(answer).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_PUT = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    record.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield record
    server.shutdown()
    server.server_close()


def _env(recorder: Recorder) -> dict[str, str]:
    return {
        "TOWER_ACCESS_TOKEN": TOKEN,
        "TOWER_WORKFLOW_ID": RUN_ID,
        "TOWER_WORKSPACE_ID": "187965913163811",
        "TOWER_API_ENDPOINT": recorder.url,
    }


def test_a_run_sends_create_begin_progress_complete_as_nf_tower(
    emu: Emu, recorder: Recorder
) -> None:
    job = emu.nextflow(
        config_text(emu), "-name traced", env=_env(recorder), params={"standin_tasks": 2}
    )
    assert job["status"] == "SUCCEEDED", emu.log(job)
    kinds = recorder.kinds()
    assert kinds[:2] == ["create", "begin"] and kinds[-1] == "complete"
    assert set(kinds[2:-1]) <= {"progress", "heartbeat"} and "progress" in kinds
    first = recorder.requests[0]
    assert (first["method"], first["path"]) == ("POST", "/trace/create")
    assert all(r["query"] == "workspaceId=187965913163811" for r in recorder.requests)
    expected = "Basic " + base64.b64encode(f"@token:{TOKEN}".encode()).decode()
    assert {r["auth"] for r in recorder.requests} == {expected}
    assert {r["agent"] for r in recorder.requests} == {"Nextflow/24.10.5"}
    assert all(r["path"].startswith(f"/trace/{RUN_ID}/") for r in recorder.requests[1:])

    create = first["body"]
    assert create["workflowId"] == RUN_ID and create["runName"] == "traced"
    assert create["projectName"] == "nextflow-io/hello" and isinstance(create["instant"], int)
    begin = recorder.bodies("begin")[0]
    assert begin["processNames"] == ["STANDIN"] and begin["towerLaunch"] is True
    workflow = begin["workflow"]
    assert workflow["id"] == RUN_ID and workflow["nextflow"]["version"] == "24.10.5"
    assert workflow["sessionId"] == create["sessionId"] and "stats" not in workflow
    assert workflow["workDir"].startswith("s3://") and "process.executor" in workflow["configText"]
    assert workflow["operationId"] is None  # only with TOWER_ALLOW_NEXTFLOW_LOGS=true

    snapshots: dict[int, list[dict[str, Any]]] = {}
    for body in recorder.bodies("progress"):
        assert len(body["tasks"]) <= 100 and "processes" in body["progress"]
        for task in body["tasks"]:
            snapshots.setdefault(task["taskId"], []).append(task)
    assert sorted(snapshots) == [1, 2]
    order = ["NEW", "SUBMITTED", "RUNNING", "COMPLETED"]
    batch = emu.aws.boto_client("batch")
    for history in snapshots.values():
        statuses = [t["status"] for t in history]
        assert statuses == sorted(statuses, key=order.index)  # never backwards
        final = history[-1]
        assert final["status"] == "COMPLETED" and final["exit"] == 0
        job = batch.describe_jobs(jobs=[final["nativeId"]])["jobs"][0]
        assert job["jobName"].startswith(f"tw-{RUN_ID}-STANDIN")  # nativeId: the Batch job id
        for key in ("hash", "name", "process", "submit", "start", "complete", "realtime", "pcpu"):
            assert final[key] is not None, key
        assert final["workdir"].startswith("s3://") and final["executor"] == "awsbatch"
    complete = recorder.bodies("complete")[0]
    assert complete["workflow"]["success"] is True and complete["workflow"]["exitStatus"] == 0
    assert complete["progress"]["succeeded"] == 2
    assert complete["progress"]["processes"][0]["terminated"] is True
    [metrics] = complete["metrics"]
    assert metrics["process"] == "STANDIN" and metrics["timeUsage"] is None
    assert metrics["mem"]["min"] <= metrics["mem"]["q2"] <= metrics["mem"]["max"]


@pytest.mark.parametrize("kind", ["create", "begin"])
def test_a_refused_create_or_begin_aborts_before_any_task(
    emu: Emu, recorder: Recorder, kind: str
) -> None:
    recorder.status[kind] = 403
    job = emu.nextflow(config_text(emu), f"-name refused-{kind}", env=_env(recorder))
    text = "\n".join(emu.log(job))
    assert job["status"] == "FAILED" and job["container"]["exitCode"] == 1
    assert f"ERROR ~ refused {kind}" in text  # the answer's message (parseCause)
    # Nextflow prints an AbortOperationException's message alone (Launcher), never a stack trace
    assert "Traceback" not in text and text.count(f"ERROR ~ refused {kind}") == 1
    assert "Submitted process" not in text and "complete" not in recorder.kinds()


def test_refused_progress_and_complete_only_warn(emu: Emu, recorder: Recorder) -> None:
    recorder.status["progress"] = 400
    recorder.status["complete"] = 400
    job = emu.nextflow(config_text(emu), "-name warned", env=_env(recorder))
    text = "\n".join(emu.log(job))
    assert job["status"] == "SUCCEEDED", text
    assert "WARN: Unexpected HTTP response." in text and "- status code : 400" in text
    assert recorder.kinds().count("progress") >= 1 and recorder.kinds()[-1] == "complete"


def test_when_nf_tower_is_on() -> None:
    """PluginsFacade (loaded: tower.enabled or TOWER_ACCESS_TOKEN) and TowerFactory (observer:
    tower.enabled or TOWER_WORKFLOW_ID), both needed."""
    assert enabled({}, {"TOWER_ACCESS_TOKEN": "t", "TOWER_WORKFLOW_ID": "w"})
    assert not enabled({}, {"TOWER_WORKFLOW_ID": "w"})  # plugin not loaded
    assert not enabled({}, {"TOWER_ACCESS_TOKEN": "t"})  # no observer
    assert enabled({"tower.enabled": True}, {})


def test_auth_header_as_set_auth_token() -> None:
    assert auth_header("a.b.c") == "Bearer a.b.c"  # a JWT
    personal = base64.b64encode(b'{"tid":1}.secret').decode()
    assert auth_header(personal) == f"Bearer {personal}"  # Seqera personal access token
    assert auth_header(TOKEN) == "Basic " + base64.b64encode(f"@token:{TOKEN}".encode()).decode()


def test_dates_as_java_prints_them() -> None:
    """OffsetDateTime.toString(): seconds only when not zero, millis only when not zero."""
    assert java_time(1_700_000_040_000) == "2023-11-14T22:14Z"
    assert java_time(1_700_000_041_000) == "2023-11-14T22:14:01Z"
    assert java_time(1_700_000_041_250) == "2023-11-14T22:14:01.250Z"


def test_summary_as_report_summary() -> None:
    rows = [{"name": f"T ({i})", "v": v} for i, v in enumerate([4.0, 1.0, 3.0, 2.0], 1)]
    result = summary(rows, lambda r: r["v"])
    assert result is not None
    assert (result["min"], result["q1"], result["q2"], result["q3"], result["max"]) == (
        1.0,
        1.75,
        2.5,
        3.25,
        4.0,
    )
    assert result["mean"] == 2.5 and result["minLabel"] == "T (2)" and result["maxLabel"] == "T (1)"
    assert summary([{"name": "a", "v": 0.0}], lambda r: r["v"]) is None  # all zero: dropped
