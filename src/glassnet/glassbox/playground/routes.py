"""The playground's JSON API, apart from HTTP: a request's method, path, query and body in;
a status and a JSON-ready answer out (the reference is ``docs/playground.md``).

Sessions are kept in memory, at most :data:`MAX_SESSIONS`; a new one beyond that drops the
least recently used. Each session has its own lock: the server answers requests on several
threads, and one session's steps must not interleave.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict

from glassnet.glassbox.playground import config as checks
from glassnet.glassbox.playground.config import RequestError, full_config, validate
from glassnet.glassbox.playground.script import python_script
from glassnet.glassbox.playground.session import Session
from glassnet.glassbox.playground.snapshot import state
from glassnet.glassbox.playground.trace import ledger, trace_step

MAX_SESSIONS = 16
DEFAULT_GRID = 32
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class Sessions:
    """The live sessions by id, least recently used first, at most ``limit`` of them."""

    def __init__(self, limit: int = MAX_SESSIONS) -> None:
        self.limit = limit
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, session: Session) -> str:
        session.lock = threading.Lock()
        key = secrets.token_urlsafe(12)
        with self._lock:
            self._sessions[key] = session
            while len(self._sessions) > self.limit:
                self._sessions.popitem(last=False)  # the least recently used goes
        return key

    def get(self, key: str) -> Session:
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                raise RequestError(f"no session {key!r} (it may have been dropped)", 404)
            self._sessions.move_to_end(key)
            return session

    def remove(self, key: str) -> None:
        with self._lock:
            if self._sessions.pop(key, None) is None:
                raise RequestError(f"no session {key!r} (it may have been dropped)", 404)

    def __len__(self) -> int:
        return len(self._sessions)


def grid_size(query: dict, body: dict | None = None) -> int:
    """The heat-map grid asked for (``?grid=N`` or the body's ``grid``), checked."""
    if body is not None and "grid" in body:
        return body["grid"]
    values = query.get("grid")
    if not values:
        return DEFAULT_GRID
    text = values[-1]
    if not re.fullmatch(r"\d{1,3}", text):
        raise RequestError(f"grid must be an integer, got {text[:20]!r}")
    return validate(int(text), checks.GRID_SCHEMA, "grid")


class Api:
    """``handle(method, path, query, body) -> (status, answer)``; refusals raise
    :class:`RequestError` (their status and one line), which the server turns into JSON."""

    def __init__(self, limit: int = MAX_SESSIONS) -> None:
        self.sessions = Sessions(limit)

    def handle(self, method: str, path: str, query: dict, body) -> tuple[int, object]:
        parts = path.strip("/").split("/")
        if parts == ["api", "options"]:
            _allow(method, "GET")
            return 200, checks.options()
        if parts == ["api", "sessions"]:
            _allow(method, "POST")
            session = Session(full_config(body))
            key = self.sessions.add(session)
            with session.lock:
                return 201, {"id": key, "state": state(session, grid_size(query))}
        if len(parts) in (3, 4) and parts[:2] == ["api", "sessions"]:
            if not SESSION_ID.fullmatch(parts[2]):
                raise RequestError("no such session", 404)
            action = parts[3] if len(parts) == 4 else None
            return self._session(method, parts[2], action, query, body)
        raise RequestError(f"no such path {path[:80]!r}", 404)

    def _session(self, method, key, action, query, body) -> tuple[int, object]:
        if action is None and method == "DELETE":
            self.sessions.remove(key)
            return 204, None
        handler = SESSION_ACTIONS.get(action)
        if handler is None:
            raise RequestError(f"no such path: /api/sessions/<id>/{action[:40]}", 404)
        _allow(method, handler[0])
        session = self.sessions.get(key)
        with session.lock:
            return 200, handler[1](session, query, body)


def _allow(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise RequestError(f"method {method} is not allowed here; use {' or '.join(allowed)}", 405)


def _get(session, query, body):
    validate(body or {}, checks.EMPTY_SCHEMA)
    return state(session, grid_size(query))


def _configure(session, query, body):
    session.configure(full_config(body))
    return state(session, grid_size(query))


def _add_point(session, query, body):
    point = validate(body, checks.POINT_SCHEMA)
    session.add_point(float(point["x"]), float(point["y"]), float(point["target"]))
    return state(session, grid_size(query))


def _step(session, query, body):
    body = validate({} if body is None else body, checks.STEP_SCHEMA)
    session.train(body.get("steps", 1))
    return state(session, grid_size(query, body))


def _reset(session, query, body):
    validate(body or {}, checks.EMPTY_SCHEMA)
    session.reset()
    return state(session, grid_size(query))


def _trace(session, query, body):
    body = validate({} if body is None else body, checks.TRACE_SCHEMA)
    if session.diverged is not None:  # there is no next step to walk through
        raise RequestError(f"{session.diverged} Reset to train again.", 409)
    answer = trace_step(session)
    answer["state"] = state(session, grid_size(query, body))
    return answer


def _ledger(session, query, body):
    return ledger(session, validate(body, checks.LEDGER_SCHEMA))


def _python(session, query, body):
    return {"code": python_script(session)}


#: action -> (its method, its handler)
SESSION_ACTIONS = {
    None: ("GET", _get),
    "config": ("PUT", _configure),
    "points": ("POST", _add_point),
    "step": ("POST", _step),
    "reset": ("POST", _reset),
    "trace": ("POST", _trace),
    "ledger": ("POST", _ledger),
    "python": ("GET", _python),
}
