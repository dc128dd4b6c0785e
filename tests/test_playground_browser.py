"""The playground's page in a real browser: Debian's Chromium driven by Playwright's Python client.

The server is the real one (``glassnet.glassbox.playground``) on a free port of 127.0.0.1, in a
thread. Every test watches the console, page errors and every request: a console error or
warning, an uncaught exception, a failed request or an answer of 400 and above fails it.
The numbers the page shows are compared with the API's, and the ledger of a clicked weight
with ``str(gn.explain(...))`` computed here for the same model and batch.

Skips, saying what is missing, without the ``playwright`` package or ``/usr/bin/chromium``
(``.ci/run`` installs Chromium with apt-get; no browser is ever downloaded by Playwright).
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet.glassbox.playground.server import serve_in_thread

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed (pip install playwright)"
)
if not CHROMIUM.exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


# ---------------------------------------------------------------- the server and the browser


@pytest.fixture(scope="module")
def server():
    """The playground's server on a free port of 127.0.0.1, answering in a thread."""
    httpd, thread = serve_in_thread(0)
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def base_url(server):
    return server.url.rstrip("/")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Watch:
    """Everything that went wrong on a page: console errors and warnings, page errors,
    failed requests and answers of 400 and above."""

    def __init__(self, page):
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.method} {r.url}"))
        page.on("response", self._response)

    def _console(self, message):
        if message.type in ("error", "warning"):
            self.problems.append(f"console {message.type}: {message.text}")

    def _response(self, response):
        if response.status >= 400:
            self.problems.append(f"{response.status}: {response.request.method} {response.url}")


@pytest.fixture
def page(browser, base_url, tmp_path):
    """A fresh page on the playground, ready (its first state drawn); afterwards, nothing
    may have gone wrong on it, and its last picture is saved in tmp_path."""
    context = browser.new_context(
        viewport=VIEWPORT, permissions=["clipboard-read", "clipboard-write"], base_url=base_url
    )
    page = context.new_page()
    watch = Watch(page)
    page.goto("/")
    wait_ready(page)
    yield page
    page.screenshot(path=str(tmp_path / "last.png"))
    context.close()
    assert watch.problems == []


def wait_ready(page):
    """Until the page has its state and no request is in flight."""
    page.wait_for_function("() => window.playground && window.playground.ready")


def api(base_url, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base_url + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def session_state(page, base_url):
    return api(base_url, "GET", f"/api/sessions/{page.evaluate('playground.id')}?grid=8")


def text(page, testid):
    return page.get_by_test_id(testid).text_content()


def exact(page, testid):
    """The full-precision number behind a displayed one (its data-exact attribute)."""
    value = page.get_by_test_id(testid).get_attribute("data-exact")
    return None if value in (None, "null") else float(value)


def drawn_weights(page):
    """The data-testids of every drawn weight, as (L, I, J)."""
    ids = page.eval_on_selector_all(
        "[data-testid^='weight-']", "els => els.map(e => e.dataset.testid)"
    )
    return sorted(tuple(int(k) for k in name.split("-")[1:]) for name in ids)


def expected_weights(sizes):
    return sorted(
        (L, i, j)
        for L in range(1, len(sizes))
        for i in range(sizes[L - 1])
        for j in range(sizes[L])
    )


# A point on weight-L-I-J's line as far as can be from every other weight line of the layer,
# in the page's coordinates: where a mouse hovers or clicks that weight and no other.
CLEAR_POINT = """
([L, I, J]) => {
  const own = document.querySelector(`[data-testid="weight-${L}-${I}-${J}"] .wline`);
  const others = [...document.querySelectorAll(`g.layer[data-layer="${L}"] .wline`)]
    .filter((line) => line !== own);
  const ends = (line) => ["x1", "y1", "x2", "y2"].map((a) => Number(line.getAttribute(a)));
  const gap = ([px, py], [x1, y1, x2, y2]) => {
    const dx = x2 - x1, dy = y2 - y1;
    const t = Math.max(0, Math.min(1, ((px - x1) * dx + (py - y1) * dy) / (dx * dx + dy * dy)));
    return Math.hypot(px - x1 - t * dx, py - y1 - t * dy);
  };
  const [x1, y1, x2, y2] = ends(own);
  let best = null;
  for (let t = 0.1; t <= 0.9; t += 0.01) {
    const p = [x1 + t * (x2 - x1), y1 + t * (y2 - y1)];
    const clear = Math.min(Infinity, ...others.map((o) => gap(p, ends(o))));
    if (!best || clear > best.clear) best = { p, clear };
  }
  const m = own.getScreenCTM();
  return { x: m.a * best.p[0] + m.c * best.p[1] + m.e, y: m.b * best.p[0] + m.d * best.p[1] + m.f,
           clear: best.clear };
}
"""


def weight_point(page, L, i, j):
    point = page.evaluate(CLEAR_POINT, [L, i, j])
    assert point["clear"] > 4, f"weight-{L}-{i}-{j} has no clear point"
    return point["x"], point["y"]


def train_epochs(page, epochs):
    """Play until the epoch counter reaches ``epochs``, then pause and wait for the still
    picture."""
    start = int(text(page, "epoch"))
    page.get_by_test_id("play").click()
    page.wait_for_function(
        "(n) => Number(document.querySelector('[data-testid=epoch]').textContent) >= n",
        arg=start + epochs,
    )
    page.get_by_test_id("pause").click()
    wait_ready(page)


# ---------------------------------------------------------------- the tests


REQUIRED = ["dataset", "play", "pause", "step", "reset", "learning-rate", "epoch", "train-loss",
            "test-loss", "network", "boundary", "ledger", "copy-python"]  # fmt: skip


def test_the_page_loads_with_every_control_and_the_networks_weights(page, base_url, tmp_path):
    for testid in REQUIRED:
        assert page.get_by_test_id(testid).count() == 1, testid
    assert page.title() == "glassnet playground"
    state = session_state(page, base_url)
    assert drawn_weights(page) == expected_weights(state["network"]["sizes"])
    assert text(page, "epoch") == "0"
    assert exact(page, "train-loss") == state["train_loss"]
    assert exact(page, "test-loss") == state["test_loss"]
    options = api(base_url, "GET", "/api/options")
    offered = page.eval_on_selector_all(
        "[data-testid=dataset] option", "options => options.map(o => o.value)"
    )
    assert offered == [d["name"] for d in options["datasets"]]
    page.screenshot(path=str(tmp_path / "loaded.png"))


def test_every_preset_trains(page, base_url, tmp_path):
    names = page.eval_on_selector_all(
        "[data-testid=dataset] option", "options => options.map(o => o.value)"
    )
    assert len(names) >= 8
    for name in names:
        page.get_by_test_id("dataset").select_option(name)
        wait_ready(page)
        before = session_state(page, base_url)
        assert before["config"]["dataset"] == name
        assert (text(page, "epoch"), text(page, "step-count")) == ("0", "0")
        assert exact(page, "train-loss") == before["train_loss"]
        train_epochs(page, 2)
        after = session_state(page, base_url)
        assert after["epoch"] >= 2
        assert text(page, "epoch") == str(after["epoch"])
        assert exact(page, "train-loss") == after["train_loss"] != before["train_loss"]
        if before["test_loss"] is not None:
            assert exact(page, "test-loss") == after["test_loss"] != before["test_loss"]
        assert drawn_weights(page) == expected_weights(after["network"]["sizes"])
        page.screenshot(path=str(tmp_path / f"preset-{name}.png"))


def test_play_then_pause_stops_training(page, base_url):
    train_epochs(page, 3)
    paused = session_state(page, base_url)
    page.wait_for_timeout(400)
    assert session_state(page, base_url)["step"] == paused["step"]
    assert text(page, "step-count") == str(paused["step"])
    assert page.get_by_test_id("play").is_visible()
    assert not page.get_by_test_id("pause").is_visible()
    history = paused["history"]
    assert len(history["step"]) >= 2 and history["step"][-1] == paused["step"]


def test_step_trains_one_batch_and_reset_goes_back_to_the_start(page, base_url):
    start = session_state(page, base_url)
    for k in (1, 2, 3):
        page.get_by_test_id("step").click()
        wait_ready(page)
        assert text(page, "step-count") == str(k)
    stepped = session_state(page, base_url)
    assert stepped["step"] == 3
    assert exact(page, "train-loss") == stepped["train_loss"]
    assert stepped["network"]["weights"] != start["network"]["weights"]
    page.get_by_test_id("reset").click()
    wait_ready(page)
    again = session_state(page, base_url)
    assert (text(page, "epoch"), text(page, "step-count")) == ("0", "0")
    assert again["network"]["weights"] == start["network"]["weights"]
    assert exact(page, "train-loss") == start["train_loss"]


STAGE_EQUATIONS = {
    "input": "a⁰ = x",
    "forward": "z = a·W + b\na = g(z)",
    "loss": "L = ",
    "backward": "δ = ∂L/∂z",
    "update": "W ← W − η ∂L/∂W",
}


def test_step_through_walks_every_stage_of_one_backprop_step(page, base_url, tmp_path):
    page.get_by_test_id("step").click()
    wait_ready(page)
    page.get_by_test_id("step-through").click()
    wait_ready(page)
    trace = page.evaluate("playground.walk.trace")
    n = len(trace["forward"])
    expected = (
        ["input"]
        + [f"forward-{L}" for L in range(1, n + 1)]
        + ["loss"]
        + [f"backward-{L}" for L in range(n, 0, -1)]
        + [f"update-{L}" for L in range(1, n + 1)]
    )
    seen = []
    for index, stage in enumerate(expected):
        if index:
            page.get_by_test_id("trace-next").click()
        shown = page.get_by_test_id("trace-stage").get_attribute("data-stage")
        seen.append(shown)
        kind, _, layer = stage.partition("-")
        equation = text(page, "trace-equation")
        assert STAGE_EQUATIONS[kind].split(" = ")[0] in equation, (stage, equation)
        assert text(page, "trace-stage") == f"stage {index + 1} of {len(expected)}"
        check_stage_drawing(page, trace, kind, int(layer) if layer else n * (kind == "loss"))
        page.screenshot(path=str(tmp_path / f"stage-{index:02d}-{stage}.png"))
    assert seen == expected
    assert page.get_by_test_id("trace-next").is_disabled()
    page.get_by_test_id("trace-back").click()
    assert page.get_by_test_id("trace-stage").get_attribute("data-stage") == expected[-2]
    page.get_by_test_id("trace-done").click()
    state = session_state(page, base_url)
    assert state["step"] == 2
    assert text(page, "step-count") == "2"
    assert state["network"]["weights"][0]["W"] == trace["update"][0]["W_after"]


def check_stage_drawing(page, trace, kind, layer):
    """The stage's layer is highlighted, and its neurons carry the stage's numbers for the
    batch's first point, exactly the trace's."""
    lit = page.eval_on_selector_all(".neuron.hl", "els => els.map(e => Number(e.dataset.layer))")
    assert set(lit) == {layer}
    values = {
        "input": trace["x"][0],
        "forward": trace["forward"][layer - 1]["a"][0] if layer else None,
        "loss": trace["dL_dyhat"][0],
        "backward": next((b["delta"][0] for b in trace["backward"] if b["layer"] == layer), None),
    }.get(kind)
    if values is None:
        return
    for j, value in enumerate(values):
        assert exact(page, f"neuron-value-{layer}-{j}") == value
    if kind != "input":
        highlighted = page.eval_on_selector_all(
            "g.layer.hl", "els => els.map(e => e.dataset.layer)"
        )
        assert highlighted == [str(layer)]


def rebuilt_model(state, weights):
    """A fresh glassnet model with the state's sizes and activations and the given weights
    (a list of {"W", "b"} per layer): the page's model, rebuilt from the API's numbers alone."""
    network = state["network"]
    layers = [
        gn.Dense(units, activation=activation)
        for units, activation in zip(network["sizes"][1:], network["activations"], strict=True)
    ]
    model = gn.Sequential(layers, dtype="float64").build(2, rng=0)
    for layer, w in zip(model.layers, weights, strict=True):
        layer.params["W"][...] = np.array(w["W"])
        layer.params["b"][...] = np.array(w["b"])
    return model


def test_a_clicked_weights_ledger_is_gn_explain_of_the_same_model_and_batch(page, server, base_url):
    for _ in range(3):
        page.get_by_test_id("step").click()
    wait_ready(page)
    L, i, j = 2, 1, 0
    page.mouse.click(*weight_point(page, L, i, j))
    wait_ready(page)
    shown = text(page, "ledger")
    assert text(page, "ledger-parameter") == f"layers.{L - 1}.W[{i},{j}]"
    # the server's own session: its model, and the batch its next step will use
    session = server.api.sessions.get(page.evaluate("playground.id"))
    _, x_batch, y_batch = session.next_batch()
    own = gn.explain(
        session.model,
        x_batch,
        y_batch,
        loss=session.config["loss"],
        parameter=f"layers.{L - 1}.W[{i},{j}]",
    )
    assert shown == str(own)
    # the same session's next step, taken through the API: its batch is the ledger's batch,
    # its weights before the step the ledger's model
    state = session_state(page, base_url)
    trace = api(base_url, "POST", f"/api/sessions/{page.evaluate('playground.id')}/trace", {})
    weights = [{"W": u["W_before"], "b": u["b_before"]} for u in trace["update"]]
    model = rebuilt_model(state, weights)
    ledger = gn.explain(
        model,
        np.array(trace["x"]),
        np.array(trace["y"]),
        loss=state["config"]["loss"],
        parameter=f"layers.{L - 1}.W[{i},{j}]",
    )
    assert shown == str(ledger)
    chain = ledger.chain
    assert exact_chain(page, "dL_dw_total") == pytest.approx(chain.dL_dw_total, rel=1e-5)
    assert exact_chain(page, "dz_dw") == pytest.approx(chain.dz_dw, rel=1e-5)


def exact_chain(page, key):
    return float(page.get_by_test_id(f"chain-{key}").get_attribute("data-exact"))


def test_a_clicked_neuron_shows_its_bias_ledger(page):
    page.get_by_test_id("neuron-1-0").click()
    wait_ready(page)
    assert text(page, "ledger-parameter") == "layers.0.b[0]"
    assert "chain rule for layers.0.b[0]" in text(page, "ledger")


def test_a_neurons_bias_ledger_opens_from_the_keyboard(page):
    page.get_by_test_id("neuron-2-1").focus()
    page.keyboard.press("Enter")
    wait_ready(page)
    assert text(page, "ledger-parameter") == "layers.1.b[1]"
    assert page.get_by_test_id("neuron-0-0").get_attribute("tabindex") is None


def test_hovering_a_weight_shows_its_value_and_gradient(page, base_url):
    page.get_by_test_id("step").click()
    wait_ready(page)
    state = session_state(page, base_url)
    tooltip = page.get_by_test_id("tooltip")
    for L, i, j in [(1, 0, 0), (1, 1, 3), (2, 3, 1), (3, 1, 0)]:
        page.mouse.move(*weight_point(page, L, i, j))
        assert tooltip.is_visible()
        assert tooltip.get_attribute("data-weight") == f"{L}-{i}-{j}"
        layer = state["network"]["weights"][L - 1]
        assert exact(page, "tooltip-value") == layer["W"][i][j]
        assert exact(page, "tooltip-gradient") == layer["dW"][i][j]
        assert layer["dW"][i][j] != 0
    page.mouse.move(2, 2)
    assert not tooltip.is_visible()


def test_copy_as_python_shows_and_copies_the_apis_code(page, base_url):
    for _ in range(2):
        page.get_by_test_id("step").click()
    wait_ready(page)
    page.get_by_test_id("copy-python").click()
    wait_ready(page)
    code = api(base_url, "GET", f"/api/sessions/{page.evaluate('playground.id')}/python")["code"]
    assert text(page, "python-code") == code
    assert page.evaluate("navigator.clipboard.readText()") == code
    assert "import glassnet" in code


def test_editing_the_network_redraws_its_weights(page, base_url):
    def check(hidden_units):
        wait_ready(page)
        state = session_state(page, base_url)
        assert [h["units"] for h in state["config"]["hidden"]] == hidden_units
        assert state["network"]["sizes"] == [2, *hidden_units, 1]
        assert drawn_weights(page) == expected_weights(state["network"]["sizes"])
        neurons = page.eval_on_selector_all(".neuron", "els => els.length")
        assert neurons == 2 + sum(hidden_units) + 1

    check([4, 2])
    page.get_by_test_id("add-layer").click()
    check([4, 2, 2])
    page.get_by_test_id("units-3-plus").click()
    check([4, 2, 3])
    page.get_by_test_id("units-1-minus").click()
    check([3, 2, 3])
    page.get_by_test_id("remove-layer").click()
    check([3, 2])
    page.get_by_test_id("activation-2").select_option("relu")
    wait_ready(page)
    assert session_state(page, base_url)["network"]["activations"] == ["tanh", "relu", "sigmoid"]
    for _ in range(2):
        page.get_by_test_id("remove-layer").click()
    check([])
    assert page.get_by_test_id("weight-1-1-0").count() == 1
    for _ in range(6):
        page.get_by_test_id("add-layer").click()
        wait_ready(page)
    check([4] * 6)
    assert page.get_by_test_id("add-layer").is_disabled()
    for _ in range(4):
        page.get_by_test_id("units-6-plus").click()
        wait_ready(page)
    check([4] * 5 + [8])
    assert page.get_by_test_id("units-6-plus").is_disabled()


def test_settings_reach_the_server_and_bad_ones_never_leave_the_page(page, base_url):
    rate = page.get_by_test_id("learning-rate")
    rate.fill("0.25")
    rate.press("Enter")
    page.get_by_test_id("batch-size").fill("7")
    page.get_by_test_id("batch-size").press("Enter")
    page.get_by_test_id("optimizer").select_option("adam")
    page.get_by_test_id("l2").fill("0.001")
    page.get_by_test_id("l2").press("Enter")
    wait_ready(page)
    config = session_state(page, base_url)["config"]
    assert (config["learning_rate"], config["batch_size"], config["optimizer"], config["l2"]) == (
        0.25,
        7,
        "adam",
        0.001,
    )
    rate.fill("99")
    rate.press("Enter")
    assert rate.get_attribute("aria-invalid") == "true"
    assert "learning rate must be" in text(page, "status")
    wait_ready(page)
    assert session_state(page, base_url)["config"]["learning_rate"] == 0.25


def test_a_click_on_the_plane_adds_a_training_point(page, base_url):
    before = session_state(page, base_url)
    page.get_by_test_id("point-target").select_option("1")
    box = page.get_by_test_id("boundary").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.25)
    wait_ready(page)
    after = session_state(page, base_url)
    assert len(after["data"]["train"]) == len(before["data"]["train"]) + 1
    (x, y, target), *_ = after["config"]["extra_points"]
    xmin, xmax, ymin, ymax = after["data"]["domain"]
    assert x == pytest.approx(xmin + 0.75 * (xmax - xmin), abs=0.02 * (xmax - xmin))
    assert y == pytest.approx(ymax - 0.25 * (ymax - ymin), abs=0.02 * (ymax - ymin))
    assert target == 1


# Each neuron canvas's pixels, as [red, blue] per grid cell, in the grid's order.
PIXELS = """
() => [...document.querySelectorAll('.neuron')].map((cell) => {
  const canvas = cell.querySelector('canvas');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const rb = [];
  for (let k = 0; k < data.length; k += 4) rb.push([data[k], data[k + 2]]);
  return { layer: Number(cell.dataset.layer), j: Number(cell.dataset.j), n: canvas.width, rb };
})
"""


def colour_scale(values, activation):
    """The t in [-1, 1] the page colours a classification map's value by (colours.js
    ``scaler``): sigmoid's [0, 1] and tanh's [-1, 1] as they are, any other activation by
    the map's largest magnitude."""
    if activation == "sigmoid":
        return 2 * values - 1
    if activation == "tanh":
        return values
    big = np.abs(values).max()
    return values / big if big > 0 else np.zeros_like(values)


def test_every_neuron_is_drawn_as_the_apis_heat_map(page, base_url):
    train_epochs(page, 3)
    state = session_state(page, base_url)
    assert state["kind"] == "classification"  # the output map has no given range
    grid_n = page.evaluate("playground.state.grid.n")
    grid = api(base_url, "GET", f"/api/sessions/{page.evaluate('playground.id')}?grid={grid_n}")
    grid = grid["grid"]
    maps = [grid["inputs"], *grid["neurons"]]
    activations = ["linear", *state["network"]["activations"]]
    cells = page.evaluate(PIXELS)
    assert len(cells) == sum(state["network"]["sizes"])
    compared = 0
    for cell in cells:
        values = np.array(maps[cell["layer"]][cell["j"]])
        assert cell["n"] == grid_n and len(cell["rb"]) == len(values) == grid_n**2
        # blue for t > 0, orange for t < 0; within 2 % of the middle the palette's grey has
        # blue above red on both sides, so only the pixels with |t| > 5 % are compared (the
        # run's length in steps varies with the machine's speed, and with it the values)
        t = colour_scale(values, activations[cell["layer"]])
        red, blue = np.array(cell["rb"]).T
        clear = np.abs(t) > 0.05
        assert np.array_equal((blue > red)[clear], (t > 0)[clear]), cell
        compared += clear.sum()
    assert compared > 0.25 * grid_n**2 * len(cells)  # most pixels are clearly one side


def test_the_seeds_presets_bring_their_networks_and_leave_them_behind(page, base_url):
    options = api(base_url, "GET", "/api/options")
    presets = {d["name"]: d["preset"] for d in options["datasets"] if d["preset"]}
    assert set(presets) >= {"gender", "perceptron", "xor"}
    for name, preset in presets.items():
        page.get_by_test_id("dataset").select_option(name)
        wait_ready(page)
        config = session_state(page, base_url)["config"]
        assert {key: config[key] for key in preset} == preset, name
        assert len(drawn_weights(page)) == len(
            expected_weights(session_state(page, base_url)["network"]["sizes"])
        )
    page.get_by_test_id("dataset").select_option("circle")
    wait_ready(page)
    config = session_state(page, base_url)["config"]
    defaults = options["defaults"]
    assert {key: config[key] for key in ("hidden", "loss", "learning_rate", "batch_size")} == {
        key: defaults[key] for key in ("hidden", "loss", "learning_rate", "batch_size")
    }


def test_the_regression_surface_takes_points_of_any_target(page, base_url, tmp_path):
    page.get_by_test_id("dataset").select_option("regression")
    wait_ready(page)
    state = session_state(page, base_url)
    assert state["kind"] == "regression"
    assert state["config"]["loss"] in api(base_url, "GET", "/api/options")["losses"]["regression"]
    targets = page.eval_on_selector_all(
        "[data-testid=point-target] option", "options => options.map(o => Number(o.value))"
    )
    assert len(targets) == 5 and targets == sorted(targets, reverse=True)
    page.get_by_test_id("point-target").select_option(index=0)
    box = page.get_by_test_id("boundary").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    wait_ready(page)
    (*_, target), *_ = session_state(page, base_url)["config"]["extra_points"]
    assert target == targets[0]
    train_epochs(page, 2)
    page.screenshot(path=str(tmp_path / "regression.png"))


def test_playing_during_a_walk_through_applies_its_step_first(page, base_url):
    page.get_by_test_id("step-through").click()
    wait_ready(page)
    page.get_by_test_id("trace-next").click()
    page.get_by_test_id("step").click()
    wait_ready(page)
    assert page.get_by_test_id("trace-next").is_disabled()
    assert text(page, "step-count") == "2" == str(session_state(page, base_url)["step"])


READY = "Ready: press ▶ to train, or step through one training step."


@pytest.mark.parametrize(
    ("batch_size", "verdict"),
    [
        # batches of one row: a step's loss overflows to infinity before the first epoch ends
        ("1", "Training diverged: the loss became inf at step "),
        # batches of 10: the loss is finite but 4e23 times its start after epoch 1 (fit's guard)
        ("10", "Training diverged: the training loss rose to "),
    ],
)
def test_a_diverging_run_stops_and_says_why_without_a_failed_request(
    page, base_url, batch_size, verdict
):
    """Regression at learning rate 10, played from the page: the step that diverges answers
    200 like any other (the page fixture fails the test on a console error, a failed request
    or an answer of 400 and above); the page pauses, says why, and offers only a reset."""
    page.get_by_test_id("dataset").select_option("regression")
    wait_ready(page)
    for testid, value in (("learning-rate", "10"), ("batch-size", batch_size)):
        page.get_by_test_id(testid).fill(value)
        page.get_by_test_id(testid).press("Enter")
        wait_ready(page)
    config = session_state(page, base_url)["config"]
    assert (config["learning_rate"], config["batch_size"]) == (10, int(batch_size))
    page.get_by_test_id("play").click()
    page.wait_for_function("() => document.querySelector('[data-testid=status]').classList"
                           ".contains('error')")  # fmt: skip
    wait_ready(page)
    state = session_state(page, base_url)
    reason = state["diverged"]
    assert reason is not None
    status = text(page, "status")
    assert status.startswith(verdict)
    assert status == f"T{reason[1:]} Reset to train again."
    assert text(page, "step-count") == str(state["step"])
    for testid in ("play", "step", "step-through"):
        assert page.get_by_test_id(testid).is_disabled(), testid
    assert page.get_by_test_id("play").is_visible()
    assert not page.get_by_test_id("pause").is_visible()
    assert not page.evaluate("document.body.classList.contains('playing')")
    page.get_by_test_id("reset").click()
    wait_ready(page)
    assert text(page, "status") == READY
    assert text(page, "step-count") == "0"
    for testid in ("play", "step", "step-through"):
        assert page.get_by_test_id(testid).is_enabled(), testid
