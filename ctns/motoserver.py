"""A moto server that answers one request at a time: the local stack's AWS, and the benchmark's.

Each real DynamoDB or SQS request is atomic (two concurrent UpdateItem ADDs both count); moto's in-memory
backends are not thread-safe, and werkzeug serves each request on a thread of its own, so served concurrently
two ADDs on one item can lose one. `OneAtATime` produces each whole response under one lock, restoring the
guarantee the code relies on (in-process moto gets the same from `ctns.local_aws.atomic_moto`).
"""

from __future__ import annotations

import logging
import threading
from typing import Any


class OneAtATime:
    """WSGI middleware: the wrapped app handles one request at a time, its whole response produced under
    `self.lock` (a response is a list of bytes; moto's are small)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        with self.lock:
            return list(self.app(environ, start_response))


def moto_app() -> Any:
    """moto's server application (every service, dispatched by host and signature)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


def make_moto_server(app: Any, port: int = 0) -> Any:
    """A threaded werkzeug server on loopback serving `app` (wrap it in `OneAtATime`) as moto's own does."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per AWS request on the console
    return make_server("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)


class MotoServer:
    """moto on `http://127.0.0.1:<port>` (a free port by default) in a daemon thread of this process, one
    request at a time. moto keeps its state per process: servers of one process share it, and a server's stop
    resets it (as a stopped mock's), so a server started later holds nothing of an earlier one."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.url = ""
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> MotoServer:
        self._server = make_moto_server(OneAtATime(moto_app()), self.port)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None
            from moto.moto_api._internal.models import moto_api_backend

            moto_api_backend.reset()

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
