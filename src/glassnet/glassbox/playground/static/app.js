// glassnet playground: the page only draws. Every number on it (weights, gradients, losses,
// heat maps, ledgers) comes from the server, which runs glassnet's own Python code; nothing of
// the network's arithmetic is repeated here. See docs/playground.md for the JSON API.
"use strict";

(() => {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const GRID_PLAYING = 20; // a coarse grid while training runs: less to compute and to send
  const GRID_STILL = 48; // a fine grid when the picture stands still
  const FRAME_BUDGET_MS = 90; // a step request slower than this gets fewer steps next frame
  const NEG = [232, 119, 34]; // orange: negative values, class 0
  const MID = [236, 238, 240];
  const POS = [24, 110, 190]; // blue: positive values, class 1

  const app = {
    options: null,
    id: null,
    state: null,
    config: null, // the config as last asked for (ahead of the state while requests queue)
    playing: false,
    queue: Promise.resolve(),
    pending: 0,
    stepsPerFrame: 1,
    structure: "",
    geometry: null,
    walk: null, // {trace, stages, index} while stepping through one training step
    ledgerTarget: null,
  };

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- the API, one request at a time

  function api(method, path, body) {
    const run = async () => {
      const init = { method, headers: {} };
      if (body !== undefined) {
        init.headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      const response = await fetch(path, init);
      const data = response.status === 204 ? null : await response.json();
      if (!response.ok) {
        throw new Error((data && data.error) || `${method} ${path} answered ${response.status}`);
      }
      return data;
    };
    app.pending += 1;
    const result = app.queue.then(run);
    const done = () => {
      app.pending -= 1;
    };
    app.queue = result.then(done, done);
    return result;
  }

  const session = (tail) => `/api/sessions/${encodeURIComponent(app.id)}${tail}`;

  function report(message, isError = false) {
    const status = $("status");
    status.textContent = message;
    status.classList.toggle("error", isError);
  }

  function failed(error) {
    pause();
    report(error.message, true);
  }

  // ---------------------------------------------------------------- numbers and colours

  function fmt(x, digits = 4) {
    if (x === null || x === undefined) return "–";
    if (typeof x !== "number") return String(x);
    if (!Number.isFinite(x)) return String(x);
    const ax = Math.abs(x);
    if (x !== 0 && (ax >= 1e5 || ax < 1e-3)) return x.toExponential(digits - 1);
    return x.toPrecision(digits).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
  }

  const fmtRow = (row) => `[${row.map((v) => fmt(v)).join(", ")}]`;

  /** The colour of t in [-1, 1]: orange through light grey to blue. */
  function colour(t) {
    const u = Math.max(-1, Math.min(1, Number.isFinite(t) ? t : 0));
    const end = u < 0 ? NEG : POS;
    const w = Math.abs(u);
    return [0, 1, 2].map((k) => Math.round(MID[k] + (end[k] - MID[k]) * w));
  }

  const css = (rgb) => `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`;

  /** How a map's values become t in [-1, 1]: bounded activations by their range, others by
   * the largest magnitude on the map (so a ReLU unit's map is never all one colour). */
  function scaler(values, activation, range) {
    if (range) {
      const [lo, hi] = range;
      const span = hi - lo || 1;
      return (v) => (2 * (v - lo)) / span - 1;
    }
    if (activation === "sigmoid") return (v) => 2 * v - 1;
    if (activation === "tanh") return (v) => v;
    let big = 0;
    for (const v of values) if (Number.isFinite(v)) big = Math.max(big, Math.abs(v));
    return big > 0 ? (v) => v / big : () => 0;
  }

  /** Paint n*n values (row-major, the first row at the top of the plane) into a canvas of n*n
   * pixels; CSS scales it up smoothly. */
  function paintMap(canvas, values, n, toT) {
    if (canvas.width !== n) {
      canvas.width = n;
      canvas.height = n;
    }
    const context = canvas.getContext("2d");
    const image = context.createImageData(n, n);
    for (let k = 0; k < n * n; k += 1) {
      const [r, g, b] = colour(toT(values[k]));
      image.data.set([r, g, b, 255], 4 * k);
    }
    context.putImageData(image, 0, 0);
  }

  /** The two input maps are the features themselves: x₁ and x₂ over the plane. */
  function featureMap(n, domain, feature) {
    const [x0, x1, y0, y1] = domain;
    const values = new Array(n * n);
    for (let row = 0; row < n; row += 1) {
      for (let col = 0; col < n; col += 1) {
        const x = x0 + ((col + 0.5) / n) * (x1 - x0);
        const y = y1 - ((row + 0.5) / n) * (y1 - y0);
        values[row * n + col] = feature === 0 ? x : y;
      }
    }
    return values;
  }

  // ---------------------------------------------------------------- start-up

  async function start() {
    try {
      app.options = await api("GET", "/api/options");
      fillOptionControls(app.options);
      const created = await api("POST", "/api/sessions", app.options.defaults);
      app.id = created.id;
      render(created.state);
      report("Ready: press ▶ to train, or step through one training step.");
    } catch (error) {
      report(`The playground could not start: ${error.message}`, true);
    }
  }

  function fillSelect(select, items) {
    select.replaceChildren();
    for (const item of items) {
      const option = document.createElement("option");
      option.value = typeof item === "string" ? item : item.value;
      option.textContent = typeof item === "string" ? item : item.label;
      select.append(option);
    }
  }

  function fillOptionControls(options) {
    const limits = options.limits;
    fillSelect(
      $("dataset"),
      options.datasets.map((d) => ({ value: d.name, label: d.title || d.name })),
    );
    fillSelect($("optimizer"), options.optimizers);
    fillSelect($("weight-init"), options.weight_inits || ["auto"]);
    setRange($("noise"), limits.noise, 0.01);
    setRange($("train-fraction"), limits.train_fraction, 0.05);
    const [lrLo, lrHi] = limits.learning_rate;
    Object.assign($("learning-rate"), { min: lrLo, max: lrHi });
    const [bLo, bHi] = limits.batch_size;
    Object.assign($("batch-size"), { min: bLo, max: bHi });
  }

  function setRange(input, [lo, hi], step) {
    Object.assign(input, { min: lo, max: hi, step });
  }

  function lossesFor(kind) {
    const losses = app.options.losses;
    if (Array.isArray(losses)) return losses;
    return losses[kind] || Object.values(losses).flat();
  }

  const kindOf = (name) =>
    (app.options.datasets.find((d) => d.name === name) || {}).kind || "classification";

  // ---------------------------------------------------------------- drawing a state

  function render(state) {
    app.state = state;
    // the config the next change builds on: the server's, unless changes are still queued
    if (!app.config || app.pending === 0) app.config = structuredClone(state.config);
    showNumbers(state);
    syncControls(state);
    drawNetwork(state);
    drawBoundary(state);
    drawCurves(state);
    if (state.diverged) {
      if (app.playing) pause();
      report(`Training diverged: ${state.diverged} Reset, or lower the learning rate.`, true);
    }
    refreshButtons();
  }

  function showNumbers(state) {
    $("epoch").textContent = String(state.epoch);
    $("step-count").textContent = String(state.step);
    for (const [id, value] of [
      ["train-loss", state.train_loss],
      ["test-loss", state.test_loss],
    ]) {
      $(id).textContent = fmt(value);
      $(id).dataset.exact = String(value);
    }
  }

  function syncControls(state) {
    const config = state.config;
    const set = (id, value) => {
      const input = $(id);
      if (document.activeElement !== input) input.value = String(value);
    };
    set("dataset", config.dataset);
    set("noise", config.noise);
    set("train-fraction", config.train_fraction);
    $("noise-value").textContent = fmt(config.noise, 2);
    $("train-fraction-value").textContent = `${Math.round(config.train_fraction * 100)}%`;
    fillSelect($("loss"), lossesFor(state.kind));
    set("loss", config.loss);
    set("optimizer", config.optimizer);
    set("learning-rate", config.learning_rate);
    set("batch-size", config.batch_size);
    set("l2", config.l2);
    set("seed", config.seed);
    if (config.weight_init !== undefined) set("weight-init", config.weight_init);
    const dataset = app.options.datasets.find((d) => d.name === config.dataset);
    const table = Boolean(dataset && dataset.seed_table);
    $("dataset-kind").textContent =
      `${state.kind}: ${state.data.train.length} training, ${state.data.test.length} test points` +
      (table ? " (the seed's own table: no noise, no split)" : "");
    $("noise").disabled = table;
    $("train-fraction").disabled = table;
    fillPointTargets(state);
  }

  function fillPointTargets(state) {
    const select = $("point-target");
    const before = select.value;
    let items;
    if (state.kind === "classification") {
      items = [
        { value: "1", label: "class 1 (blue)" },
        { value: "0", label: "class 0 (orange)" },
      ];
    } else {
      const [lo, hi] = outputRange(state);
      items = [1, 0.5, 0, -0.5, -1].map((t) => {
        const v = lo + ((t + 1) / 2) * (hi - lo);
        return { value: String(v), label: `target ${fmt(v, 3)}` };
      });
    }
    const key = items.map((i) => i.value).join();
    if (select.dataset.key !== key) {
      fillSelect(select, items);
      select.dataset.key = key;
      if (items.some((i) => i.value === before)) select.value = before;
    }
  }

  // ---------------------------------------------------------------- the network drawing

  function layoutNetwork(sizes) {
    const area = $("net-area");
    const width = area.clientWidth;
    const height = area.clientHeight;
    const top = 64; // the layer editors' row
    const largest = Math.max(...sizes);
    const spacing = Math.min(66, (height - top - 16) / largest);
    const box = Math.round(Math.min(48, spacing * 0.8));
    const left = 38;
    const right = width - 38;
    const columns = sizes.map((n, c) => {
      const x = sizes.length === 1 ? width / 2 : left + ((right - left) * c) / (sizes.length - 1);
      const y0 = top + (height - top - n * spacing) / 2 + spacing / 2;
      return { x, ys: Array.from({ length: n }, (_, j) => y0 + j * spacing) };
    });
    return { width, height, box, columns };
  }

  function drawNetwork(state) {
    const network = state.network;
    const key = `${network.sizes.join("-")}|${network.activations.join("-")}|${$("net-area").clientWidth}`;
    if (key !== app.structure) {
      app.structure = key;
      buildNetwork(network);
      buildLayerEditors(state);
    }
    drawWeights(currentWeights());
    drawNeurons(state);
  }

  function buildNetwork(network) {
    const g = layoutNetwork(network.sizes);
    app.geometry = g;
    const svg = $("network");
    svg.setAttribute("viewBox", `0 0 ${g.width} ${g.height}`);
    svg.setAttribute("width", g.width);
    svg.setAttribute("height", g.height);
    svg.replaceChildren();
    const half = g.box / 2;
    for (let L = 1; L < g.columns.length; L += 1) {
      const from = g.columns[L - 1];
      const to = g.columns[L];
      const group = document.createElementNS(SVG_NS, "g");
      group.setAttribute("class", "layer");
      group.dataset.layer = String(L);
      from.ys.forEach((yi, i) => {
        to.ys.forEach((yj, j) => {
          group.append(weightElement(L, i, j, [from.x + half, yi, to.x - half, yj]));
        });
      });
      svg.append(group);
    }
    buildNeurons(network, g);
  }

  function weightElement(L, i, j, [x1, y1, x2, y2]) {
    const group = document.createElementNS(SVG_NS, "g");
    group.setAttribute("class", "weight");
    group.setAttribute("data-testid", `weight-${L}-${i}-${j}`);
    Object.assign(group.dataset, { layer: String(L), i: String(i), j: String(j) });
    for (const cls of ["wline", "whit"]) {
      const line = document.createElementNS(SVG_NS, "line");
      line.setAttribute("class", cls);
      for (const [name, value] of Object.entries({ x1, y1, x2, y2 })) {
        line.setAttribute(name, value.toFixed(1));
      }
      group.append(line);
    }
    return group;
  }

  function buildNeurons(network, g) {
    const holder = $("neurons");
    holder.replaceChildren();
    g.columns.forEach((column, L) => {
      column.ys.forEach((y, j) => {
        const cell = document.createElement("div");
        cell.className = L === 0 ? "neuron input" : "neuron";
        cell.dataset.layer = String(L);
        cell.dataset.j = String(j);
        cell.setAttribute("data-testid", `neuron-${L}-${j}`);
        cell.style.left = `${column.x - g.box / 2}px`;
        cell.style.top = `${y - g.box / 2}px`;
        cell.style.width = cell.style.height = `${g.box}px`;
        const canvas = document.createElement("canvas");
        canvas.setAttribute("aria-label", neuronName(L, j, network));
        const label = document.createElement("span");
        label.className = "value";
        label.setAttribute("data-testid", `neuron-value-${L}-${j}`);
        cell.append(canvas, label);
        if (L === 0) cell.append(textSpan("feature", j === 0 ? "x₁" : "x₂"));
        holder.append(cell);
      });
    });
  }

  function textSpan(className, text) {
    const span = document.createElement("span");
    span.className = className;
    span.textContent = text;
    return span;
  }

  function neuronName(L, j, network) {
    if (L === 0) return `input feature x${j + 1}`;
    const last = L === network.sizes.length - 1;
    return `${last ? "output" : `hidden layer ${L}`} unit ${j} (${network.activations[L - 1]})`;
  }

  /** The hidden layers' editors (units ±, activation) above their columns, and the output's label. */
  function buildLayerEditors(state) {
    const holder = $("layer-editors");
    holder.replaceChildren();
    const g = app.geometry;
    const network = state.network;
    const hidden = state.config.hidden;
    const limits = app.options.limits;
    g.columns.forEach((column, L) => {
      const editor = document.createElement("div");
      editor.className = "layer-editor";
      editor.style.left = `${column.x}px`;
      if (L === 0) {
        editor.append(textSpan("layer-title", "input"));
      } else if (L === g.columns.length - 1) {
        editor.append(textSpan("layer-title", "output"));
        editor.append(textSpan("hint", network.activations[L - 1]));
      } else {
        editor.append(hiddenEditor(L, hidden[L - 1], limits));
      }
      holder.append(editor);
    });
    $("add-layer").disabled = hidden.length >= limits.hidden_layers;
    $("remove-layer").disabled = hidden.length === 0;
    $("layer-count").textContent =
      `${hidden.length} hidden layer${hidden.length === 1 ? "" : "s"} (up to ${limits.hidden_layers})`;
  }

  function hiddenEditor(L, layer, limits) {
    const wrap = document.createElement("div");
    wrap.className = "hidden-editor";
    const row = document.createElement("div");
    row.className = "units";
    const minus = smallButton(`units-${L}-minus`, "−", `Remove a neuron from hidden layer ${L}`);
    const plus = smallButton(`units-${L}-plus`, "+", `Add a neuron to hidden layer ${L}`);
    minus.disabled = layer.units <= 1;
    plus.disabled = layer.units >= limits.units;
    minus.addEventListener("click", () => changeUnits(L, -1));
    plus.addEventListener("click", () => changeUnits(L, +1));
    const count = textSpan("count", `${layer.units}`);
    count.setAttribute("data-testid", `units-${L}`);
    row.append(minus, count, plus);
    const select = document.createElement("select");
    select.setAttribute("data-testid", `activation-${L}`);
    select.setAttribute("aria-label", `Activation of hidden layer ${L}`);
    fillSelect(select, app.options.activations);
    select.value = layer.activation;
    select.addEventListener("change", () => changeActivation(L, select.value));
    wrap.append(row, select);
    return wrap;
  }

  function smallButton(testid, text, label) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "small";
    button.textContent = text;
    button.setAttribute("data-testid", testid);
    button.setAttribute("aria-label", label);
    button.title = label;
    return button;
  }

  /** The weights to draw: the state's, or during a walk-through the stage's. */
  function currentWeights() {
    const weights = app.state.network.weights;
    if (!app.walk) return weights.map((w) => ({ W: w.W, mode: "value" }));
    const stage = app.walk.stages[app.walk.index];
    const trace = app.walk.trace;
    return trace.update.map((u) => {
      if (stage.kind === "backward" && stage.layer === u.layer) {
        return { W: stage.data.dW, mode: "gradient" };
      }
      const updated = stage.kind === "update" && u.layer <= stage.layer;
      return { W: updated ? u.W_after : u.W_before, mode: "value" };
    });
  }

  function drawWeights(layers) {
    const svg = $("network");
    layers.forEach(({ W, mode }, index) => {
      const L = index + 1;
      const group = svg.querySelector(`g.layer[data-layer="${L}"]`);
      if (!group) return;
      let big = 1e-12;
      for (const row of W) for (const w of row) big = Math.max(big, Math.abs(w));
      const scale = mode === "gradient" ? big : Math.max(1, big);
      for (const element of group.children) {
        const w = W[Number(element.dataset.i)][Number(element.dataset.j)];
        const line = element.firstChild;
        line.setAttribute("stroke", css(colour(w / scale)));
        line.setAttribute("stroke-width", (0.6 + 5 * Math.min(1, Math.abs(w) / scale)).toFixed(2));
      }
      group.classList.toggle("gradient", mode === "gradient");
    });
  }

  function drawNeurons(state) {
    const grid = state.grid;
    const network = state.network;
    const nLayers = network.sizes.length;
    const maps = grid.neurons.length === nLayers ? grid.neurons.slice(1) : grid.neurons;
    for (const cell of $("neurons").children) {
      const L = Number(cell.dataset.layer);
      const j = Number(cell.dataset.j);
      const canvas = cell.firstChild;
      if (L === 0) {
        const values = grid.inputs ? grid.inputs[j] : featureMap(grid.n, state.data.domain, j);
        paintMap(canvas, values, grid.n, scaler(values, "linear"));
        continue;
      }
      const values = maps[L - 1][j];
      const range = L === nLayers - 1 && state.kind === "regression" ? outputRange(state) : null;
      paintMap(canvas, values, grid.n, scaler(values, network.activations[L - 1], range));
    }
  }

  // ---------------------------------------------------------------- the output plane and the curves

  /** A regression's colour scale: the targets' range and the output's, so points and surface
   * share one scale. */
  function outputRange(state) {
    let [lo, hi] = state.grid.range;
    for (const set of [state.data.train, state.data.test]) {
      for (const point of set) {
        lo = Math.min(lo, point[2]);
        hi = Math.max(hi, point[2]);
      }
    }
    return [lo, hi];
  }

  function toPixel(domain, canvas, x, y) {
    const [x0, x1, y0, y1] = domain;
    return [((x - x0) / (x1 - x0)) * canvas.width, ((y1 - y) / (y1 - y0)) * canvas.height];
  }

  function drawBoundary(state) {
    const canvas = $("boundary");
    const context = canvas.getContext("2d");
    const grid = state.grid;
    const scratch = document.createElement("canvas");
    const range = state.kind === "regression" ? outputRange(state) : [0, 1];
    paintMap(scratch, grid.output, grid.n, scaler(grid.output, null, range));
    context.imageSmoothingEnabled = true;
    context.drawImage(scratch, 0, 0, canvas.width, canvas.height);
    const toT = scaler(null, null, range);
    const radius = state.data.train.length > 100 ? 3 : 5;
    for (const [set, filled] of [
      [state.data.test, false],
      [state.data.train, true],
    ]) {
      for (const [x, y, target] of set) {
        const [px, py] = toPixel(state.data.domain, canvas, x, y);
        context.beginPath();
        context.arc(px, py, radius, 0, 2 * Math.PI);
        context.fillStyle = css(colour(toT(target)));
        context.strokeStyle = filled ? "rgba(0, 0, 0, 0.45)" : "#1f2933";
        context.lineWidth = filled ? 0.8 : 1.8;
        context.fill();
        context.stroke();
      }
    }
    drawAxes(context, canvas, state.data.domain);
  }

  function drawAxes(context, canvas, domain) {
    const [x0, x1, y0, y1] = domain;
    context.strokeStyle = "rgba(0,0,0,0.18)";
    context.lineWidth = 1;
    context.beginPath();
    if (x0 < 0 && x1 > 0) {
      const [px] = toPixel(domain, canvas, 0, 0);
      context.moveTo(px, 0);
      context.lineTo(px, canvas.height);
    }
    if (y0 < 0 && y1 > 0) {
      const [, py] = toPixel(domain, canvas, 0, 0);
      context.moveTo(0, py);
      context.lineTo(canvas.width, py);
    }
    context.stroke();
    context.fillStyle = "rgba(0,0,0,0.55)";
    context.font = "10px system-ui, sans-serif";
    context.fillText(`x₁ ${fmt(x0, 3)} … ${fmt(x1, 3)}`, 4, canvas.height - 4);
    context.save();
    context.translate(11, canvas.height - 70);
    context.rotate(-Math.PI / 2);
    context.fillText(`x₂ ${fmt(y0, 3)} … ${fmt(y1, 3)}`, 0, 0);
    context.restore();
  }

  function drawCurves(state) {
    const canvas = $("curves");
    const context = canvas.getContext("2d");
    const { width, height } = canvas;
    context.clearRect(0, 0, width, height);
    const history = state.history;
    const steps = history.step;
    const series = [
      [history.train_loss, getComputedStyle(canvas).getPropertyValue("--train") || "#333"],
      [history.test_loss, getComputedStyle(canvas).getPropertyValue("--test") || "#c60"],
    ];
    let top = 0;
    for (const [values] of series) for (const v of values) if (Number.isFinite(v)) top = Math.max(top, v);
    context.fillStyle = "rgba(0,0,0,0.55)";
    context.font = "10px system-ui, sans-serif";
    context.fillText(steps.length ? `loss ≤ ${fmt(top, 3)}` : "the loss curves appear as it trains", 4, 11);
    if (steps.length < 2 || top <= 0) return;
    const first = steps[0];
    const span = steps[steps.length - 1] - first || 1;
    const pad = 16;
    for (const [values, stroke] of series) {
      context.beginPath();
      let drawing = false;
      values.forEach((v, k) => {
        if (!Number.isFinite(v)) {
          drawing = false;
          return;
        }
        const px = ((steps[k] - first) / span) * (width - 4) + 2;
        const py = height - 3 - (Math.min(v, top) / top) * (height - pad - 3);
        if (drawing) context.lineTo(px, py);
        else context.moveTo(px, py);
        drawing = true;
      });
      context.strokeStyle = stroke.trim();
      context.lineWidth = 1.6;
      context.stroke();
    }
    context.fillText(`step ${steps[steps.length - 1]}`, width - 60, 11);
  }

  // ---------------------------------------------------------------- training controls

  function refreshButtons() {
    $("play").hidden = app.playing;
    $("pause").hidden = !app.playing;
    const walking = Boolean(app.walk);
    $("trace-back").disabled = !walking || app.walk.index === 0;
    $("trace-next").disabled = !walking || app.walk.index === app.walk.stages.length - 1;
    $("trace-done").disabled = !walking;
    const diverged = Boolean(app.state && app.state.diverged);
    for (const id of ["play", "step", "step-through"]) $(id).disabled = diverged;
    document.body.classList.toggle("walking", walking);
    document.body.classList.toggle("playing", app.playing);
  }

  function play() {
    if (app.playing || !app.state || app.state.diverged) return;
    endWalk();
    app.playing = true;
    const limits = app.options.limits;
    app.stepsPerFrame = Math.max(1, Math.min(app.state.steps_per_epoch, limits.steps));
    refreshButtons();
    requestAnimationFrame(frame);
  }

  function frame() {
    if (!app.playing) return;
    if (app.pending === 0) {
      const started = performance.now();
      api("POST", session("/step"), { steps: app.stepsPerFrame, grid: gridSize(GRID_PLAYING) })
        .then((state) => {
          adaptSteps(performance.now() - started, state.steps_per_epoch);
          if (app.playing) render(state);
        })
        .catch(failed);
    }
    requestAnimationFrame(frame);
  }

  /** Fewer steps per request when a request takes longer than the frame budget, more again
   * (up to an epoch a frame) when it is quick: the picture keeps moving on a busy machine. */
  function adaptSteps(elapsed, stepsPerEpoch) {
    const most = Math.max(1, Math.min(stepsPerEpoch, app.options.limits.steps));
    if (elapsed > FRAME_BUDGET_MS) app.stepsPerFrame = Math.max(1, Math.floor(app.stepsPerFrame / 2));
    else if (elapsed < FRAME_BUDGET_MS / 3) app.stepsPerFrame = Math.min(most, app.stepsPerFrame * 2);
  }

  function pause() {
    if (!app.playing) return;
    app.playing = false;
    refreshButtons();
    // the last frame's picture is coarse: draw the still one on a fine grid
    api("GET", session(`?grid=${gridSize(GRID_STILL)}`))
      .then((state) => {
        render(state);
        refreshLedger();
      })
      .catch(failed);
  }

  function gridSize(n) {
    const [lo, hi] = app.options.limits.grid;
    return Math.max(lo, Math.min(hi, n));
  }

  /** Run an action that changes the model, once training is paused and a walk is over. */
  function act(action) {
    if (!app.state) return;
    if (app.playing) pause();
    endWalk();
    action()
      .then((state) => {
        render(state);
        refreshLedger();
      })
      .catch(failed);
  }

  const step = () => act(() => api("POST", session("/step"), { steps: 1, grid: gridSize(GRID_STILL) }));
  const reset = () => act(() => api("POST", session(`/reset?grid=${gridSize(GRID_STILL)}`), {}));

  // ---------------------------------------------------------------- changing the configuration

  function changeConfig(changes) {
    app.config = { ...app.config, ...structuredClone(changes) };
    const config = structuredClone(app.config);
    act(() => api("PUT", session(`/config?grid=${gridSize(GRID_STILL)}`), config));
  }

  const presetOf = (name) =>
    (app.options.datasets.find((d) => d.name === name) || {}).preset || {};

  /** A new data set: the seeds' tables bring the network their seed trains (the preset); going
   * back to a planar set brings back the defaults the preset had replaced. */
  function changeDataset(name) {
    const defaults = app.options.defaults;
    const changes = { dataset: name, extra_points: [] };
    for (const key of Object.keys(presetOf(app.config.dataset))) changes[key] = defaults[key];
    Object.assign(changes, presetOf(name));
    const kind = kindOf(name);
    const losses = lossesFor(kind);
    const loss = changes.loss || app.config.loss;
    if (!losses.includes(loss) || (kind !== kindOf(app.config.dataset) && !("loss" in presetOf(name)))) {
      changes.loss = losses[0];
    }
    changeConfig(changes);
  }

  function changeUnits(L, delta) {
    const hidden = structuredClone(app.config.hidden);
    const units = hidden[L - 1].units + delta;
    if (units < 1 || units > app.options.limits.units) return;
    hidden[L - 1].units = units;
    changeConfig({ hidden });
  }

  function changeActivation(L, activation) {
    const hidden = structuredClone(app.config.hidden);
    hidden[L - 1].activation = activation;
    changeConfig({ hidden });
  }

  function addLayer() {
    const hidden = structuredClone(app.config.hidden);
    if (hidden.length >= app.options.limits.hidden_layers) return;
    const last = hidden[hidden.length - 1];
    hidden.push({ units: last ? last.units : 4, activation: last ? last.activation : "tanh" });
    changeConfig({ hidden });
  }

  function removeLayer() {
    const hidden = app.config.hidden.slice(0, -1);
    if (hidden.length === app.config.hidden.length) return;
    changeConfig({ hidden });
  }

  /** A number field's value, checked against its limits before anything is sent. */
  function numberField(id, name, [lo, hi], integer = false) {
    const input = $(id);
    const value = Number(input.value);
    const ok = input.value.trim() !== "" && Number.isFinite(value) && value >= lo && value <= hi &&
      (!integer || Number.isInteger(value));
    input.setAttribute("aria-invalid", String(!ok));
    if (!ok) {
      report(`${name} must be ${integer ? "a whole number " : ""}between ${lo} and ${hi}, got ${input.value}`, true);
      return null;
    }
    return value;
  }

  function wireConfigControls() {
    $("dataset").addEventListener("change", (e) => changeDataset(e.target.value));
    for (const [id, field] of [
      ["noise", "noise"],
      ["train-fraction", "train_fraction"],
    ]) {
      const input = $(id);
      input.addEventListener("input", () => {
        $(`${id}-value`).textContent =
          id === "noise" ? fmt(Number(input.value), 2) : `${Math.round(Number(input.value) * 100)}%`;
      });
      input.addEventListener("change", () => changeConfig({ [field]: Number(input.value) }));
    }
    $("loss").addEventListener("change", (e) => changeConfig({ loss: e.target.value }));
    $("optimizer").addEventListener("change", (e) => changeConfig({ optimizer: e.target.value }));
    $("weight-init").addEventListener("change", (e) => changeConfig({ weight_init: e.target.value }));
    const limits = app.options.limits;
    const numbers = [
      ["learning-rate", "learning_rate", "learning rate", limits.learning_rate, false],
      ["batch-size", "batch_size", "batch size", limits.batch_size, true],
      ["l2", "l2", "L2", limits.l2 || [0, 1], false],
      ["seed", "seed", "seed", limits.seed || [0, 2 ** 32 - 1], true],
    ];
    for (const [id, field, name, range, integer] of numbers) {
      $(id).addEventListener("change", () => {
        const value = numberField(id, name, range, integer);
        if (value !== null) changeConfig({ [field]: value });
      });
    }
    $("add-layer").addEventListener("click", addLayer);
    $("remove-layer").addEventListener("click", removeLayer);
  }

  // ---------------------------------------------------------------- adding points

  function addPoint(event) {
    if (!app.state || app.walk) return;
    const canvas = $("boundary");
    const box = canvas.getBoundingClientRect();
    const [x0, x1, y0, y1] = app.state.data.domain;
    const u = (event.clientX - box.left) / box.width;
    const v = (event.clientY - box.top) / box.height;
    if (u < 0 || u > 1 || v < 0 || v > 1) return;
    const point = { x: x0 + u * (x1 - x0), y: y1 - v * (y1 - y0), target: Number($("point-target").value) };
    act(() => api("POST", session(`/points?grid=${gridSize(GRID_STILL)}`), point));
  }

  // ---------------------------------------------------------------- hovering and the ledger

  function weightAt(target) {
    const element = target.closest ? target.closest("g.weight") : null;
    if (!element) return null;
    return { L: Number(element.dataset.layer), i: Number(element.dataset.i), j: Number(element.dataset.j) };
  }

  function tooltipLines({ L, i, j }) {
    const from = L === 1 ? `input x${i + 1}` : `unit ${i} of layer ${L - 1}`;
    const head = `w[${L}] ${from} → unit ${j} of layer ${L}`;
    if (app.walk) {
      const trace = app.walk.trace;
      const update = trace.update.find((u) => u.layer === L);
      const backward = trace.backward.find((b) => b.layer === L);
      return {
        head,
        value: update.W_before[i][j],
        gradient: backward.dW[i][j],
        after: update.W_after[i][j],
      };
    }
    const layer = app.state.network.weights[L - 1];
    return { head, value: layer.W[i][j], gradient: layer.dW[i][j] };
  }

  function showTooltip(event) {
    const tip = $("tooltip");
    const weight = weightAt(event.target);
    const neuron = event.target.closest ? event.target.closest(".neuron") : null;
    if (!weight && !neuron) {
      tip.hidden = true;
      return;
    }
    const info = weight ? tooltipLines(weight) : biasLines(neuron);
    if (!info) {
      tip.hidden = true;
      return;
    }
    tip.replaceChildren(textSpan("head", info.head));
    if (info.value !== undefined) {
      tip.append(tipRow("value", info.label || "w", info.value));
      tip.append(tipRow("gradient", info.gradientLabel || "∂L/∂w (last step)", info.gradient));
    }
    if (info.after !== undefined) tip.append(tipRow("after", "after the update", info.after));
    tip.dataset.value = String(info.value);
    tip.dataset.gradient = String(info.gradient);
    tip.dataset.weight = weight ? `${weight.L}-${weight.i}-${weight.j}` : "";
    tip.hidden = false;
    tip.style.left = `${Math.min(event.clientX + 14, window.innerWidth - tip.offsetWidth - 8)}px`;
    tip.style.top = `${event.clientY + 14}px`;
  }

  function tipRow(testid, name, value) {
    const row = document.createElement("div");
    row.append(textSpan("name", `${name} = `));
    const number = textSpan("number", fmt(value, 6));
    number.setAttribute("data-testid", `tooltip-${testid}`);
    number.dataset.exact = String(value);
    row.append(number);
    return row;
  }

  function biasLines(neuron) {
    const L = Number(neuron.dataset.layer);
    const j = Number(neuron.dataset.j);
    if (L === 0) return { head: `input feature x${j + 1}: its map is x${j + 1} itself` };
    const layer = app.state.network.weights[L - 1];
    return {
      head: `${neuronName(L, j, app.state.network)}; click for the ledger of its bias`,
      label: "b",
      value: layer.b[j],
      gradientLabel: "∂L/∂b (last step)",
      gradient: layer.db[j],
    };
  }

  function openLedger(target) {
    app.ledgerTarget = target;
    if (app.playing) pause();
    refreshLedger();
  }

  function refreshLedger() {
    const target = app.ledgerTarget;
    if (!target || app.playing || !app.state) return;
    const body = target.bias ? { layer: target.L, parameter: "b", j: target.j } : { layer: target.L, i: target.i, j: target.j };
    if (target.L > app.state.network.weights.length || (!target.bias && target.i >= app.state.network.sizes[target.L - 1]) || target.j >= app.state.network.sizes[target.L]) {
      app.ledgerTarget = null;
      showLedger(null);
      return;
    }
    api("POST", session("/ledger"), body).then(showLedger).catch(failed);
  }

  const CHAIN_NAMES = {
    dL_dyhat: "∂L/∂ŷ",
    dyhat_da: "∂ŷ/∂a",
    dL_da: "∂L/∂a (arriving from above)",
    da_dz: "∂a/∂z = g′(z)",
    dz_dw: "∂z/∂w (the input it multiplies)",
    da_dw: "∂a/∂w = ∂z/∂w · g′(z)",
    dL_dw: "∂L/∂w (sample 1)",
    dL_dw_total: "∂L/∂w (the batch)",
  };

  function showLedger(ledger) {
    const table = $("ledger-chain");
    table.replaceChildren();
    const pre = $("ledger");
    pre.textContent = ledger ? ledger.text : "";
    $("ledger-parameter").textContent = ledger ? ledger.parameter : "";
    if (!ledger) return;
    let row = null;
    for (const [key, name] of Object.entries(CHAIN_NAMES)) {
      if (!(key in (ledger.chain || {}))) continue;
      if (!row || row.cells.length === 4) row = table.insertRow(); // two factors a row
      row.insertCell().textContent = name;
      const cell = row.insertCell();
      const value = ledger.chain[key];
      cell.textContent = value === null ? "—" : fmt(value, 6);
      cell.setAttribute("data-testid", `chain-${key}`);
      cell.dataset.exact = String(value);
    }
    pre.scrollTop = pre.scrollHeight; // the chain rule, at the end, is what was asked for
  }

  // ---------------------------------------------------------------- copy as Python

  async function copyPython() {
    if (!app.state) return;
    if (app.playing) pause();
    let code;
    try {
      code = (await api("GET", session("/python"))).code;
    } catch (error) {
      failed(error);
      return;
    }
    $("python-code").textContent = code;
    try {
      await navigator.clipboard.writeText(code);
      report("The script is on the clipboard; run it with python to get the same numbers.");
    } catch {
      report("The script is below (the browser did not let the page use the clipboard: select and copy it).");
    }
  }

  // ---------------------------------------------------------------- stepping through one training step

  function stagesOf(trace) {
    return [
      { kind: "input", layer: 0 },
      ...trace.forward.map((f) => ({ kind: "forward", layer: f.layer, data: f })),
      { kind: "loss", layer: trace.forward.length },
      ...trace.backward.map((b) => ({ kind: "backward", layer: b.layer, data: b })),
      ...trace.update.map((u) => ({ kind: "update", layer: u.layer, data: u })),
    ];
  }

  function stepThrough() {
    if (!app.state) return;
    if (app.playing) pause();
    endWalk();
    api("POST", session("/trace"), { grid: gridSize(GRID_STILL) })
      .then((trace) => {
        app.walk = { trace, stages: stagesOf(trace), index: 0 };
        showStage();
      })
      .catch(failed);
  }

  function moveStage(delta) {
    if (!app.walk) return;
    const index = app.walk.index + delta;
    if (index < 0 || index >= app.walk.stages.length) return;
    app.walk.index = index;
    showStage();
  }

  /** Leave the walk-through: the drawing shows the state after the step. */
  function endWalk() {
    if (!app.walk) return;
    const state = app.walk.trace.state;
    app.walk = null;
    clearStage();
    render(state);
  }

  function clearStage() {
    document.querySelectorAll(".hl").forEach((e) => e.classList.remove("hl"));
    document.querySelectorAll(".neuron .value").forEach((e) => {
      e.textContent = "";
    });
    $("trace-stage").textContent = "";
    $("trace-stage").dataset.stage = "";
    $("trace-equation").textContent = "";
    $("trace-caption").textContent = "The step is applied: the drawing shows the weights after it.";
  }

  function showStage() {
    const walk = app.walk;
    const stage = walk.stages[walk.index];
    clearStage();
    const text = STAGE_TEXT[stage.kind](stage, walk.trace);
    $("trace-caption").textContent = text.caption;
    $("trace-equation").textContent = text.equation;
    $("trace-stage").textContent = `stage ${walk.index + 1} of ${walk.stages.length}`;
    $("trace-stage").dataset.stage = stage.kind === "input" || stage.kind === "loss" ? stage.kind : `${stage.kind}-${stage.layer}`;
    highlight(stage);
    labelNeurons(stage, walk.trace);
    drawWeights(currentWeights());
    refreshButtons();
  }

  function highlight(stage) {
    const svg = $("network");
    const layers = stage.kind === "update" ? [stage.layer] : [stage.layer];
    for (const L of layers) {
      const group = svg.querySelector(`g.layer[data-layer="${L}"]`);
      if (group && stage.kind !== "input") group.classList.add("hl");
      document.querySelectorAll(`.neuron[data-layer="${L}"]`).forEach((e) => e.classList.add("hl"));
    }
  }

  /** The stage's values on the neurons, for the batch's first sample. */
  function labelNeurons(stage, trace) {
    const put = (L, row, prefix) => {
      row.forEach((v, j) => {
        const label = document.querySelector(`[data-testid="neuron-value-${L}-${j}"]`);
        if (!label) return;
        label.textContent = `${prefix}${fmt(v, 3)}`;
        label.dataset.exact = String(v);
      });
    };
    if (stage.kind === "input") put(0, trace.x[0], "");
    if (stage.kind === "forward") put(stage.layer, stage.data.a[0], "a=");
    if (stage.kind === "loss") put(stage.layer, trace.dL_dyhat[0], "∂L/∂ŷ=");
    if (stage.kind === "backward") put(stage.layer, stage.data.delta[0], "δ=");
  }

  const activationOf = (L) => app.state.network.activations[L - 1];

  const STAGE_TEXT = {
    input: (stage, trace) => ({
      caption:
        `One training step starts from a batch of ${trace.batch.length} training points ` +
        `(rows ${trace.batch.slice(0, 8).join(", ")}${trace.batch.length > 8 ? ", …" : ""}). ` +
        "Values on the drawing are those of the batch's first point.",
      equation: `a⁰ = x = ${fmtRow(trace.x[0])}    target y = ${fmtRow(trace.y[0])}`,
    }),
    forward: (stage) => ({
      caption:
        `Forward, layer ${stage.layer}: each unit adds up its inputs times its weights, plus ` +
        `its bias, then applies its activation g = ${activationOf(stage.layer)}.`,
      equation:
        `z = a·W + b = ${fmtRow(stage.data.z[0])}\n` + `a = g(z) = ${fmtRow(stage.data.a[0])}`,
    }),
    loss: (stage, trace) => ({
      caption:
        `The loss (${app.state.config.loss}) compares the output ŷ with the targets, averaged ` +
        "over the batch; its derivative starts the backward pass.",
      equation: `L = ${fmt(trace.loss, 6)}\n∂L/∂ŷ = ${fmtRow(trace.dL_dyhat[0])}`,
    }),
    backward: (stage) => ({
      caption:
        `Backward, layer ${stage.layer}: the gradient arriving from above times the activation's ` +
        "slope gives the delta of each unit; the delta times the inputs gives each weight's gradient " +
        "(the drawing shows ∂L/∂W, width by size).",
      equation:
        `δ = ∂L/∂z = ∂L/∂a ⊙ g′(z) = ${fmtRow(stage.data.delta[0])}\n` +
        `∂L/∂W = aᵀδ    ∂L/∂b = Σ δ = ${fmtRow(stage.data.db)}`,
    }),
    update: (stage) => ({
      caption:
        `Update, layer ${stage.layer}: every weight moves against its gradient` +
        (app.state.config.optimizer === "sgd"
          ? "."
          : ` (${app.state.config.optimizer} scales each weight's step from its running averages).`) +
        ` ${largestChange(stage.data)}`,
      equation: `W ← W − η ∂L/∂W    (η = ${app.state.config.learning_rate})`,
    }),
  };

  function largestChange(update) {
    let best = null;
    update.W_before.forEach((row, i) => {
      row.forEach((before, j) => {
        const change = Math.abs(update.W_after[i][j] - before);
        if (!best || change > best.change) best = { i, j, before, change, after: update.W_after[i][j] };
      });
    });
    if (!best) return "";
    return `The largest move: w[${update.layer}] ${best.i}→${best.j} from ${fmt(best.before, 5)} to ${fmt(best.after, 5)}.`;
  }

  // ---------------------------------------------------------------- wiring

  function wire() {
    $("play").addEventListener("click", play);
    $("pause").addEventListener("click", pause);
    $("step").addEventListener("click", step);
    $("reset").addEventListener("click", reset);
    $("step-through").addEventListener("click", stepThrough);
    $("trace-next").addEventListener("click", () => moveStage(+1));
    $("trace-back").addEventListener("click", () => moveStage(-1));
    $("trace-done").addEventListener("click", endWalk);
    $("copy-python").addEventListener("click", copyPython);
    $("boundary").addEventListener("click", addPoint);
    const area = $("net-area");
    area.addEventListener("mousemove", showTooltip);
    area.addEventListener("mouseleave", () => {
      $("tooltip").hidden = true;
    });
    area.addEventListener("click", (event) => {
      const weight = weightAt(event.target);
      if (weight) return openLedger(weight);
      const neuron = event.target.closest(".neuron");
      if (neuron && Number(neuron.dataset.layer) > 0) {
        openLedger({ L: Number(neuron.dataset.layer), j: Number(neuron.dataset.j), bias: true });
      }
    });
    window.addEventListener("resize", () => {
      if (app.state && !app.walk) drawNetwork(app.state);
    });
  }

  // a read-only view for the browser tests and the curious (the console: `playground.state`)
  window.playground = Object.freeze({
    get id() {
      return app.id;
    },
    get state() {
      return app.state;
    },
    get walk() {
      return app.walk;
    },
    get pending() {
      return app.pending;
    },
    get ready() {
      return Boolean(app.state) && app.pending === 0;
    },
  });

  document.addEventListener("DOMContentLoaded", async () => {
    wire();
    await start();
    if (app.options) wireConfigControls();
  });
})();
