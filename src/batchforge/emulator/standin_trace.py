"""The stand-in's trace reporting: what Nextflow 24.10.5's nf-tower plugin (1.9.3) sends.

It is **not nf-tower**: a Python rendering of the rules of nextflow-io/nextflow at v24.10.5,
``plugins/nf-tower`` (``TowerFactory``, ``TowerClient``) and ``modules/nf-commons``
(``PluginsFacade``), ``modules/nextflow`` (``SimpleHttpClient``):

- on at all (:func:`from_environment`): the plugin is loaded when ``tower.enabled`` or env
  ``TOWER_ACCESS_TOKEN`` (``PluginsFacade.pluginsRequirement``), and its observer is created
  when ``tower.enabled`` or env ``TOWER_WORKFLOW_ID`` (``TowerFactory.create``);
- endpoint: ``tower.endpoint`` unless empty or ``-``, else env ``TOWER_API_ENDPOINT``, else
  ``https://api.cloud.seqera.io`` (which the stand-in refuses to call: it never leaves the
  machine); http(s) only (``checkUrl``), no trailing ``/`` (``TowerFactory.provider``);
- token: with ``TOWER_WORKFLOW_ID`` set only env ``TOWER_ACCESS_TOKEN``, else
  ``tower.accessToken`` then the env; none: abort "Missing personal access token ..."
  (``getAccessToken``); header ``Bearer`` for a JWT (two dots) or a Seqera personal token
  (base64 of ``<json>.<rest>``), else ``Basic base64("@token:" + token)`` (``setAuthToken``);
- workspace: with ``TOWER_WORKFLOW_ID`` only env ``TOWER_WORKSPACE_ID``, else
  ``tower.workspaceId`` then the env; sent as ``?workspaceId=`` on every call;
- HTTP: ``User-Agent: Nextflow/<version>``, JSON bodies; a status >= 500 is retried with a
  delay of 3^n x 250 ms, never for ``create`` (no retries set yet), up to 5 times afterwards;
  a connection failure is status 0 "Unable to connect to Seqera Platform API: <host>";
- failures: a non-2xx ``create`` or ``begin`` aborts the run (``AbortOperationException``:
  "ERROR ~ <message>", exit 1; 401 is "Unauthorized Seqera Platform API access -- Make sure
  you have specified the correct access token"); ``progress``, ``heartbeat`` and
  ``complete`` failures are only warned about (``logHttpResponse``);
- the sender thread (``sendTasks0``) keeps the latest snapshot per task id, sends them every
  ``requestInterval`` (1 s) or at 100 tasks, with the quick progress, and a heartbeat after
  ``aliveInterval`` (1 min) without task events; ``complete`` goes after the last progress.

The payloads (:mod:`batchforge.emulator.standin_trace_data`) hold fabricated values where a
real run would measure something: see that module.
"""

from __future__ import annotations

import base64
import json
import queue
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from batchforge.emulator.standin import VERSION, fail

DEFAULT_ENDPOINT = "https://api.cloud.seqera.io"
TOKEN_PREFIX = "@token:"
TASKS_PER_REQUEST = 100
REQUEST_INTERVAL = 1.0
ALIVE_INTERVAL = 60.0
MAX_RETRIES = 5
BACK_OFF_BASE = 3
BACK_OFF_DELAY = 0.25
HTTP_TIMEOUT = 60.0
URL_RULE = re.compile(r"^(https|http)://[-a-zA-Z0-9+&@#/%?=~_|!:,.;]*[-a-zA-Z0-9+&@#/%=~_|]$")
UNAUTHORIZED = (
    "Unauthorized Seqera Platform API access -- Make sure you have specified the correct "
    "access token"
)
MISSING_TOKEN = (
    "Missing personal access token -- Make sure there's a variable TOWER_ACCESS_TOKEN in your "
    "environment"
)


@dataclass
class Response:
    """``TowerClient.Response``: status (0 when unreachable), message, raw body."""

    code: int
    message: str
    body: str | None = None

    @property
    def error(self) -> bool:
        return not 200 <= self.code < 300


def enabled(config: dict[str, Any], env: dict[str, str]) -> bool:
    """Whether Nextflow 24.10.5 would load nf-tower *and* create its observer."""
    on = config.get("tower.enabled") is True or str(config.get("tower.enabled")) == "true"
    loaded = on or bool(env.get("TOWER_ACCESS_TOKEN"))
    observed = on or bool(env.get("TOWER_WORKFLOW_ID"))
    return loaded and observed


def auth_header(token: str) -> str:
    """``TowerClient.setAuthToken``: Bearer for a JWT or a personal access token, else Basic."""
    if token.count(".") == 2:
        return f"Bearer {token}"
    try:
        plain = base64.b64decode(token, validate=False).decode()
        head, dot, _ = plain.partition(".")
        if dot and json.loads(head):
            return f"Bearer {token}"
    except Exception:  # not base64, not UTF-8, not JSON: a simple token
        pass
    encoded = base64.b64encode((TOKEN_PREFIX + token).encode()).decode()
    return f"Basic {encoded}"


def _setting(config: dict[str, Any], key: str) -> str | None:
    value = config.get(key)
    return None if value is None else str(value)


@dataclass
class TraceClient:
    """One run's reporting: :meth:`create`, :meth:`begin`, :meth:`event`, :meth:`complete`."""

    endpoint: str
    token: str
    workspace_id: str | None
    workflow_env: str | None
    log: Any
    progress: Callable[[bool], dict[str, Any]] = field(default=lambda quick: {})
    request_interval: float = REQUEST_INTERVAL
    alive_interval: float = ALIVE_INTERVAL
    workflow_id: str | None = None
    max_retries: int = 0
    sent: list[tuple[str, int]] = field(default_factory=list)
    _events: queue.Queue[dict[str, Any] | None] = field(default_factory=queue.Queue)
    _sender: threading.Thread | None = None

    @classmethod
    def from_environment(
        cls, config: dict[str, Any], env: dict[str, str], log: Any
    ) -> TraceClient | None:
        """The client when nf-tower would be on (aborting as it does on bad settings)."""
        if not enabled(config, env):
            return None
        launched = bool(env.get("TOWER_WORKFLOW_ID"))
        endpoint = _setting(config, "tower.endpoint")
        if not endpoint or endpoint == "-":
            endpoint = env.get("TOWER_API_ENDPOINT") or DEFAULT_ENDPOINT
        if not URL_RULE.match(endpoint):
            fail(f"ERROR ~ Only http and https are supported -- The given URL was: {endpoint}")
        if endpoint.endswith("/"):
            fail(
                "ERROR ~ Seqera Platform endpoint URL should not end with a `/` character -- "
                f"offending value: {endpoint}"
            )
        if endpoint == DEFAULT_ENDPOINT:
            fail(
                "ERROR ~ the batchforge Nextflow stand-in does not report to "
                f"{DEFAULT_ENDPOINT}: set TOWER_API_ENDPOINT or tower.endpoint"
            )
        token = (
            env.get("TOWER_ACCESS_TOKEN")
            if launched
            else (_setting(config, "tower.accessToken") or env.get("TOWER_ACCESS_TOKEN"))
        )
        if not token:
            fail(f"ERROR ~ {MISSING_TOKEN}")
        workspace = (
            env.get("TOWER_WORKSPACE_ID")
            if launched
            else (_setting(config, "tower.workspaceId") or env.get("TOWER_WORKSPACE_ID"))
        )
        log.debug(
            f"Creating Seqera Platform observer -- endpoint={endpoint}; "
            f"requestInterval={REQUEST_INTERVAL}s; aliveInterval={ALIVE_INTERVAL}s"
        )
        return cls(endpoint, token, workspace or None, env.get("TOWER_WORKFLOW_ID"), log)

    # --- HTTP -----------------------------------------------------------------------------

    def url(self, path: str) -> str:
        url = f"{self.endpoint}{path}"
        if self.workspace_id:
            url += f"?workspaceId={self.workspace_id}"
        return url

    def send(self, path: str, payload: dict[str, Any], method: str) -> Response:
        """One message, retried on a status >= 500 (``SimpleHttpClient.sendHttpMessage``)."""
        url = self.url(path)
        body = json.dumps(payload, default=str).encode()
        errors = 0
        while True:
            request = urllib.request.Request(url, data=body, method=method)
            request.add_header("Content-Type", "application/json")
            request.add_header("User-Agent", f"Nextflow/{VERSION}")
            request.add_header("Authorization", auth_header(self.token))
            try:
                with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as answer:
                    text = answer.read().decode()
                    self.sent.append((path, answer.status))
                    return Response(answer.status, text, text)
            except urllib.error.HTTPError as error:
                text = error.read().decode(errors="replace")
                self.sent.append((path, error.code))
                errors += 1
                if error.code >= 500 and errors <= self.max_retries:
                    time.sleep(BACK_OFF_BASE**errors * BACK_OFF_DELAY)
                    continue
                if error.code == 401:
                    return Response(401, UNAUTHORIZED, text)
                message = _cause(text) or f"Unexpected response for request {url}"
                return Response(error.code, message, text)
            except (urllib.error.URLError, OSError):
                parts = urllib.parse.urlsplit(url)
                return Response(
                    0, f"Unable to connect to Seqera Platform API: {parts.scheme}://{parts.netloc}"
                )

    def _must(self, response: Response, path: str) -> dict[str, Any]:
        """``onFlowCreate``/``onFlowBegin``: any failure aborts the run."""
        if response.error:
            self.log.debug(
                f"Unexpected HTTP response - endpoint: {self.url(path)} - status code: "
                f"{response.code} - response msg: {response.body}"
            )
            fail(f"ERROR ~ {response.message}")
        try:
            answer = json.loads(response.message)
        except ValueError:
            fail(f"ERROR ~ Invalid Seqera Platform API response: {response.message[:200]}")
        if not isinstance(answer, dict):
            fail(f"ERROR ~ Invalid Seqera Platform API response: {response.message[:200]}")
        return answer

    def _warn(self, response: Response) -> None:
        """``logHttpResponse``: a failure is a warning, the run goes on."""
        if not response.error:
            return
        self.log.info(
            "WARN: Unexpected HTTP response.\n"
            f"Failed to send message to {self.endpoint} -- received \n"
            f"- status code : {response.code}\n"
            f"- response msg: {response.message}\n"
            f"- error cause : {_cause(response.body) or '-'}"
        )

    # --- the calls ------------------------------------------------------------------------

    def create(self, request: dict[str, Any]) -> str:
        """``POST /trace/create``; the workflow id (abort on any failure)."""
        request = {**request, "workflowId": self.workflow_env, "instant": _now()}
        answer = self._must(self.send("/trace/create", request, "POST"), "/trace/create")
        workflow_id = answer.get("workflowId")
        if not workflow_id:
            fail("ERROR ~ Invalid Seqera Platform API response - Missing workflow Id")
        if answer.get("message"):
            self.log.info(f"WARN: {answer['message']}")
        self.workflow_id = str(workflow_id)
        return self.workflow_id

    def begin(self, workflow: dict[str, Any], process_names: list[str]) -> None:
        """``PUT /trace/{id}/begin`` (abort on any failure), then the sender thread."""
        self.max_retries = MAX_RETRIES
        path = f"/trace/{self.workflow_id}/begin"
        request = {
            "workflow": {**workflow, "id": self.workflow_id},
            "processNames": process_names,
            "towerLaunch": self.workflow_env is not None,
            "instant": _now(),
        }
        answer = self._must(self.send(path, request, "PUT"), path)
        self._sender = threading.Thread(target=self._send_tasks, name="Tower-thread", daemon=True)
        self._sender.start()
        self.log.info(
            f"Monitor the execution with Seqera Platform using this URL: {answer.get('watchUrl')}"
        )

    def event(self, task: dict[str, Any]) -> None:
        """A task's current snapshot (``onProcessPending|Submit|Start|Complete|Cached``)."""
        self._events.put(dict(task))

    def complete(self, workflow: dict[str, Any], metrics: list[dict[str, Any]]) -> None:
        """Flush the last tasks, then ``PUT /trace/{id}/complete`` (failure: a warning)."""
        if self._sender is None:
            return
        self._events.put(None)
        self._sender.join(timeout=HTTP_TIMEOUT * 2)
        request = {
            "workflow": {**workflow, "id": self.workflow_id},
            "metrics": metrics,
            "progress": self.progress(False),
            "instant": _now(),
        }
        self._warn(self.send(f"/trace/{self.workflow_id}/complete", request, "PUT"))

    def _send_tasks(self) -> None:
        tasks: dict[int, dict[str, Any]] = {}
        done = False
        previous = time.monotonic()
        while not done:
            try:
                item = self._events.get(timeout=self.request_interval / 10)
            except queue.Empty:
                item = {}
            if item is None:
                done = True
            elif item:
                tasks[int(item["taskId"])] = item
            now = time.monotonic()
            if not tasks:
                if now - previous > self.alive_interval:
                    payload = {"progress": self.progress(True), "instant": _now()}
                    path = f"/trace/{self.workflow_id}/heartbeat"
                    self._warn(self.send(path, payload, "PUT"))
                    previous = now
                continue
            if now - previous > self.request_interval or len(tasks) >= TASKS_PER_REQUEST or done:
                payload = {
                    "tasks": list(tasks.values()),
                    "progress": self.progress(True),
                    "instant": _now(),
                }
                self._warn(self.send(f"/trace/{self.workflow_id}/progress", payload, "PUT"))
                previous = now
                tasks.clear()


def _cause(text: str | None) -> str | None:
    """``parseCause``: the ``message`` of a JSON body, else the body."""
    if not text:
        return None
    try:
        answer = json.loads(text)
    except ValueError:
        return text
    if isinstance(answer, dict) and answer.get("message") is not None:
        return str(answer["message"])
    return text


def _now() -> int:
    return int(time.time() * 1000)
