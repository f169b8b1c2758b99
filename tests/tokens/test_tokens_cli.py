"""``batchforge tokens add|list|delete`` against a live server over HTTP."""

from __future__ import annotations

import json

from tests.cli.conftest import LiveServer, live_server
from tests.cli.test_credentials_cli import _clean_env, invoke

__all__ = ["_clean_env", "live_server"]  # fixtures shared with the CLI tests


def test_add_prints_the_token_once_list_never_and_delete_by_name(
    live_server: LiveServer,
) -> None:
    added = invoke(live_server, "tokens", "add", "-n", "ci-runner")
    assert added.exit_code == 0, added.output
    value = added.output.strip().splitlines()[-1]
    assert value.startswith("bf_")
    listed = invoke(live_server, "tokens", "list")
    assert listed.exit_code == 0 and "ci-runner" in listed.output and value not in listed.output
    mine = invoke(live_server, "--url", live_server.url, "--token", value, "tokens", "list")
    assert mine.exit_code == 0, mine.output
    as_json = json.loads(invoke(live_server, "-o", "json", "tokens", "list").output)
    used = {t["name"]: t for t in as_json}["ci-runner"]
    assert used["lastUsed"] is not None and "accessKey" not in used

    duplicate = invoke(live_server, "tokens", "add", "-n", "ci-runner")
    assert duplicate.exit_code == 1 and "already have a token named" in duplicate.output
    deleted = invoke(live_server, "tokens", "delete", "ci-runner")
    assert deleted.exit_code == 0 and "deleted" in deleted.output
    assert "ci-runner" not in invoke(live_server, "tokens", "list").output
    missing = invoke(live_server, "tokens", "delete", "ci-runner")
    assert missing.exit_code == 1 and "no token named" in missing.output
    neither = invoke(live_server, "tokens", "delete")
    assert neither.exit_code == 1 and "--all" in neither.output
