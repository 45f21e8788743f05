// Hidden units over training (/api/timeline, glassnet.explain.timeline): for every hidden unit and snapshot, the mean
// g′(z) and mean |δ| over the training examples, as two heat maps (a row per unit, a column per snapshot), and a
// slider that scrubs the iterations: the table below reads each unit's numbers there and marks the saturated ones.
import { api } from "./api.js";
import { S } from "./state.js";
import { $, el, fmt, pct } from "./dom.js";
import { follower } from "./follow.js";
import { colorAt, COLORS } from "./colors.js";
import { sub, sup } from "./notation.js";

const TABLE_ROWS = 64;  // the table lists this many units at most (the heat maps show all)

export function toggleUnits() {
  S.unitsOpen = !S.unitsOpen;
  $("units-body").hidden = !S.unitsOpen;
  $("units-open").textContent = S.unitsOpen ? "Hide" : "Show";
  $("units-open").setAttribute("aria-expanded", String(S.unitsOpen));
  if (S.unitsOpen && S.state) maybeRefreshUnits(S.state);
}

// While open: fetched again when the state changes, at most every 1.5 s (follow.js).
const timeline = follower(1500, async () => {
  const t = await api("/api/timeline");
  if (!t.available) {
    S.units = null;
    $("units-note").textContent = "This network has no hidden layer: nothing saturates between input and output.";
    return t.version;
  }
  const scrub = $("units-scrub");
  const atEnd = !S.units || Number(scrub.value) >= S.units.iterations.length - 1;
  S.units = t;
  scrub.max = String(t.iterations.length - 1);
  if (atEnd) scrub.value = scrub.max;  // following the training unless the student scrubbed back
  drawUnits();
  return t.version;
}, () => S.unitsOpen);
export const maybeRefreshUnits = timeline.follow;

// rows: (T, s) values [snapshot][unit] -> a canvas with a row per unit and a column per snapshot; the scrubbed column
// is outlined.
function heat(canvas, rows, color, at) {
  const T = rows.length, s = rows[0].length;
  const cw = Math.max(2, Math.min(16, Math.floor(300 / T))), ch = Math.max(2, Math.min(16, Math.floor(160 / s)));
  canvas.width = T * cw; canvas.height = s * ch;
  const ctx = canvas.getContext("2d");
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < s; j++) {
      const [r, g, b] = color(rows[t][j]);
      ctx.fillStyle = `rgb(${r},${g},${b})`;
      ctx.fillRect(t * cw, j * ch, cw, ch);
    }
  }
  ctx.strokeStyle = "#f59e0b"; ctx.lineWidth = 2;
  ctx.strokeRect(at * cw + 1, 1, Math.max(1, cw - 2), s * ch - 2);
}

export function drawUnits() {
  const t = S.units;
  if (!t) return;
  const at = Math.min(Number($("units-scrub").value), t.iterations.length - 1);
  const layer = t.layers[0];  // the first hidden layer is drawn; the table lists every hidden layer's units
  const peak = t.peak;
  let dmax = 0;
  for (const L of t.layers) for (const row of L.delta) for (const v of row) dmax = Math.max(dmax, v);
  dmax = dmax || 1;
  heat($("units-gprime"), layer.gprime, (v) => colorAt(COLORS.sequential, v / peak), at);
  heat($("units-delta"), layer.delta, (v) => colorAt(COLORS.diverging, v / dmax), at);
  $("units-gprime-cap").textContent = `mean g′(z${sup(layer.l)}) per unit (rows) and snapshot (columns): white 0, ` +
    `dark blue ${fmt(peak, 3)} (g′'s peak); white rows have saturated`;
  $("units-delta-cap").textContent = `mean |δ${sup(layer.l)}|: white 0, red ${fmt(dmax, 3)}`;
  $("units-note").textContent = `${t.iterations.length} snapshots from iteration ${t.iterations[0]} to ` +
    `${t.iterations[t.iterations.length - 1]}, over ${t.m} training examples. A unit saturates on an example when ` +
    `g′(z) < ${fmt(t.threshold, 3)} (${fmt(t.threshold / t.peak, 2)} of g′'s peak ${fmt(t.peak, 3)}): it then passes almost no error back.`;
  const table = $("units-table");
  table.innerHTML = "";
  table.dataset.snapshot = String(at);
  table.dataset.iteration = String(t.iterations[at]);
  table.append(el("tr", {}, ...["unit", "mean g′(z)", "mean |δ|", "saturated on"].map((h) => el("th", { text: h }))));
  let shown = 0, saturated = 0;
  for (const L of t.layers) {
    L.gprime[at].forEach((g, j) => {
      const share = L.saturated[at][j];
      if (share > 0.5) saturated += 1;
      if (shown >= TABLE_ROWS) return;
      shown += 1;
      const tr = el("tr", { class: share > 0.5 ? "saturated" : "" },
        el("td", { text: `a${sub(j + 1)}${sup(L.l)}` }), el("td", { text: fmt(g, 4) }),
        el("td", { text: fmt(L.delta[at][j], 4) }), el("td", { text: pct(share) }));
      tr.dataset.unit = `${L.l}:${j + 1}`;
      tr.dataset.gprime = String(g); tr.dataset.delta = String(L.delta[at][j]); tr.dataset.saturated = String(share);
      table.append(tr);
    });
  }
  $("units-at").textContent = `iteration ${t.iterations[at]} (snapshot ${t.snapshots[at] + 1}): ${saturated} ` +
    `unit${saturated === 1 ? "" : "s"} saturated on more than half of the examples` +
    (shown < t.layers.reduce((n, L) => n + L.gprime[0].length, 0) ? ` · the table lists the first ${shown}` : "");
}
