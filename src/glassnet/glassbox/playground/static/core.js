// The page's shared state, its one queue of API requests, and small helpers for the DOM.
// The page only draws: every number it shows comes from the server (docs/playground.md).

export const GRID_PLAYING = 20; // a coarse grid while training runs: less to compute and to send
export const GRID_STILL = 48; // a fine grid when the picture stands still
export const FRAME_BUDGET_MS = 90; // a step request slower than this gets fewer steps next frame

export const app = {
  options: null, // GET /api/options: the choices, the limits, the defaults
  id: null, // the session's id
  state: null, // the last State drawn
  config: null, // the config as last asked for (ahead of the state while requests queue)
  playing: false,
  diverged: false, // the last State drawn said training diverged
  queue: Promise.resolve(),
  pending: 0, // requests queued or in flight
  stepsPerFrame: 1,
  walk: null, // {trace, stages, index} while stepping through one training step
  ledgerTarget: null, // the weight or bias whose ledger is open: {L, i, j} or {L, j, bias}
};

export const $ = (id) => document.getElementById(id);

/** One request to the API, after every request before it has finished: one in flight at a
 * time. Resolves to the answer's JSON; rejects with the server's one-line error. */
export function api(method, path, body) {
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

/** The path of the session's endpoint ``tail`` ("/step", "?grid=48", ...). */
export const session = (tail) => `/api/sessions/${encodeURIComponent(app.id)}${tail}`;

/** ``n`` within the server's limits for a heat-map grid. */
export function gridSize(n) {
  const [lo, hi] = app.options.limits.grid;
  return Math.max(lo, Math.min(hi, n));
}

export function report(message, isError = false) {
  const status = $("status");
  status.textContent = message;
  status.classList.toggle("error", isError);
}

/** A select's options from strings or {value, label}; left alone when they are the same (so
 * that an open select is not closed by a redraw). */
export function fillSelect(select, items) {
  const options = items.map((item) =>
    typeof item === "string" ? { value: item, label: item } : item,
  );
  const key = JSON.stringify(options);
  if (select.dataset.options === key) return;
  const before = select.value;
  select.replaceChildren(
    ...options.map(({ value, label }) => {
      const option = document.createElement("option");
      option.value = value;
      option.textContent = label;
      return option;
    }),
  );
  select.dataset.options = key;
  if (options.some((o) => o.value === before)) select.value = before;
}

export function textSpan(className, text) {
  const span = document.createElement("span");
  span.className = className;
  span.textContent = text;
  return span;
}

const datasetOf = (name) => app.options.datasets.find((d) => d.name === name) || {};

export const kindOf = (name) => datasetOf(name).kind || "classification";

/** The seed's own network and settings for its table ({} for the planar sets). */
export const presetOf = (name) => datasetOf(name).preset || {};

export const isSeedTable = (name) => Boolean(datasetOf(name).seed_table);

/** The losses a data set of ``kind`` may use. */
export function lossesFor(kind) {
  const losses = app.options.losses;
  return Array.isArray(losses) ? losses : losses[kind] || Object.values(losses).flat();
}
