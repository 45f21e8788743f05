// The feature toggles of a 2-D dataset, as in TensorFlow Playground: the network's inputs become the chosen features
// of each point (x₁, x₂, x₁², x₂², x₁x₂, sin x₁, sin x₂; the library's glassnet.datasets.features), while the maps are
// still drawn over (x₁, x₂). A change builds the new network at once, as Reset network does.
import { S } from "./state.js";
import { $, el, toast } from "./dom.js";
import { sub } from "./notation.js";

const RAW = ["x1", "x2"];

// The checkboxes for the state's dataset (2-D only), ticked as its network's inputs are.
export function renderFeatures(st, rebuild) {
  const box = $("features");
  if (!S.featureNames) {  // the choices come with /api/datasets (setup.js), which may answer after the first state
    setTimeout(() => S.state && renderFeatures(S.state, rebuild), 200);
    return;
  }
  const names = S.featureNames;
  const on = st.dataset.n === 2 && Object.keys(names).length > 0;
  box.hidden = !on;
  if (!on) return;
  const chosen = st.config.features || RAW;
  const key = JSON.stringify([chosen, Object.keys(names)]);
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.innerHTML = "";
  box.append(el("span", { class: "features-title", text: "Inputs (features of each point)" }));
  for (const [name, text] of Object.entries(names)) {
    const input = el("input", { type: "checkbox", value: name, "aria-label": `feature ${text}` });
    input.checked = chosen.includes(name);
    input.addEventListener("change", () => {
      if (!chosenFeatures().length) {
        input.checked = true;
        toast("the network needs at least one input: keep one feature ticked");
        return;
      }
      rebuild();
    });
    box.append(el("label", { class: "check feature" }, input, text));
  }
}

// The ticked features in the toggles' order.
export function chosenFeatures() {
  return [...$("features").querySelectorAll("input:checked")].map((i) => i.value);
}

// What a reset sends: the ticked features while the dataset stays the current 2-D one (another dataset starts from
// its own columns).
export function featureChoice() {
  const st = S.state;
  if (!st || st.dataset.n !== 2 || $("dataset").value !== st.config.dataset || $("features").hidden) return {};
  return { features: chosenFeatures() };
}

// The diagram's input units named by their feature (x₁², sin x₁, ...) when the network takes chosen features.
export function nameInputs(root) {
  const chosen = S.state && S.state.config.features, names = S.featureNames || {};
  if (!chosen) return;
  chosen.forEach((f, k) => {
    const unit = root.querySelector(`#unit-1-${k + 1}`);
    if (unit) unit.dataset.feature = f;
    const label = [...root.querySelectorAll("text.unit-name")].find((t) => t.textContent === `x${sub(k + 1)}`);
    if (label && names[f]) label.textContent = names[f];
  });
}
