// + and − for the hidden layers and for the units of each, as in TensorFlow Playground: each press edits the hidden
// layer sizes and builds the new network at once (new random Θ, as Reset network does).
import { S } from "./state.js";
import { $, el } from "./dom.js";
import { parseHidden } from "./setup.js";

const NEW_LAYER = 4;  // the size of an added layer when there is none to copy

const limits = () => ({ layers: (S.limits && S.limits.hidden_layers) || 4, units: (S.limits && S.limits.units) || 1024 });

// The buttons for the sizes written in the hidden-layers field; rebuild(sizes) applies a change.
export function renderLayerButtons(rebuild) {
  const box = $("layer-buttons");
  const sizes = parseHidden($("hidden").value);
  box.innerHTML = "";
  if (sizes.some((s) => typeof s !== "number")) return;  // a typo in the field: its own message comes with Reset
  const lim = limits();
  const button = (text, title, disabled, next) => {
    const b = el("button", { type: "button", class: "pm", title, text, "aria-label": title });
    b.disabled = disabled;
    b.addEventListener("click", () => { $("hidden").value = next.join(", "); renderLayerButtons(rebuild); rebuild(); });
    return b;
  };
  box.append(el("div", { class: "pm-row" },
    button("−", "remove the last hidden layer", sizes.length === 0, sizes.slice(0, -1)),
    el("span", { class: "pm-count", text: `${sizes.length} hidden layer${sizes.length === 1 ? "" : "s"}` }),
    button("+", "add a hidden layer", sizes.length >= lim.layers, [...sizes, sizes[sizes.length - 1] || NEW_LAYER])));
  sizes.forEach((s, k) => {
    const with_ = (v) => sizes.map((x, n) => (n === k ? v : x));
    box.append(el("div", { class: "pm-row" },
      button("−", `one unit fewer in hidden layer ${k + 1}`, s <= 1, with_(s - 1)),
      el("span", { class: "pm-count", text: `layer ${k + 2}: ${s} unit${s === 1 ? "" : "s"}` }),
      button("+", `one unit more in hidden layer ${k + 1}`, s >= lim.units, with_(s + 1))));
  });
}
