"""``python -m batchforge.emulator.server -H 127.0.0.1 -p PORT [--execution on|off]``.

moto's server (as ``python -m moto.server``) with batchforge's executor installed in its simple
Batch backend (:mod:`batchforge.emulator.executor`), the control API of
:mod:`batchforge.emulator.control` and the Price List API's GetProducts, which moto lacks
(:mod:`batchforge.emulator.pricing`, sample prices).  Loopback only.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

BANNER = (
    "batchforge local AWS emulator (moto {moto}) on {url}: head jobs run their real command "
    "under bash through a Nextflow stand-in, not Nextflow; containers are not run"
)
LOOPBACK = ("127.0.0.1", "localhost", "::1")
BATCH_PATH = "/v1/"  # every AWS Batch API path


def build_app(endpoint: str, execution: bool, max_concurrent: int, max_seconds: float) -> Any:
    """moto's WSGI app wrapped with the control API, the executor installed."""
    from moto.server import DomainDispatcherApplication, create_backend_app

    from batchforge.emulator import iam_policies
    from batchforge.emulator.control import ControlMiddleware, EmulatorState
    from batchforge.emulator.executor import Executor, install
    from batchforge.emulator.pricing import PricingMiddleware

    iam_policies.install()  # a reset re-creates IAM backends: 1.5 s less each

    state = EmulatorState(execution=execution)
    executor = Executor(state, endpoint, max_concurrent=max_concurrent, max_seconds=max_seconds)
    installed = threading.Event()

    def install_in_background() -> None:
        # moto's Batch models take seconds to import: boot first, patch meanwhile; Batch
        # requests wait for it (see ``gated``)
        try:
            install(executor)
        finally:
            installed.set()

    threading.Thread(target=install_in_background, daemon=True).start()
    dispatcher = DomainDispatcherApplication(create_backend_app)

    def moto_app(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").startswith(BATCH_PATH) and not installed.is_set():
            installed.wait(timeout=120)
        return dispatcher(environ, start_response)

    def info() -> dict[str, Any]:
        return {
            "execution": state.execution,
            "running": executor.running(),
            "standin": "batchforge nextflow stand-in -- not Nextflow",
            "maxConcurrent": max_concurrent,
            "maxSeconds": max_seconds,
        }

    app = ControlMiddleware(PricingMiddleware(moto_app), state, info)
    app.executor = executor  # type: ignore[attr-defined]
    return app


def main(argv: list[str] | None = None) -> None:
    import os

    import moto
    from moto.server import MotoRequestHandler
    from werkzeug.serving import run_simple

    parser = argparse.ArgumentParser(prog="batchforge.emulator.server")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=4566)
    parser.add_argument("--execution", choices=("on", "off"), default="off")
    parser.add_argument("--max-concurrent", type=int, default=4)
    parser.add_argument("--max-seconds", type=float, default=600.0)
    args = parser.parse_args(argv)
    if args.host not in LOOPBACK:
        parser.error("the emulator listens on loopback only")
    os.environ.setdefault("MOTO_PORT", str(args.port))
    url = f"http://{args.host}:{args.port}"
    app = build_app(url, args.execution == "on", args.max_concurrent, args.max_seconds)

    def stop(*_: object) -> None:
        app.executor.kill_now()
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print(BANNER.format(moto=moto.__version__, url=url), flush=True)
    run_simple(
        args.host,
        args.port,
        app,
        threaded=True,
        use_reloader=False,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
