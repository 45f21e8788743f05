// The explorer inside a notebook widget: the page's own ES modules (server/static) in a shadow root of the widget's
// element, talking to Python over the widget's channel instead of HTTP. Bundled by scripts/build-widget.mjs into
// ../static/widget.js, which loads one fresh copy of this module per widget view (two explorers in one notebook
// share no state and, inside their shadow roots, no ids).
//
// The channel: a request {type: "request", id, method, path, json} (an upload's bytes as the message's buffer) is
// answered by {type: "reply", id, ok, text | status, detail} (a file's bytes as the reply's buffer); Python pushes
// {type: "state", text} whenever the session changes, in place of the page's server-sent events.
import { ApiError, setTransport } from "../../server/static/api.js";
import { start } from "../../server/static/explorer.js";
import css from "../../server/static/explorer.css";
import html from "../../server/static/index.html";

// The page's style sheet written for a document; inside a shadow root the document's roots are the host and the
// explorer's own element (.gn-body), which takes the classes the page puts on <body> ("two-d", "present"). Its
// layouts follow the width of the output area, not the window's (a notebook has a file browser, margins): media
// queries become container queries on .gn-body, which know widths only (an aspect-ratio condition is dropped).
const scopedCss = css.replace(/:root\b/g, ":host")
  .replace(/(^|[\s,}>(])(?:html|body)(?![-\w])/g, "$1.gn-body")
  .replace(/@media\b/g, "@container")
  .replace(/\((?:min|max)-aspect-ratio:[^)]*\)\s*and\s*/g, "");

// What differs in a notebook's output area: no full-window page, no fixed toast over the notebook's own controls.
const WIDGET_CSS = `
:host { display: block; }
.gn-body { position: relative; min-height: 640px; border: 1px solid var(--line, #ddd); border-radius: 6px;
  overflow: hidden; container-type: inline-size; }
.gn-body #share { display: none; }
.gn-body header#top { position: static; }
.gn-body .toast { position: absolute; }
`;

function widgetTransport(model) {
  const me = Math.random().toString(36).slice(2);  // replies go to every view: each takes only its own
  let count = 0;
  let onState = null;
  const waiting = new Map();
  const onMessage = (msg, buffers) => {
    if (msg.type === "reply" && waiting.has(msg.id)) {
      const { resolve, reject } = waiting.get(msg.id);
      waiting.delete(msg.id);
      if (!msg.ok) reject(new ApiError(msg.status, msg.detail));
      else if (msg.binary) resolve({ bytes: buffers[0], filename: msg.filename, media: msg.media });
      else resolve(JSON.parse(msg.text));
    } else if (msg.type === "state" && onState) onState(JSON.parse(msg.text));
  };
  model.on("msg:custom", onMessage);
  return {
    request(path, opts = {}) {
      const id = `${me}-${++count}`;
      const withBody = opts.json !== undefined || opts.body !== undefined;
      const msg = { type: "request", id, path, method: opts.method || (withBody ? "POST" : "GET") };
      if (opts.json !== undefined) msg.json = opts.json;
      const buffers = opts.body !== undefined ? [new Uint8Array(opts.body)] : [];
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        model.send(msg, undefined, buffers);
      });
    },
    subscribe(fn, onStatus) {
      onState = fn;
      onStatus("live");
      model.send({ type: "subscribe" });
    },
    modelUrl: () => "#",
    hasToken: () => true,
    close() {
      model.off("msg:custom", onMessage);
      for (const { reject } of waiting.values()) reject(new ApiError(0, "the widget was closed"));
      waiting.clear();
    },
  };
}

// "Export model" in a notebook: the file comes over the channel and is saved from a blob.
function wireExport(body, transport) {
  body.querySelector("#export").addEventListener("click", async (ev) => {
    ev.preventDefault();
    const file = await transport.request("/api/model", { method: "GET" });
    const url = URL.createObjectURL(new Blob([file.bytes], { type: file.media }));
    const a = document.createElement("a");
    a.href = url;
    a.download = file.filename;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  });
}

// Build the explorer in el for the widget's model; returns the clean-up anywidget calls when the view goes away.
export function mount(el, model) {
  const host = document.createElement("div");
  host.className = "glassnet-explorer";
  el.append(host);
  const shadow = host.attachShadow({ mode: "open" });
  const style = document.createElement("style");
  style.textContent = scopedCss + WIDGET_CSS;
  const body = document.createElement("div");
  body.className = "gn-body";
  body.tabIndex = -1;  // keyboard shortcuts (space, arrows) only while the focus is inside the explorer
  body.append(...new DOMParser().parseFromString(html, "text/html").body.childNodes);
  shadow.append(style, body);
  const transport = widgetTransport(model);
  setTransport(transport);
  wireExport(body, transport);
  // Time to first render (mount to the first diagram), kept on the host for the curious and for the tests.
  const t0 = performance.now();
  const net = body.querySelector("#net");
  const seen = new MutationObserver(() => {
    if (!net.querySelector("svg")) return;
    host.dataset.firstRenderMs = String(Math.round(performance.now() - t0));
    seen.disconnect();
  });
  seen.observe(net, { childList: true, subtree: true });
  start(body, { address: false });
  return () => { seen.disconnect(); transport.close(); };
}
