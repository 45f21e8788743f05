// The network diagram: the server draws it (/api/view), this module asks for it (at most one request in flight),
// adds hit areas, marks the selection and decorates it (unit maps, the walk's lit units and edges).
import { api, ApiError, problem } from "./api.js";
import { S } from "./state.js";
import { $, page, svg, toast } from "./dom.js";
import { fitText } from "./readable.js";

// What the other views do after each diagram: explorer.js (the wiring) registers them, so that imports point one
// way (inspector, plane and walk use this module; this module never imports them).
const after = {
  view: [],      // (view) => void: the example panel and the selection's details
  diagram: [],   // (svgRoot) => void: unit maps beside hidden units, the walk's lit units and edges
};

export function onView(handler) { after.view.push(handler); }
export function onDiagram(handler) { after.diagram.push(handler); }

export function requestView() {
  S.viewWanted = true;
  if (!S.viewBusy) loadView();
}

export async function loadView() {
  S.viewBusy = true;
  S.viewWanted = false;
  const q = new URLSearchParams({ split: S.split, index: String(S.index), mode: S.mode });
  if (S.unit) q.set("unit", `${S.unit.l}:${S.unit.j}`);
  if (S.edge) q.set("edge", `${S.edge.l}:${S.edge.i}:${S.edge.j}`);
  try {
    const v = await api("/api/view?" + q.toString());
    S.view = v;
    S.viewVersion = v.version;
    renderView(v);
  } catch (e) {
    if (e instanceof ApiError && e.status === 422 && (S.unit || S.edge)) {
      S.unit = null; S.edge = null; S.viewWanted = true;   // the selection no longer exists (new network)
    } else if (e instanceof ApiError && e.status === 422 && S.index !== 0) {
      S.index = 0; $("index").value = 0; S.viewWanted = true;
    } else toast(problem(e));
  } finally {
    S.viewBusy = false;
    if (S.viewWanted) setTimeout(loadView, 150);
  }
}

export function renderView(v) {
  const net = $("net");
  net.innerHTML = v.svg;
  $("setup").textContent = v.setup;
  const root = net.querySelector("svg");
  if (root) {
    root.removeAttribute("width");
    root.removeAttribute("height");
    // Thin edges are hard to hit: lay a wide transparent twin under each one.
    for (const e of root.querySelectorAll("line.edge")) {
      const hit = svg("line", { x1: e.getAttribute("x1"), y1: e.getAttribute("y1"), x2: e.getAttribute("x2"),
        y2: e.getAttribute("y2"), class: "edge-hit" });
      for (const k of ["l", "i", "j"]) hit.dataset[k] = e.dataset[k];
      e.parentNode.insertBefore(hit, e);
    }
    if (S.unit) {
      const u = root.querySelector(`#unit-${S.unit.l}-${S.unit.j}`);
      if (u) u.classList.add("selected");
    }
    if (S.edge) {
      const e = root.querySelector(`#edge-${S.edge.l}-${S.edge.i}-${S.edge.j}`);
      if (e) e.classList.add("selected");
    }
  }
  for (const handler of after.view) handler(v);
  decorateDiagram();
}

export function selectUnit(l, j) {
  S.unit = { l, j }; S.edge = null; S.pendingChange = null;
  requestView();
}

export function selectEdge(l, i, j) {
  S.edge = { l, i, j }; S.unit = null; S.pendingChange = null;
  requestView();
}

export function selectExample(split, index) {
  S.split = split; S.index = index;
  $("split").value = split; $("index").value = index;
  $("whatif-result").innerHTML = "";
  requestView();
  for (const t of page().querySelectorAll(".thumb")) {
    t.classList.toggle("on", t.dataset.split === split && Number(t.dataset.index) === index);
  }
}

export function setMode(mode) {
  S.mode = mode;
  $("view-forward").classList.toggle("on", mode === "forward");
  $("view-backward").classList.toggle("on", mode === "backward");
  requestView();
}

// The diagram after each redraw: unit maps beside hidden units, the selection's edges, the current step's lights.
export function decorateDiagram() {
  const root = $("net").querySelector("svg");
  if (!root) return;
  // Drawn up to 1.35× its own size (1.8× when presenting): big enough to read, not so big that it needs scrolling.
  const zoom = page().classList.contains("present") ? 1.8 : 1.35;
  const size = () => {
    const vb = root.viewBox && root.viewBox.baseVal;
    if (vb && vb.width) root.style.maxWidth = `${Math.round(vb.width * zoom)}px`;
    // The page sizes the diagram from the window's height on one-screen layouts: it needs the diagram's aspect.
    if (vb && vb.width && vb.height) $("layout").style.setProperty("--net-ratio", (vb.width / vb.height).toFixed(3));
  };
  size();
  for (let pass = 0; pass < 3; pass++) { fitText(root); size(); }  // labels grown to their on-screen floor
  markRelated(root);
  for (const handler of after.diagram) handler(root);
  fitText(root);  // the box again, with what the handlers added (unit maps)
  size();
}

// A selected unit: its incoming and outgoing edges stand out, the others fade.
export function markRelated(root) {
  root.classList.toggle("has-selection", !!S.unit);
  if (!S.unit) return;
  const { l, j } = S.unit;
  for (const e of root.querySelectorAll("line.edge")) {
    const el_ = Number(e.dataset.l), i = Number(e.dataset.i), jj = Number(e.dataset.j);
    if ((el_ === l && jj === j) || (el_ === l - 1 && i === j)) e.classList.add("related");
  }
}
