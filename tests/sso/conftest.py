"""Single sign-on tests against a real OpenID Connect provider.

- ``provider``: Node.js running ``tests/sso/provider/provider.mjs`` (the maintained
  ``oidc-provider`` package from npm, pinned by ``package-lock.json``; ``npm ci`` here when
  ``node_modules`` is missing) on a free loopback port, with one confidential client whose
  redirect URI is the test server's callback, and the users of :data:`USERS`.
- ``sso``: a batchforge server (uvicorn on 127.0.0.1) configured for that provider.

The browser journey is ``tests/web/test_sso_browser.py`` (one Chromium for the session: the
browser fixture of ``tests/web``); the sign-in rules that write users and memberships
run on SQLite and PostgreSQL (``test_sso_rules.py``).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from batchforge.local_aws import free_port
from batchforge.server.app import create_app
from batchforge.services.context import AppContext
from batchforge.web import oidc
from tests.cli.conftest import serve

PROVIDER_DIR = Path(__file__).parent / "provider"
CLIENT_ID = "batchforge-test"
CLIENT_SECRET = "test-client-secret-3f9a"
PROVIDER_NAME = "Test IdP"
START_TIMEOUT = 120.0
USERS = {
    "ada": {
        "email": "ada@example.org",
        "email_verified": True,
        "name": "Ada",
        "groups": ["bf-admins"],
    },
    "bob": {
        "email": "bob@example.org",
        "email_verified": True,
        "name": "Bob",
        "groups": ["bf-users"],
    },
    "dan": {"email": "dan@example.org", "email_verified": True, "name": "Dan", "groups": []},
    "eve": {
        "email": "eve@elsewhere.net",
        "email_verified": True,
        "name": "Eve",
        "groups": ["bf-users"],
    },
    "uma": {
        "email": "uma@example.org",
        "email_verified": False,
        "name": "Uma",
        "groups": ["bf-users"],
    },
}


def _need(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        message = f"the single sign-on tests need {tool} (Debian: apt-get install nodejs npm)"
        if os.environ.get("CI"):  # CI installs it (.ci/run): a missing tool is a failure
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="session")
def provider_script() -> Path:
    node = _need("node")
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        subprocess.run(
            [_need("npm"), "ci", "--no-audit", "--no-fund"], cwd=PROVIDER_DIR, check=True
        )
    assert node
    return PROVIDER_DIR / "provider.mjs"


@dataclass
class Provider:
    issuer: str
    process: subprocess.Popen[str]


def start_provider(script: Path, redirect_uri: str) -> Provider:
    """The provider process, once it listens (its output is read until "READY")."""
    port = free_port()
    env = {
        **os.environ,
        "OIDC_PORT": str(port),
        "OIDC_CLIENT": json.dumps(
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [redirect_uri],
            }
        ),
        "OIDC_USERS": json.dumps(USERS),
    }
    process = subprocess.Popen(
        [shutil.which("node") or "node", str(script)],
        cwd=script.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            process.kill()
            raise AssertionError(f"the OIDC provider did not start: {seen}") from None
        seen.append(line)
        if line.startswith("READY "):
            return Provider(line.split(" ", 1)[1].strip(), process)
        if process.poll() is not None:
            raise AssertionError(f"the OIDC provider exited: {seen}")


@dataclass
class SsoServer:
    url: str
    ctx: AppContext
    provider: Provider


@pytest.fixture
def sso(app_ctx: AppContext, admin_token: str, provider_script: Path) -> Iterator[SsoServer]:
    """batchforge with single sign-on to a fresh provider (and the bootstrap admin made)."""
    with serve(create_app(app_ctx), log_level="warning") as url:
        provider = start_provider(provider_script, f"{url}/ui/sso/callback")
        try:
            settings = app_ctx.settings
            settings.oidc_issuer = provider.issuer
            settings.oidc_client_id = CLIENT_ID
            settings.oidc_client_secret = SecretStr(CLIENT_SECRET)
            settings.oidc_provider_name = PROVIDER_NAME
            settings.oidc_scopes = "openid email profile groups"
            settings.oidc_allowed_domains = "example.org"
            settings.oidc_owner_groups = "bf-admins"
            settings.oidc_member_groups = "bf-users"
            oidc.forget_provider_cache()
            yield SsoServer(url, app_ctx, provider)
        finally:
            provider.process.terminate()
            provider.process.wait(timeout=30)
            oidc.forget_provider_cache()
