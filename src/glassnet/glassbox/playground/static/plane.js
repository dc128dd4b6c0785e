// The plane: the network's output over it (the decision boundary, or the regression surface)
// with the data points on top, and the training and test loss curves below it.

import { $ } from "./core.js";
import { colour, css, fmt, paintMap, scaler } from "./colours.js";

/** The targets' [min, max]: what a click may add on a regression's plane. */
export function targetRange(state) {
  let [lo, hi] = [Infinity, -Infinity];
  for (const set of [state.data.train, state.data.test]) {
    for (const point of set) [lo, hi] = [Math.min(lo, point[2]), Math.max(hi, point[2])];
  }
  return Number.isFinite(lo) ? [lo, hi] : [0, 1];
}

/** The output's colour scale: a probability's [0, 1]; for a regression, the targets' range
 * and the output's together, so the points and the surface share one scale. */
export function outputRange(state) {
  if (state.kind !== "regression") return [0, 1];
  const [lo, hi] = targetRange(state);
  const [outLo, outHi] = state.grid.range;
  return [Math.min(lo, outLo), Math.max(hi, outHi)];
}

function toPixel(domain, canvas, x, y) {
  const [x0, x1, y0, y1] = domain;
  return [((x - x0) / (x1 - x0)) * canvas.width, ((y1 - y) / (y1 - y0)) * canvas.height];
}

/** The point of the plane under a click on it, or null outside it. */
export function planePoint(event, domain) {
  const box = $("boundary").getBoundingClientRect();
  const [x0, x1, y0, y1] = domain;
  const u = (event.clientX - box.left) / box.width;
  const v = (event.clientY - box.top) / box.height;
  if (u < 0 || u > 1 || v < 0 || v > 1) return null;
  return { x: x0 + u * (x1 - x0), y: y1 - v * (y1 - y0) };
}

/** The output map, smoothly scaled to the canvas; training points filled, test points ringed. */
export function drawBoundary(state) {
  const canvas = $("boundary");
  const context = canvas.getContext("2d");
  const grid = state.grid;
  const range = outputRange(state);
  const scratch = document.createElement("canvas");
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
  const [px, py] = toPixel(domain, canvas, 0, 0);
  context.strokeStyle = "rgba(0, 0, 0, 0.18)";
  context.lineWidth = 1;
  context.beginPath();
  if (x0 < 0 && x1 > 0) {
    context.moveTo(px, 0);
    context.lineTo(px, canvas.height);
  }
  if (y0 < 0 && y1 > 0) {
    context.moveTo(0, py);
    context.lineTo(canvas.width, py);
  }
  context.stroke();
  context.fillStyle = "rgba(0, 0, 0, 0.55)";
  context.font = "10px system-ui, sans-serif";
  context.fillText(`x₁ ${fmt(x0, 3)} … ${fmt(x1, 3)}`, 4, canvas.height - 4);
  context.save();
  context.translate(11, canvas.height - 70);
  context.rotate(-Math.PI / 2);
  context.fillText(`x₂ ${fmt(y0, 3)} … ${fmt(y1, 3)}`, 0, 0);
  context.restore();
}

/** The history's training and test losses against the step, from 0 to the largest loss
 * (a missing test loss, as for the seeds' tables, leaves its curve out). */
export function drawCurves(state) {
  const canvas = $("curves");
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  context.clearRect(0, 0, width, height);
  const { step: steps, train_loss: train, test_loss: test } = state.history;
  const style = getComputedStyle(canvas);
  const series = [
    [train, style.getPropertyValue("--train").trim() || "#2d3748"],
    [test, style.getPropertyValue("--test").trim() || "#d97706"],
  ];
  const top = Math.max(0, ...series.flatMap(([values]) => values.filter(Number.isFinite)));
  context.fillStyle = "rgba(0, 0, 0, 0.55)";
  context.font = "10px system-ui, sans-serif";
  const title = steps.length ? `loss ≤ ${fmt(top, 3)}` : "the loss curves appear as it trains";
  context.fillText(title, 4, 11);
  if (steps.length < 2 || top <= 0) return;
  context.fillText(`step ${steps[steps.length - 1]}`, width - 60, 11);
  const first = steps[0];
  const span = steps[steps.length - 1] - first || 1;
  const x = (k) => ((steps[k] - first) / span) * (width - 4) + 2;
  const y = (v) => height - 3 - (Math.min(v, top) / top) * (height - 19);
  for (const [values, stroke] of series) {
    context.beginPath();
    let drawing = false;
    values.forEach((v, k) => {
      if (!Number.isFinite(v)) {
        drawing = false;
        return;
      }
      if (drawing) context.lineTo(x(k), y(v));
      else context.moveTo(x(k), y(v));
      drawing = true;
    });
    context.strokeStyle = stroke;
    context.lineWidth = 1.6;
    context.stroke();
  }
}
