// Looking closer: the tooltip of a hovered weight (its value and gradient) or neuron (its
// bias), and the ledger of a clicked one — the server's gn.explain text, verbatim, with the
// factors of its chain rule.

import { $, app, textSpan } from "./core.js";
import { fmt } from "./colours.js";
import { neuronName } from "./network.js";
import { walkWeight } from "./walk.js";

/** The weight {L, i, j} an event's target belongs to, or null. */
export function weightAt(target) {
  const element = target.closest ? target.closest("g.weight") : null;
  if (!element) return null;
  const { layer, i, j } = element.dataset;
  return { L: Number(layer), i: Number(i), j: Number(j) };
}

/** The neuron {L, j} an event's target belongs to, or null. */
export function neuronAt(target) {
  const element = target.closest ? target.closest(".neuron") : null;
  return element ? { L: Number(element.dataset.layer), j: Number(element.dataset.j) } : null;
}

function weightInfo({ L, i, j }) {
  const from = L === 1 ? `input x${i + 1}` : `unit ${i} of layer ${L - 1}`;
  const head = `w[${L}] ${from} → unit ${j} of layer ${L}`;
  if (app.walk) return { head, gradientLabel: "∂L/∂w (this batch)", ...walkWeight(L, i, j) };
  const layer = app.state.network.weights[L - 1];
  return { head, value: layer.W[i][j], gradient: layer.dW[i][j] };
}

function biasInfo({ L, j }) {
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

/** Show (or hide) the tooltip for whatever the pointer is over. */
export function showTooltip(event) {
  const tip = $("tooltip");
  const weight = weightAt(event.target);
  const neuron = weight ? null : neuronAt(event.target);
  if (!app.state || (!weight && !neuron)) {
    tip.hidden = true;
    return;
  }
  const info = weight ? weightInfo(weight) : biasInfo(neuron);
  tip.replaceChildren(textSpan("head", info.head));
  if (info.value !== undefined) {
    tip.append(tipRow("value", info.label || "w", info.value));
    tip.append(tipRow("gradient", info.gradientLabel || "∂L/∂w (last step)", info.gradient));
  }
  if (info.after !== undefined) tip.append(tipRow("after", "after the update", info.after));
  tip.dataset.weight = weight ? `${weight.L}-${weight.i}-${weight.j}` : "";
  tip.hidden = false;
  tip.style.left = `${Math.min(event.clientX + 14, window.innerWidth - tip.offsetWidth - 8)}px`;
  tip.style.top = `${event.clientY + 14}px`;
}

function tipRow(testid, name, value) {
  const row = document.createElement("div");
  const number = textSpan("number", fmt(value, 6));
  number.setAttribute("data-testid", `tooltip-${testid}`);
  number.dataset.exact = String(value);
  row.append(textSpan("name", `${name} = `), number);
  return row;
}

/** The ledger request's body for ``target``, or null when the network no longer has it. */
export function ledgerBody(target, network) {
  const { L, i, j, bias } = target;
  const { sizes } = network;
  if (L >= sizes.length || j >= sizes[L] || (!bias && i >= sizes[L - 1])) return null;
  return bias ? { layer: L, parameter: "b", j } : { layer: L, i, j };
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

/** The ledger panel: the chain's factors (two a row) above the ledger's text, scrolled to
 * its end, where the chosen weight's chain rule is written out. Null empties it. */
export function showLedger(ledger) {
  const table = $("ledger-chain");
  const pre = $("ledger");
  table.replaceChildren();
  pre.textContent = ledger ? ledger.text : "";
  $("ledger-parameter").textContent = ledger ? ledger.parameter : "";
  if (!ledger) return;
  let row = null;
  for (const [key, name] of Object.entries(CHAIN_NAMES)) {
    if (!(key in (ledger.chain || {}))) continue;
    if (!row || row.cells.length === 4) row = table.insertRow();
    row.insertCell().textContent = name;
    const cell = row.insertCell();
    const value = ledger.chain[key];
    cell.textContent = value === null ? "—" : fmt(value, 6);
    cell.setAttribute("data-testid", `chain-${key}`);
    cell.dataset.exact = String(value);
  }
  pre.scrollTop = pre.scrollHeight;
}
