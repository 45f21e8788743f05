// glassnet explorer: the wiring of the controls to the views, begun by start() (the page's page.js, the notebook
// widget's entry). Plain JavaScript (native ES modules, no build step); every number comes from the server's /api
// endpoints through the transport (api.js).
// State changes arrive as a stream of states (state.js); the network view is re-fetched when the state's version
// changes, at most one request in flight.
import { api, hasToken, subscribe } from "./api.js";
import { S, command, onState, receiveState, refreshState } from "./state.js";
import { $, focused, fmt, page, run, setRoot, toast } from "./dom.js";
import { renderCurves } from "./curves.js";
import { decorateDiagram, onDiagram, onView, requestView, selectEdge, selectExample, selectUnit, setMode }
  from "./network.js";
import { checkAnswers, renderDetail, renderExample, whatIf } from "./inspector.js";
import { maybeRefreshSide, refreshSide } from "./gallery.js";
import { addUnitMaps, drawPlane, hoverUnit, maybeRefreshPlane } from "./plane.js";
import { paintGradcheck, runGradcheck, showGradcheckEdge } from "./gradcheck.js";
import { drawUnits, maybeRefreshUnits, toggleUnits } from "./units.js";
import { renderLayerButtons } from "./layers.js";
import { isRegression, scoreName, scoreText } from "./regression.js";
import { featureChoice, nameInputs, renderFeatures } from "./features.js";
import { closeSteps, lightStep, loadSteps, moveStep, openSteps, renderStep, stopStepPlay, toggleStepPlay } from "./walk.js";
import { applyDatasetDefaults, applyFragmentOnce, chosenKinds, copySetupLink, fillForm, formKey, loadBuiltins,
  markMinibatch, parseHidden, renderKinds, settings, setupExtras, writeFragment } from "./setup.js";

// After each diagram: the example panel and the selection's details, unit maps beside hidden units (2-D data) and
// the walk's lit units and edges. Registered here so that network.js imports none of these views.
onView(renderExample);
onView(renderDetail);
onDiagram((root) => { if (S.plane && S.state && S.state.sizes[0] === 2) addUnitMaps(root, S.plane); });
onDiagram(() => lightStep());
onDiagram(paintGradcheck);
onDiagram(nameInputs);

// J with six decimals, as glassnet evaluate prints it (the course's "0.287629" can be read off the page).
const costText = (J) => (J === null || J === undefined ? "–" : Math.abs(J) < 1e4 ? J.toFixed(6) : fmt(J, 7));

function renderHeader(st) {
  const pill = $("status");
  pill.textContent = st.status;
  pill.className = "pill " + st.status;
  const c = st.current;
  // the score: accuracy, or R² for a regression set (the server names it: dataset.score)
  const score = isRegression(st) ? scoreName(st) : "acc";
  const parts = [`iteration <b>${st.iteration}</b>`, `J = <b id="J">${costText(c.J)}</b>`,
    `train ${score} <span id="score">${scoreText(st, c.acc)}</span>`];
  if (c.J_val !== null) parts.push(`validation cost ${fmt(c.J_val)}`, `validation ${score} ${scoreText(st, c.acc_val)}`);
  $("metrics").innerHTML = parts.join(" · ");
  const banner = $("error-banner");
  if (st.status === "error" && st.error) {
    banner.textContent = st.error + "\nThe server is still running: change a setting and press Play or Reset.";
    banner.hidden = false;
  } else banner.hidden = true;
  const message = st.status === "done" ? `Run finished: ${st.message}. Play starts another run of ` +
    `${st.config.max_iter} iterations from here.` : st.status === "running" ? `Training with ${st.config.optimizer}…` : "";
  $("run-message").textContent = message;
  $("play").disabled = st.status === "running";
  $("pause").disabled = st.status !== "running";
  const ds = st.dataset;
  $("sizes").textContent = `network ${st.sizes.join("-")} · ${ds.m_train} training / ${ds.m_val} validation ` +
    `examples · K = ${st.sizes[st.sizes.length - 1]}`;
  renderKinds(st);
}

function renderTimeline(st) {
  const sn = st.snapshots;
  const tl = $("timeline");
  tl.max = String(Math.max(0, sn.count - 1));
  if (focused() !== tl) tl.value = String(sn.cursor);
  $("snapinfo").textContent = `snapshot ${sn.cursor + 1} of ${sn.count} · iteration ${sn.iteration} · ${sn.label}`;
  $("back").disabled = sn.cursor <= 0;
  $("forward").disabled = sn.cursor >= sn.count - 1;
}

// λ and the validation share apply at once to the current weights: J, δ, D and every view are recomputed, nothing
// is trained (a new validation share splits the examples anew and keeps Θ).
async function applyNow(id, key, what) {
  const text = $(id).value.trim(), value = Number(text);
  const st = text !== "" && Number.isFinite(value) ? await command("/api/settings", { [key]: value }) : null;
  if (!st) {
    if (text === "" || !Number.isFinite(value)) toast(`${what}: enter a number`);
    if (S.state) $(id).value = S.state.config[key];
  }
}

async function upload(path, file) {
  const buf = await file.arrayBuffer();
  const st = await run(() => api(`${path}?filename=${encodeURIComponent(file.name)}`, { body: buf }));
  if (st) {
    S.formFor = null; S.unit = null; S.edge = null; S.index = 0;
    const waiting = S.pendingSetup;
    S.pendingSetup = null;
    receiveState(st);
    if (waiting && waiting.dataset === st.config.dataset) {  // the file a setup link named: apply its setup now
      const applied = await command("/api/reset", waiting);
      if (applied) { S.formFor = null; fillForm(applied); toast(`loaded ${file.name}; setup from the link applied`, false); }
      return;
    }
    toast(`loaded ${file.name}`, false);
  }
}

function wire() {
  $("play").addEventListener("click", () => command("/api/play", settings()));
  $("pause").addEventListener("click", () => command("/api/pause"));
  $("step").addEventListener("click", () => command("/api/step", settings()));
  $("reset").addEventListener("click", async () => {
    const body = { dataset: $("dataset").value, hidden: parseHidden($("hidden").value),
      seed: Number($("seed").value), ...chosenKinds(), ...settings(), ...setupExtras(), ...featureChoice() };
    S.unit = null; S.edge = null; S.pendingSetup = null;
    const st = await command("/api/reset", body);
    if (st) { S.formFor = null; fillForm(st); }
  });
  $("dataset").addEventListener("change", () => { applyDatasetDefaults($("dataset").value); $("reset").click(); });
  $("optimizer").addEventListener("change", markMinibatch);
  $("lam").addEventListener("change", () => applyNow("lam", "lam", "λ"));
  $("val-share").addEventListener("change", () => applyNow("val-share", "validation_fraction", "validation share"));
  for (const id of ["activation", "pair"]) $(id).addEventListener("change", () => S.state && renderKinds(S.state));
  $("back").addEventListener("click", () => command("/api/rewind", { offset: -1 }));
  $("forward").addEventListener("click", () => command("/api/rewind", { offset: 1 }));
  $("timeline").addEventListener("change", () => command("/api/rewind", { index: Number($("timeline").value) }));
  $("upload-data").addEventListener("change", (ev) => { if (ev.target.files[0]) upload("/api/dataset", ev.target.files[0]); ev.target.value = ""; });
  $("import-model").addEventListener("change", (ev) => { if (ev.target.files[0]) upload("/api/model", ev.target.files[0]); ev.target.value = ""; });
  $("view-forward").addEventListener("click", () => setMode("forward"));
  $("view-backward").addEventListener("click", () => setMode("backward"));
  $("split").addEventListener("change", () => selectExample($("split").value, 0));
  $("index").addEventListener("change", () => selectExample(S.split, Math.max(0, Number($("index").value) | 0)));
  $("prev").addEventListener("click", () => selectExample(S.split, Math.max(0, S.index - 1)));
  $("next").addEventListener("click", () => {
    const n = S.state ? (S.split === "train" ? S.state.dataset.m_train : S.state.dataset.m_val) : 1;
    selectExample(S.split, Math.min(n - 1, S.index + 1));
  });
  $("examples-which").addEventListener("change", refreshSide);
  $("whatif").addEventListener("click", () => whatIf(false));
  $("whatif-apply").addEventListener("click", () => whatIf(true));
  $("check").addEventListener("click", checkAnswers);
  $("net").addEventListener("click", (ev) => {
    const map = ev.target.closest(".unit-map");
    if (map) { selectUnit(Number(map.dataset.l), Number(map.dataset.j)); return; }
    const t = ev.target.closest(".edge-hit, .edge, .unit");
    if (!t || !t.dataset.l) return;
    const l = Number(t.dataset.l), j = Number(t.dataset.j);
    if (t.classList.contains("unit")) {
      if (j === 0) { toast("the bias unit a₀ = 1 has no z and no δ; click one of its edges to see a bias weight", false); return; }
      selectUnit(l, j);
    } else {
      selectEdge(l, Number(t.dataset.i), j);
      showGradcheckEdge(l, Number(t.dataset.i), j);
    }
  });
  page().addEventListener("keydown", (ev) => {
    if (ev.target.closest("input, select, textarea")) return;
    if (ev.key === " ") { ev.preventDefault(); command(S.state && S.state.status === "running" ? "/api/pause" : "/api/play", S.state && S.state.status === "running" ? undefined : settings()); }
    else if (ev.key === "ArrowRight") command("/api/step", settings());
    else if (ev.key === "ArrowLeft" && S.state && S.state.snapshots.cursor > 0) command("/api/rewind", { offset: -1 });
  });
  window.addEventListener("resize", renderCurves);
  // The decision map's toggles, and a hovered hidden unit's map in its place.
  $("show-test").addEventListener("change", () => { S.showTest = $("show-test").checked; if (S.plane) drawPlane(S.plane); });
  $("discretize").addEventListener("change", () => { S.discretize = $("discretize").checked; if (S.plane) drawPlane(S.plane); });
  $("net").addEventListener("mouseover", (ev) => {
    const t = ev.target.closest(".unit-map, .unit");
    hoverUnit(t && t.dataset.l ? Number(t.dataset.l) : null, t ? Number(t.dataset.j) : null);
  });
  $("net").addEventListener("mouseleave", () => hoverUnit(null, null));
  $("gc-run").addEventListener("click", runGradcheck);
  $("units-open").addEventListener("click", toggleUnits);
  $("units-scrub").addEventListener("input", drawUnits);
  $("hidden").addEventListener("input", layerButtons);
}

// + and − for layers and units: a change builds the new network at once (Reset network with the new sizes).
function layerButtons() { renderLayerButtons(() => $("reset").click()); }

function togglePresentation() {
  const on = page().classList.toggle("present");
  $("present").setAttribute("aria-pressed", String(on));
  $("present").classList.toggle("on", on);
  renderCurves();
  decorateDiagram();
  if (S.plane) drawPlane(S.plane);
}

function wireExtras() {
  $("step-open").addEventListener("click", openSteps);
  $("step-close").addEventListener("click", closeSteps);
  $("step-next").addEventListener("click", () => { stopStepPlay(); moveStep(1); });
  $("step-prev").addEventListener("click", () => { stopStepPlay(); moveStep(-1); });
  $("step-first").addEventListener("click", () => { stopStepPlay(); S.stepAt = 0; renderStep(); });
  $("step-play").addEventListener("click", toggleStepPlay);
  $("step-examples").addEventListener("change", () => {
    S.stepExamples = Number($("step-examples").value); stopStepPlay(); loadSteps(false);
  });
  $("share").addEventListener("click", copySetupLink);
  $("present").addEventListener("click", togglePresentation);
  $("stepper").hidden = true;
  window.addEventListener("resize", () => { if (S.plane) drawPlane(S.plane); });
  // The layout changes the widths of the chart and the map without a window resize (the walk opens beside the
  // diagram and the side column narrows): redraw them at their new width.
  const widths = new Map();
  const onWidth = (node, redraw) => new ResizeObserver(() => {
    if (widths.get(node) === node.clientWidth) return;
    widths.set(node, node.clientWidth);
    redraw();
  }).observe(node);
  onWidth($("curves"), renderCurves);
  onWidth($("plane").parentNode, () => { if (S.plane) drawPlane(S.plane); });
}

function connect() {
  subscribe(receiveState, (how) => {
    $("conn").textContent = how === "live" ? "live" : "reconnecting…";
    $("conn").className = "conn " + how;
  });
}

// Start the explorer in root (the page: its body; a notebook widget: its own element). address: whether the
// explorer owns the address bar (the page's setup link in the fragment); a widget's transport is set before.
export function start(root = document.body, { address = true } = {}) {
  setRoot(root);
  wire();
  wireExtras();
  // Each new state from the server: the views that show it.
  onState((st) => {
    renderHeader(st);
    renderTimeline(st);
    renderCurves();
    if (S.formFor !== formKey(st)) { fillForm(st); layerButtons(); }
    renderFeatures(st, () => $("reset").click());
    if (st.version !== S.viewVersion) requestView();
    maybeRefreshSide(st);
    maybeRefreshPlane(st);
    maybeRefreshUnits(st);
    if (address) writeFragment(st);
  });
  if (!hasToken()) {
    const b = $("error-banner");
    b.textContent = "No access token in the address: open the full URL that `glassnet serve` printed (…/?token=…).";
    b.hidden = false;
  }
  return loadBuiltins().then(refreshState).then(address ? applyFragmentOnce : null).then(connect);
}
