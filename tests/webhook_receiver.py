"""A real webhook receiver for the tests: an HTTP server on a local port that records what it
gets and answers as told (ok, an error status, or holding the request open until released).
It can be stopped and started again on the same port, to play a receiver that is down."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response


@dataclass
class Received:
    headers: dict[str, str]
    body: str

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    port: int = 0
    status: int = 204
    hold: bool = False  # answer only once `release` is set
    received: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    _server: BaseWSGIServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        self._server = make_server("127.0.0.1", self.port, self._app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()

    def events(self) -> list[dict[str, Any]]:
        return [r.event for r in self.received]

    def _app(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        self.received.append(
            Received(
                {k.lower(): v for k, v in request.headers.items()}, request.get_data(as_text=True)
            )
        )
        self.arrived.set()
        if self.hold:
            self.release.wait(timeout=60)
        return Response(status=self.status)(environ, start_response)
