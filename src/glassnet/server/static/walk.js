// Backprop step by step for the current example (/api/steps, the library's walk): the text of each step and the
// units and edges it lights in the diagram.
import { api } from "./api.js";
import { S } from "./state.js";
import { $, run } from "./dom.js";
import { setMode } from "./network.js";

export const PHASE_WORDS = { forward: "forward pass", output: "output error", hidden: "error sent back",
  gradient: "this example's gradient", batch: "the whole batch" };

export async function openSteps() {
  S.stepsOpen = true;
  $("stepper").hidden = false;
  $("step-open").hidden = true;
  await loadSteps(false);
}

export function closeSteps() {
  S.stepsOpen = false;
  stopStepPlay();
  $("stepper").hidden = true;
  $("step-open").hidden = false;
  lightStep();
}

export async function loadSteps(keepPlace) {
  const key = `${S.split}:${S.index}:${S.stepExamples || 1}:${S.state ? S.state.version : -1}`;
  const k = S.stepExamples || 1;  // several: Δ adds up over examples index, index + 1, … (the lecture's Σ over t)
  const r = await run(() => api(`/api/steps?split=${S.split}&index=${S.index}&examples=${k}`));
  if (!r) return;
  S.steps = r;
  S.stepsKey = key;
  S.stepAt = keepPlace ? Math.min(S.stepAt, r.steps.length - 1) : 0;
  renderStep();
}

export function renderStep() {
  if (!S.steps) return;
  const steps = S.steps.steps, st = steps[S.stepAt];
  const k = S.steps.examples || 1, which = S.steps.split === "train" ? "training" : "validation";
  $("step-count").textContent = `step ${S.stepAt + 1} of ${steps.length} · ${PHASE_WORDS[st.phase]} · ` +
    (k === 1 ? `${which} example ${S.steps.index}`
      : `${which} examples ${S.steps.index}–${S.steps.index + k - 1}` +
        (st.example ? ` (t = ${st.example}: example ${S.steps.index + st.example - 1})` : ""));
  $("step-title").textContent = st.title;
  const text = $("step-text");
  text.textContent = st.lines.join("\n");
  text.dataset.phase = st.phase;
  text.dataset.value = st.value === null ? "" : String(st.value);
  text.dataset.unit = st.unit ? st.unit.join(":") : "";
  text.dataset.values = st.values ? JSON.stringify(st.values) : "";
  $("step-prev").disabled = $("step-first").disabled = S.stepAt === 0;
  $("step-next").disabled = S.stepAt >= steps.length - 1;
  const want = st.phase === "forward" ? "forward" : "backward";
  if (S.mode !== want) setMode(want);  // the diagram shows a in the forward pass, δ on the way back
  else lightStep();
}

export function lightStep() {
  const root = $("net").querySelector("svg");
  if (!root) return;
  for (const n of root.querySelectorAll(".lit")) n.classList.remove("lit");
  const on = S.stepsOpen && S.steps;
  root.classList.toggle("stepping", !!on);
  if (!on) return;
  const st = S.steps.steps[S.stepAt];
  for (const [l, i, j] of st.edges) {
    const e = root.querySelector(`#edge-${l}-${i}-${j}`);
    if (e) e.classList.add("lit");
  }
  for (const l of st.layers) for (const e of root.querySelectorAll(`#edges-${l} line.edge`)) e.classList.add("lit");
  for (const [l, j] of st.units) {
    const u = root.querySelector(`#unit-${l}-${j}`);
    if (u) u.classList.add("lit");
  }
  const key = `${S.split}:${S.index}:${S.stepExamples || 1}:${S.state ? S.state.version : -1}`;
  if (key !== S.stepsKey && !S.stepsLoading) {  // another example or new weights: the same step, new numbers
    S.stepsLoading = true;
    loadSteps(true).finally(() => { S.stepsLoading = false; });
  }
}

export function moveStep(delta) {
  if (!S.steps) return;
  S.stepAt = Math.max(0, Math.min(S.steps.steps.length - 1, S.stepAt + delta));
  renderStep();
}

export function stopStepPlay() {
  clearInterval(S.stepTimer);
  S.stepTimer = null;
  $("step-play").textContent = "▶ Play";
}

export function toggleStepPlay() {
  if (S.stepTimer) { stopStepPlay(); return; }
  if (S.steps && S.stepAt >= S.steps.steps.length - 1) { S.stepAt = 0; renderStep(); }
  $("step-play").textContent = "❚❚ Pause";
  S.stepTimer = setInterval(() => {
    if (!S.steps || S.stepAt >= S.steps.steps.length - 1) { stopStepPlay(); return; }
    moveStep(1);
  }, 1600);
}
