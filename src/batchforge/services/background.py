"""A daemon thread that runs one cycle of background work, sleeps, and can be woken early.

Subclasses implement :meth:`BackgroundLoop.cycle`, returning how long to wait before the
next cycle.  A cycle that raises is logged and the loop goes on: it must survive any error.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("batchforge.server")


class BackgroundLoop:
    """Start with :meth:`start`; :meth:`wake` runs the next cycle now; :meth:`stop` ends it."""

    name = "background"

    def __init__(self, interval: float):
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)

    def cycle(self) -> float:
        """Do one round of work; return the seconds to wait before the next one."""
        raise NotImplementedError

    def delay_after_error(self) -> float:
        """Seconds to wait after a cycle that raised."""
        return self.interval

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            delay = self.interval
            try:
                delay = self.cycle()
            except Exception:
                log.exception("%s cycle failed", self.name)
            self._wake.wait(delay)
            self._wake.clear()
