// The side panels of the current example: its image and outputs, the selected unit or edge (with the weight
// editor), the what-if gradient step and the check of a hand calculation.
import { api } from "./api.js";
import { S, refreshState } from "./state.js";
import { $, el, fmt, focused, kv, run, toast } from "./dom.js";
import { drawImage } from "./colors.js";
import { sub, sup, thetaName } from "./notation.js";
import { requestView, selectEdge } from "./network.js";
import { isRegression, scoreName, scoreText } from "./regression.js";

export function renderExample(v) {
  const canvas = $("example-image");
  if (v.pixels) {
    canvas.hidden = false;
    drawImage(canvas, v.pixels, v.image_shape, 112);
  } else canvas.hidden = true;
  const regression = isRegression(S.state);  // a real target y and the predicted value h, no classes
  const ok = v.prediction === v.label;
  const info = $("example-info");
  info.innerHTML = "";
  info.append(
    regression ? el("div", { class: "big", text: `target y = ${v.label_name} · predicted h = ${fmt(v.output[0], 4)}` })
      : el("div", { class: "big " + (ok ? "ok" : "wrong"),
        text: `label ${v.classes[v.label]} · predicted ${v.classes[v.prediction]}` }),
    el("div", { text: `${S.split === "train" ? "training" : "validation"} example ${v.index}` }),
    el("div", { text: `cost of this example: ${fmt(v.cost)}` }),
  );
  if (!v.pixels && v.x) {
    const shown = v.x.slice(0, 8).map((value) => fmt(value, 3)).join(", ");
    info.append(el("div", { class: "hint", text: `x = (${shown}${v.x.length > 8 ? ", …" : ""})` }));
  }
  const bars = $("outputs");
  bars.innerHTML = "";
  const K = v.output.length;
  for (let k = 0; k < K; k++) {
    const h = v.output[k];
    const name = v.unit_names ? v.unit_names[k] : K === 1 ? `h · P(${v.classes[1]})` : `h${sub(k + 1)} · ${v.classes[k]}`;
    const isTarget = K === 1 ? false : k === v.label;
    const isPred = K === 1 ? false : k === v.prediction;
    const fill = el("i", { class: isTarget ? "target" : isPred ? "pred" : "" });
    fill.style.width = `${(100 * Math.min(1, Math.abs(h))).toFixed(1)}%`;  // identity outputs: |h|, at most 1
    bars.append(el("span", { text: name }), el("div", { class: "bar" }, fill),
      el("span", { text: fmt(h, 3) }));
  }
}

export function termsTable(terms, l, j) {
  const max = Math.max(1e-300, ...terms.map((t) => Math.abs(t.term)));
  const table = el("table", { class: "terms" });
  table.append(el("tr", {}, el("th", { text: "i" }), el("th", { text: `Θ${sub("i")}${sub(j)}${sup(l)}` }),
    el("th", { text: `δ${sub("i")}${sup(l + 1)}` }), el("th", { text: "Θ·δ" }), el("th", { text: "" })));
  const order = terms.map((t, n) => n).sort((a, b) => Math.abs(terms[b].term) - Math.abs(terms[a].term));
  for (const n of order.slice(0, 60)) {
    const t = terms[n];
    const bar = el("div", { class: "tbar " + (t.term >= 0 ? "pos" : "neg") });
    bar.style.width = `${(100 * Math.abs(t.term) / max).toFixed(1)}%`;
    const row = el("tr", { class: "pick", title: `select the edge ${thetaName(l, t.i, j)}` },
      el("td", { text: String(t.i) }), el("td", { text: fmt(t.theta) }), el("td", { text: fmt(t.delta) }),
      el("td", { text: fmt(t.term) }), el("td", { class: "barcell" }, bar));
    row.addEventListener("click", () => selectEdge(l, t.i, j));
    table.append(row);
  }
  return el("div", { class: "terms-wrap" }, table);
}

export function renderDetail(v) {
  const box = $("detail");
  const title = $("detail-title");
  if (v.edge) { renderEdge(v.edge); return; }
  delete box.dataset.edge;
  box.innerHTML = "";
  if (v.unit) {
    const u = v.unit;
    const L = v.sizes.length;
    if (u.kind === "input") {
      title.textContent = `Input unit ${u.j} (layer 1)`;
      let where = "";
      if (v.image_shape) {
        const w = v.image_shape[1];
        where = ` · pixel row ${Math.floor((u.j - 1) / w) + 1}, column ${((u.j - 1) % w) + 1}`;
      }
      box.append(kv([[`x${sub(u.j)} = a${sub(u.j)}${sup(1)}`, fmt(u.a) + where]]),
        el("p", { class: "hint", text: "Inputs have no δ. Their outgoing edge terms Θ·δ add up to ∂cost/∂x:" }));
    } else {
      title.textContent = `Unit ${u.j} of layer ${u.l} (${u.kind})`;
      // This layer's activation: g of the lecture's all-sigmoid network, else by name (the output's may differ
      // from the hidden units'); g′ is the hidden activation's, or the output's a(1 − a) (softmax: the diagonal
      // of its Jacobian; δ⁽ᴸ⁾ needs no g′ with a log cost).
      const k = S.state && S.state.kinds, out = u.kind === "output";
      const named = k && !(k.activation.name === "sigmoid" && k.pair.output === "sigmoid");
      const gName = !named ? "g" : out ? k.pair.output : k.activation.name;
      const aText = gName === "softmax" ? `softmax(z)${sub(u.j)}` : `${gName}(z)`;
      const gPrime = k && !out ? k.activation.g_prime : "a(1 − a)";
      const pairs = [[`z${sub(u.j)}${sup(u.l)}`, fmt(u.z)], [`a${sub(u.j)}${sup(u.l)} = ${aText}`, fmt(u.a)],
        [`g′(z) = ${gPrime}`, fmt(u.gprime)], [`δ${sub(u.j)}${sup(u.l)} = ∂cost/∂z`, fmt(u.delta)]];
      if (u.kind === "output") pairs.push([`y${sub(u.j)}`, fmt(u.target)]);
      box.append(kv(pairs), el("div", { class: "equation", id: "equation", text: u.equation }));
    }
    if (u.terms && u.l < L) {
      box.append(el("p", { class: "hint",
        text: `Outgoing edge terms Θ${sub("i")}${sub(u.j)}${sup(u.l)}·δ${sub("i")}${sup(u.l + 1)} ` +
          `(sum ${fmt(u.sum)}); click a row to select that edge:` }), termsTable(u.terms, u.l, u.j));
    }
    return;
  }
  title.textContent = "Selection";
  box.append(el("p", { class: "hint", text: "Nothing selected: click a unit or an edge in the network." }));
}

export function edgeNumbers(e) {
  return kv([
    [`a${sub(e.j)}${sup(e.l)}`, fmt(e.a_j) + (e.j === 0 ? " (bias)" : "")],
    [`δ${sub(e.i)}${sup(e.l + 1)}`, fmt(e.delta_i)],
    ["edge term Θ·δ", fmt(e.term)],
    ["this example's δ·a", fmt(e.example_gradient)],
    [`∂J/∂${thetaName(e.l, e.i, e.j)} = D`, fmt(e.D)],
    ["J (all training examples)", fmt(S.state ? S.state.current.J : null, 6)],
  ]);
}

export function renderEdge(e) {
  // The editor stays in place while the numbers refresh, so typing a value is not undone by live updates.
  const box = $("detail");
  const key = `${e.l}:${e.i}:${e.j}`;
  S.edgeTheta = e.theta;
  if (box.dataset.edge === key && $("theta-value")) {
    const input = $("theta-value");
    if (focused() !== input && !input.dataset.dirty) input.value = String(e.theta);
    $("edge-numbers").replaceChildren(edgeNumbers(e));
    $("weight-change").textContent = S.pendingChange || "";
    return;
  }
  box.dataset.edge = key;
  box.innerHTML = "";
  const from = e.j === 0 ? `the bias unit of layer ${e.l}` : `unit ${e.j} of layer ${e.l}`;
  $("detail-title").textContent = `Weight ${thetaName(e.l, e.i, e.j)}`;
  box.append(el("p", { class: "hint", text: `from ${from} to unit ${e.i} of layer ${e.l + 1}` }));
  const input = el("input", { type: "number", step: "any", id: "theta-value", value: String(e.theta) });
  input.addEventListener("input", () => { input.dataset.dirty = "1"; });
  const set = (value) => setWeight(e, value);
  const nudge = () => Math.max(0.05, Math.abs(S.edgeTheta) * 0.25);
  box.append(el("div", { class: "edit" },
    el("span", { text: `${thetaName(e.l, e.i, e.j)} =` }), input,
    el("button", { type: "button", id: "theta-set", text: "Set", onclick: () => set(Number(input.value)) }),
    el("button", { type: "button", text: "−", title: "make it smaller by a quarter of its size (at least 0.05)",
      onclick: () => set(S.edgeTheta - nudge()) }),
    el("button", { type: "button", text: "+", title: "make it larger by a quarter of its size (at least 0.05)",
      onclick: () => set(S.edgeTheta + nudge()) })));
  input.addEventListener("keydown", (ev) => { if (ev.key === "Enter") set(Number(input.value)); });
  box.append(el("div", { id: "edge-numbers" }, edgeNumbers(e)),
    el("div", { class: "change", id: "weight-change", text: S.pendingChange || "" }));
}

export async function setWeight(e, value) {
  if (!Number.isFinite(value)) { toast("value: enter a finite number"); return; }
  const before = S.state ? S.state.current.J : null;
  const old = S.edgeTheta;
  const input = $("theta-value");
  if (input) { delete input.dataset.dirty; input.blur(); }
  const r = await run(() => api("/api/weight", { json: { l: e.l, i: e.i, j: e.j, value } }));
  if (!r) return;
  S.pendingChange = `J: ${fmt(before, 6)} → ${fmt(r.current.J, 6)}  (${thetaName(e.l, e.i, e.j)}: ` +
    `${fmt(old)} → ${fmt(value)})`;
  await refreshState();
  requestView();
}

// ------------------------------------------------------------------ what if
export async function whatIf(apply) {
  const alpha = Number($("whatif-alpha").value);
  const r = await run(() => api("/api/whatif", { json: { split: S.split, index: S.index, alpha, apply } }));
  if (!r) return;
  const box = $("whatif-result");
  box.innerHTML = "";
  const cls = S.view ? S.view.classes : [];
  const name = (k) => cls[k] !== undefined ? cls[k] : String(k);
  box.append(kv([
    ["cost of this example", `${fmt(r.cost_before)} → ${fmt(r.cost_after)}`],
    isRegression(S.state) ? ["prediction h", `${fmt(r.h_before[0])} → ${fmt(r.h_after[0])}`]
      : ["prediction", `${name(r.prediction_before)} → ${name(r.prediction_after)}`],
    ["J (training set)", `${fmt(r.J_before, 6)} → ${fmt(r.J_after, 6)}`],
    [`training ${scoreName(S.state)}`, `${scoreText(S.state, r.acc_before)} → ${scoreText(S.state, r.acc_after)}`],
    ["step length α‖D‖", fmt(r.step_norm)],
  ]));
  const bars = el("div", { class: "bars" });
  const K = r.h_before.length;
  for (let k = 0; k < K; k++) {
    const bar = el("div", { class: "bar" });
    const b0 = el("i", { class: k === r.label ? "target" : "" });
    b0.style.width = `${(100 * r.h_before[k]).toFixed(1)}%`;
    const b1 = el("i", { class: "after" });
    b1.style.width = `${(100 * r.h_after[k]).toFixed(1)}%`;
    bar.append(b0, b1);
    bars.append(el("span", { text: K === 1 ? "h" : `h${sub(k + 1)} ${name(k)}` }), bar,
      el("span", { text: `${fmt(r.h_before[k], 3)}→${fmt(r.h_after[k], 3)}` }));
  }
  box.append(bars, el("p", { class: "hint", text: apply ? "Step applied (a new snapshot: Step back undoes it)."
    : "Preview only: upper bar before, lower (orange) bar after the step. Apply takes the step." }));
  if (apply) { await refreshState(); requestView(); }
}

export async function checkAnswers() {
  const answers = $("check-answers").value;
  const r = await run(() => api("/api/check", { json: { split: S.split, index: S.index, answers } }));
  if (!r) return;
  const box = $("check-result");
  box.innerHTML = "";
  box.append(el("p", { class: r.passed ? "ok" : "hint", text: r.summary }));
  const list = el("ul", { class: "check-rows" });
  for (const line of r.lines) list.append(el("li", { text: line }));
  box.append(list);
  if (r.not_asked.length) box.append(el("p", { class: "hint", text: `not checked: ${r.not_asked.join(", ")}` }));
}
