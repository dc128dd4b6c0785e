// "Step through": one training step walked stage by stage on the drawing, from the trace the
// server sends (POST .../trace): the batch, the forward pass layer by layer, the loss, the
// deltas flowing back layer by layer, then the update of every layer's weights.

import { $, app } from "./core.js";
import { fmt, fmtRow } from "./colours.js";
import { drawWeights } from "./network.js";

/** The stages of a trace, in the order a training step takes them. */
function stagesOf(trace) {
  return [
    { kind: "input", layer: 0 },
    ...trace.forward.map((f) => ({ kind: "forward", layer: f.layer, data: f })),
    { kind: "loss", layer: trace.forward.length },
    ...trace.backward.map((b) => ({ kind: "backward", layer: b.layer, data: b })),
    ...trace.update.map((u) => ({ kind: "update", layer: u.layer, data: u })),
  ];
}

/** Begin a walk through ``trace`` at its first stage. */
export function startWalk(trace) {
  app.walk = { trace, stages: stagesOf(trace), index: 0 };
  showStage();
}

/** One stage on (+1) or back (-1), within the walk. */
export function moveStage(delta) {
  if (!app.walk) return;
  const index = app.walk.index + delta;
  if (index < 0 || index >= app.walk.stages.length) return;
  app.walk.index = index;
  showStage();
}

/** Leave the walk; the State after its step (to draw), or null when there was no walk. */
export function leaveWalk() {
  if (!app.walk) return null;
  const { state } = app.walk.trace;
  app.walk = null;
  clearStage();
  $("trace-caption").textContent = "The step is applied: the drawing shows the weights after it.";
  return state;
}

/** The weights the stage shows: before the step, the gradients of the layer going backward,
 * the new values of the layers updated so far. */
export function walkWeights() {
  const { trace, stages, index } = app.walk;
  const stage = stages[index];
  return trace.update.map((u) => {
    if (stage.kind === "backward" && stage.layer === u.layer) {
      return { W: stage.data.dW, mode: "gradient" };
    }
    const updated = stage.kind === "update" && u.layer <= stage.layer;
    return { W: updated ? u.W_after : u.W_before, mode: "value" };
  });
}

/** A weight's numbers in the walk: before, its gradient on the batch, after. */
export function walkWeight(L, i, j) {
  const { trace } = app.walk;
  const update = trace.update.find((u) => u.layer === L);
  const backward = trace.backward.find((b) => b.layer === L);
  return { value: update.W_before[i][j], gradient: backward.dW[i][j], after: update.W_after[i][j] };
}

function clearStage() {
  document.querySelectorAll(".hl").forEach((e) => e.classList.remove("hl"));
  document.querySelectorAll(".neuron .value").forEach((e) => {
    e.textContent = "";
  });
  $("trace-stage").textContent = "";
  $("trace-stage").dataset.stage = "";
  $("trace-equation").textContent = "";
}

function showStage() {
  const { trace, stages, index } = app.walk;
  const stage = stages[index];
  clearStage();
  const text = STAGE_TEXT[stage.kind](stage, trace);
  $("trace-caption").textContent = text.caption;
  $("trace-equation").textContent = text.equation;
  $("trace-stage").textContent = `stage ${index + 1} of ${stages.length}`;
  const named = stage.kind === "input" || stage.kind === "loss";
  $("trace-stage").dataset.stage = named ? stage.kind : `${stage.kind}-${stage.layer}`;
  highlight(stage);
  labelNeurons(stage, trace);
  drawWeights(walkWeights());
}

/** The stage's layer lit: its neurons, and the weights coming into it. */
function highlight(stage) {
  const group = $("network").querySelector(`g.layer[data-layer="${stage.layer}"]`);
  if (group && stage.kind !== "input") group.classList.add("hl");
  document
    .querySelectorAll(`.neuron[data-layer="${stage.layer}"]`)
    .forEach((e) => e.classList.add("hl"));
}

/** The stage's values on its neurons, for the batch's first point. */
function labelNeurons(stage, trace) {
  const put = (row, prefix) => {
    row.forEach((v, j) => {
      const label = $("neurons").querySelector(
        `[data-testid="neuron-value-${stage.layer}-${j}"]`,
      );
      if (!label) return;
      label.textContent = `${prefix}${fmt(v, 3)}`;
      label.dataset.exact = String(v);
    });
  };
  if (stage.kind === "input") put(trace.x[0], "");
  if (stage.kind === "forward") put(stage.data.a[0], "a=");
  if (stage.kind === "loss") put(trace.dL_dyhat[0], "∂L/∂ŷ=");
  if (stage.kind === "backward") put(stage.data.delta[0], "δ=");
}

const activationOf = (L) => app.state.network.activations[L - 1];

/** Each stage's caption (what happens, in words) and equation (with its numbers). */
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
    equation: `z = a·W + b = ${fmtRow(stage.data.z[0])}\na = g(z) = ${fmtRow(stage.data.a[0])}`,
  }),
  loss: (stage, trace) => ({
    caption:
      `The loss (${app.state.config.loss}) compares the output ŷ with the targets, averaged ` +
      "over the batch; its derivative starts the backward pass.",
    equation: `L = ${fmt(trace.loss, 6)}\n∂L/∂ŷ = ${fmtRow(trace.dL_dyhat[0])}`,
  }),
  backward: (stage) => ({
    caption:
      `Backward, layer ${stage.layer}: the gradient arriving from above times the ` +
      "activation's slope gives the delta of each unit; the delta times the inputs gives each " +
      "weight's gradient (the drawing shows ∂L/∂W, width by size).",
    equation:
      `δ = ∂L/∂z = ∂L/∂a ⊙ g′(z) = ${fmtRow(stage.data.delta[0])}\n` +
      `∂L/∂W = aᵀδ    ∂L/∂b = Σ δ = ${fmtRow(stage.data.db)}`,
  }),
  update: (stage) => {
    const { optimizer, learning_rate: rate } = app.state.config;
    const rule =
      optimizer === "sgd" ? "." : ` (${optimizer} scales each step from its running averages).`;
    return {
      caption:
        `Update, layer ${stage.layer}: every weight moves against its gradient${rule} ` +
        largestChange(stage.data),
      equation: `W ← W − η ∂L/∂W    (η = ${rate})`,
    };
  },
};

function largestChange(update) {
  let best = null;
  update.W_before.forEach((row, i) => {
    row.forEach((before, j) => {
      const after = update.W_after[i][j];
      const change = Math.abs(after - before);
      if (!best || change > best.change) best = { i, j, before, after, change };
    });
  });
  if (!best) return "";
  const { i, j, before, after } = best;
  return `The largest move: w[${update.layer}] ${i}→${j}, ${fmt(before, 5)} to ${fmt(after, 5)}.`;
}
