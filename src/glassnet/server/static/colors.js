// One colour convention for every picture: the diagram's sequential and diverging scales (the server sends them,
// from the library's diagram), the class colours, and the drawing of small images and grids.

export const COLORS = { sequential: [[0, [247, 251, 255]], [1, [8, 48, 107]]], diverging: [[-1, [33, 102, 172]],
  [0, [247, 247, 247]], [1, [178, 24, 43]]] };  // replaced by the diagram's own scales from /api/builtins
export const CLASS_COLORS = ["#2166ac", "#b2182b", "#1b7837", "#762a83", "#e08214", "#35978f", "#8c510a", "#c51b7d",
  "#4d4d4d", "#01665e"];

// What a reader calls each of them (the legends say "class 0 blue, class 1 red").
export const CLASS_COLOR_NAMES = ["blue", "red", "green", "purple", "orange", "teal", "brown", "pink", "grey", "dark teal"];

export function colorAt(anchors, t) {
  if (t <= anchors[0][0]) return anchors[0][1];
  for (let k = 1; k < anchors.length; k++) {
    const [t0, c0] = anchors[k - 1], [t1, c1] = anchors[k];
    if (t <= t1) {
      const f = t1 === t0 ? 0 : (t - t0) / (t1 - t0);
      return c0.map((v, n) => Math.round(v + f * (c1[n] - v)));
    }
  }
  return anchors[anchors.length - 1][1];
}
// Example images: the diagram's input ink (grey 255 = the largest value, drawn darkest).
export function inkColor(v) { const g = 255 - v; return [g, g, g]; }
// Θ⁽¹⁾ rows: grey 127.5 = 0; the diagram's edge colours, red positive, blue negative.
export function weightColor(v) { return colorAt(COLORS.diverging, v / 127.5 - 1); }
export const rgb = (c) => `rgb(${c[0]},${c[1]},${c[2]})`;

// A res × res grid (row 0 = smallest x2) as an image with x2 upwards.
export function gridCanvas(values, res, color) {
  const c = document.createElement("canvas");
  c.width = res; c.height = res;
  const img = new ImageData(res, res);
  for (let r = 0; r < res; r++) {
    for (let q = 0; q < res; q++) {
      const [R, G, B] = color(values[r][q], r, q);
      const p = 4 * ((res - 1 - r) * res + q);
      img.data[p] = R; img.data[p + 1] = G; img.data[p + 2] = B; img.data[p + 3] = 255;
    }
  }
  c.getContext("2d").putImageData(img, 0, 0);
  return c;
}

export function hexRgb(h) { return [1, 3, 5].map((k) => parseInt(h.slice(k, k + 2), 16)); }

// palette: grey level 0..255 -> [r, g, b]; the default is the diagram's ink (large values dark, as on paper).
export function drawImage(canvas, pixels, shape, size, palette = inkColor) {
  const [h, w] = shape;
  const img = new ImageData(w, h);
  for (let p = 0; p < h * w; p++) {
    const [r, g, b] = palette(pixels[p]);
    img.data[4 * p] = r; img.data[4 * p + 1] = g; img.data[4 * p + 2] = b; img.data[4 * p + 3] = 255;
  }
  const scale = Math.max(1, Math.floor(size / Math.max(h, w)));
  canvas.width = w * scale;
  canvas.height = h * scale;
  const small = document.createElement("canvas");
  small.width = w; small.height = h;
  small.getContext("2d").putImageData(img, 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, w * scale, h * scale);
}

// A class colour mixed with white: share 0 is white, 1 the class colour itself.
export const tint = (c, share) => c.map((v) => Math.round(255 - (255 - v) * share));
export const shade = (c, share) => c.map((v) => Math.round(v * share));
// The decision map of one output unit: two hues diverging at h = 0.5, the decision threshold: class 0's colour where
// h → 0, white at h = 0.5, class 1's colour where h → 1 (at most 60 % strong, so that points in their full class
// colour stand out on it).
export function decisionColor(h) {
  const k = h >= 0.5 ? 1 : 0;
  return tint(hexRgb(CLASS_COLORS[k]), 0.6 * Math.min(1, Math.abs(2 * h - 1)));
}
// A gradient check's relative error per weight: green below 1e-9 (backprop and the central difference agree), yellow
// around 1e-7, red from 1e-5 (a bug, or a kink of ReLU); grey when the weight was not checked.
export function errorColor(rel) {
  if (rel === null || rel === undefined || !Number.isFinite(rel)) return [150, 150, 150];
  const t = Math.max(0, Math.min(1, (Math.log10(Math.max(rel, 1e-300)) + 9) / 4));
  return colorAt([[0, [26, 152, 80]], [0.5, [230, 180, 20]], [1, [215, 48, 39]]], t);
}
