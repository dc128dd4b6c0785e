// glassnet playground: the page only draws. Every number on it (weights, gradients, losses,
// heat maps, ledgers) comes from the server, which runs glassnet's own Python code; nothing
// of the network's arithmetic is repeated here. The JSON API is in docs/playground.md.
//
// This module holds the training controls (play, pause, step, reset, step through) and
// wires the page together: core.js (state, requests), colours.js, network.js (the drawing),
// plane.js (output and curves), settings.js, walk.js (step through), inspect.js (tooltip,
// ledger).

import {
  $,
  FRAME_BUDGET_MS,
  GRID_PLAYING,
  GRID_STILL,
  api,
  app,
  gridSize,
  report,
  session,
} from "./core.js";
import { fmt } from "./colours.js";
import { drawNetwork } from "./network.js";
import { drawBoundary, drawCurves, outputRange, planePoint } from "./plane.js";
import * as settings from "./settings.js";
import { leaveWalk, moveStage, startWalk, walkWeights } from "./walk.js";
import { ledgerBody, neuronAt, showLedger, showTooltip, weightAt } from "./inspect.js";

const READY = "Ready: press ▶ to train, or step through one training step.";
const still = (tail) => session(`${tail}?grid=${gridSize(GRID_STILL)}`);

// ---------------------------------------------------------------- drawing a State

function render(state) {
  app.state = state;
  // the config the next change builds on: the server's, unless changes are still queued
  if (!app.config || app.pending === 0) app.config = structuredClone(state.config);
  showNumbers(state);
  settings.syncSettings(state);
  drawNetwork(state, {
    weights: app.walk ? walkWeights() : state.network.weights.map(({ W }) => ({ W })),
    edit: { units: (L, d) => change(settings.unitsChanges(L, d)), activation },
    outputRange: state.kind === "regression" ? outputRange(state) : null,
  });
  drawBoundary(state);
  drawCurves(state);
  showDivergence(state.diverged);
  refreshButtons();
}

const activation = (L, name) => change(settings.activationChanges(L, name));

/** A State whose training diverged (a 200 answer like any other: nothing was wrong with the
 * request) pauses play and says why; the first State after a reset or a new config says
 * that training can start again. */
function showDivergence(reason) {
  if (reason) {
    if (app.playing) pause();
    report(`${reason.charAt(0).toUpperCase()}${reason.slice(1)} Reset to train again.`, true);
  } else if (app.diverged) {
    report(READY);
  }
  app.diverged = Boolean(reason);
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

function refreshButtons() {
  $("play").hidden = app.playing;
  $("pause").hidden = !app.playing;
  const walk = app.walk;
  $("trace-back").disabled = !walk || walk.index === 0;
  $("trace-next").disabled = !walk || walk.index === walk.stages.length - 1;
  $("trace-done").disabled = !walk;
  const diverged = Boolean(app.state && app.state.diverged);
  for (const id of ["play", "step", "step-through"]) $(id).disabled = diverged;
  document.body.classList.toggle("walking", Boolean(walk));
  document.body.classList.toggle("playing", app.playing);
}

function failed(error) {
  pause();
  report(error.message, true);
}

// ---------------------------------------------------------------- training

/** Play: a step request per animation frame, the next only once the last is answered, on a
 * coarse grid; as many steps per request as keep it within the frame budget (up to an epoch). */
function play() {
  if (app.playing || !app.state || app.state.diverged) return;
  endWalk();
  app.playing = true;
  app.stepsPerFrame = Math.max(1, Math.min(app.state.steps_per_epoch, app.options.limits.steps));
  $("ledger-panel").classList.add("stale");
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

/** Fewer steps per request when one takes longer than the frame budget, more again (up to an
 * epoch a frame) when it is quick: the picture keeps moving on a busy machine. */
function adaptSteps(elapsed, stepsPerEpoch) {
  const most = Math.max(1, Math.min(stepsPerEpoch, app.options.limits.steps));
  if (elapsed > FRAME_BUDGET_MS) app.stepsPerFrame = Math.max(1, Math.floor(app.stepsPerFrame / 2));
  else if (elapsed < FRAME_BUDGET_MS / 3) app.stepsPerFrame = Math.min(most, app.stepsPerFrame * 2);
}

/** Pause, then draw the still picture on a fine grid (the last frame's was coarse). */
function pause() {
  if (!app.playing) return;
  app.playing = false;
  refreshButtons();
  api("GET", still("")).then(redraw).catch(failed);
}

function redraw(state) {
  render(state);
  refreshLedger();
}

/** Run a request that changes the model, once training is paused and a walk is over. */
function act(request) {
  if (!app.state) return;
  pause();
  endWalk();
  request().then(redraw).catch(failed);
}

const step = () =>
  act(() => api("POST", session("/step"), { steps: 1, grid: gridSize(GRID_STILL) }));
const reset = () => act(() => api("POST", still("/reset"), {}));

/** Ask for ``changes`` to the config (null: nothing to change); the weights start afresh. */
function change(changes) {
  if (!changes) return;
  app.config = { ...app.config, ...structuredClone(changes) };
  const config = structuredClone(app.config);
  act(() => api("PUT", still("/config"), config));
}

function addPoint(event) {
  if (!app.state || app.walk) return;
  const point = planePoint(event, app.state.data.domain);
  if (!point) return;
  point.target = Number($("point-target").value);
  act(() => api("POST", still("/points"), point));
}

// ---------------------------------------------------------------- step through

function stepThrough() {
  if (!app.state) return;
  pause();
  endWalk();
  api("POST", session("/trace"), { grid: gridSize(GRID_STILL) })
    .then((trace) => {
      startWalk(trace);
      refreshButtons();
    })
    .catch(failed);
}

function move(delta) {
  moveStage(delta);
  refreshButtons();
}

/** Leave a walk: the drawing shows the State after its step. */
function endWalk() {
  const state = leaveWalk();
  if (state) redraw(state);
}

// ---------------------------------------------------------------- ledger and Python

function openLedger(target) {
  app.ledgerTarget = target;
  pause();
  refreshLedger();
}

/** The open ledger again, for the model as it is now and the batch its next step will use. */
function refreshLedger() {
  const target = app.ledgerTarget;
  if (!target || app.playing || !app.state) return;
  const body = ledgerBody(target, app.state.network);
  if (!body) {
    app.ledgerTarget = null;
    showLedger(null);
    return;
  }
  $("ledger-panel").classList.remove("stale");
  api("POST", session("/ledger"), body).then(showLedger).catch(failed);
}

async function copyPython() {
  if (!app.state) return;
  pause();
  let code;
  try {
    ({ code } = await api("GET", session("/python")));
  } catch (error) {
    failed(error);
    return;
  }
  $("python-code").textContent = code;
  try {
    await navigator.clipboard.writeText(code);
    report("The script is on the clipboard; run it with python to get the same numbers.");
  } catch {
    report("The script is below (the browser kept the clipboard closed: select and copy it).");
  }
}

// ---------------------------------------------------------------- wiring and start-up

function onNetworkClick(event) {
  const weight = weightAt(event.target);
  if (weight) {
    openLedger(weight);
    return;
  }
  const neuron = neuronAt(event.target);
  if (neuron && neuron.L > 0) openLedger({ ...neuron, bias: true });
}

function wire() {
  const clicks = {
    play,
    pause,
    step,
    reset,
    "step-through": stepThrough,
    "trace-next": () => move(+1),
    "trace-back": () => move(-1),
    "trace-done": endWalk,
    "copy-python": copyPython,
    boundary: addPoint,
    "add-layer": () => change(settings.addLayerChanges()),
    "remove-layer": () => change(settings.removeLayerChanges()),
  };
  for (const [id, handler] of Object.entries(clicks)) $(id).addEventListener("click", handler);
  const area = $("net-area");
  area.addEventListener("mousemove", showTooltip);
  area.addEventListener("mouseleave", () => {
    $("tooltip").hidden = true;
  });
  area.addEventListener("click", onNetworkClick);
  area.addEventListener("keydown", (event) => {
    if ((event.key === "Enter" || event.key === " ") && neuronAt(event.target)) {
      event.preventDefault();
      onNetworkClick(event);
    }
  });
  window.addEventListener("resize", () => {
    if (app.state && !app.walk) render(app.state);
  });
}

async function start() {
  wire();
  try {
    app.options = await api("GET", "/api/options");
    settings.fillOptions(app.options);
    settings.wireSettings(change);
    const path = `/api/sessions?grid=${gridSize(GRID_STILL)}`;
    const created = await api("POST", path, app.options.defaults);
    app.id = created.id;
    render(created.state);
    report(READY);
  } catch (error) {
    report(`The playground could not start: ${error.message}`, true);
  }
}

// a read-only view for the browser tests and the curious (in the console: playground.state)
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
  get ready() {
    return Boolean(app.state) && app.pending === 0;
  },
});

start();
