// MathJax 3 configuration, read before the locally shipped tex-svg-full.js loads (no CDN: the site works offline).
// Only two kinds of element hold math, and only they are typeset (so a stray "$" elsewhere stays a dollar sign):
// - Markdown pages: pymdownx.arithmatex (generic) wraps math in .arithmatex as \( \) and \[ \];
// - notebook pages: nbconvert leaves $ $ and $$ $$ in the text of .jp-RenderedMarkdown cells.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true
  },
  startup: {
    elements: [".arithmatex", ".jp-RenderedMarkdown"]
  },
  svg: { fontCache: "global" }
};
