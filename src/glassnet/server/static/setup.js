// The setup: the form (dataset, network, units and cost, training settings), the built-ins' defaults, and the
// setup in the URL fragment (a shareable link without the access token).
import { api, modelUrl, problem } from "./api.js";
import { S, receiveState } from "./state.js";
import { $, el, page, run, toast } from "./dom.js";
import { COLORS } from "./colors.js";

export const formKey = (st) => `${st.dataset.name}|${st.history.gen}|${st.sizes.join("-")}`;

// The units and cost in use (the library's words for them), and whether the selects ask for others.
export const pairValue = (output, loss) => `${output}+${loss}`;

export function renderKinds(st) {
  const k = st.kinds, c = st.config;
  const chosen = $("activation").value && $("pair").value &&
    ($("activation").value !== c.activation || $("pair").value !== pairValue(c.output, c.loss));
  // short: the network panel's setup line has the formulas (the trace's), the options' titles too
  $("kinds").textContent = `in use: ${k.activation.name} hidden units · ${k.pair.output} outputs, ${k.pair.loss} ` +
    `cost${k.activation.name === "sigmoid" && k.pair.lecture ? " (the lecture's)" : ""} · δ⁽ᴸ⁾ = ${k.pair.delta}` +
    (chosen ? " · the chosen units and cost apply with Reset network" : "");
  $("kinds").title = `${k.activation.g}, g′(z) = ${k.activation.g_prime} · ${k.pair.cost}`;
  $("kinds").classList.toggle("pending", !!chosen);
}

export function fillKinds(c) {
  if ($("activation").options.length) $("activation").value = c.activation;
  if ($("pair").options.length) { $("pair").value = pairValue(c.output, c.loss); matchPairToTask(c.dataset); }
}

export function kindChoices(d) {
  const act = $("activation"), pair = $("pair");
  act.innerHTML = ""; pair.innerHTML = "";
  for (const a of d.activations) {
    act.append(el("option", { value: a.name, text: a.name + (a.name === d.activations[0].name ? " (lecture)" : ""),
      title: `${a.g}, g′(z) = ${a.g_prime}` }));
  }
  for (const p of d.pairs) {
    pair.append(el("option", { value: pairValue(p.output, p.loss),
      text: `${p.output} · ${p.loss} cost${p.lecture ? " (lecture)" : ""}`, title: `${p.cost} · δ⁽ᴸ⁾ = ${p.delta}` }));
  }
  const r = d.regression_pair;  // the regression sets' one pair: chosen with such a set, never by hand
  if (r) {
    pair.append(el("option", { value: pairValue(r.output, r.loss), text: `${r.output} · ${r.loss} cost (regression)`,
      title: `${r.cost} · δ⁽ᴸ⁾ = ${r.delta}`, class: "regression-pair" }));
  }
  if (S.state) { fillKinds(S.state.config); renderKinds(S.state); }
}

export function chosenKinds() {
  const [output, loss] = $("pair").value.split("+");
  return { activation: $("activation").value, output, loss };
}

// A regression set (plane, multi-gaussian) takes the identity output with the squared cost, and only that: the pair
// select shows it and is locked; a classification set gets the classifier pairs back (the lecture's first).
export function matchPairToTask(name) {
  const b = S.builtins[name], pair = $("pair"), r = pair.querySelector("option.regression-pair");
  if (!r || !Object.keys(S.builtins).length) return;  // the built-ins' tasks are not known yet
  const regression = !!b && b.task === "regression";
  r.disabled = !regression;
  if (regression) pair.value = r.value;
  else if (pair.value === r.value || !pair.value) pair.value = pair.options[0].value;
  pair.disabled = regression;
  pair.title = regression ? "a regression set: one identity output unit with the squared cost" : "";
}

export function fillForm(st) {
  S.formFor = formKey(st);
  const c = st.config;
  fillSetupForm(st);
  if ($("dataset").options.length === 0 || !S.datasets[c.dataset]) loadDatasets(c.dataset);
  else $("dataset").value = c.dataset;
  $("hidden").value = c.hidden.join(", ");
  fillKinds(c);
  $("seed").value = c.seed;
  $("lam").value = c.lam;
  $("optimizer").value = c.optimizer;
  $("lr").value = c.learning_rate;
  $("batch").value = c.batch_size;
  $("max-iter").value = c.max_iter;
  const delay = $("delay");
  if (![...delay.options].some((o) => o.value === String(c.delay_ms))) {
    delay.append(el("option", { value: String(c.delay_ms), text: `${c.delay_ms} ms per iteration` }));
  }
  delay.value = String(c.delay_ms);
  markMinibatch();
  const hasImages = !!st.dataset.image_shape;
  $("hidden-panel").hidden = !hasImages;
  $("export").href = modelUrl();
  if (S.index >= (S.split === "train" ? st.dataset.m_train : st.dataset.m_val)) S.index = 0;
  $("index").value = S.index;
}

export async function loadDatasets(current) {
  const d = await run(() => api("/api/datasets"));
  if (!d) return;
  S.datasets = d.datasets;
  S.limits = d.limits;
  S.featureNames = d.features;
  kindChoices(d);
  const sel = $("dataset");
  sel.innerHTML = "";
  for (const [name, description] of Object.entries(d.datasets)) {
    sel.append(el("option", { value: name, text: name, title: description }));
  }
  sel.value = current;
}

export function markMinibatch() {
  const mb = ["sgd", "adam"].includes($("optimizer").value);
  for (const n of page().querySelectorAll(".minibatch")) n.classList.toggle("off", !mb);
}

export function settings() {
  return {
    lam: Number($("lam").value), optimizer: $("optimizer").value, learning_rate: Number($("lr").value),
    batch_size: Number($("batch").value), max_iter: Number($("max-iter").value), delay_ms: Number($("delay").value),
  };
}

export function parseHidden(text) {
  const t = text.trim();
  if (!t) return [];
  return t.split(/[\s,;x×-]+/).filter(Boolean).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

export async function loadBuiltins() {
  const b = await run(() => api("/api/builtins"));
  if (!b) return;
  S.builtins = b.datasets;
  COLORS.sequential = b.colors.sequential;
  COLORS.diverging = b.colors.diverging;
}

// ------------------------------------------------------------------ dataset defaults, noise and split
export function applyDatasetDefaults(name) {
  const b = S.builtins[name];
  if (!b) return;
  const t = b.training || {};
  if (t.hidden) $("hidden").value = t.hidden.join(", ");
  if (t.lam !== undefined) $("lam").value = t.lam;
  if (t.max_iter !== undefined) $("max-iter").value = t.max_iter;
  if (b.noise !== null) $("noise").value = b.noise;
  matchPairToTask(name);
}

export function setupExtras() {
  const out = { validation_fraction: Number($("val-share").value) };
  const b = S.builtins[$("dataset").value];
  if (b && b.noise !== null) out.noise = Number($("noise").value);
  return out;
}

export function fillSetupForm(st) {
  const noisy = st.dataset.noise !== null && st.dataset.noise !== undefined;
  for (const n of page().querySelectorAll(".only-2d")) n.hidden = !noisy;
  if (noisy) $("noise").value = st.dataset.noise;
  // Playground's regression noise moves where a target is read, by up to noise·6 per coordinate (not a σ)
  $("noise-label").textContent = st.dataset.task === "regression" ? "Noise (target read up to noise·6 away)"
    : "Noise (σ of the points)";
  $("val-share").value = st.config.validation_fraction;
}

// ------------------------------------------------------------------ the setup in the URL fragment
// Only settings travel: never the access token (it stays in the query string, which the fragment never copies).
export function setupFragment(st) {
  const c = st.config;
  const q = new URLSearchParams();
  q.set("dataset", c.dataset);
  if (st.dataset.noise !== null && st.dataset.noise !== undefined) q.set("noise", String(st.dataset.noise));
  q.set("hidden", c.hidden.join("-"));
  q.set("act", c.activation);
  q.set("out", c.output);
  q.set("loss", c.loss);
  q.set("lam", String(c.lam));
  q.set("optimizer", c.optimizer);
  q.set("seed", String(c.seed));
  q.set("lr", String(c.learning_rate));
  q.set("batch", String(c.batch_size));
  q.set("iter", String(c.max_iter));
  q.set("val", String(c.validation_fraction));
  return q.toString();
}

export function writeFragment(st) {
  // an uploaded dataset is written too: the address then reloads to it, not to the built-in shown before the upload
  if (!S.fragmentApplied || S.pendingSetup) return;
  const f = setupFragment(st);
  if (location.hash.slice(1) !== f) history.replaceState(null, "", "#" + f);
}

export function fragmentSetup() {
  const q = new URLSearchParams(location.hash.slice(1));
  if (!q.get("dataset")) return null;
  const num = (k) => (q.has(k) && q.get(k) !== "" && Number.isFinite(Number(q.get(k))) ? Number(q.get(k)) : undefined);
  const body = { dataset: q.get("dataset"), noise: num("noise"), lam: num("lam"), seed: num("seed"),
    learning_rate: num("lr"), batch_size: num("batch"), max_iter: num("iter"), validation_fraction: num("val"),
    optimizer: q.get("optimizer") || undefined, activation: q.get("act") || undefined,
    output: q.get("out") || undefined, loss: q.get("loss") || undefined };
  if (q.has("hidden")) body.hidden = q.get("hidden") === "" ? [] : q.get("hidden").split("-").map(Number);
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  return body;
}

// A link whose network has this many weights or more asks before building it: training it and its views take much
// memory and time, and a shared link would otherwise build it on page load.
const LARGE_WEIGHTS = 100_000;

// The weights Σ s_(l+1)(s_l + 1) of the link's network: inputs and outputs as the current dataset's when the link names
// it, else 1 (a lower bound: other datasets' sizes are not known here). null when the link keeps the current layers.
function linkNetwork(body, st) {
  if (!body.hidden) return null;
  const same = body.dataset === st.config.dataset;
  const sizes = [same ? st.sizes[0] : 1, ...body.hidden, same ? st.sizes[st.sizes.length - 1] : 1];
  let weights = 0;
  for (let l = 0; l + 1 < sizes.length; l++) weights += sizes[l + 1] * (sizes[l] + 1);
  return { sizes, weights, exact: same };
}

// Whether to build the link's network: yes for a small one; a large one is built only if the person says so.
function confirmLarge(body, st) {
  const net = linkNetwork(body, st);
  if (!net || net.weights < LARGE_WEIGHTS) return true;
  const mb = (net.weights * 8 / 2 ** 20).toFixed(net.weights * 8 < 10 * 2 ** 20 ? 1 : 0);
  return window.confirm(`This link sets up a large network: ${net.sizes.join("-")}, ` +
    `${net.exact ? "" : "at least "}${net.weights.toLocaleString("en")} weights (${mb} MB as 64-bit floats; ` +
    "training and its maps and steps need several times that in memory, and take long).\n\n" +
    "Build it? Cancel keeps the current network.");
}

export async function applyFragmentOnce() {
  const body = fragmentSetup();
  if (body && S.state && setupFragment(S.state) !== location.hash.slice(1) && !confirmLarge(body, S.state)) {
    toast("the link's large network was not built: the current one is kept", false);
  } else if (body && S.state && setupFragment(S.state) !== location.hash.slice(1)) {
    let st = null;
    try {
      st = await api("/api/reset", { json: body });
    } catch (e) {
      // e.g. the link names a data file uploaded elsewhere: the setup waits until that file is uploaded here
      S.pendingSetup = body;
      toast(problem(e));
    }
    if (st) { receiveState(st); S.formFor = null; fillForm(st); toast("setup from the link applied", false); }
  }
  S.fragmentApplied = true;
  if (S.state) writeFragment(S.state);
}

export async function copySetupLink() {
  if (!S.state) return;
  // origin + path + fragment: the query string (where the access token travels) is left out on purpose.
  const link = location.origin + location.pathname + "#" + setupFragment(S.state);
  try {
    await navigator.clipboard.writeText(link);
    const upload = S.state.dataset.upload;
    toast("Link copied (no access token in it). On another machine, put the part from # onto the address " +
      "its glassnet serve printed" + (upload ? `, then upload ${upload} there with "Upload a data file".` : "."), false);
  } catch (e) {
    window.prompt("Copy this link (no access token in it):", link);
  }
}
