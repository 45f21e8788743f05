"""The walk (:func:`glassnet.explain.walk`) as a self-contained HTML slide deck: one step per slide, arrow keys.

For: a lecture without a running explorer. :func:`slides_html` writes one page with a title slide and one slide per
frame of the walk: the lit diagram of :func:`glassnet.explain.animation.frame_layout` (inline SVG), the step's title
and the lecture's equation with the example's numbers. ← / → (also PageUp / PageDown, space, Home / End) move
between slides, ``#5`` in the address opens slide 5, and printing (or "Save as PDF") gives one slide per page. The
page loads nothing: no CDN, no fonts, no images from elsewhere. Each step's slide carries its numbers as JSON in
``data-values`` (quantity keys of :func:`glassnet.notation.quantity_key`). Not for: computing anything.
"""

from __future__ import annotations

import html
import json

from glassnet.explain.animation import frame_svgs
from glassnet.explain.text import format_number
from glassnet.explain.walkthrough import Walk

__all__ = ["slides_html"]

_CSS = """
html, body { margin: 0; height: 100%; background: #fff; color: #111;
  font-family: "DejaVu Sans", Verdana, Arial, sans-serif; }
.slide { display: none; box-sizing: border-box; height: 100vh; padding: 2.5vh 3vw 6vh; flex-direction: column; }
.slide.current { display: flex; }
.slide h1 { font-size: 3.2vw; margin: 18vh 0 2vh; }
.slide h2 { font-size: clamp(18px, 1.7vw, 34px); margin: 0 0 1vh; }
.slide .figure { flex: 0 1 auto; min-height: 0; }
.slide .figure svg { display: block; width: auto; height: auto; max-width: 100%; max-height: 60vh; }
.slide .eq { font-size: clamp(15px, 1.25vw, 26px); line-height: 1.45; margin: 1vh 0 0; white-space: pre-wrap; }
.slide .eq div:first-child { color: #333; }
.slide .eq .matrix { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; white-space: pre; }
.title-slide p { font-size: clamp(16px, 1.4vw, 28px); max-width: 70ch; line-height: 1.5; }
#counter { position: fixed; right: 2vw; bottom: 1.5vh; font-size: 14px; color: #555; }
#help { position: fixed; left: 3vw; bottom: 1.5vh; font-size: 14px; color: #555; }
@media print {
  @page { size: landscape; margin: 10mm; }
  html, body { height: auto; background: #fff; }
  .slide { display: flex !important; height: 185mm; page-break-after: always; break-after: page; padding: 0; }
  #counter, #help { display: none; }
  .slide .figure svg { max-height: 115mm; }
}
"""

_JS = """
(function () {
  const slides = Array.from(document.querySelectorAll(".slide"));
  const counter = document.getElementById("counter");
  let current = 0;
  function show(k) {
    current = Math.max(0, Math.min(slides.length - 1, k));
    slides.forEach((s, i) => s.classList.toggle("current", i === current));
    counter.textContent = (current + 1) + " / " + slides.length;
    if (location.hash !== "#" + (current + 1)) history.replaceState(null, "", "#" + (current + 1));
  }
  document.addEventListener("keydown", (e) => {
    const next = ["ArrowRight", "ArrowDown", "PageDown", " ", "Enter"];
    const prev = ["ArrowLeft", "ArrowUp", "PageUp", "Backspace"];
    if (next.includes(e.key)) { show(current + 1); e.preventDefault(); }
    else if (prev.includes(e.key)) { show(current - 1); e.preventDefault(); }
    else if (e.key === "Home") { show(0); e.preventDefault(); }
    else if (e.key === "End") { show(slides.length - 1); e.preventDefault(); }
  });
  document.addEventListener("click", (e) => { if (!e.target.closest("a")) show(current + 1); });
  const start = parseInt((location.hash || "#1").slice(1), 10);
  show(Number.isFinite(start) ? start - 1 : 0);
})();
"""


def _aligned(row: str) -> str:
    """A matrix row "[a  b  c]" with every entry right-aligned in a column of the same width (monospace)."""
    return "[" + " ".join(f"{v:>9}" for v in row.strip("[]").split()) + " ]"


def slides_html(walk: Walk, title: str = "Backpropagation, step by step") -> str:
    """The deck as one HTML document (a string): a title slide, then one slide per frame of ``walk``."""
    tr = walk.traces[0]
    sizes = "-".join(map(str, tr.sizes))
    e = html.escape
    parts = [f'<section class="slide title-slide" id="slide-0"><h1>{e(title)}</h1>'
             f"<p>Network {sizes}, {walk.m} example{'s' if walk.m > 1 else ''}, λ = {format_number(walk.lam)}. "
             f"For each example: forward layer by layer, the output error δ⁽ᴸ⁾, each hidden δ back along its "
             f"edges, its part of Δ; then D = Δ/m + (λ/m)Θ. Lit edges are the ones the step uses.</p>"
             f"<p>← → or a click: next step · Home / End · print for one slide per page.</p></section>"]
    for k, (frame, svg) in enumerate(zip(walk.frames, frame_svgs(walk, text=False, id_prefix="s")), start=1):
        lines = "".join(f'<div class="matrix">{e(_aligned(line))}</div>' if line.startswith("[") else
                        f"<div>{e(line)}</div>" for line in frame.step.lines)
        values = e(json.dumps(frame.values, ensure_ascii=False))
        parts.append(f'<section class="slide step" id="slide-{k}" data-phase="{frame.step.phase}" '
                     f'data-example="{frame.example or ""}" data-values="{values}">'
                     f"<h2>{e(frame.step.title)}</h2><div class=\"figure\">{svg.strip()}</div>"
                     f'<div class="eq">{lines}</div></section>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{e(title)}</title>"
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(parts)
            + '\n<div id="help">← → step · Home / End</div><div id="counter"></div>'
            + f"<script>{_JS}</script></body></html>\n")
