"""``glassnet playground``: its address printed, the browser opened (or not), the next free
port when the default is taken, an explicit port that is taken an error naming --port, and
Ctrl-C a clean stop."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys

import pytest

from conftest import ROOT
from glassnet.cli import main
from glassnet.cli import playground as cli
from glassnet.glassbox.playground.server import PlaygroundServer


@pytest.fixture
def stopped_at_once(monkeypatch):
    """serve_forever interrupted as Ctrl-C would, recording the server it ran."""
    served = []

    def interrupted(self, poll_interval=0.5):
        served.append(self.server_address)
        raise KeyboardInterrupt

    monkeypatch.setattr(PlaygroundServer, "serve_forever", interrupted)
    return served


@pytest.fixture
def browser(monkeypatch):
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda url, *a, **k: opened.append(url))
    return opened


def taken_port():
    """A socket listening on some port of 127.0.0.1, whose next port is free."""
    for _ in range(50):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                s.close()
                continue
        return s, port
    pytest.skip("no two consecutive free ports found")


def test_it_prints_its_address_opens_the_browser_and_stops_on_ctrl_c(
    stopped_at_once, browser, capsys
):
    assert main(["playground", "--port", "0"]) == 0
    out = capsys.readouterr()
    host, port = stopped_at_once[0]
    url = f"http://127.0.0.1:{port}/"
    assert host == "127.0.0.1"
    assert out.out.splitlines() == [
        f"glassnet playground: {url} (Ctrl-C stops it)",
        "glassnet playground: stopped",
    ]
    assert browser == [url] and out.err == ""


def test_no_browser(stopped_at_once, browser, capsys):
    assert main(["playground", "--port", "0", "--no-browser"]) == 0
    assert browser == []


def test_a_taken_default_port_falls_back_to_the_next(stopped_at_once, browser, monkeypatch):
    held, port = taken_port()
    with held:
        monkeypatch.setattr(cli, "DEFAULT_PORT", port)
        assert main(["playground", "--no-browser"]) == 0
    assert stopped_at_once == [("127.0.0.1", port + 1)]


def test_a_taken_explicit_port_is_an_error_naming_the_flag(stopped_at_once, capsys):
    held, port = taken_port()
    with held:
        assert main(["playground", "--port", str(port), "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"glassnet: error: --port {port} cannot be used")
    assert len(err.splitlines()) == 1 and stopped_at_once == []


def test_every_default_port_taken_is_an_error(stopped_at_once, capsys, monkeypatch):
    held, port = taken_port()
    with held:
        monkeypatch.setattr(cli, "DEFAULT_PORT", port)
        monkeypatch.setattr(cli, "PORT_TRIES", 1)
        assert main(["playground", "--no-browser"]) == 2
    assert "--port" in capsys.readouterr().err


@pytest.mark.parametrize("port", ["70000", "-1"])
def test_a_port_out_of_range_is_an_error(port, capsys):
    assert main(["playground", "--port", port]) == 2
    assert "--port must be between 0 and 65535" in capsys.readouterr().err


def test_the_real_command_serves_and_stops_cleanly_on_sigint():
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    process = subprocess.Popen(
        [sys.executable, "-m", "glassnet.cli", "playground", "--port", "0", "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("glassnet playground: http://127.0.0.1:")
        port = int(line.split("127.0.0.1:")[1].split("/")[0])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/api/options")
        response = connection.getresponse()
        assert response.status == 200 and "datasets" in json.loads(response.read())
        connection.close()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert out == "glassnet playground: stopped\n" and "Traceback" not in err
