// Points of 2-D data as marks: on the decision map (each filled and outlined in its class colour, a ring and a cross
// on every misclassified one) and as the "misclassified" gallery of a 2-D dataset (the same marks on a small copy of
// the plane instead of a list of number pairs). The classes and predictions are the server's (the library's rule).
import { $, el, fmt, pct, svg } from "./dom.js";
import { CLASS_COLOR_NAMES, CLASS_COLORS, hexRgb, rgb, shade } from "./colors.js";

export const pointColor = (c) => hexRgb(CLASS_COLORS[c % CLASS_COLORS.length]);

// One point on a canvas: ● training, ■ held-out; a white halo keeps it apart from any background.
function mark(ctx, x, y, c, square, wrong) {
  const fill = pointColor(c), r = square ? 4.6 : 4.4;
  ctx.beginPath();
  if (square) ctx.rect(x - r, y - r, 2 * r, 2 * r); else ctx.arc(x, y, r, 0, 2 * Math.PI);
  ctx.fillStyle = rgb(fill);
  ctx.strokeStyle = "#fff"; ctx.lineWidth = 3.2;
  ctx.stroke();
  ctx.fill();
  ctx.strokeStyle = rgb(shade(fill, 0.55)); ctx.lineWidth = 1.4;
  ctx.stroke();
  if (!wrong) return;
  ctx.beginPath();  // misclassified: a black ring around it and a white-on-black cross through it
  ctx.arc(x, y, r + 3.6, 0, 2 * Math.PI);
  ctx.strokeStyle = "#111"; ctx.lineWidth = 1.8;
  ctx.stroke();
  const d = r * 0.8;
  for (const [w, colour] of [[3.2, "#111"], [1.4, "#fff"]]) {
    ctx.beginPath();
    ctx.moveTo(x - d, y - d); ctx.lineTo(x + d, y + d); ctx.moveTo(x + d, y - d); ctx.lineTo(x - d, y + d);
    ctx.strokeStyle = colour; ctx.lineWidth = w;
    ctx.stroke();
  }
}

// The training points, and the held-out ones when showTest; returns how many misclassified points were marked.
export function drawPoints(ctx, p, px, py, showTest) {
  let wrong = 0;
  for (const [split, pts] of [["train", p.train], ["val", showTest ? p.val : []]]) {
    for (const [a, b, c, pred] of pts) {
      const bad = pred !== c;
      wrong += bad ? 1 : 0;
      mark(ctx, px(a), py(b), c, split === "val", bad);
    }
  }
  return wrong;
}

// The misclassified examples of a 2-D dataset drawn where they lie: one mark each, in its true class colour and
// crossed, on a frame of the decision map's extent (or the points' own); click a mark to look at that example.
export function renderMarks(box, ex, extent, onPick) {
  const size = 260, pad = 10;
  let [x0, x1, y0, y1] = extent || [Infinity, -Infinity, Infinity, -Infinity];
  if (!extent) {
    for (const it of ex.items) {
      x0 = Math.min(x0, it.x[0]); x1 = Math.max(x1, it.x[0]); y0 = Math.min(y0, it.x[1]); y1 = Math.max(y1, it.x[1]);
    }
    if (x1 === x0) { x0 -= 1; x1 += 1; }
    if (y1 === y0) { y0 -= 1; y1 += 1; }
  }
  const px = (a) => pad + ((a - x0) / (x1 - x0)) * (size - 2 * pad);
  const py = (b) => size - pad - ((b - y0) / (y1 - y0)) * (size - 2 * pad);
  const root = svg("svg", { viewBox: `0 0 ${size} ${size}`, width: size, height: size, class: "marks", role: "img",
    "aria-label": `${ex.total} misclassified ${ex.split === "val" ? "validation" : "training"} examples on the plane` });
  root.append(svg("rect", { x: 0.5, y: 0.5, width: size - 1, height: size - 1, fill: "#fafafa", stroke: "#bbb" }));
  for (const it of ex.items) {
    const x = px(it.x[0]), y = py(it.x[1]), fill = rgb(pointColor(it.label));
    const g = svg("g", { class: "mark", tabindex: "0", role: "button",
      "aria-label": `example ${it.index} at (${fmt(it.x[0], 3)}, ${fmt(it.x[1], 3)}): class ${ex.classes[it.label]}, ` +
        `predicted ${ex.classes[it.prediction]}` });
    g.dataset.index = it.index; g.dataset.split = ex.split;
    g.dataset.x1 = it.x[0]; g.dataset.x2 = it.x[1];
    const t = svg("title");
    t.textContent = `example ${it.index}: x = (${fmt(it.x[0], 3)}, ${fmt(it.x[1], 3)}), class ${ex.classes[it.label]}` +
      `, predicted ${ex.classes[it.prediction]} (${pct(it.confidence)})`;
    g.append(t, svg("circle", { cx: x, cy: y, r: 5, fill, stroke: "#fff", "stroke-width": 1.5 }),
      svg("path", { d: `M${x - 3.5} ${y - 3.5}L${x + 3.5} ${y + 3.5}M${x + 3.5} ${y - 3.5}L${x - 3.5} ${y + 3.5}`,
        stroke: "#111", "stroke-width": 1.6 }));
    g.addEventListener("click", () => onPick(ex.split, it.index));
    g.addEventListener("keydown", (ev) => { if (ev.key === "Enter") onPick(ex.split, it.index); });
    root.append(g);
  }
  const legend = el("p", { class: "hint", text: "Each mark is a misclassified example where it lies in the (x₁, x₂) " +
    "plane, filled with its true class's colour and crossed: " +
    ex.classes.map((c, k) => `${c} ${CLASS_COLOR_NAMES[k % CLASS_COLOR_NAMES.length]}`).join(", ") +
    ". Click one to look at it." });
  box.append(el("div", { class: "marks-wrap" }, root, legend));
  $("examples").dataset.marks = String(ex.items.length);
}
