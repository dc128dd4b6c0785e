"""A small client for the playground's tests: the real server on a free port, in a thread,
and requests through ``http.client`` (which sends the path exactly as given, so the tests
control every byte a browser or an attacker could send)."""

from __future__ import annotations

import http.client
import json
from contextlib import contextmanager

from glassnet.glassbox.playground.server import serve_in_thread


@contextmanager
def running(**options):
    """A playground server on a free port of 127.0.0.1, stopped afterwards."""
    server, thread = serve_in_thread(0, **options)
    try:
        yield Client(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class Client:
    """``client.request(method, path, body)`` -> ``(status, answer, headers)``; ``answer`` is
    the decoded JSON (or the bytes of a static file)."""

    def __init__(self, server) -> None:
        self.server = server
        self.port = server.server_address[1]

    def request(self, method, path, body=None, *, headers=None, raw: bytes | None = None):
        headers = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            headers.setdefault("Content-Type", "application/json")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            skip_host = "Host" in headers
            connection.putrequest(method, path, skip_host=skip_host, skip_accept_encoding=True)
            for name, value in headers.items():
                connection.putheader(name, value)
            if data is not None:
                connection.putheader("Content-Length", str(len(data)))
            connection.endheaders(data)
            response = connection.getresponse()
            content = response.read()
            kind = response.getheader("Content-Type", "")
            answer = json.loads(content) if kind == "application/json" else content
            return response.status, answer, dict(response.getheaders())
        finally:
            connection.close()

    def ok(self, method, path, body=None, status=200):
        """The answer of a request that must succeed with ``status``."""
        got, answer, _ = self.request(method, path, body)
        assert got == status, answer
        return answer

    def error(self, method, path, body=None, **options) -> tuple[int, str]:
        """``(status, message)`` of a refused request; the answer is one JSON line."""
        status, answer, _ = self.request(method, path, body, **options)
        assert status >= 400, answer
        assert set(answer) == {"error"} and "\n" not in answer["error"], answer
        assert "Traceback" not in answer["error"]
        return status, answer["error"]

    def session(self, config=None, *, grid=0) -> tuple[str, dict]:
        """A new session: ``(id, state)``."""
        answer = self.ok("POST", f"/api/sessions?grid={grid}", config or {}, status=201)
        return answer["id"], answer["state"]

    def step(self, key, steps, grid=0) -> dict:
        """``steps`` steps, in requests of at most 1000; the last State."""
        state = None
        while steps > 0:
            n = min(steps, 1000)
            state = self.ok("POST", f"/api/sessions/{key}/step", {"steps": n, "grid": grid})
            steps -= n
        return state
