// The page's one state object, S, and the updates that replace the server's part of it. Views read S; the
// server's state (training status, history, snapshots) changes only through receiveState, which then tells the
// views registered with onState.
import { api } from "./api.js";
import { run } from "./dom.js";

export const S = {
  state: null, history: [], gen: null,
  split: "train", index: 0, mode: "forward", unit: null, edge: null,
  view: null, viewBusy: false, viewWanted: false, viewVersion: -1,
  formFor: null, datasets: {},
  builtins: {}, plane: null,
  steps: null, stepAt: 0, stepsOpen: false, stepsKey: null, stepTimer: null, fragmentApplied: false,
  pendingSetup: null,
  showTest: true, discretize: false, planeUnit: null,  // the decision map's toggles, the hovered hidden unit
  limits: null, featureNames: null, gradcheck: null, stepExamples: 1, unitsOpen: false, units: null,
};

const listeners = [];

// fn(st) runs after each new server state.
export function onState(fn) { listeners.push(fn); }

export function receiveState(st) {
  // A command's response can arrive after a newer event from the stream: keep the newest state.
  if (S.state && st.version < S.state.version) return;
  const h = st.history;
  if (h.gen !== S.gen || h.start === 0) S.history = h.rows.slice();
  else if (h.start === S.history.length) S.history.push(...h.rows);
  else { refreshState(); return; }
  S.gen = h.gen;
  S.state = st;
  for (const fn of listeners) fn(st);
}

export async function refreshState() {
  const st = await run(() => api("/api/state"));
  if (st) receiveState(st);
}

// A command to the server (play, pause, step, reset, rewind): its reply is the new state.
export async function command(path, json) {
  const st = await run(() => api(path, json === undefined ? { method: "POST" } : { json }));
  if (st) receiveState(st);
  return st;
}
