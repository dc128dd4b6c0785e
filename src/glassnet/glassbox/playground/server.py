"""The playground's HTTP server: the standard library's ``ThreadingHTTPServer`` on 127.0.0.1.

What it guards against, in the order a request meets it:

- **another machine**: it listens on 127.0.0.1 only;
- **a web page that is not the playground** (DNS rebinding, cross-site requests): a ``Host``
  that is not ``127.0.0.1``, ``localhost`` or ``[::1]`` (with any port) is refused with 403,
  and so is an ``Origin`` header naming any other site;
- **files it should not show**: it serves the files of its static folder, from a whitelist
  made at start-up — a request's path is looked up in that table, never joined onto a
  folder, so ``/static/../pyproject.toml`` or ``%2e%2e`` tricks find nothing (404);
- **bodies too large or malformed**: over :data:`MAX_BODY` bytes is 413, unread; a body that
  is not JSON, or JSON that the checks of :mod:`.config` refuse, is 400 with one line
  naming the field and the value;
- **its own bugs**: any other exception is logged (``logging``, logger
  ``glassnet.playground``) and answered 500 with a generic message, never a traceback.

Its request log goes to the same logger, at DEBUG level, instead of standard error.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

from glassnet.glassbox.playground.config import RequestError
from glassnet.glassbox.playground.routes import Api

log = logging.getLogger("glassnet.playground")

MAX_BODY = 256 * 1024
#: a body too large, but not absurdly so, is read and dropped before the 413 is sent
DRAINED_BODY = 16 * MAX_BODY
STATIC = Path(__file__).parent / "static"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
}
LOCAL_HOST = re.compile(r"(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?", re.IGNORECASE)
LOCAL_ORIGIN = re.compile(r"https?://(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?", re.IGNORECASE)
#: the page's own files and nothing else: no inline scripts, no other site
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        "frame-ancestors 'none'"
    ),
}


def static_files(folder: Path = STATIC) -> dict[str, Path]:
    """The whitelist: URL path -> file, for every regular file under ``folder`` (not hidden,
    of a known type); ``/`` is ``index.html``."""
    table = {}
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder).as_posix()
            if path.is_symlink() or not path.is_file() or relative.startswith("."):
                continue
            if "/." in relative or path.suffix not in CONTENT_TYPES:
                continue
            table[f"/static/{relative}"] = path
    if "/static/index.html" in table:
        table["/"] = table["/static/index.html"]
    return table


class PlaygroundServer(ThreadingHTTPServer):
    """The server, its API (sessions) and its whitelist of static files."""

    daemon_threads = True
    allow_reuse_address = False  # a port in use is an error, not shared

    def __init__(self, port: int = 0, *, static: Path = STATIC, max_sessions: int = 16):
        self.api = Api(max_sessions)
        self.static = static_files(static)
        super().__init__(("127.0.0.1", port), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


class Handler(BaseHTTPRequestHandler):
    """One request: the guards, then a static file or the API; always a JSON error."""

    server: PlaygroundServer
    protocol_version = "HTTP/1.1"
    timeout = 60  # seconds a connection may sit idle or half-sent before it is closed
    # headers and body go out as separate sends; without TCP_NODELAY each keep-alive response
    # waits ~40 ms for Nagle and the delayed ACK (a step request: 59 ms -> 7 ms, measured)
    disable_nagle_algorithm = True
    server_version = "glassnet-playground"
    sys_version = ""

    def do_GET(self):
        self.answer("GET")

    def do_POST(self):
        self.answer("POST")

    def do_PUT(self):
        self.answer("PUT")

    def do_DELETE(self):
        self.answer("DELETE")

    def do_HEAD(self):
        self.send_json(405, {"error": "method HEAD is not allowed"})

    def answer(self, method: str) -> None:
        try:
            self.guard()
            path, _, query = self.path.partition("?")  # the path as sent: never decoded
            if method == "GET" and not path.startswith("/api/"):
                return self.send_static(path)
            body = self.read_body()
            status, payload = self.server.api.handle(method, path, parse_qs(query), body)
            self.send_json(status, payload)
        except RequestError as exc:
            self.send_json(exc.status, {"error": str(exc)})
        except Exception:  # a bug: logged whole, answered in one generic line
            log.exception("playground: %s %s failed", method, self.path[:200])
            self.send_json(500, {"error": "internal error in the playground server (logged)"})

    def guard(self) -> None:
        host = self.headers.get("Host", "")
        if not LOCAL_HOST.fullmatch(host):
            raise RequestError(f"Host must be 127.0.0.1, localhost or [::1], got {host!r}", 403)
        origin = self.headers.get("Origin")
        if origin is not None and not LOCAL_ORIGIN.fullmatch(origin):
            raise RequestError(f"requests from {origin[:80]!r} are not allowed", 403)

    def read_body(self):
        """The request's JSON body, or None when it has none."""
        if "Transfer-Encoding" in self.headers:
            raise RequestError("Transfer-Encoding is not supported: send a Content-Length", 411)
        length = self.headers.get("Content-Length", "0")
        if not re.fullmatch(r"\d{1,12}", length):
            raise RequestError(f"Content-Length must be a number, got {length[:40]!r}")
        size = int(length)
        if size > MAX_BODY:
            self.close_connection = True
            if size <= DRAINED_BODY:  # read and dropped, so that the client sees the answer
                for _ in range(0, size, 65536):
                    self.rfile.read(min(65536, size))
                    size -= 65536
            raise RequestError(f"the body has {length} bytes; the most accepted is {MAX_BODY}", 413)
        if size == 0:
            return None
        kind = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            self.close_connection = True
            raise RequestError(f"Content-Type must be application/json, got {kind!r}", 415)
        raw = self.rfile.read(size)
        try:
            return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
        except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
            raise RequestError(f"the body is not valid JSON: {str(exc)[:120]}") from None

    def send_static(self, path: str) -> None:
        file = self.server.static.get(path)
        if file is None:
            raise RequestError(f"no such file {path[:80]!r}", 404)
        content = file.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPES[file.suffix])
        self.send_header("Content-Length", str(len(content)))
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(content)

    def send_json(self, status: int, payload) -> None:
        content = b"" if payload is None else json.dumps(payload, allow_nan=False).encode()
        self.send_response(status)
        if payload is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(content)

    def send_error(self, code, message=None, explain=None):
        """The base class's own refusals (an unknown method, a malformed request line), as
        one line of JSON like every other error."""
        self.close_connection = True
        reason = message or self.responses.get(code, ("error",))[0]
        self.send_json(code, {"error": f"{reason} ({code})"})

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        log.debug("%s " + format, self.address_string(), *args)


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def serve_in_thread(port: int = 0, **options) -> tuple[PlaygroundServer, threading.Thread]:
    """A server on ``port`` (0: any free one) answering on a background thread; stop it with
    ``server.shutdown(); server.server_close()``."""
    server = PlaygroundServer(port, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="playground")
    thread.start()
    return server, thread


def bind(port: int, *, tries: int = 1) -> PlaygroundServer:
    """A server on the first free port of ``port, port + 1, ...`` (``tries`` of them); the
    last ``OSError`` (address in use) when none is free."""
    for offset in range(tries):
        try:
            return PlaygroundServer(port + offset if port else 0)
        except OSError:
            if offset == tries - 1 or port + offset + 1 > 65535:
                raise
    raise AssertionError("unreachable")  # pragma: no cover
