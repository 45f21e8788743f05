// glassnet explorer: the page. Plain JavaScript (an ES module); every number comes from the server's /api endpoints.
// State changes arrive as server-sent events (/api/events); the network view is re-fetched when the state's
// version changes, at most one request in flight.
import { sub, sup, superscript, thetaName } from "./notation.js";

(() => {
  const TOKEN = new URLSearchParams(location.search).get("token") || "";
  // The token stays in memory for the page's requests; the address bar (history, bookmarks, screen shares) loses it.
  if (TOKEN) history.replaceState(null, "", location.pathname + location.hash);
  const SVGNS = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);

  const S = {
    state: null, history: [], gen: null,
    split: "train", index: 0, mode: "forward", unit: null, edge: null,
    view: null, viewBusy: false, viewWanted: false, viewVersion: -1,
    sideVersion: -1, sideBusy: false, sideAt: 0,
    formFor: null, datasets: {},
  };

  // ------------------------------------------------------------------ helpers
  class ApiError extends Error {
    constructor(status, detail) { super(detail); this.status = status; }
  }

  // What a failed request tells the user: the server's message, which names the setting or file and what it expects
  // (the HTTP status is for the console, not for the reader).
  function problem(e) {
    return e instanceof ApiError ? e.message : String(e);
  }

  async function api(path, opts = {}) {
    const headers = { "X-Glassnet-Token": TOKEN };
    let body = opts.body;
    if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.json);
    }
    const method = opts.method || (body !== undefined ? "POST" : "GET");
    const r = await fetch(path, { method, headers, body, cache: "no-store" });
    if (!r.ok) {
      let detail = r.statusText;
      try { detail = (await r.json()).detail || detail; } catch (e) { /* not JSON */ }
      throw new ApiError(r.status, detail);
    }
    return r.json();
  }

  function fmt(v, digits = 4) {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    const a = Math.abs(v);
    let s;
    if (v === 0) s = "0";
    else if (a >= 1e-3 && a < 1e5) s = String(Number(v.toPrecision(digits)));
    else s = v.toExponential(digits - 2).replace(/e([+-])(\d+)/, (_, sg, e) =>
      "×10" + (sg === "-" ? "⁻" : "") + superscript(e));
    return s.replace(/-/g, "−");
  }
  const pct = (v) => (v === null || v === undefined ? "–" : (100 * v).toFixed(1) + "%");

  function el(tag, attrs = {}, ...children) {
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

  function svg(tag, attrs = {}) {
    const node = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  }

  let toastTimer = null;
  function toast(message, bad = true) {
    const t = $("toast");
    t.textContent = message;
    t.className = "toast" + (bad ? " bad" : "");
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, bad ? 9000 : 3500);
  }

  async function run(action) {
    try {
      return await action();
    } catch (e) {
      toast(problem(e));
      return null;
    }
  }

  // palette: grey level 0..255 -> [r, g, b]; the default is the diagram's ink (large values dark, as on paper).
  function drawImage(canvas, pixels, shape, size, palette = inkColor) {
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

  // ------------------------------------------------------------------ state from the server
  function onState(st) {
    // A command's response can arrive after a newer event from the stream: keep the newest state.
    if (S.state && st.version < S.state.version) return;
    const h = st.history;
    if (h.gen !== S.gen || h.start === 0) S.history = h.rows.slice();
    else if (h.start === S.history.length) S.history.push(...h.rows);
    else { refreshState(); return; }
    S.gen = h.gen;
    S.state = st;
    renderHeader(st);
    renderTimeline(st);
    renderCurves();
    if (S.formFor !== formKey(st)) fillForm(st);
    if (st.version !== S.viewVersion) requestView();
    maybeRefreshSide(st);
    maybeRefreshPlane(st);
    writeFragment(st);
  }

  const formKey = (st) => `${st.dataset.name}|${st.history.gen}|${st.sizes.join("-")}`;

  async function refreshState() {
    const st = await run(() => api("/api/state"));
    if (st) onState(st);
  }

  function connect() {
    const es = new EventSource("/api/events?token=" + encodeURIComponent(TOKEN));
    es.addEventListener("state", (ev) => onState(JSON.parse(ev.data)));
    es.onopen = () => { $("conn").textContent = "live"; $("conn").className = "conn live"; };
    es.onerror = () => { $("conn").textContent = "reconnecting…"; $("conn").className = "conn down"; };
  }

  function renderHeader(st) {
    const pill = $("status");
    pill.textContent = st.status;
    pill.className = "pill " + st.status;
    const c = st.current;
    const parts = [`iteration <b>${st.iteration}</b>`, `J = <b id="J">${fmt(c.J, 5)}</b>`, `train acc ${pct(c.acc)}`];
    if (c.J_val !== null) parts.push(`validation cost ${fmt(c.J_val)}`, `validation acc ${pct(c.acc_val)}`);
    $("metrics").innerHTML = parts.join(" · ");
    const banner = $("error-banner");
    if (st.status === "error" && st.error) {
      banner.textContent = st.error + "\nThe server is still running: change a setting and press Play or Reset.";
      banner.hidden = false;
    } else banner.hidden = true;
    const message = st.status === "done" ? `Run finished: ${st.message}. Play starts another run of ` +
      `${st.config.max_iter} iterations from here.` : st.status === "running" ? `Training with ${st.config.optimizer}…` : "";
    $("run-message").textContent = message;
    $("play").disabled = st.status === "running";
    $("pause").disabled = st.status !== "running";
    const ds = st.dataset;
    $("sizes").textContent = `network ${st.sizes.join("-")} · ${ds.m_train} training / ${ds.m_val} validation ` +
      `examples · K = ${st.sizes[st.sizes.length - 1]}`;
    renderKinds(st);
  }

  // The units and cost in use (the library's words for them), and whether the selects ask for others.
  const pairValue = (output, loss) => `${output}+${loss}`;

  function renderKinds(st) {
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

  function fillKinds(c) {
    if ($("activation").options.length) $("activation").value = c.activation;
    if ($("pair").options.length) $("pair").value = pairValue(c.output, c.loss);
  }

  function kindChoices(d) {
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
    if (S.state) { fillKinds(S.state.config); renderKinds(S.state); }
  }

  function chosenKinds() {
    const [output, loss] = $("pair").value.split("+");
    return { activation: $("activation").value, output, loss };
  }

  function renderTimeline(st) {
    const sn = st.snapshots;
    const tl = $("timeline");
    tl.max = String(Math.max(0, sn.count - 1));
    if (document.activeElement !== tl) tl.value = String(sn.cursor);
    $("snapinfo").textContent = `snapshot ${sn.cursor + 1} of ${sn.count} · iteration ${sn.iteration} · ${sn.label}`;
    $("back").disabled = sn.cursor <= 0;
    $("forward").disabled = sn.cursor >= sn.count - 1;
  }

  function fillForm(st) {
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
    $("export").href = "/api/model?token=" + encodeURIComponent(TOKEN);
    if (S.index >= (S.split === "train" ? st.dataset.m_train : st.dataset.m_val)) S.index = 0;
    $("index").value = S.index;
  }

  async function loadDatasets(current) {
    const d = await run(() => api("/api/datasets"));
    if (!d) return;
    S.datasets = d.datasets;
    kindChoices(d);
    const sel = $("dataset");
    sel.innerHTML = "";
    for (const [name, description] of Object.entries(d.datasets)) {
      sel.append(el("option", { value: name, text: name, title: description }));
    }
    sel.value = current;
  }

  function markMinibatch() {
    const mb = ["sgd", "adam"].includes($("optimizer").value);
    for (const n of document.querySelectorAll(".minibatch")) n.classList.toggle("off", !mb);
  }

  // ------------------------------------------------------------------ curves
  function renderCurves() {
    const box = $("curves");
    const W = Math.max(300, box.clientWidth || 600), H = 230;
    box.setAttribute("viewBox", `0 0 ${W} ${H}`);
    box.innerHTML = "";
    // The curves start at the weights the run started from (iteration 0), then one point per iteration.
    const initial = S.state && S.state.history.initial;
    const rows = initial && (!S.history.length || S.history[0].iteration === 1) ? [initial, ...S.history] : S.history;
    const L = 52, R = 44, T = 10, B = 28;
    const cursorIt = S.state ? S.state.iteration : 0;
    const maxIt = Math.max(1, rows.length ? rows[rows.length - 1].iteration : 1, cursorIt);
    let maxJ = 0;
    for (const r of rows) maxJ = Math.max(maxJ, r.J || 0, r.J_val || 0);
    if (S.state) maxJ = Math.max(maxJ, S.state.current.J || 0);
    maxJ = maxJ > 0 ? maxJ * 1.05 : 1;
    const x = (it) => L + (W - L - R) * (it / maxIt);
    const yJ = (v) => T + (H - T - B) * (1 - v / maxJ);
    const yA = (v) => T + (H - T - B) * (1 - v);
    // grid and axes
    for (let k = 0; k <= 4; k++) {
      const y = T + (H - T - B) * k / 4;
      box.append(svg("line", { x1: L, x2: W - R, y1: y, y2: y, stroke: "#eceff3" }));
      const tl = svg("text", { x: L - 6, y: y + 4, "text-anchor": "end" });
      tl.textContent = fmt(maxJ * (1 - k / 4), 3);
      box.append(tl);
      const tr = svg("text", { x: W - R + 6, y: y + 4 });
      tr.textContent = `${100 - 25 * k}%`;
      box.append(tr);
    }
    box.append(svg("line", { x1: L, x2: L, y1: T, y2: H - B, stroke: "#9aa3ad" }));
    box.append(svg("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, stroke: "#9aa3ad" }));
    // Round iteration ticks: a step of 1, 2 or 5 × 10^k giving at most 8 labels.
    const raw = maxIt / 8, mag = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1))));
    const tick = [1, 2, 5, 10].map((f) => f * mag).find((t) => t >= raw) || 10 * mag;
    for (let it = 0; it <= maxIt; it += Math.max(1, tick)) {
      const t = svg("text", { x: x(it), y: H - B + 16, "text-anchor": "middle" });
      t.textContent = String(it);
      box.append(t);
    }
    const xl = svg("text", { x: W - R, y: H - 2, "text-anchor": "end" });
    xl.textContent = "iteration";
    box.append(xl);
    const step = Math.max(1, Math.ceil(rows.length / 800));
    const series = [  // validation first, so that the training curves are drawn on top
      ["acc_val", yA, "var(--val)", true], ["J_val", yJ, "var(--val)", false],
      ["acc", yA, "var(--train)", true], ["J", yJ, "var(--train)", false],
    ];
    for (const [key, y, color, dashed] of series) {
      const pts = [];
      for (let n = 0; n < rows.length; n += step) {
        const v = rows[n][key];
        if (v !== null && v !== undefined) pts.push(`${x(rows[n].iteration).toFixed(1)},${y(v).toFixed(1)}`);
      }
      if (rows.length && (rows.length - 1) % step) {
        const last = rows[rows.length - 1];
        if (last[key] !== null) pts.push(`${x(last.iteration).toFixed(1)},${y(last[key]).toFixed(1)}`);
      }
      if (pts.length) {
        box.append(svg("polyline", { points: pts.join(" "), fill: "none", stroke: color, "stroke-width": 2,
          "stroke-dasharray": dashed ? "5 4" : "none", class: `series-${key}` }));
        const [px, py] = pts[pts.length - 1].split(",");
        box.append(svg("circle", { cx: px, cy: py, r: dashed ? 2.5 : 3.5, fill: dashed ? "#fff" : color,
          stroke: color, "stroke-width": 1.5 }));
      }
    }
    box.append(svg("line", { x1: x(cursorIt), x2: x(cursorIt), y1: T, y2: H - B, stroke: "#f59e0b",
      "stroke-width": 1.5, "stroke-dasharray": "3 3" }));
    const legend = $("curve-legend");
    if (!legend.childElementCount) {
      for (const [text, color, dashed] of [["J training (with λ)", "#1f5fae", false], ["validation cost", "#d9730d", false],
        ["training accuracy", "#1f5fae", true], ["validation accuracy", "#d9730d", true]]) {
        const swatch = el("i", { class: dashed ? "dash" : "" });
        swatch.style.borderTopColor = color;
        legend.append(el("span", {}, swatch, text));
      }
    }
  }

  // ------------------------------------------------------------------ the network view
  function requestView() {
    S.viewWanted = true;
    if (!S.viewBusy) loadView();
  }

  async function loadView() {
    S.viewBusy = true;
    S.viewWanted = false;
    const q = new URLSearchParams({ split: S.split, index: String(S.index), mode: S.mode });
    if (S.unit) q.set("unit", `${S.unit.l}:${S.unit.j}`);
    if (S.edge) q.set("edge", `${S.edge.l}:${S.edge.i}:${S.edge.j}`);
    try {
      const v = await api("/api/view?" + q.toString());
      S.view = v;
      S.viewVersion = v.version;
      renderView(v);
    } catch (e) {
      if (e instanceof ApiError && e.status === 422 && (S.unit || S.edge)) {
        S.unit = null; S.edge = null; S.viewWanted = true;   // the selection no longer exists (new network)
      } else if (e instanceof ApiError && e.status === 422 && S.index !== 0) {
        S.index = 0; $("index").value = 0; S.viewWanted = true;
      } else toast(problem(e));
    } finally {
      S.viewBusy = false;
      if (S.viewWanted) setTimeout(loadView, 150);
    }
  }

  function renderView(v) {
    const net = $("net");
    net.innerHTML = v.svg;
    $("setup").textContent = v.setup;
    const root = net.querySelector("svg");
    if (root) {
      root.removeAttribute("width");
      root.removeAttribute("height");
      // Thin edges are hard to hit: lay a wide transparent twin under each one.
      for (const e of root.querySelectorAll("line.edge")) {
        const hit = svg("line", { x1: e.getAttribute("x1"), y1: e.getAttribute("y1"), x2: e.getAttribute("x2"),
          y2: e.getAttribute("y2"), class: "edge-hit" });
        for (const k of ["l", "i", "j"]) hit.dataset[k] = e.dataset[k];
        e.parentNode.insertBefore(hit, e);
      }
      if (S.unit) {
        const u = root.querySelector(`#unit-${S.unit.l}-${S.unit.j}`);
        if (u) u.classList.add("selected");
      }
      if (S.edge) {
        const e = root.querySelector(`#edge-${S.edge.l}-${S.edge.i}-${S.edge.j}`);
        if (e) e.classList.add("selected");
      }
    }
    renderExample(v);
    renderDetail(v);
    decorateDiagram();
  }

  function renderExample(v) {
    const canvas = $("example-image");
    if (v.pixels) {
      canvas.hidden = false;
      drawImage(canvas, v.pixels, v.image_shape, 112);
    } else canvas.hidden = true;
    const ok = v.prediction === v.label;
    const info = $("example-info");
    info.innerHTML = "";
    info.append(
      el("div", { class: "big " + (ok ? "ok" : "wrong"),
        text: `label ${v.classes[v.label]} · predicted ${v.classes[v.prediction]}` }),
      el("div", { text: `${S.split === "train" ? "training" : "validation"} example ${v.index}` }),
      el("div", { text: `cost of this example: ${fmt(v.cost)}` }),
    );
    if (!v.pixels && v.x) {
      const shown = v.x.slice(0, 8).map((value) => fmt(value, 3)).join(", ");
      info.append(el("div", { class: "hint", text: `x = (${shown}${v.x.length > 8 ? ", …" : ""})` }));
    }
    const bars = $("outputs");
    bars.innerHTML = "";
    const K = v.output.length;
    for (let k = 0; k < K; k++) {
      const h = v.output[k];
      const name = v.unit_names ? v.unit_names[k] : K === 1 ? `h · P(${v.classes[1]})` : `h${sub(k + 1)} · ${v.classes[k]}`;
      const isTarget = K === 1 ? false : k === v.label;
      const isPred = K === 1 ? false : k === v.prediction;
      const fill = el("i", { class: isTarget ? "target" : isPred ? "pred" : "" });
      fill.style.width = `${(100 * h).toFixed(1)}%`;
      bars.append(el("span", { text: name }), el("div", { class: "bar" }, fill),
        el("span", { text: fmt(h, 3) }));
    }
  }

  function kv(pairs) {
    const dl = el("dl", { class: "kv" });
    for (const [k, val] of pairs) dl.append(el("dt", { text: k }), el("dd", { text: val }));
    return dl;
  }

  function termsTable(terms, l, j) {
    const max = Math.max(1e-300, ...terms.map((t) => Math.abs(t.term)));
    const table = el("table", { class: "terms" });
    table.append(el("tr", {}, el("th", { text: "i" }), el("th", { text: `Θ${sub("i")}${sub(j)}${sup(l)}` }),
      el("th", { text: `δ${sub("i")}${sup(l + 1)}` }), el("th", { text: "Θ·δ" }), el("th", { text: "" })));
    const order = terms.map((t, n) => n).sort((a, b) => Math.abs(terms[b].term) - Math.abs(terms[a].term));
    for (const n of order.slice(0, 60)) {
      const t = terms[n];
      const bar = el("div", { class: "tbar " + (t.term >= 0 ? "pos" : "neg") });
      bar.style.width = `${(100 * Math.abs(t.term) / max).toFixed(1)}%`;
      const row = el("tr", { class: "pick", title: `select the edge ${thetaName(l, t.i, j)}` },
        el("td", { text: String(t.i) }), el("td", { text: fmt(t.theta) }), el("td", { text: fmt(t.delta) }),
        el("td", { text: fmt(t.term) }), el("td", { class: "barcell" }, bar));
      row.addEventListener("click", () => selectEdge(l, t.i, j));
      table.append(row);
    }
    return el("div", { class: "terms-wrap" }, table);
  }

  function renderDetail(v) {
    const box = $("detail");
    const title = $("detail-title");
    if (v.edge) { renderEdge(v.edge); return; }
    delete box.dataset.edge;
    box.innerHTML = "";
    if (v.unit) {
      const u = v.unit;
      const L = v.sizes.length;
      if (u.kind === "input") {
        title.textContent = `Input unit ${u.j} (layer 1)`;
        let where = "";
        if (v.image_shape) {
          const w = v.image_shape[1];
          where = ` · pixel row ${Math.floor((u.j - 1) / w) + 1}, column ${((u.j - 1) % w) + 1}`;
        }
        box.append(kv([[`x${sub(u.j)} = a${sub(u.j)}${sup(1)}`, fmt(u.a) + where]]),
          el("p", { class: "hint", text: "Inputs have no δ. Their outgoing edge terms Θ·δ add up to ∂cost/∂x:" }));
      } else {
        title.textContent = `Unit ${u.j} of layer ${u.l} (${u.kind})`;
        // This layer's activation: g of the lecture's all-sigmoid network, else by name (the output's may differ
        // from the hidden units'); g′ is the hidden activation's, or the output's a(1 − a) (softmax: the diagonal
        // of its Jacobian; δ⁽ᴸ⁾ needs no g′ with a log cost).
        const k = S.state && S.state.kinds, out = u.kind === "output";
        const named = k && !(k.activation.name === "sigmoid" && k.pair.output === "sigmoid");
        const gName = !named ? "g" : out ? k.pair.output : k.activation.name;
        const aText = gName === "softmax" ? `softmax(z)${sub(u.j)}` : `${gName}(z)`;
        const gPrime = k && !out ? k.activation.g_prime : "a(1 − a)";
        const pairs = [[`z${sub(u.j)}${sup(u.l)}`, fmt(u.z)], [`a${sub(u.j)}${sup(u.l)} = ${aText}`, fmt(u.a)],
          [`g′(z) = ${gPrime}`, fmt(u.gprime)], [`δ${sub(u.j)}${sup(u.l)} = ∂cost/∂z`, fmt(u.delta)]];
        if (u.kind === "output") pairs.push([`y${sub(u.j)}`, fmt(u.target)]);
        box.append(kv(pairs), el("div", { class: "equation", id: "equation", text: u.equation }));
      }
      if (u.terms && u.l < L) {
        box.append(el("p", { class: "hint",
          text: `Outgoing edge terms Θ${sub("i")}${sub(u.j)}${sup(u.l)}·δ${sub("i")}${sup(u.l + 1)} ` +
            `(sum ${fmt(u.sum)}); click a row to select that edge:` }), termsTable(u.terms, u.l, u.j));
      }
      return;
    }
    title.textContent = "Selection";
    box.append(el("p", { class: "hint", text: "Nothing selected: click a unit or an edge in the network." }));
  }

  function edgeNumbers(e) {
    return kv([
      [`a${sub(e.j)}${sup(e.l)}`, fmt(e.a_j) + (e.j === 0 ? " (bias)" : "")],
      [`δ${sub(e.i)}${sup(e.l + 1)}`, fmt(e.delta_i)],
      ["edge term Θ·δ", fmt(e.term)],
      ["this example's δ·a", fmt(e.example_gradient)],
      [`∂J/∂${thetaName(e.l, e.i, e.j)} = D`, fmt(e.D)],
      ["J (all training examples)", fmt(S.state ? S.state.current.J : null, 6)],
    ]);
  }

  function renderEdge(e) {
    // The editor stays in place while the numbers refresh, so typing a value is not undone by live updates.
    const box = $("detail");
    const key = `${e.l}:${e.i}:${e.j}`;
    S.edgeTheta = e.theta;
    if (box.dataset.edge === key && $("theta-value")) {
      const input = $("theta-value");
      if (document.activeElement !== input && !input.dataset.dirty) input.value = String(e.theta);
      $("edge-numbers").replaceChildren(edgeNumbers(e));
      $("weight-change").textContent = S.pendingChange || "";
      return;
    }
    box.dataset.edge = key;
    box.innerHTML = "";
    const from = e.j === 0 ? `the bias unit of layer ${e.l}` : `unit ${e.j} of layer ${e.l}`;
    $("detail-title").textContent = `Weight ${thetaName(e.l, e.i, e.j)}`;
    box.append(el("p", { class: "hint", text: `from ${from} to unit ${e.i} of layer ${e.l + 1}` }));
    const input = el("input", { type: "number", step: "any", id: "theta-value", value: String(e.theta) });
    input.addEventListener("input", () => { input.dataset.dirty = "1"; });
    const set = (value) => setWeight(e, value);
    const nudge = () => Math.max(0.05, Math.abs(S.edgeTheta) * 0.25);
    box.append(el("div", { class: "edit" },
      el("span", { text: `${thetaName(e.l, e.i, e.j)} =` }), input,
      el("button", { type: "button", id: "theta-set", text: "Set", onclick: () => set(Number(input.value)) }),
      el("button", { type: "button", text: "−", title: "make it smaller by a quarter of its size (at least 0.05)",
        onclick: () => set(S.edgeTheta - nudge()) }),
      el("button", { type: "button", text: "+", title: "make it larger by a quarter of its size (at least 0.05)",
        onclick: () => set(S.edgeTheta + nudge()) })));
    input.addEventListener("keydown", (ev) => { if (ev.key === "Enter") set(Number(input.value)); });
    box.append(el("div", { id: "edge-numbers" }, edgeNumbers(e)),
      el("div", { class: "change", id: "weight-change", text: S.pendingChange || "" }));
  }

  async function setWeight(e, value) {
    if (!Number.isFinite(value)) { toast("value: enter a finite number"); return; }
    const before = S.state ? S.state.current.J : null;
    const old = S.edgeTheta;
    const input = $("theta-value");
    if (input) { delete input.dataset.dirty; input.blur(); }
    const r = await run(() => api("/api/weight", { json: { l: e.l, i: e.i, j: e.j, value } }));
    if (!r) return;
    S.pendingChange = `J: ${fmt(before, 6)} → ${fmt(r.current.J, 6)}  (${thetaName(e.l, e.i, e.j)}: ` +
      `${fmt(old)} → ${fmt(value)})`;
    await refreshState();
    requestView();
  }

  function selectUnit(l, j) {
    S.unit = { l, j }; S.edge = null; S.pendingChange = null;
    requestView();
  }

  function selectEdge(l, i, j) {
    S.edge = { l, i, j }; S.unit = null; S.pendingChange = null;
    requestView();
  }

  function selectExample(split, index) {
    S.split = split; S.index = index;
    $("split").value = split; $("index").value = index;
    $("whatif-result").innerHTML = "";
    requestView();
    for (const t of document.querySelectorAll(".thumb")) {
      t.classList.toggle("on", t.dataset.split === split && Number(t.dataset.index) === index);
    }
  }

  // ------------------------------------------------------------------ examples and hidden units
  function maybeRefreshSide(st) {
    const now = Date.now();
    if (st.version === S.sideVersion || S.sideBusy) return;
    if (now - S.sideAt < 1000) { setTimeout(() => maybeRefreshSide(S.state), 1000 - (now - S.sideAt)); return; }
    refreshSide();
  }

  async function refreshSide() {
    S.sideBusy = true;
    S.sideAt = Date.now();
    try {
      const [split, which] = $("examples-which").value.split(":");
      const [ex, hid] = await Promise.all([
        api(`/api/examples?split=${split}&which=${which}`),
        S.state && S.state.dataset.image_shape ? api("/api/hidden?limit=100") : Promise.resolve(null),
      ]);
      S.sideVersion = ex.version;
      renderExamples(ex);
      if (hid) renderHidden(hid);
    } catch (e) {
      toast(problem(e));
    } finally {
      S.sideBusy = false;
    }
  }

  function renderExamples(ex) {
    const box = $("examples");
    box.innerHTML = "";
    const title = ex.which === "misclassified"
      ? `Misclassified ${ex.split === "val" ? "validation" : "training"} examples: ${ex.total}`
      : `Validation examples: ${ex.total}`;
    // the server says how much of the gallery is shown ("48 of 1353 shown"), empty when all of it is
    $("examples-title").textContent = ex.shown ? `${title} · ${ex.shown}` : title;
    if (!ex.items.length) {
      box.append(el("p", { class: "hint", text: ex.total === 0 && ex.which === "misclassified"
        ? "None: every example of this set is classified correctly." : "No examples." }));
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

  function renderHidden(hid) {
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

  // ------------------------------------------------------------------ what if
  async function whatIf(apply) {
    const alpha = Number($("whatif-alpha").value);
    const r = await run(() => api("/api/whatif", { json: { split: S.split, index: S.index, alpha, apply } }));
    if (!r) return;
    const box = $("whatif-result");
    box.innerHTML = "";
    const cls = S.view ? S.view.classes : [];
    const name = (k) => cls[k] !== undefined ? cls[k] : String(k);
    box.append(kv([
      ["cost of this example", `${fmt(r.cost_before)} → ${fmt(r.cost_after)}`],
      ["prediction", `${name(r.prediction_before)} → ${name(r.prediction_after)}`],
      ["J (training set)", `${fmt(r.J_before, 6)} → ${fmt(r.J_after, 6)}`],
      ["training accuracy", `${pct(r.acc_before)} → ${pct(r.acc_after)}`],
      ["step length α‖D‖", fmt(r.step_norm)],
    ]));
    const bars = el("div", { class: "bars" });
    const K = r.h_before.length;
    for (let k = 0; k < K; k++) {
      const bar = el("div", { class: "bar" });
      const b0 = el("i", { class: k === r.label ? "target" : "" });
      b0.style.width = `${(100 * r.h_before[k]).toFixed(1)}%`;
      const b1 = el("i", { class: "after" });
      b1.style.width = `${(100 * r.h_after[k]).toFixed(1)}%`;
      bar.append(b0, b1);
      bars.append(el("span", { text: K === 1 ? "h" : `h${sub(k + 1)} ${name(k)}` }), bar,
        el("span", { text: `${fmt(r.h_before[k], 3)}→${fmt(r.h_after[k], 3)}` }));
    }
    box.append(bars, el("p", { class: "hint", text: apply ? "Step applied (a new snapshot: Step back undoes it)."
      : "Preview only: upper bar before, lower (orange) bar after the step. Apply takes the step." }));
    if (apply) { await refreshState(); requestView(); }
  }

  async function checkAnswers() {
    const answers = $("check-answers").value;
    const r = await run(() => api("/api/check", { json: { split: S.split, index: S.index, answers } }));
    if (!r) return;
    const box = $("check-result");
    box.innerHTML = "";
    box.append(el("p", { class: r.passed ? "ok" : "hint", text: r.summary }));
    const list = el("ul", { class: "check-rows" });
    for (const line of r.lines) list.append(el("li", { text: line }));
    box.append(list);
    if (r.not_asked.length) box.append(el("p", { class: "hint", text: `not checked: ${r.not_asked.join(", ")}` }));
  }

  // ------------------------------------------------------------------ controls
  function settings() {
    return {
      lam: Number($("lam").value), optimizer: $("optimizer").value, learning_rate: Number($("lr").value),
      batch_size: Number($("batch").value), max_iter: Number($("max-iter").value), delay_ms: Number($("delay").value),
    };
  }

  function parseHidden(text) {
    const t = text.trim();
    if (!t) return [];
    return t.split(/[\s,;x×-]+/).filter(Boolean).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  }

  async function command(path, json) {
    const st = await run(() => api(path, json === undefined ? { method: "POST" } : { json }));
    if (st) onState(st);
    return st;
  }

  async function upload(path, file) {
    const buf = await file.arrayBuffer();
    const st = await run(() => api(`${path}?filename=${encodeURIComponent(file.name)}`, { body: buf }));
    if (st) {
      S.formFor = null; S.unit = null; S.edge = null; S.index = 0;
      const waiting = S.pendingSetup;
      S.pendingSetup = null;
      onState(st);
      if (waiting && waiting.dataset === st.config.dataset) {  // the file a setup link named: apply its setup now
        const applied = await command("/api/reset", waiting);
        if (applied) { S.formFor = null; fillForm(applied); toast(`loaded ${file.name}; setup from the link applied`, false); }
        return;
      }
      toast(`loaded ${file.name}`, false);
    }
  }

  function wire() {
    $("play").addEventListener("click", () => command("/api/play", settings()));
    $("pause").addEventListener("click", () => command("/api/pause"));
    $("step").addEventListener("click", () => command("/api/step", settings()));
    $("reset").addEventListener("click", async () => {
      const body = { dataset: $("dataset").value, hidden: parseHidden($("hidden").value),
        seed: Number($("seed").value), ...chosenKinds(), ...settings(), ...setupExtras() };
      S.unit = null; S.edge = null; S.pendingSetup = null;
      const st = await command("/api/reset", body);
      if (st) { S.formFor = null; fillForm(st); }
    });
    $("dataset").addEventListener("change", () => { applyDatasetDefaults($("dataset").value); $("reset").click(); });
    $("optimizer").addEventListener("change", markMinibatch);
    for (const id of ["activation", "pair"]) $(id).addEventListener("change", () => S.state && renderKinds(S.state));
    $("back").addEventListener("click", () => command("/api/rewind", { offset: -1 }));
    $("forward").addEventListener("click", () => command("/api/rewind", { offset: 1 }));
    $("timeline").addEventListener("change", () => command("/api/rewind", { index: Number($("timeline").value) }));
    $("upload-data").addEventListener("change", (ev) => { if (ev.target.files[0]) upload("/api/dataset", ev.target.files[0]); ev.target.value = ""; });
    $("import-model").addEventListener("change", (ev) => { if (ev.target.files[0]) upload("/api/model", ev.target.files[0]); ev.target.value = ""; });
    $("view-forward").addEventListener("click", () => setMode("forward"));
    $("view-backward").addEventListener("click", () => setMode("backward"));
    $("split").addEventListener("change", () => selectExample($("split").value, 0));
    $("index").addEventListener("change", () => selectExample(S.split, Math.max(0, Number($("index").value) | 0)));
    $("prev").addEventListener("click", () => selectExample(S.split, Math.max(0, S.index - 1)));
    $("next").addEventListener("click", () => {
      const n = S.state ? (S.split === "train" ? S.state.dataset.m_train : S.state.dataset.m_val) : 1;
      selectExample(S.split, Math.min(n - 1, S.index + 1));
    });
    $("examples-which").addEventListener("change", refreshSide);
    $("whatif").addEventListener("click", () => whatIf(false));
    $("whatif-apply").addEventListener("click", () => whatIf(true));
    $("check").addEventListener("click", checkAnswers);
    $("net").addEventListener("click", (ev) => {
      const map = ev.target.closest(".unit-map");
      if (map) { selectUnit(Number(map.dataset.l), Number(map.dataset.j)); return; }
      const t = ev.target.closest(".edge-hit, .edge, .unit");
      if (!t || !t.dataset.l) return;
      const l = Number(t.dataset.l), j = Number(t.dataset.j);
      if (t.classList.contains("unit")) {
        if (j === 0) { toast("the bias unit a₀ = 1 has no z and no δ; click one of its edges to see a bias weight", false); return; }
        selectUnit(l, j);
      } else selectEdge(l, Number(t.dataset.i), j);
    });
    document.addEventListener("keydown", (ev) => {
      if (ev.target.closest("input, select, textarea")) return;
      if (ev.key === " ") { ev.preventDefault(); command(S.state && S.state.status === "running" ? "/api/pause" : "/api/play", S.state && S.state.status === "running" ? undefined : settings()); }
      else if (ev.key === "ArrowRight") command("/api/step", settings());
      else if (ev.key === "ArrowLeft" && S.state && S.state.snapshots.cursor > 0) command("/api/rewind", { offset: -1 });
    });
    window.addEventListener("resize", renderCurves);
  }

  function setMode(mode) {
    S.mode = mode;
    $("view-forward").classList.toggle("on", mode === "forward");
    $("view-backward").classList.toggle("on", mode === "backward");
    requestView();
  }

  // ================================================================== 2-D views, one colour convention,
  // backprop step by step, presentation mode and shareable setups. Numbers come from /api/plane, /api/steps and
  // /api/builtins (the library's maps, traces and registry); this code only draws them.
  const COLORS = { sequential: [[0, [247, 251, 255]], [1, [8, 48, 107]]], diverging: [[-1, [33, 102, 172]],
    [0, [247, 247, 247]], [1, [178, 24, 43]]] };  // replaced by the diagram's own scales from /api/builtins
  const CLASS_COLORS = ["#2166ac", "#b2182b", "#1b7837", "#762a83", "#e08214", "#35978f", "#8c510a", "#c51b7d",
    "#4d4d4d", "#01665e"];
  Object.assign(S, { builtins: {}, plane: null, planeBusy: false, planeVersion: -1, planeAt: 0, planeTimer: null,
    steps: null, stepAt: 0, stepsOpen: false, stepsKey: null, stepTimer: null, fragmentApplied: false,
    pendingSetup: null });

  function colorAt(anchors, t) {
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
  function inkColor(v) { const g = 255 - v; return [g, g, g]; }
  // Θ⁽¹⁾ rows: grey 127.5 = 0; the diagram's edge colours, red positive, blue negative.
  function weightColor(v) { return colorAt(COLORS.diverging, v / 127.5 - 1); }
  const rgb = (c) => `rgb(${c[0]},${c[1]},${c[2]})`;

  async function loadBuiltins() {
    const b = await run(() => api("/api/builtins"));
    if (!b) return;
    S.builtins = b.datasets;
    COLORS.sequential = b.colors.sequential;
    COLORS.diverging = b.colors.diverging;
  }

  // ------------------------------------------------------------------ maps over the input plane
  function maybeRefreshPlane(st) {
    const is2d = st.dataset.n === 2;
    $("plane-panel").hidden = !is2d;
    document.body.classList.toggle("two-d", is2d);
    if (!is2d) { S.plane = null; return; }
    if (st.version === S.planeVersion || S.planeBusy) return;
    const wait = 300 - (Date.now() - S.planeAt);
    if (wait > 0) {
      clearTimeout(S.planeTimer);
      S.planeTimer = setTimeout(() => S.state && maybeRefreshPlane(S.state), wait);
      return;
    }
    refreshPlane();
  }

  async function refreshPlane() {
    S.planeBusy = true;
    S.planeAt = Date.now();
    try {
      const p = await api("/api/plane?resolution=50");
      S.planeVersion = p.version;
      if (p.available) { S.plane = p; drawPlane(p); decorateDiagram(); }
    } catch (e) {
      toast(problem(e));
    } finally {
      S.planeBusy = false;
      if (S.state && S.state.version !== S.planeVersion) maybeRefreshPlane(S.state);
    }
  }

  // A res × res grid (row 0 = smallest x2) as an image with x2 upwards.
  function gridCanvas(values, res, color) {
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

  function hexRgb(h) { return [1, 3, 5].map((k) => parseInt(h.slice(k, k + 2), 16)); }
  const classColor = (p, c) => (p.K === 1 ? colorAt(COLORS.sequential, c) : hexRgb(CLASS_COLORS[c % CLASS_COLORS.length]));

  function drawPlane(p) {
    const canvas = $("plane");
    const size = Math.max(260, Math.min(560, Math.floor(canvas.parentNode.clientWidth || 400)));
    canvas.width = size; canvas.height = size;
    const ctx = canvas.getContext("2d");
    const res = p.resolution;
    let color;
    if (p.K === 1) color = (v) => colorAt(COLORS.sequential, v);
    else {
      color = (_v, r, q) => {  // the predicted class's colour, paler where its h is lower
        const k = p.prediction[r][q], h = p.output[k][r][q];
        return hexRgb(CLASS_COLORS[k % CLASS_COLORS.length]).map((v) => Math.round(255 - (255 - v) * (0.25 + 0.5 * h)));
      };
    }
    // Grid point q sits at q·cw (the first and last on the edges of the square), the centre of its image pixel.
    const cw = size / (res - 1);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(gridCanvas(p.output[0], res, color), -cw / 2, -cw / 2, size + cw, size + cw);
    ctx.strokeStyle = "#111"; ctx.lineWidth = 2;
    ctx.beginPath();
    if (p.K === 1) boundaryLine(ctx, p.output[0], res, cw, size);
    else {  // several classes: where the predicted class changes between neighbouring grid points
      for (let r = 0; r < res; r++) {
        for (let q = 0; q < res; q++) {
          const x = (q + 0.5) * cw, y = size - (r + 0.5) * cw;
          if (q + 1 < res && p.prediction[r][q] !== p.prediction[r][q + 1]) { ctx.moveTo(x, y); ctx.lineTo(x, y - cw); }
          if (r + 1 < res && p.prediction[r][q] !== p.prediction[r + 1][q]) { ctx.moveTo(x, y); ctx.lineTo(x - cw, y); }
        }
      }
    }
    ctx.stroke();
    const [x0, x1, y0, y1] = p.extent;
    const px = (a) => ((a - x0) / (x1 - x0)) * size, py = (b) => size - ((b - y0) / (y1 - y0)) * size;
    for (const [split, pts] of [["train", p.train], ["val", p.val]]) {
      for (const [a, b, c] of pts) {
        const fill = classColor(p, c);
        ctx.fillStyle = rgb(fill);
        ctx.strokeStyle = p.K === 1 && c === 0 ? "#08306b" : "#ffffff";
        ctx.lineWidth = split === "val" ? 2 : 1.2;
        ctx.beginPath();
        if (split === "train") ctx.arc(px(a), py(b), 4.2, 0, 2 * Math.PI);
        else ctx.rect(px(a) - 4.5, py(b) - 4.5, 9, 9);
        ctx.fill(); ctx.stroke();
      }
    }
    canvas.dataset.version = String(p.version);
    const st = S.state;
    const cls = p.classes;
    $("plane-legend").textContent = p.K === 1
      ? `background: h = P(${cls[1]}) from white (0) to dark blue (1)`
      : "background: the predicted class, darker where its h is larger";
    $("plane-note").textContent = `x₁ from ${fmt(x0, 3)} to ${fmt(x1, 3)} (left to right), x₂ from ${fmt(y0, 3)} to ` +
      `${fmt(y1, 3)} (bottom to top). ● training (${p.train.length}), ■ validation (${p.val.length}); ` +
      (p.K === 1 ? `dark points are class ${cls[1]}, white ones class ${cls[0]}. ` : "") +
      `The black line is the decision boundary (h = 0.5)` + (st ? ` · iteration ${st.iteration}` : "") + "." +
      (p.note ? ` Coarser ${p.note}.` : "");  // a large network's maps: the server's cost budget chose the grid
  }

  // The line h = 0.5 (the lecture's decision rule) through the grid, by marching squares with linear interpolation.
  function boundaryLine(ctx, h, res, cw, size) {
    const f = (r, q) => h[r][q] - 0.5;
    const at = (r, q) => [q * cw, size - r * cw];
    const cross = (p0, p1, v0, v1) => {
      const t = v0 / (v0 - v1);
      return [p0[0] + t * (p1[0] - p0[0]), p0[1] + t * (p1[1] - p0[1])];
    };
    for (let r = 0; r + 1 < res; r++) {
      for (let q = 0; q + 1 < res; q++) {
        const corners = [[r, q], [r, q + 1], [r + 1, q + 1], [r + 1, q]];
        const pts = [];
        for (let k = 0; k < 4; k++) {
          const [ra, qa] = corners[k], [rb, qb] = corners[(k + 1) % 4];
          const va = f(ra, qa), vb = f(rb, qb);
          if ((va >= 0) !== (vb >= 0)) pts.push(cross(at(ra, qa), at(rb, qb), va, vb));
        }
        for (let k = 0; k + 1 < pts.length; k += 2) { ctx.moveTo(...pts[k]); ctx.lineTo(...pts[k + 1]); }
      }
    }
  }

  // The diagram after each redraw: unit maps beside hidden units, the selection's edges, the current step's lights.
  function decorateDiagram() {
    const root = $("net").querySelector("svg");
    if (!root) return;
    // Drawn up to 1.35× its own size (1.8× when presenting): big enough to read, not so big that it needs scrolling.
    const vb = root.viewBox && root.viewBox.baseVal;
    const zoom = document.body.classList.contains("present") ? 1.8 : 1.35;
    if (vb && vb.width) root.style.maxWidth = `${Math.round(vb.width * zoom)}px`;
    if (S.plane && S.state && S.state.sizes[0] === 2) addUnitMaps(root, S.plane);
    markRelated(root);
    lightStep();
  }

  // Hidden activations in [0, 1] (sigmoid: the server says so, from the library's rule, as the diagram does) are
  // drawn white 0 → dark blue 1; others (tanh, ReLU, identity) on the diverging scale, one for all maps: blue −m,
  // white 0, red m with m the largest |a| of any map.
  function unitMapScale(units, inUnitInterval) {
    if (inUnitInterval) return { color: (v) => colorAt(COLORS.sequential, v), text: "white 0, dark blue 1" };
    let m = 0;
    for (const u of units) for (const row of u.values) for (const v of row) m = Math.max(m, Math.abs(v));
    m = m || 1;
    return { color: (v) => colorAt(COLORS.diverging, v / m), text: `blue −${fmt(m, 3)}, white 0, red ${fmt(m, 3)}` };
  }

  function addUnitMaps(root, p) {
    for (const old of root.querySelectorAll(".unit-map")) old.remove();
    const scale = unitMapScale(p.units, p.units_in_unit_interval);
    for (const u of p.units) {
      const c = root.querySelector(`#unit-${u.l}-${u.j}`);
      if (!c) continue;
      const cx = Number(c.getAttribute("cx")), cy = Number(c.getAttribute("cy")), r = Number(c.getAttribute("r"));
      const size = Math.max(26, Math.min(56, 2.3 * r));  // r ≤ 0.4·(row height): maps never touch
      const url = gridCanvas(u.values, p.resolution, scale.color).toDataURL();
      const g = svg("g", { class: "unit-map", role: "img", "aria-label": `unit ${u.j} of layer ${u.l}` });
      g.dataset.l = u.l; g.dataset.j = u.j;
      const x = cx - r - 24 - size, y = cy - size / 2;  // left of the unit's name (a₂⁽²⁾ sits above-left)
      const t = svg("title");
      t.textContent = `unit ${u.j} of layer ${u.l}: a${sub(u.j)}${sup(u.l)} over the input plane (${scale.text})`;
      g.append(t, svg("rect", { x: x - 1.5, y: y - 1.5, width: size + 3, height: size + 3, fill: "#fff", stroke: "#555",
        "stroke-width": 1 }), svg("image", { href: url, x, y, width: size, height: size, preserveAspectRatio: "none" }));
      c.parentNode.insertBefore(g, c);
    }
  }

  // A selected unit: its incoming and outgoing edges stand out, the others fade.
  function markRelated(root) {
    root.classList.toggle("has-selection", !!S.unit);
    if (!S.unit) return;
    const { l, j } = S.unit;
    for (const e of root.querySelectorAll("line.edge")) {
      const el_ = Number(e.dataset.l), i = Number(e.dataset.i), jj = Number(e.dataset.j);
      if ((el_ === l && jj === j) || (el_ === l - 1 && i === j)) e.classList.add("related");
    }
  }

  // ------------------------------------------------------------------ backprop step by step
  const PHASE_WORDS = { forward: "forward pass", output: "output error", hidden: "error sent back",
    gradient: "this example's gradient", batch: "the whole batch" };

  async function openSteps() {
    S.stepsOpen = true;
    $("stepper").hidden = false;
    $("step-open").hidden = true;
    await loadSteps(false);
  }

  function closeSteps() {
    S.stepsOpen = false;
    stopStepPlay();
    $("stepper").hidden = true;
    $("step-open").hidden = false;
    lightStep();
  }

  async function loadSteps(keepPlace) {
    const key = `${S.split}:${S.index}:${S.state ? S.state.version : -1}`;
    const r = await run(() => api(`/api/steps?split=${S.split}&index=${S.index}`));
    if (!r) return;
    S.steps = r;
    S.stepsKey = key;
    S.stepAt = keepPlace ? Math.min(S.stepAt, r.steps.length - 1) : 0;
    renderStep();
  }

  function renderStep() {
    if (!S.steps) return;
    const steps = S.steps.steps, st = steps[S.stepAt];
    $("step-count").textContent = `step ${S.stepAt + 1} of ${steps.length} · ${PHASE_WORDS[st.phase]} · ` +
      `${S.steps.split === "train" ? "training" : "validation"} example ${S.steps.index}`;
    $("step-title").textContent = st.title;
    const text = $("step-text");
    text.textContent = st.lines.join("\n");
    text.dataset.phase = st.phase;
    text.dataset.value = st.value === null ? "" : String(st.value);
    text.dataset.unit = st.unit ? st.unit.join(":") : "";
    $("step-prev").disabled = $("step-first").disabled = S.stepAt === 0;
    $("step-next").disabled = S.stepAt >= steps.length - 1;
    const want = st.phase === "forward" ? "forward" : "backward";
    if (S.mode !== want) setMode(want);  // the diagram shows a in the forward pass, δ on the way back
    else lightStep();
  }

  function lightStep() {
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
    const key = `${S.split}:${S.index}:${S.state ? S.state.version : -1}`;
    if (key !== S.stepsKey && !S.stepsLoading) {  // another example or new weights: the same step, new numbers
      S.stepsLoading = true;
      loadSteps(true).finally(() => { S.stepsLoading = false; });
    }
  }

  function moveStep(delta) {
    if (!S.steps) return;
    S.stepAt = Math.max(0, Math.min(S.steps.steps.length - 1, S.stepAt + delta));
    renderStep();
  }

  function stopStepPlay() {
    clearInterval(S.stepTimer);
    S.stepTimer = null;
    $("step-play").textContent = "▶ Play";
  }

  function toggleStepPlay() {
    if (S.stepTimer) { stopStepPlay(); return; }
    if (S.steps && S.stepAt >= S.steps.steps.length - 1) { S.stepAt = 0; renderStep(); }
    $("step-play").textContent = "❚❚ Pause";
    S.stepTimer = setInterval(() => {
      if (!S.steps || S.stepAt >= S.steps.steps.length - 1) { stopStepPlay(); return; }
      moveStep(1);
    }, 1600);
  }

  // ------------------------------------------------------------------ dataset defaults, noise and split
  function applyDatasetDefaults(name) {
    const b = S.builtins[name];
    if (!b) return;
    const t = b.training || {};
    if (t.hidden) $("hidden").value = t.hidden.join(", ");
    if (t.lam !== undefined) $("lam").value = t.lam;
    if (t.max_iter !== undefined) $("max-iter").value = t.max_iter;
    if (b.noise !== null) $("noise").value = b.noise;
  }

  function setupExtras() {
    const out = { validation_fraction: Number($("val-share").value) };
    const b = S.builtins[$("dataset").value];
    if (b && b.noise !== null) out.noise = Number($("noise").value);
    return out;
  }

  function fillSetupForm(st) {
    const noisy = st.dataset.noise !== null && st.dataset.noise !== undefined;
    for (const n of document.querySelectorAll(".only-2d")) n.hidden = !noisy;
    if (noisy) $("noise").value = st.dataset.noise;
    $("val-share").value = st.config.validation_fraction;
  }

  // ------------------------------------------------------------------ the setup in the URL fragment
  // Only settings travel: never the access token (it stays in the query string, which the fragment never copies).
  function setupFragment(st) {
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

  function writeFragment(st) {
    // an uploaded dataset is written too: the address then reloads to it, not to the built-in shown before the upload
    if (!S.fragmentApplied || S.pendingSetup) return;
    const f = setupFragment(st);
    if (location.hash.slice(1) !== f) history.replaceState(null, "", "#" + f);
  }

  function fragmentSetup() {
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

  async function applyFragmentOnce() {
    const body = fragmentSetup();
    if (body && S.state && setupFragment(S.state) !== location.hash.slice(1)) {
      let st = null;
      try {
        st = await api("/api/reset", { json: body });
      } catch (e) {
        // e.g. the link names a data file uploaded elsewhere: the setup waits until that file is uploaded here
        S.pendingSetup = body;
        toast(problem(e));
      }
      if (st) { onState(st); S.formFor = null; fillForm(st); toast("setup from the link applied", false); }
    }
    S.fragmentApplied = true;
    if (S.state) writeFragment(S.state);
  }

  async function copySetupLink() {
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

  function togglePresentation() {
    const on = document.body.classList.toggle("present");
    $("present").setAttribute("aria-pressed", String(on));
    $("present").classList.toggle("on", on);
    renderCurves();
    decorateDiagram();
    if (S.plane) drawPlane(S.plane);
  }

  function wireExtras() {
    $("step-open").addEventListener("click", openSteps);
    $("step-close").addEventListener("click", closeSteps);
    $("step-next").addEventListener("click", () => { stopStepPlay(); moveStep(1); });
    $("step-prev").addEventListener("click", () => { stopStepPlay(); moveStep(-1); });
    $("step-first").addEventListener("click", () => { stopStepPlay(); S.stepAt = 0; renderStep(); });
    $("step-play").addEventListener("click", toggleStepPlay);
    $("share").addEventListener("click", copySetupLink);
    $("present").addEventListener("click", togglePresentation);
    $("stepper").hidden = true;
    window.addEventListener("resize", () => { if (S.plane) drawPlane(S.plane); });
  }

  wire();
  wireExtras();
  if (!TOKEN) {
    const b = $("error-banner");
    b.textContent = "No access token in the address: open the full URL that `glassnet serve` printed (…/?token=…).";
    b.hidden = false;
  }
  loadBuiltins().then(refreshState).then(applyFragmentOnce).then(connect);
})();
