"""``morl explore --serve``: the explorer page from a local server that computes any preference on
demand (the page's control becomes continuous: the server makes the policy, runs the episode and
returns its joint positions and return vector).

Bound to 127.0.0.1 only: the server runs a user's trained policies on request, which is nobody
else's business. Single-threaded on purpose: one environment serves every request in turn.
"""

from __future__ import annotations

import errno
import json
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from morl.envs.registration import make
from morl.explore.recording import PolicySource, record_episode
from morl.preferences import parse_preference, validate_preference

HOST = "127.0.0.1"


class ExplorerServer(HTTPServer):
    """The page at ``/``, one episode at ``/api/episode?preference=a,b[,c]``."""

    def __init__(self, source: PolicySource, seed: int, port: int, page: str = "") -> None:
        try:
            super().__init__((HOST, port), _Handler)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                message = f"--port {port}: already in use on {HOST}; choose another (0 picks a free one)"
                raise ValueError(message) from None
            raise
        self.source = source
        self.page = page.encode("utf-8")  # set once the grid is recorded (the port is taken first)
        self.seed = seed
        try:
            self.env = make(source.problem_id)
        except BaseException:
            self.socket.close()
            raise

    @property
    def url(self) -> str:
        """Where the page is: 127.0.0.1 and the port bound (the one picked when asked for 0)."""
        return f"http://{HOST}:{self.server_address[1]}/"

    def episode(self, query: str) -> dict[str, Any]:
        """The episode of the preference a query names; ValueError naming a bad one."""
        values = parse_qs(query).get("preference")
        if not values:
            raise ValueError("missing parameter 'preference' (e.g. ?preference=0.3,0.7)")
        weights = validate_preference(parse_preference(values[0]), self.source.m)
        return record_episode(self.env, self.source.policy_for(weights), self.seed).to_dict()

    def server_close(self) -> None:
        super().server_close()
        if hasattr(self, "env"):  # a bind that failed closes the socket before there is one
            self.env.close()


class _Handler(BaseHTTPRequestHandler):
    server: ExplorerServer

    def do_GET(self) -> None:  # http.server's name
        url = urlparse(self.path)
        if url.path in ("/", "/index.html"):
            self._send(200, "text/html; charset=utf-8", self.server.page)
        elif url.path == "/api/episode":
            try:
                body, status = self.server.episode(url.query), 200
            except ValueError as error:  # the request's: a bad preference
                body, status = {"error": str(error)}, 400
            except Exception as error:  # the policy's or the physics': the page shows it, the server goes on
                body, status = {"error": f"the episode failed: {type(error).__name__}: {error}"}, 500
            self._send(status, "application/json", json.dumps(body).encode("utf-8"))
        else:
            self._send(404, "application/json", json.dumps({"error": f"no such page: {url.path}"}).encode("utf-8"))

    def _send(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # http.server's signature
        pass  # a request per slider move: the terminal stays quiet
