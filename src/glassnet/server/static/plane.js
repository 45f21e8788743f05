// Maps over the input plane for 2-D data (/api/plane, the library's maps): the decision map with its boundary and
// points, and each hidden unit's map beside it in the diagram. This code only draws them.
import { api } from "./api.js";
import { S } from "./state.js";
import { $, fmt, page, svg } from "./dom.js";
import { follower } from "./follow.js";
import { CLASS_COLORS, COLORS, colorAt, decisionColor, gridCanvas, hexRgb, tint } from "./colors.js";
import { drawPoints } from "./marks.js";
import { sub, sup } from "./notation.js";
import { decorateDiagram } from "./network.js";
import { drawValueMap, valueLegend, valueNote } from "./regression.js";


// ------------------------------------------------------------------ maps over the input plane
// Fetched again when the state changes, at most every 0.3 s, while the data has two features (follow.js).
const plane = follower(300, async () => {
  const p = await api("/api/plane?resolution=50");
  if (p.available) { S.plane = p; drawPlane(p); decorateDiagram(); }
  return p.version;
}, () => S.state.dataset.n === 2);

export function maybeRefreshPlane(st) {
  const is2d = st.dataset.n === 2;
  $("plane-panel").hidden = !is2d;
  page().classList.toggle("two-d", is2d);
  if (!is2d) { S.plane = null; return; }
  plane.follow();
}

export function drawPlane(p) {
  const canvas = $("plane");
  const size = Math.max(260, Math.min(560, Math.floor(canvas.parentNode.clientWidth || 400)));
  canvas.width = size; canvas.height = size;
  const ctx = canvas.getContext("2d");
  const res = p.resolution;
  $("plane-title").textContent = p.regression ? "Output map" : "Decision map";
  if (p.regression) { drawRegression(canvas, ctx, p, size); return; }
  // Hovering a hidden unit in the diagram shows that unit's map here; otherwise the output: one unit's h on two
  // hues diverging at 0.5, or the predicted class; "discretize" paints only the class (h ≥ 0.5 or the largest h).
  const unit = S.planeUnit && p.units.find((u) => u.l === S.planeUnit.l && u.j === S.planeUnit.j);
  let color, values = p.output[0];
  if (unit) {
    values = unit.values;
    color = unitMapScale(p.units, p.units_in_unit_interval).color;
  } else if (p.K === 1) color = S.discretize ? (v) => decisionColor(v >= 0.5 ? 0.9 : 0.1) : decisionColor;
  else {
    color = (_v, r, q) => {  // the predicted class's colour, paler where its h is lower
      const k = p.prediction[r][q], h = S.discretize ? 0.7 : p.output[k][r][q];
      return tint(hexRgb(CLASS_COLORS[k % CLASS_COLORS.length]), 0.15 + 0.5 * h);
    };
  }
  // Grid point q sits at q·cw (the first and last on the edges of the square), the centre of its image pixel.
  const cw = size / (res - 1);
  ctx.imageSmoothingEnabled = !S.discretize || !!unit;
  ctx.drawImage(gridCanvas(values, res, color), -cw / 2, -cw / 2, size + cw, size + cw);
  ctx.strokeStyle = "#111"; ctx.lineWidth = 2;
  ctx.beginPath();
  if (p.K === 1) boundaryLine(ctx, p.output[0], res, cw, size);
  else {  // several classes: where the predicted class changes between neighbouring grid points
    for (let r = 0; r < res; r++) {
      for (let q = 0; q < res; q++) {
        const x = (q + 0.5) * cw, y = size - (r + 0.5) * cw;
        if (q + 1 < res && p.prediction[r][q] !== p.prediction[r][q + 1]) { ctx.moveTo(x, y); ctx.lineTo(x, y - cw); }
        if (r + 1 < res && p.prediction[r][q] !== p.prediction[r + 1][q]) { ctx.moveTo(x, y); ctx.lineTo(x - cw, y); }
      }
    }
  }
  ctx.stroke();
  const [x0, x1, y0, y1] = p.extent;
  const px = (a) => ((a - x0) / (x1 - x0)) * size, py = (b) => size - ((b - y0) / (y1 - y0)) * size;
  const wrong = drawPoints(ctx, p, px, py, S.showTest);
  canvas.dataset.version = String(p.version);
  canvas.dataset.showing = unit ? `unit-${unit.l}-${unit.j}` : S.discretize ? "class" : "h";
  canvas.dataset.misclassified = String(wrong);
  canvas.dataset.points = String(p.train.length + (S.showTest ? p.val.length : 0));
  canvas.dataset.scale = unit ? "unit" : "decision";
  const st = S.state;
  const cls = p.classes;
  $("plane-legend").textContent = unit
    ? `a${sub(unit.j)}${sup(unit.l)}, hidden unit ${unit.j} of layer ${unit.l}: ` +
      unitMapScale(p.units, p.units_in_unit_interval).text
    : p.K === 1 ? (S.discretize ? `background: the predicted class (h ≥ 0.5: ${cls[1]})`
      : `background: h = P(${cls[1]}): ${cls[0]} blue (h → 0), white at 0.5, ${cls[1]} red (h → 1)`)
      : S.discretize ? "background: the predicted class" : "background: the predicted class, darker where its h is larger";
  const shown = S.showTest ? `● training (${p.train.length}), ■ validation (${p.val.length})`
    : `● training (${p.train.length}); validation (${p.val.length}) hidden`;
  $("plane-note").textContent = `x₁ from ${fmt(x0, 3)} to ${fmt(x1, 3)} (left to right), x₂ from ${fmt(y0, 3)} to ` +
    `${fmt(y1, 3)} (bottom to top). ${shown}, each in its class colour; ${wrong} misclassified ` +
    `(ringed and crossed). The black line is the decision boundary (h = 0.5)` +
    (p.features ? ` · the network's inputs: ${p.features.join(", ")} of each point` : "") +
    (st ? ` · iteration ${st.iteration}` : "") + "." +
    (p.note ? ` Coarser ${p.note}.` : "");  // a large network's maps: the server's cost budget chose the grid
}

// A regression set's map: the predicted value h and the points' targets on one diverging scale (regression.js).
function drawRegression(canvas, ctx, p, size) {
  // a hovered hidden unit's map replaces h behind the points, on the unit maps' own scale
  const u = S.planeUnit && p.units.find((q) => q.l === S.planeUnit.l && q.j === S.planeUnit.j);
  const scale = u && unitMapScale(p.units, p.units_in_unit_interval);
  const { m, worst } = drawValueMap(ctx, p, size, { discretize: S.discretize, showTest: S.showTest, boundaryLine,
    unit: u ? { values: u.values, color: scale.color } : null });
  canvas.dataset.version = String(p.version);
  canvas.dataset.showing = u ? `unit-${u.l}-${u.j}` : S.discretize ? "sign" : "value";
  canvas.dataset.scale = "diverging";
  canvas.dataset.range = String(m);
  canvas.dataset.misclassified = "";
  canvas.dataset.points = String(p.train.length + (S.showTest ? p.val.length : 0));
  if (u) {
    $("plane-legend").textContent = `a${sub(u.j)}${sup(u.l)}, hidden unit ${u.j} of layer ${u.l}: ${scale.text}; ` +
      "points: their target y";
  } else valueLegend($("plane-legend"), m, S.discretize);
  $("plane-note").textContent = valueNote(p, m, worst, S.state ? S.state.iteration : undefined);
}

// The line h = 0.5 (the lecture's decision rule) through the grid, by marching squares with linear interpolation.
export function boundaryLine(ctx, h, res, cw, size) {
  const f = (r, q) => h[r][q] - 0.5;
  const at = (r, q) => [q * cw, size - r * cw];
  const cross = (p0, p1, v0, v1) => {
    const t = v0 / (v0 - v1);
    return [p0[0] + t * (p1[0] - p0[0]), p0[1] + t * (p1[1] - p0[1])];
  };
  for (let r = 0; r + 1 < res; r++) {
    for (let q = 0; q + 1 < res; q++) {
      const corners = [[r, q], [r, q + 1], [r + 1, q + 1], [r + 1, q]];
      const pts = [];
      for (let k = 0; k < 4; k++) {
        const [ra, qa] = corners[k], [rb, qb] = corners[(k + 1) % 4];
        const va = f(ra, qa), vb = f(rb, qb);
        if ((va >= 0) !== (vb >= 0)) pts.push(cross(at(ra, qa), at(rb, qb), va, vb));
      }
      for (let k = 0; k + 1 < pts.length; k += 2) { ctx.moveTo(...pts[k]); ctx.lineTo(...pts[k + 1]); }
    }
  }
}

// Hidden activations in [0, 1] (sigmoid: the server says so, from the library's rule, as the diagram does) are
// drawn white 0 → dark blue 1; others (tanh, ReLU, identity) on the diverging scale, one for all maps: blue −m,
// white 0, red m with m the largest |a| of any map.
export function unitMapScale(units, inUnitInterval) {
  if (inUnitInterval) return { color: (v) => colorAt(COLORS.sequential, v), text: "white 0, dark blue 1" };
  let m = 0;
  for (const u of units) for (const row of u.values) for (const v of row) m = Math.max(m, Math.abs(v));
  m = m || 1;
  return { color: (v) => colorAt(COLORS.diverging, v / m), text: `blue −${fmt(m, 3)}, white 0, red ${fmt(m, 3)}` };
}

// Hovering a hidden unit (or its small map) in the diagram: its map fills the decision map until the pointer leaves.
export function hoverUnit(l, j) {
  const p = S.plane;
  const next = p && l !== null && p.units.some((u) => u.l === l && u.j === j) ? { l, j } : null;
  const same = (a, b) => (a === null ? b === null : b !== null && a.l === b.l && a.j === b.j);
  if (same(next, S.planeUnit)) return;
  S.planeUnit = next;
  if (p) drawPlane(p);
}

export function addUnitMaps(root, p) {
  for (const old of root.querySelectorAll(".unit-map")) old.remove();
  const scale = unitMapScale(p.units, p.units_in_unit_interval);
  for (const u of p.units) {
    const c = root.querySelector(`#unit-${u.l}-${u.j}`);
    if (!c) continue;
    const cx = Number(c.getAttribute("cx")), cy = Number(c.getAttribute("cy")), r = Number(c.getAttribute("r"));
    const size = Math.max(26, Math.min(56, 2.3 * r));  // r ≤ 0.4·(row height): maps never touch
    const url = gridCanvas(u.values, p.resolution, scale.color).toDataURL();
    const g = svg("g", { class: "unit-map", role: "img", "aria-label": `unit ${u.j} of layer ${u.l}` });
    g.dataset.l = u.l; g.dataset.j = u.j;
    // left of the unit's name (a₂⁽²⁾ sits above-left, as large as the page made it)
    const name = [...root.querySelectorAll("text.unit-name")].find((t) => t.textContent === `a${sub(u.j)}${sup(u.l)}`);
    const nameLeft = name && name.getBBox().width ? name.getBBox().x : cx - r - 20;
    const x = Math.min(cx - r - 24, nameLeft - 4) - size, y = cy - size / 2;
    const t = svg("title");
    t.textContent = `unit ${u.j} of layer ${u.l}: a${sub(u.j)}${sup(u.l)} over the input plane (${scale.text})`;
    g.append(t, svg("rect", { x: x - 1.5, y: y - 1.5, width: size + 3, height: size + 3, fill: "#fff", stroke: "#555",
      "stroke-width": 1 }), svg("image", { href: url, x, y, width: size, height: size, preserveAspectRatio: "none" }));
    c.parentNode.insertBefore(g, c);
  }
}
