// The galleries: misclassified (or all) examples and the hidden units drawn as images; refreshed at most once a
// second while training.
import { api } from "./api.js";
import { S } from "./state.js";
import { $, el, fmt, pct } from "./dom.js";
import { follower } from "./follow.js";
import { drawImage, weightColor } from "./colors.js";
import { selectExample, selectUnit } from "./network.js";
import { renderMarks } from "./marks.js";

// Fetched again when the state changes, at most once a second (follow.js).
const side = follower(1000, async () => {
  const [split, which] = $("examples-which").value.split(":");
  const [ex, hid] = await Promise.all([
    api(`/api/examples?split=${split}&which=${which}`),
    S.state && S.state.dataset.image_shape ? api("/api/hidden?limit=100") : Promise.resolve(null),
  ]);
  renderExamples(ex);
  if (hid) renderHidden(hid);
  return ex.version;
});
export const maybeRefreshSide = side.follow;
export const refreshSide = side.now;

export function renderExamples(ex) {
  const box = $("examples");
  box.innerHTML = "";
  const title = ex.which === "misclassified"
    ? `Misclassified ${ex.split === "val" ? "validation" : "training"} examples: ${ex.total}`
    : `Validation examples: ${ex.total}`;
  // the server says how much of the gallery is shown ("48 of 1353 shown"), empty when all of it is
  $("examples-title").textContent = ex.shown ? `${title} · ${ex.shown}` : title;
  $("examples-which").hidden = !!ex.regression;  // its choices are about classes
  if (ex.regression) {  // real targets: nothing is misclassified; the map shows each point's error
    $("examples-title").textContent = "Examples: a regression set";
    box.append(el("p", { class: "hint", text: "Regression: the targets are real numbers, so no example is " +
      "misclassified. The output map shows each point's target y in the colour of the predicted h behind it: a point " +
      "that stands out from its background is one the network gets wrong. Pick an example by its index in the " +
      "Example panel to follow it through the network." }));
    return;
  }
  if (!ex.items.length) {
    const none = S.state && (ex.split === "val" ? S.state.dataset.m_val : S.state.dataset.m_train) === 0;
    box.append(el("p", { class: "hint", text: none && ex.split === "val"
      ? "No validation examples: the validation share is 0 (every example is a training example)."
      : ex.total === 0 && ex.which === "misclassified" && !none
        ? "None: every example of this set is classified correctly." : "No examples." }));
    return;
  }
  if (!ex.image_shape && S.state && S.state.dataset.n === 2 && ex.which === "misclassified") {
    renderMarks(box, ex, S.plane && S.plane.extent, selectExample);  // 2-D: marks where they lie, not numbers
    return;
  }
  for (const it of ex.items) {
    const b = el("button", { type: "button", class: "thumb", title: `example ${it.index}: label ${ex.classes[it.label]}, ` +
      `predicted ${ex.classes[it.prediction]} (${pct(it.confidence)})` });
    b.dataset.split = ex.split;
    b.dataset.index = it.index;
    if (it.pixels) {
      const c = el("canvas");
      drawImage(c, it.pixels, ex.image_shape, 48);
      b.append(c);
    } else b.append(el("span", { class: "vec", text: it.x.map((v) => fmt(v, 2)).join(" ") }));
    b.append(el("span", { class: it.label === it.prediction ? "ok" : "wrong",
      text: `${ex.classes[it.label]}→${ex.classes[it.prediction]}` }));
    b.addEventListener("click", () => selectExample(ex.split, it.index));
    if (S.split === ex.split && S.index === it.index) b.classList.add("on");
    box.append(b);
  }
}

export function renderHidden(hid) {
  const box = $("hidden-units");
  box.innerHTML = "";
  hid.units.forEach((pixels, n) => {
    const b = el("button", { type: "button", class: "thumb", title: `hidden unit ${n + 1} of layer 2` });
    const c = el("canvas");
    drawImage(c, pixels, hid.image_shape, 44, weightColor);
    b.append(c, el("span", { text: String(n + 1) }));
    b.addEventListener("click", () => selectUnit(2, n + 1));
    box.append(b);
  });
  if (hid.total > hid.units.length) {
    box.append(el("p", { class: "hint", text: `first ${hid.units.length} of ${hid.total} units` }));
  }
}
