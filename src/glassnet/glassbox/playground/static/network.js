// The network drawing: a column of neurons per layer, each a small heat map of its output
// over the plane (HTML canvases), and a line per weight between them (SVG), coloured and
// thickened by value. Above each hidden column, its editor: neurons ± and the activation.

import { $, app, fillSelect, textSpan } from "./core.js";
import { colour, css, paintMap, scaler } from "./colours.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const EDITOR_ROW = 64; // the height of the layer editors' row, above the neurons
let structure = ""; // what the drawing was built for: sizes, activations, width

/** Where each column and neuron goes in the drawing area. */
function layout(sizes) {
  const area = $("net-area");
  const width = area.clientWidth;
  const height = area.clientHeight;
  const spacing = Math.min(66, (height - EDITOR_ROW - 16) / Math.max(...sizes));
  const box = Math.round(Math.min(48, spacing * 0.8));
  const [left, right] = [38, width - 38];
  const columns = sizes.map((n, c) => {
    const x = left + ((right - left) * c) / (sizes.length - 1);
    const y0 = EDITOR_ROW + (height - EDITOR_ROW - n * spacing) / 2 + spacing / 2;
    return { x, ys: Array.from({ length: n }, (_, j) => y0 + j * spacing) };
  });
  return { width, height, box, columns };
}

/** Draw ``state``'s network with ``weights`` ([{W, mode}] per layer, mode "value" or
 * "gradient"); rebuilt when its shape changed. ``edit`` has the editors' handlers,
 * ``units(L, delta)`` and ``activation(L, name)``; ``outputRange`` is the output map's colour
 * scale (null: its activation's). */
export function drawNetwork(state, { weights, edit, outputRange }) {
  const network = state.network;
  const width = $("net-area").clientWidth;
  const key = `${network.sizes.join("-")}|${network.activations.join("-")}|${width}`;
  if (key !== structure) {
    structure = key;
    const geometry = layout(network.sizes);
    buildWeights(geometry);
    buildNeurons(network, geometry);
    buildEditors(state, geometry, edit);
  }
  drawWeights(weights);
  drawNeurons(state, outputRange);
}

function buildWeights(g) {
  const svg = $("network");
  svg.setAttribute("viewBox", `0 0 ${g.width} ${g.height}`);
  svg.setAttribute("width", g.width);
  svg.setAttribute("height", g.height);
  svg.replaceChildren();
  const half = g.box / 2;
  for (let L = 1; L < g.columns.length; L += 1) {
    const [from, to] = [g.columns[L - 1], g.columns[L]];
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
}

/** Weight W[L][i, j]: the line drawn ("wline") and a wider transparent one to hover ("whit"). */
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
      Object.assign(cell.dataset, { layer: String(L), j: String(j) });
      cell.setAttribute("data-testid", `neuron-${L}-${j}`);
      Object.assign(cell.style, {
        left: `${column.x - g.box / 2}px`,
        top: `${y - g.box / 2}px`,
        width: `${g.box}px`,
        height: `${g.box}px`,
      });
      const canvas = document.createElement("canvas");
      canvas.setAttribute("aria-hidden", "true");
      if (L > 0) {
        // a button for the keyboard too: Enter opens the ledger of its bias
        cell.tabIndex = 0;
        cell.setAttribute("role", "button");
        cell.setAttribute("aria-label", `${neuronName(L, j, network)}: the ledger of its bias`);
      } else {
        cell.setAttribute("role", "img");
        cell.setAttribute("aria-label", neuronName(L, j, network));
      }
      const label = textSpan("value", "");
      label.setAttribute("data-testid", `neuron-value-${L}-${j}`);
      cell.append(canvas, label);
      if (L === 0) cell.append(textSpan("feature", j === 0 ? "x₁" : "x₂"));
      holder.append(cell);
    });
  });
}

export function neuronName(L, j, network) {
  if (L === 0) return `input feature x${j + 1}`;
  const last = L === network.sizes.length - 1;
  return `${last ? "output" : `hidden layer ${L}`} unit ${j} (${network.activations[L - 1]})`;
}

/** The editors above the hidden columns, the input's and output's titles, the layer buttons. */
function buildEditors(state, g, edit) {
  const holder = $("layer-editors");
  holder.replaceChildren();
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
      editor.append(textSpan("hint", state.network.activations[L - 1]));
    } else {
      editor.append(hiddenEditor(L, hidden[L - 1], limits, edit));
    }
    holder.append(editor);
  });
  $("add-layer").disabled = hidden.length >= limits.hidden_layers;
  $("remove-layer").disabled = hidden.length === 0;
  const layers = `${hidden.length} hidden layer${hidden.length === 1 ? "" : "s"}`;
  $("layer-count").textContent = `${layers} (up to ${limits.hidden_layers})`;
}

function hiddenEditor(L, layer, limits, edit) {
  const wrap = document.createElement("div");
  wrap.className = "hidden-editor";
  const row = document.createElement("div");
  row.className = "units";
  const minus = smallButton(`units-${L}-minus`, "−", `Remove a neuron from hidden layer ${L}`);
  const plus = smallButton(`units-${L}-plus`, "+", `Add a neuron to hidden layer ${L}`);
  minus.disabled = layer.units <= 1;
  plus.disabled = layer.units >= limits.units;
  minus.addEventListener("click", () => edit.units(L, -1));
  plus.addEventListener("click", () => edit.units(L, +1));
  const count = textSpan("count", `${layer.units}`);
  count.setAttribute("data-testid", `units-${L}`);
  row.append(minus, count, plus);
  const select = document.createElement("select");
  select.setAttribute("data-testid", `activation-${L}`);
  select.setAttribute("aria-label", `Activation of hidden layer ${L}`);
  fillSelect(select, app.options.activations);
  select.value = layer.activation;
  select.addEventListener("change", () => edit.activation(L, select.value));
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

/** Colour each weight line by sign and thicken it by size: values against max(1, the
 * layer's largest), gradients against the layer's largest gradient. */
export function drawWeights(layers) {
  const svg = $("network");
  layers.forEach(({ W, mode }, index) => {
    const group = svg.querySelector(`g.layer[data-layer="${index + 1}"]`);
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

/** Every neuron's heat map; the inputs' maps are the features x₁, x₂ themselves. */
function drawNeurons(state, outputRange) {
  const grid = state.grid;
  const { sizes, activations } = state.network;
  for (const cell of $("neurons").children) {
    const L = Number(cell.dataset.layer);
    const j = Number(cell.dataset.j);
    const canvas = cell.firstChild;
    const values = L === 0 ? grid.inputs[j] : grid.neurons[L - 1][j];
    const range = L === sizes.length - 1 ? outputRange : null;
    const activation = L === 0 ? "linear" : activations[L - 1];
    paintMap(canvas, values, grid.n, scaler(values, activation, range));
  }
}
