// The diagram's text at a readable size on screen: the server lays the diagram out at one size, and the page draws
// it smaller on a small window (1366×768) and larger when presenting. After each drawing, every label whose on-screen
// size is under the floor (11 px; 18 px presenting) grows to it: the legend as a whole, a value inside a unit only as
// far as the unit holds it (else it is left out; the number stays in the unit's tooltip), the rest freely; then the
// drawing's box grows to hold what grew.
import { page } from "./dom.js";

const FLOOR = 11, FLOOR_PRESENT = 18;

const num = (e, a) => Number(e.getAttribute(a));

export function fitText(root) {
  const vb = root.viewBox && root.viewBox.baseVal;
  if (!vb || !vb.width) return;
  if (!root.dataset.box) root.dataset.box = [vb.x, vb.y, vb.width, vb.height].join(" ");
  const [x0, y0, w0, h0] = root.dataset.box.split(" ").map(Number);
  const shown = root.getBoundingClientRect();
  if (!shown.width || !shown.height) return;
  // screen px per drawing unit at the box as laid out (the drawing keeps its aspect inside the element's box), with a
  // little to spare: the box grows after this and the drawing shrinks with it. Measured against the laid-out box,
  // not the grown one: else each pass would grow the text for the room the last pass took, and a long legend or
  // title in a narrow column (the walk open at 1366×768) would win its floor by shrinking the network to dots.
  const k = Math.min(shown.width / vb.width, shown.height / vb.height) * Math.max(vb.width / w0, vb.height / h0);
  const need = (1.04 * (page().classList.contains("present") ? FLOOR_PRESENT : FLOOR)) / k;
  const legend = root.querySelector("g.legend");
  const present = page().classList.contains("present");
  // Presenting, the legend gives its height to the network (the presenter says what the colours mean).
  if (legend) legend.classList.toggle("too-small", present);
  const heads = [...root.querySelectorAll("text.layer-title, text.layer-subtitle")];
  for (const t of root.querySelectorAll("text")) {
    if (legend && legend.contains(t)) continue;
    if (!t.dataset.size) t.dataset.size = t.getAttribute("font-size");
    const f0 = Number(t.dataset.size);
    let f = Math.max(f0, need);
    const unit = t.closest("g.layer") && t.getAttribute("text-anchor") === "middle" ? holder(t) : null;
    if (unit) f = Math.min(f, (0.95 * unit) / (0.62 * Math.max(1, t.textContent.length)));
    if (heads.includes(t)) f = Math.min(f, headRoom(t, heads) / (0.66 * Math.max(1, t.textContent.length)));
    t.classList.toggle("too-small", f < need - 1e-6);
    // A free label (the title, an output's value) is never grown wider than the drawing was laid out: a long title
    // in a narrow column is shown a little under the floor rather than shrinking the network under it.
    if (!unit && !heads.includes(t)) {
      const now = Number(t.getAttribute("font-size")) || f0, wide = (t.getComputedTextLength() * f) / now;
      if (wide > 0.98 * w0) f = Math.max(f0, (f * 0.98 * w0) / wide);
    }
    t.setAttribute("font-size", f.toFixed(2));
    const bg = t.previousElementSibling;  // an edge label's white box grows with it
    if (bg && bg.tagName === "rect" && bg.closest("g.edges")) {
      if (!bg.dataset.box) bg.dataset.box = ["x", "y", "width", "height"].map((a) => bg.getAttribute(a)).join(" ");
      const [bx, by, bw, bh] = bg.dataset.box.split(" ").map(Number), s = f / f0;
      const cx = bx + bw / 2, cy = by + bh / 2;
      bg.setAttribute("x", cx - (bw * s) / 2); bg.setAttribute("y", cy - (bh * s) / 2);
      bg.setAttribute("width", bw * s); bg.setAttribute("height", bh * s);
    }
  }
  for (const t of root.querySelectorAll("text.layer-title")) {  // a grown header keeps clear of its subtitle
    if (!t.dataset.y0) t.dataset.y0 = t.getAttribute("y");
    const y0 = Number(t.dataset.y0), x = num(t, "x");
    const below = [...root.querySelectorAll("text.layer-subtitle:not(.too-small)")]
      .find((u) => Math.abs(num(u, "x") - x) < 0.5);
    const title = root.querySelector("text.title:not(.too-small)");
    const gap = (u) => 1.3 * (num(t, "font-size") + num(u, "font-size")) / 2;
    let y = below ? Math.min(y0, num(below, "y") - gap(below)) : y0;
    if (title) y = Math.max(y, num(title, "y") + gap(title));  // and of the title above it
    t.setAttribute("y", y);
  }
  if (legend && !present) {  // its rows are laid out for 12-px text: scaled as one piece from its top-left corner
    // (its own box, without its transform: never scaled wider than the drawing was laid out)
    const b = legend.getBBox(), s = Math.max(1, Math.min(need / 11, (0.98 * w0) / Math.max(1, b.width)));
    legend.setAttribute("transform", s > 1 ? `translate(${b.x} ${b.y}) scale(${s}) translate(${-b.x} ${-b.y})` : "");
  }
  // The box: what is drawn (the white paper under it left out), so that a hidden legend gives its room back.
  const paper = root.querySelector(":scope > rect");
  if (paper) paper.style.display = "none";
  const b = root.getBBox();
  if (paper) paper.style.display = "";
  const left = Math.min(x0, b.x - 6), top = Math.min(y0, b.y - 6);
  const right = Math.max(left + 0.5 * w0, b.x + b.width + 6), bottom = Math.max(top + 0.5 * h0, b.y + b.height + 6);
  root.setAttribute("viewBox", `${left} ${top} ${right - left} ${bottom - top}`);
  if (paper) {
    paper.setAttribute("x", left); paper.setAttribute("y", top);
    paper.setAttribute("width", right - left); paper.setAttribute("height", bottom - top);
  }
}

// A column header's room: the distance to the nearest header of its row, centre to centre (no neighbour: any).
function headRoom(t, heads) {
  const x = num(t, "x"), y = num(t, "y");
  let room = Infinity;
  for (const o of heads) if (o !== t && Math.abs(num(o, "y") - y) < 0.5) room = Math.min(room, 0.94 * Math.abs(num(o, "x") - x));
  return room;
}

// The width of the unit a value is written in (a circle's diameter, the bias box's width), or null.
function holder(t) {
  const x = num(t, "x"), y = num(t, "y");
  for (const c of t.parentNode.querySelectorAll("circle, rect")) {
    if (c.tagName === "circle" && Math.abs(num(c, "cx") - x) < 0.5 && Math.abs(num(c, "cy") - y) < 0.5) return 2 * num(c, "r");
    if (c.tagName === "rect" && Math.abs(num(c, "x") + num(c, "width") / 2 - x) < 0.5 &&
      Math.abs(num(c, "y") + num(c, "height") / 2 - y) < 0.5) return num(c, "width");
  }
  return null;
}
