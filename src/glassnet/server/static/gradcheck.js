// A gradient check drawn on the diagram (/api/gradcheck, glassnet.gradcheck): every checked weight's edge is
// coloured by the relative error between backprop's D and the central difference (J(Θ+ε) − J(Θ−ε))/2ε; click an
// edge for its three numbers. The check belongs to the weights it ran on: when Θ or λ changes, the colours go.
import { api } from "./api.js";
import { S } from "./state.js";
import { $, el, fmt, kv, run } from "./dom.js";
import { errorColor, rgb } from "./colors.js";
import { thetaName } from "./notation.js";

const key = (l, i, j) => `${l}-${i}-${j}`;

export async function runGradcheck() {
  $("gc-run").disabled = true;
  $("gc-panel").hidden = false;
  $("gc-note").textContent = "checking every weight against central differences…";
  $("gc-detail").innerHTML = "";
  const g = await run(() => api("/api/gradcheck"));
  $("gc-run").disabled = false;
  if (!g) { $("gc-note").textContent = ""; return; }
  g.byEdge = new Map(g.rows.map((r) => [key(r.l, r.i, r.j), r]));
  S.gradcheck = g;
  paintGradcheck();
}

// After each diagram (and after a check): the edges in the check's colours, or the note that the check is stale.
export function paintGradcheck() {
  const root = $("net").querySelector("svg");
  const g = S.gradcheck;
  if (!root || !g) return;
  if (S.state && S.state.version !== g.version) {
    root.classList.remove("gradcheck");
    $("gc-note").textContent = "The weights or λ changed since the last gradient check: press Gradient check again.";
    $("gc-detail").innerHTML = "";
    S.gradcheck = null;
    return;
  }
  root.classList.add("gradcheck");
  let painted = 0;
  for (const e of root.querySelectorAll("line.edge")) {
    const r = g.byEdge.get(key(e.dataset.l, e.dataset.i, e.dataset.j));
    e.style.setProperty("--gc", rgb(errorColor(r ? r.relative_error : null)));
    e.classList.toggle("unchecked", !r);
    if (r) { e.dataset.relError = String(r.relative_error); painted += 1; }
  }
  root.dataset.gradcheck = String(painted);
  const scale = el("span", { class: "gc-scale", title: "relative error per weight" });
  const note = $("gc-note");
  note.innerHTML = "";
  note.append(`Gradient check on ${g.m} training examples, ε = ${fmt(g.epsilon)}, λ = ${fmt(g.lam)}: relative ` +
    `difference ‖num − ana‖/‖num + ana‖ = ${fmt(g.relative_difference, 3)} — ` +
    `${g.passed ? "backprop agrees" : "larger than"} ${g.passed ? `(below ${fmt(g.tol)})` : fmt(g.tol)}. ` +
    `${g.checked} of ${g.total} weights checked${g.checked < g.total ? " (a seeded sample; grey edges were not)" : ""}` +
    `. Edges: 10⁻⁹ or less`, scale, "10⁻⁵ or more. Click an edge for its numbers.");
}

// A click on an edge while a check is shown: that weight's analytic and numeric derivative and their relative error.
export function showGradcheckEdge(l, i, j) {
  const g = S.gradcheck;
  if (!g) return;
  const r = g.byEdge.get(key(l, i, j));
  const box = $("gc-detail");
  box.innerHTML = "";
  const name = thetaName(l, i, j);
  if (!r) { box.append(el("p", { class: "hint", text: `${name} was not in the checked sample.` })); return; }
  const dl = kv([[`analytic ∂J/∂${name} (backprop's D)`, String(r.analytic)],
    ["numeric (J(Θ+ε) − J(Θ−ε))/2ε", String(r.numeric)],
    ["relative error |num − ana|/|num + ana|", fmt(r.relative_error, 3)]]);
  dl.dataset.edge = key(l, i, j);
  dl.dataset.analytic = String(r.analytic); dl.dataset.numeric = String(r.numeric);
  dl.dataset.relError = String(r.relative_error);
  box.append(el("h3", { class: "math-title", text: `Gradient check of ${name}` }), dl);
}
