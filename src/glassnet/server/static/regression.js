// The regression sets (plane, multi-gaussian: one identity output unit, the squared cost): what the page calls the
// second number of each history row (R² instead of accuracy, the server's dataset.score), and the map over the plane
// as a value map — the predicted h on the diagram's diverging scale around 0, each point filled with its target y on
// the same scale. The numbers are the server's (the library's forward pass and scikit-learn's r2_score).
import { $, el, fmt, pct } from "./dom.js";
import { COLORS, colorAt, gridCanvas, rgb } from "./colors.js";

export const isRegression = (st) => !!st && st.dataset.task === "regression";

// The header's and the curves' name for the score: "accuracy" or "R²".
export const scoreName = (st) => (st && st.dataset.score) || "accuracy";

// A score as the page writes it: accuracy in percent, R² as a number (it may be below 0: worse than the mean).
export function scoreText(st, v) {
  if (!isRegression(st)) return pct(v);
  return v === null || v === undefined ? "–" : fmt(v, 4);
}

// The right axis of the curves at share t of its height (0 bottom, 1 top).
export const scoreTick = (st, t) => (isRegression(st) ? t.toFixed(2) : `${Math.round(100 * t)}%`);

// Where a score sits on that axis: accuracy and R² on 0..1; an R² below 0 is drawn on the axis' floor.
export const scoreShare = (st, v) => (isRegression(st) ? Math.max(0, Math.min(1, v)) : v);

// The scale's half range m: the largest |y| of the points drawn (at least a hundredth), so that y = ±m is the full
// hue and h beyond it saturates.
export function valueRange(p) {
  let m = 0;
  for (const pts of [p.train, p.val]) for (const q of pts) m = Math.max(m, Math.abs(q[2]));
  return Math.max(m, 0.01);
}

// h (or y) → colour: blue −m, white 0, red +m (the diagram's diverging scale); "discretize" paints the sign only.
export function valueColor(m, discretize) {
  return discretize ? (v) => colorAt(COLORS.diverging, v >= 0 ? 0.6 : -0.6) : (v) => colorAt(COLORS.diverging, v / m);
}

function point(ctx, x, y, fill, square) {
  const r = square ? 4.6 : 4.4;
  ctx.beginPath();
  if (square) ctx.rect(x - r, y - r, 2 * r, 2 * r); else ctx.arc(x, y, r, 0, 2 * Math.PI);
  ctx.fillStyle = rgb(fill);
  ctx.strokeStyle = "#fff"; ctx.lineWidth = 3.2;  // a white halo, then a dark rim: visible on any background
  ctx.stroke();
  ctx.fill();
  ctx.strokeStyle = "#222"; ctx.lineWidth = 1.2;
  ctx.stroke();
}

// The value map on the decision map's canvas (already sized). Returns the scale's m and the largest |h − y| drawn.
// ``unit``: a hovered hidden unit's map ({values, color}) drawn behind the points instead of h.
export function drawValueMap(ctx, p, size, { discretize, showTest, boundaryLine, unit = null }) {
  const res = p.resolution, m = valueRange(p), color = valueColor(m, discretize);
  const cw = size / (res - 1);
  ctx.imageSmoothingEnabled = !discretize || !!unit;
  ctx.drawImage(gridCanvas(unit ? unit.values : p.output[0], res, unit ? unit.color : color), -cw / 2, -cw / 2,
    size + cw, size + cw);
  if (!unit) {  // the line h = 0, where the prediction changes sign (boundaryLine draws a grid's 0.5 level)
    ctx.strokeStyle = "rgba(17, 17, 17, 0.45)"; ctx.lineWidth = 1.2;  // quieter than a decision boundary
    ctx.beginPath();
    boundaryLine(ctx, p.output[0].map((row) => row.map((v) => v + 0.5)), res, cw, size);
    ctx.stroke();
  }
  const [x0, x1, y0, y1] = p.extent;
  const px = (a) => ((a - x0) / (x1 - x0)) * size, py = (b) => size - ((b - y0) / (y1 - y0)) * size;
  const pointColor = valueColor(m, false);
  let worst = 0;
  for (const [split, pts] of [["train", p.train], ["val", showTest ? p.val : []]]) {
    for (const [a, b, y, h] of pts) {
      worst = Math.max(worst, Math.abs(h - y));
      point(ctx, px(a), py(b), pointColor(y), split === "val");
    }
  }
  return { m, worst };
}

// The legend above the map: a colour bar from −m to +m and what it paints.
export function valueLegend(box, m, discretize) {
  box.innerHTML = "";
  const stops = COLORS.diverging.map(([t, c]) => `${rgb(c)} ${(50 + 50 * t).toFixed(0)}%`).join(", ");
  const bar = el("span", { class: "value-bar", title: `diverging scale: blue −${fmt(m, 3)}, white 0, red ${fmt(m, 3)}` });
  bar.style.background = `linear-gradient(to right, ${stops})`;
  box.append(el("span", { class: "value-scale" }, el("span", { text: `−${fmt(m, 3)}` }), bar,
    el("span", { text: `+${fmt(m, 3)}` })),
  el("span", { text: discretize ? "background: the sign of the prediction h" : "background: the prediction h; " +
    "points: their target y" }));
}

// The note under the map.
export function valueNote(p, m, worst, iteration) {
  const [x0, x1, y0, y1] = p.extent;
  const shown = $("show-test").checked ? `● training (${p.train.length}), ■ validation (${p.val.length})`
    : `● training (${p.train.length}); validation (${p.val.length}) hidden`;
  return `Regression: one identity output unit, h = z⁽ᴸ⁾, with the squared cost. x₁ from ${fmt(x0, 3)} to ` +
    `${fmt(x1, 3)} (left to right), x₂ from ${fmt(y0, 3)} to ${fmt(y1, 3)} (bottom to top). ${shown}, each filled ` +
    `with its target y on the background's scale (blue −${fmt(m, 3)}, white 0, red +${fmt(m, 3)}): a point that ` +
    `matches its background is predicted well; the largest |h − y| drawn is ${fmt(worst, 3)}. The grey line is ` +
    `h = 0` + (p.features ? ` · the network's inputs: ${p.features.join(", ")} of each point` : "") +
    (iteration !== undefined ? ` · iteration ${iteration}` : "") + "." + (p.note ? ` Coarser ${p.note}.` : "");
}
