// The settings: the data panel and the training panel filled from /api/options and kept in
// step with the State; what each change asks of the config, checked before anything is sent.

import { $, app, fillSelect, isSeedTable, kindOf, lossesFor, presetOf, report } from "./core.js";
import { fmt } from "./colours.js";
import { targetRange } from "./plane.js";

/** Fill the choices and limits from /api/options. */
export function fillOptions(options) {
  const { limits } = options;
  const datasets = options.datasets.map((d) => ({ value: d.name, label: d.title || d.name }));
  fillSelect($("dataset"), datasets);
  fillSelect($("optimizer"), options.optimizers);
  fillSelect($("weight-init"), options.weight_inits || ["auto"]);
  Object.assign($("noise"), { min: limits.noise[0], max: limits.noise[1], step: 0.01 });
  const [fLo, fHi] = limits.train_fraction;
  Object.assign($("train-fraction"), { min: fLo, max: fHi, step: 0.05 });
  const [lrLo, lrHi] = limits.learning_rate;
  Object.assign($("learning-rate"), { min: lrLo, max: lrHi });
  const [bLo, bHi] = limits.batch_size;
  Object.assign($("batch-size"), { min: bLo, max: bHi });
}

const percent = (fraction) => `${Math.round(fraction * 100)}%`;

/** The controls show the State's config (a field being edited is left alone). */
export function syncSettings(state) {
  const config = state.config;
  const set = (id, value) => {
    const input = $(id);
    if (document.activeElement !== input && value !== undefined) input.value = String(value);
  };
  fillSelect($("loss"), lossesFor(state.kind));
  const fields = {
    dataset: config.dataset,
    noise: config.noise,
    "train-fraction": config.train_fraction,
    loss: config.loss,
    optimizer: config.optimizer,
    "learning-rate": config.learning_rate,
    "batch-size": config.batch_size,
    l2: config.l2,
    seed: config.seed,
    "weight-init": config.weight_init,
  };
  for (const [id, value] of Object.entries(fields)) set(id, value);
  $("noise-value").textContent = fmt(config.noise, 2);
  $("train-fraction-value").textContent = percent(config.train_fraction);
  const table = isSeedTable(config.dataset);
  const { train, test } = state.data;
  $("dataset-kind").textContent =
    `${state.kind}: ${train.length} training, ${test.length} test points` +
    (table ? " (the seed's own table: no noise, no split)" : "");
  $("noise").disabled = table;
  $("train-fraction").disabled = table;
  fillPointTargets(state);
}

/** What a click on the plane adds: a class, or a target from the targets' range. */
function fillPointTargets(state) {
  if (state.kind === "classification") {
    fillSelect($("point-target"), [
      { value: "1", label: "class 1 (blue)" },
      { value: "0", label: "class 0 (orange)" },
    ]);
    return;
  }
  const [lo, hi] = targetRange(state);
  const targets = [1, 0.75, 0.5, 0.25, 0].map((t) => lo + t * (hi - lo));
  fillSelect(
    $("point-target"),
    targets.map((v) => ({ value: String(v), label: `target ${fmt(v, 3)}` })),
  );
}

/** A new data set: the seeds' tables bring the network their seed trains (the preset);
 * leaving one brings back the defaults its preset had replaced; the loss suits the kind. */
export function datasetChanges(name) {
  const defaults = app.options.defaults;
  const changes = { dataset: name, extra_points: [] };
  for (const key of Object.keys(presetOf(app.config.dataset))) changes[key] = defaults[key];
  Object.assign(changes, presetOf(name));
  const kind = kindOf(name);
  const losses = lossesFor(kind);
  const kept = kind === kindOf(app.config.dataset) || "loss" in presetOf(name);
  if (!losses.includes(changes.loss || app.config.loss) || !kept) changes.loss = losses[0];
  return changes;
}

/** The hidden layers with one layer's units changed by ``delta`` (null: out of bounds). */
export function unitsChanges(L, delta) {
  const hidden = structuredClone(app.config.hidden);
  const units = hidden[L - 1].units + delta;
  if (units < 1 || units > app.options.limits.units) return null;
  hidden[L - 1].units = units;
  return { hidden };
}

export function activationChanges(L, activation) {
  const hidden = structuredClone(app.config.hidden);
  hidden[L - 1].activation = activation;
  return { hidden };
}

/** One more hidden layer, like the last one (null at the limit). */
export function addLayerChanges() {
  const hidden = structuredClone(app.config.hidden);
  if (hidden.length >= app.options.limits.hidden_layers) return null;
  const last = hidden[hidden.length - 1] || { units: 4, activation: "tanh" };
  hidden.push({ ...last });
  return { hidden };
}

export function removeLayerChanges() {
  return app.config.hidden.length ? { hidden: app.config.hidden.slice(0, -1) } : null;
}

/** A number field's value, checked against its limits (marked and reported when wrong). */
function numberField(input, name, [lo, hi], integer) {
  const value = Number(input.value);
  const ok =
    input.value.trim() !== "" &&
    Number.isFinite(value) &&
    value >= lo &&
    value <= hi &&
    (!integer || Number.isInteger(value));
  input.setAttribute("aria-invalid", String(!ok));
  if (!ok) {
    const what = integer ? "a whole number between" : "between";
    report(`${name} must be ${what} ${lo} and ${hi}, got ${input.value}`, true);
    return null;
  }
  return value;
}

/** Send each control's changes to ``change(changes)``. */
export function wireSettings(change) {
  const limits = app.options.limits;
  $("dataset").addEventListener("change", (e) => change(datasetChanges(e.target.value)));
  for (const [id, field, show] of [
    ["noise", "noise", (v) => fmt(v, 2)],
    ["train-fraction", "train_fraction", percent],
  ]) {
    const input = $(id);
    input.addEventListener("input", () => {
      $(`${id}-value`).textContent = show(Number(input.value));
    });
    input.addEventListener("change", () => change({ [field]: Number(input.value) }));
  }
  for (const [id, field] of [
    ["loss", "loss"],
    ["optimizer", "optimizer"],
    ["weight-init", "weight_init"],
  ]) {
    $(id).addEventListener("change", (e) => change({ [field]: e.target.value }));
  }
  const numbers = [
    ["learning-rate", "learning_rate", "learning rate", limits.learning_rate, false],
    ["batch-size", "batch_size", "batch size", limits.batch_size, true],
    ["l2", "l2", "L2", limits.l2 || [0, 1], false],
    ["seed", "seed", "seed", limits.seed || [0, 2 ** 32 - 1], true],
  ];
  for (const [id, field, name, range, integer] of numbers) {
    $(id).addEventListener("change", () => {
      const value = numberField($(id), name, range, integer);
      if (value !== null) change({ [field]: value });
    });
  }
}
