// The cost and accuracy curves (J and accuracy per iteration, training and validation) as an SVG chart.
import { S } from "./state.js";
import { $, el, fmt, page, svg } from "./dom.js";
import { scoreName, scoreShare, scoreTick } from "./regression.js";

export function renderCurves() {
  const box = $("curves");
  // The chart's size is the page's (CSS: shorter on a short window); presenting, the axis text is larger.
  const W = Math.max(300, box.clientWidth || 600), H = Math.max(150, box.clientHeight || 230);
  const big = page().classList.contains("present");
  box.setAttribute("viewBox", `0 0 ${W} ${H}`);
  box.innerHTML = "";
  // The curves start at the weights the run started from (iteration 0), then one point per iteration.
  const initial = S.state && S.state.history.initial;
  const rows = initial && (!S.history.length || S.history[0].iteration === 1) ? [initial, ...S.history] : S.history;
  const L = big ? 78 : 52, R = big ? 64 : 44, T = big ? 14 : 10, B = big ? 40 : 28;
  const cursorIt = S.state ? S.state.iteration : 0;
  const maxIt = Math.max(1, rows.length ? rows[rows.length - 1].iteration : 1, cursorIt);
  let maxJ = 0;
  for (const r of rows) maxJ = Math.max(maxJ, r.J || 0, r.J_val || 0);
  if (S.state) maxJ = Math.max(maxJ, S.state.current.J || 0);
  maxJ = maxJ > 0 ? maxJ * 1.05 : 1;
  const x = (it) => L + (W - L - R) * (it / maxIt);
  const yJ = (v) => T + (H - T - B) * (1 - v / maxJ);
  const yA = (v) => T + (H - T - B) * (1 - scoreShare(S.state, v));  // accuracy, or R² (regression.js)
  // grid and axes
  for (let k = 0; k <= 4; k++) {
    const y = T + (H - T - B) * k / 4;
    box.append(svg("line", { x1: L, x2: W - R, y1: y, y2: y, stroke: "#eceff3" }));
    const tl = svg("text", { x: L - 6, y: y + 4, "text-anchor": "end" });
    tl.textContent = fmt(maxJ * (1 - k / 4), 3);
    box.append(tl);
    const tr = svg("text", { x: W - R + 6, y: y + 4 });
    tr.textContent = scoreTick(S.state, 1 - k / 4);
    box.append(tr);
  }
  box.append(svg("line", { x1: L, x2: L, y1: T, y2: H - B, stroke: "#9aa3ad" }));
  box.append(svg("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, stroke: "#9aa3ad" }));
  // Round iteration ticks: a step of 1, 2 or 5 × 10^k giving at most 8 labels.
  const raw = maxIt / 8, mag = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1))));
  const tick = [1, 2, 5, 10].map((f) => f * mag).find((t) => t >= raw) || 10 * mag;
  for (let it = 0; it <= maxIt; it += Math.max(1, tick)) {
    const t = svg("text", { x: x(it), y: H - B + (big ? 22 : 16), "text-anchor": "middle" });
    t.textContent = String(it);
    box.append(t);
  }
  const xl = svg("text", { x: W - R, y: H - 2, "text-anchor": "end" });
  xl.textContent = "iteration";
  box.append(xl);
  const step = Math.max(1, Math.ceil(rows.length / 800));
  const series = [  // validation first, so that the training curves are drawn on top
    ["acc_val", yA, "var(--val)", true], ["J_val", yJ, "var(--val)", false],
    ["acc", yA, "var(--train)", true], ["J", yJ, "var(--train)", false],
  ];
  for (const [key, y, color, dashed] of series) {
    const pts = [];
    for (let n = 0; n < rows.length; n += step) {
      const v = rows[n][key];
      if (v !== null && v !== undefined) pts.push(`${x(rows[n].iteration).toFixed(1)},${y(v).toFixed(1)}`);
    }
    if (rows.length && (rows.length - 1) % step) {
      const last = rows[rows.length - 1];
      if (last[key] !== null) pts.push(`${x(last.iteration).toFixed(1)},${y(last[key]).toFixed(1)}`);
    }
    if (pts.length) {
      box.append(svg("polyline", { points: pts.join(" "), fill: "none", stroke: color, "stroke-width": 2,
        "stroke-dasharray": dashed ? "5 4" : "none", class: `series-${key}` }));
      const [px, py] = pts[pts.length - 1].split(",");
      box.append(svg("circle", { cx: px, cy: py, r: dashed ? 2.5 : 3.5, fill: dashed ? "#fff" : color,
        stroke: color, "stroke-width": 1.5 }));
    }
  }
  box.append(svg("line", { x1: x(cursorIt), x2: x(cursorIt), y1: T, y2: H - B, stroke: "#f59e0b",
    "stroke-width": 1.5, "stroke-dasharray": "3 3" }));
  const legend = $("curve-legend");
  const score = scoreName(S.state);
  if (legend.dataset.score !== score) {
    legend.innerHTML = "";
    legend.dataset.score = score;
    $("curves-title").textContent = `Cost and ${score}`;
    const below = score === "R²" ? " (below 0: on the axis)" : "";
    for (const [text, color, dashed] of [["J training (with λ)", "#1f5fae", false], ["validation cost", "#d9730d", false],
      [`training ${score}${below}`, "#1f5fae", true], [`validation ${score}`, "#d9730d", true]]) {
      const swatch = el("i", { class: dashed ? "dash" : "" });
      swatch.style.borderTopColor = color;
      legend.append(el("span", {}, swatch, text));
    }
  }
}
