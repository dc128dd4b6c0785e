"""The playground's guards: local Host and Origin only, its own static files only, every
request checked (a 400 naming the field and the value, never a traceback), bodies bounded,
sessions bounded, and a bug answered with a generic 500 that the log keeps."""

from __future__ import annotations

import logging
import socket

import pytest

from glassnet.glassbox.playground import routes
from glassnet.glassbox.playground.server import MAX_BODY, STATIC, static_files
from playground_client import running


@pytest.fixture(scope="module")
def client():
    with running() as c:
        yield c


SECRET = "the content of a file never to be served"


@pytest.fixture
def site(tmp_path):
    """A server whose static folder is a temporary one, with a secret beside it."""
    static = tmp_path / "static"
    (static / "vendor").mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html><title>playground</title>")
    (static / "app.js").write_text("console.log('hi');")
    (static / "vendor" / "chart.js").write_text("// vendored")
    (static / ".hidden.js").write_text(SECRET)
    (static / "notes.py").write_text(SECRET)
    (tmp_path / "secret.txt").write_text(SECRET)
    (static / "link.txt").symlink_to(tmp_path / "secret.txt")
    with running(static=static) as c:
        yield c, static


@pytest.mark.parametrize(
    "host", ["evil.example", "127.0.0.1.evil.example", "localhost.evil:80", "10.0.0.1:8765", ""]
)
def test_a_host_that_is_not_local_is_refused(client, host):
    status, message = client.error("GET", "/api/options", headers={"Host": host})
    assert status == 403 and "Host" in message


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost:8765", "[::1]:9", "LOCALHOST"])
def test_local_hosts_are_served(client, host):
    status, answer, _ = client.request("GET", "/api/options", headers={"Host": host})
    assert status == 200 and "datasets" in answer


def test_a_request_without_a_host_is_refused(client):
    with socket.create_connection(("127.0.0.1", client.port), timeout=30) as s:
        s.sendall(b"GET /api/options HTTP/1.0\r\n\r\n")
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.0 403") or reply.startswith(b"HTTP/1.1 403")


def test_a_foreign_origin_is_refused(client):
    status, message = client.error(
        "POST", "/api/sessions", {}, headers={"Origin": "https://evil.example"}
    )
    assert status == 403 and "evil.example" in message
    status, _, _ = client.request(
        "GET", "/api/options", headers={"Origin": f"http://127.0.0.1:{client.port}"}
    )
    assert status == 200


def test_the_static_files_are_the_whitelist(site):
    client, static = site
    status, page, headers = client.request("GET", "/")
    assert status == 200 and page.startswith(b"<!doctype html>")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, script, headers = client.request("GET", "/static/app.js")
    assert status == 200 and script == b"console.log('hi');"
    assert headers["Content-Type"].startswith("text/javascript")
    assert client.request("GET", "/static/vendor/chart.js")[0] == 200
    (static / "late.js").write_text("made after start-up")
    for path in [
        "/static/late.js",
        "/static/.hidden.js",
        "/static/notes.py",
        "/static/link.txt",
        "/static/../secret.txt",
        "/static/..%2fsecret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/vendor/../app.js",
        "/static/app.js%00",
        "/static/APP.JS",
        "/static/",
        "/index.html",
        "/static/app.js/",
    ]:
        status, message = client.error("GET", path)
        assert status == 404, path
        assert SECRET not in message


@pytest.mark.parametrize(
    "path",
    [
        "/static/../pyproject.toml",
        "/static/%2e%2e/pyproject.toml",
        "/static/%2e%2e%2f%2e%2e%2fpyproject.toml",
        "/static/..\\..\\pyproject.toml",
        "/../../../../etc/passwd",
        "/static//etc/passwd",
        "/static/server.py",
        "/static/../server.py",
    ],
)
def test_the_package_folder_serves_nothing_else(client, path):
    status, _ = client.error("GET", path)
    assert status == 404


def test_every_shipped_static_file_is_served(client):
    for path, file in static_files(STATIC).items():
        status, content, _ = client.request("GET", path)
        assert status == 200 and content == file.read_bytes(), path


@pytest.mark.parametrize(
    ("body", "field", "value"),
    [
        ({"lr": 0.1}, "'lr'", None),
        ({"learning_rate": 0}, "learning_rate", "0"),
        ({"learning_rate": 11}, "learning_rate", "11"),
        ({"learning_rate": "fast"}, "learning_rate", "'fast'"),
        ({"learning_rate": True}, "learning_rate", "True"),
        ({"batch_size": 2.5}, "batch_size", "2.5"),
        ({"batch_size": 257}, "batch_size", "257"),
        ({"n_points": 501}, "n_points", "501"),
        ({"noise": -0.1}, "noise", "-0.1"),
        ({"train_fraction": 0.95}, "train_fraction", "0.95"),
        ({"seed": -1}, "seed", "-1"),
        ({"dataset": "mnist"}, "dataset", "'mnist'"),
        ({"optimizer": "lbfgs"}, "optimizer", "'lbfgs'"),
        ({"loss": "hinge"}, "loss", "'hinge'"),
        ({"hidden": [{"units": 4}] * 7}, "hidden", "7"),
        ({"hidden": [{"units": 9}]}, "hidden[0].units", "9"),
        ({"hidden": [{"units": 0}]}, "hidden[0].units", "0"),
        ({"hidden": [{"units": 2}, {"units": 2, "activation": "swish"}]}, "hidden[1].activation",
         "'swish'"),
        ({"hidden": [{"units": 2, "colour": "red"}]}, "'colour'", None),
        ({"hidden": [{"activation": "relu"}]}, "hidden[0]", "units"),
        ({"hidden": "4,2"}, "hidden", None),
        ({"extra_points": [[0, 0]]}, "extra_points[0]", None),
        ({"extra_points": [[0, 0, "1"]]}, "extra_points[0][2]", "'1'"),
        ({"extra_points": [[0, 0, 1]] * 201}, "extra_points", "201"),
        ({"extra_points": [[50, 0, 1]]}, "extra_points[0]", "50"),
        ({"extra_points": [[0, 0, 2]]}, "extra_points[0]", "2"),
        ({"dataset": "regression", "loss": "bce"}, "loss", "'bce'"),
        ({"l2": 2}, "l2", "2"),
        ({"weight_init": "random"}, "weight_init", "'random'"),
    ],
)  # fmt: skip
def test_a_bad_config_is_a_400_naming_the_field_and_the_value(client, body, field, value):
    status, message = client.error("POST", "/api/sessions", body)
    assert status == 400
    assert field in message
    if value is not None:
        assert value in message


def test_a_bad_request_to_a_session_is_a_400(client):
    key, _ = client.session({"hidden": [{"units": 3}]})
    at = f"/api/sessions/{key}"
    cases = [
        ("POST", f"{at}/step", {"steps": 0}, "steps"),
        ("POST", f"{at}/step", {"steps": 1001}, "steps"),
        ("POST", f"{at}/step", {"steps": 1, "grid": 65}, "grid"),
        ("POST", f"{at}/step", {"steps": 1, "grid": 4}, "grid"),
        ("POST", f"{at}/step", {"stepz": 1}, "'stepz'"),
        ("POST", f"{at}/step", [1], "body"),
        ("POST", f"{at}/points", {"x": 0, "y": 0}, "target"),
        ("POST", f"{at}/points", {"x": "0", "y": 0, "target": 1}, "x"),
        ("POST", f"{at}/points", {"x": 9, "y": 0, "target": 1}, "domain"),
        ("POST", f"{at}/ledger", {"layer": 3, "i": 0, "j": 0}, "layer"),
        ("POST", f"{at}/ledger", {"layer": 1, "i": 2, "j": 0}, "i"),
        ("POST", f"{at}/ledger", {"layer": 1, "i": 0, "j": 3}, "j"),
        ("POST", f"{at}/ledger", {"layer": 1, "j": 0}, "i"),
        ("POST", f"{at}/ledger", {"layer": 0, "i": 0, "j": 0}, "layer"),
        ("POST", f"{at}/reset", {"hard": True}, "'hard'"),
        ("PUT", f"{at}/config", {"units": 3}, "'units'"),
        ("GET", f"{at}?grid=abc", None, "grid"),
        ("GET", f"{at}?grid=100", None, "grid"),
    ]
    for method, path, body, field in cases:
        status, message = client.error(method, path, body)
        assert status == 400, (path, body, message)
        assert field in message, (path, body, message)


@pytest.mark.parametrize(
    "raw",
    [b"{bad json", b'{"learning_rate": NaN}', b'{"noise": Infinity}', b"\xff\xfe", b"[1, 2"],
)
def test_a_body_that_is_not_json_is_a_400(client, raw):
    status, message = client.error("POST", "/api/sessions", raw=raw)
    assert status == 400 and "JSON" in message


def test_a_body_over_the_cap_is_a_413(client):
    raw = b'{"seed": 1' + b" " * MAX_BODY + b"}"
    status, message = client.error("POST", "/api/sessions", raw=raw)
    assert status == 413 and str(MAX_BODY) in message
    huge = "x" * 100
    status, _ = client.error(
        "POST", "/api/sessions", headers={"Content-Length": "99999999999", "X": huge}
    )
    assert status == 413


def test_a_body_must_say_it_is_json(client):
    status, message = client.error(
        "POST", "/api/sessions", raw=b"{}", headers={"Content-Type": "text/plain"}
    )
    assert status == 415 and "application/json" in message


def test_unknown_paths_methods_and_sessions(client):
    key, _ = client.session()
    assert client.error("GET", "/api/nothing")[0] == 404
    assert client.error("GET", f"/api/sessions/{key}/nothing")[0] == 404
    assert client.error("GET", "/api/sessions/not-a-session")[0] == 404
    assert client.error("GET", "/api/sessions/../../etc")[0] == 404
    assert client.error("GET", "/api/sessions")[0] == 405
    assert client.error("DELETE", "/api/options")[0] == 405
    assert client.error("GET", f"/api/sessions/{key}/step")[0] == 405
    assert client.error("PATCH", "/api/options")[0] in (405, 501)


def test_sessions_are_bounded_least_recently_used_first():
    with running(max_sessions=4) as client:
        keys = [client.session()[0] for _ in range(4)]
        client.ok("GET", f"/api/sessions/{keys[0]}?grid=0")  # used: now the most recent
        keys += [client.session()[0] for _ in range(2)]
        assert len(client.server.api.sessions) == 4
        assert client.error("GET", f"/api/sessions/{keys[1]}")[0] == 404
        assert client.error("GET", f"/api/sessions/{keys[2]}")[0] == 404
        for key in [keys[0], *keys[3:]]:
            client.ok("GET", f"/api/sessions/{key}?grid=0")


def test_the_default_bound_is_16_sessions(client):
    for _ in range(20):
        client.session()
    assert len(client.server.api.sessions) == routes.MAX_SESSIONS == 16


def test_a_bug_is_a_generic_500_and_is_logged(client, monkeypatch, caplog):
    def broken(session, query, body):
        raise RuntimeError("a bug with a secret detail")

    monkeypatch.setitem(routes.SESSION_ACTIONS, "python", ("GET", broken))
    key, _ = client.session()
    with caplog.at_level(logging.ERROR, logger="glassnet.playground"):
        status, message = client.error("GET", f"/api/sessions/{key}/python")
    assert status == 500 and "secret" not in message and "internal error" in message
    assert "a bug with a secret detail" in caplog.text


def test_requests_are_logged_through_logging_not_stderr(client, capfd, caplog):
    with caplog.at_level(logging.DEBUG, logger="glassnet.playground"):
        client.ok("GET", "/api/options")
    assert "GET /api/options" in caplog.text
    assert capfd.readouterr().err == ""
