"""``batchforge server`` as a real process: how it stops, and where the admin token goes.

Issue #16 items 9 and 10: a service manager stops a server with SIGTERM, and collects its
output into a log; neither may leave an emulator running or a token in a log.
"""

from __future__ import annotations

import os
import pty
import select
import signal
from pathlib import Path

import pytest

from batchforge.local_aws import free_port
from tests.server.processes import ServerProcess, children, pid_alive, port_free, wait_for


def _sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'batchforge.db'}"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "kill-9"])
def test_stopping_the_server_stops_its_emulator(tmp_path: Path, signum: int) -> None:
    """SIGTERM (systemd's and Docker's stop) ends the server cleanly (exit 0) and its embedded
    emulator with it: the emulator's process is gone and its port free.  Even a ``kill -9``,
    which runs no clean-up, takes the emulator down (PR_SET_PDEATHSIG, proc(5)/prctl(2)).
    The log the server wrote to a file (not a terminal) never holds the admin token."""
    emulator_port = free_port()
    server = ServerProcess(
        tmp_path / "data", _sqlite(tmp_path), BATCHFORGE_LOCAL_AWS_PORT=str(emulator_port)
    )
    try:
        server.wait_ready()
        (emulator_pid,) = children(server.pid)
        assert pid_alive(emulator_pid) and not port_free(emulator_port)
        token = server.token()
        assert token.startswith("bf_")
        assert os.stat(server.data_dir / "admin-token").st_mode & 0o777 == 0o600

        server.signal(signum)
        code = server.wait_exit()
        wait_for("the emulator process to end", lambda: not pid_alive(emulator_pid), 60)
        wait_for("the emulator's port to be free", lambda: port_free(emulator_port), 60)
    finally:
        server.stop()
    log = server.log()
    if signum == signal.SIGTERM:
        assert code == 0, log
        assert "Local AWS emulator stopped" in log
    assert token not in log
    assert "admin-token" in log  # where to find it is said instead


def test_the_token_is_shown_on_a_terminal(tmp_path: Path) -> None:
    """With a terminal as standard output (a person started it), the new admin token is
    printed once; the file still holds it."""
    controller, terminal = pty.openpty()
    server = ServerProcess(
        tmp_path / "data",
        _sqlite(tmp_path),
        emulator_url="http://127.0.0.1:9",  # aws mode: no emulator needed to start
        stdout=terminal,
    )
    os.close(terminal)
    seen = b""
    try:
        server.wait_ready()
        token = server.token()

        def printed() -> bool:
            nonlocal seen
            while select.select([controller], [], [], 0.1)[0]:
                try:
                    seen += os.read(controller, 4096)
                except OSError:
                    break
            return token.encode() in seen

        wait_for("the token on the terminal", printed, 60)
    finally:
        server.signal(signal.SIGTERM)
        server.wait_exit()
        os.close(controller)
    assert b"shown once" in seen
