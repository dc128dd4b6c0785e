// Numbers as text, and values as colours: orange for negative (class 0), blue for positive
// (class 1), light grey in between, as on every heat map, weight and point of the page.

const NEG = [232, 119, 34];
const MID = [236, 238, 240];
const POS = [24, 110, 190];

/** ``x`` with ``digits`` significant digits (exponent form when very large or small); "–"
 * for a missing number (a test loss without a test set). */
export function fmt(x, digits = 4) {
  if (x === null || x === undefined) return "–";
  if (typeof x !== "number" || !Number.isFinite(x)) return String(x);
  const ax = Math.abs(x);
  if (x !== 0 && (ax >= 1e5 || ax < 1e-3)) return x.toExponential(digits - 1);
  return x
    .toPrecision(digits)
    .replace(/(\.\d*?)0+$/, "$1")
    .replace(/\.$/, "");
}

export const fmtRow = (row) => `[${row.map((v) => fmt(v)).join(", ")}]`;

/** The colour of t in [-1, 1], as [r, g, b]. */
export function colour(t) {
  const u = Math.max(-1, Math.min(1, Number.isFinite(t) ? t : 0));
  const end = u < 0 ? NEG : POS;
  const w = Math.abs(u);
  return [0, 1, 2].map((k) => Math.round(MID[k] + (end[k] - MID[k]) * w));
}

export const css = (rgb) => `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`;

/** How a map's values become t in [-1, 1]: a given range end to end; sigmoid's [0, 1] and
 * tanh's [-1, 1] as they are; any other activation by the largest magnitude on the map (so a
 * ReLU unit's map is never all one colour). */
export function scaler(values, activation, range = null) {
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

/** Paint n*n values (row-major, the first row at the top of the plane) into a canvas of
 * n*n pixels; CSS scales it up smoothly. */
export function paintMap(canvas, values, n, toT) {
  if (canvas.width !== n || canvas.height !== n) {
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
