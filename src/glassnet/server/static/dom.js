// Small DOM helpers every view uses: $ by id, el and svg builders, number formats, the toast and run (an action
// whose failure becomes a toast naming what went wrong), and the explorer's root (setRoot): the page's body, or a
// notebook widget's own element inside its shadow root, so that two explorers in one notebook never share an id.
import { problem } from "./api.js";
import { superscript } from "./notation.js";

export const SVGNS = "http://www.w3.org/2000/svg";
let root = null;
// The element the explorer lives in (classes such as "two-d" and "present" go on it) and where ids are looked up:
// a document or a shadow root, both of which have getElementById and activeElement.
export function setRoot(node) { root = node; }
export const page = () => root || document.body;
const scope = () => (root ? root.getRootNode() : document);
export const $ = (id) => scope().getElementById(id);
export const focused = () => scope().activeElement;

export function fmt(v, digits = 4) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  const a = Math.abs(v);
  let s;
  if (v === 0) s = "0";
  else if (a >= 1e-3 && a < 1e5) s = String(Number(v.toPrecision(digits)));
  else s = v.toExponential(digits - 2).replace(/e([+-])(\d+)/, (_, sg, e) =>
    "×10" + (sg === "-" ? "⁻" : "") + superscript(e));
  return s.replace(/-/g, "−");
}
export const pct = (v) => (v === null || v === undefined ? "–" : (100 * v).toFixed(1) + "%");

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

export function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

export let toastTimer = null;
export function toast(message, bad = true) {
  const t = $("toast");
  t.textContent = message;
  t.className = "toast" + (bad ? " bad" : "");
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, bad ? 9000 : 3500);
}

export async function run(action) {
  try {
    return await action();
  } catch (e) {
    toast(problem(e));
    return null;
  }
}

export function kv(pairs) {
  const dl = el("dl", { class: "kv" });
  for (const [k, val] of pairs) dl.append(el("dt", { text: k }), el("dd", { text: val }));
  return dl;
}
