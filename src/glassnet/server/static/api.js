// The transport: how the page talks to the server. Today HTTP requests to /api and server-sent events from
// /api/events, with the access token in a header; another front end (a notebook widget) replaces it with
// setTransport and every other module keeps calling api, subscribe and modelUrl.


export class ApiError extends Error {
  constructor(status, detail) { super(detail); this.status = status; }
}

// What a failed request tells the user: the server's message, which names the setting or file and what it expects
// (the HTTP status is for the console, not for the reader).
export function problem(e) {
  return e instanceof ApiError ? e.message : String(e);
}

// The page's transport over HTTP: request(path, {json | body, method}) -> the JSON reply (ApiError when refused),
// subscribe(onState, onStatus) for the state stream ("live" / "down"), modelUrl() for the model file's download,
// hasToken() whether the address carried an access token.
export function httpTransport() {
  const TOKEN = new URLSearchParams(location.search).get("token") || "";
  // The token stays in memory for the page's requests; the address bar (history, bookmarks, screen shares) loses it.
  if (TOKEN) history.replaceState(null, "", location.pathname + location.hash);
  return {
    async request(path, opts = {}) {
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
    },
    subscribe(onState, onStatus) {
      const es = new EventSource("/api/events?token=" + encodeURIComponent(TOKEN));
      es.addEventListener("state", (ev) => onState(JSON.parse(ev.data)));
      es.onopen = () => onStatus("live");
      es.onerror = () => onStatus("down");
    },
    modelUrl: () => "/api/model?token=" + encodeURIComponent(TOKEN),
    hasToken: () => !!TOKEN,
  };
}

// Made on first use: a front end that sets its own transport first (the notebook widget) never touches the address.
let transport = null;
const current = () => transport || (transport = httpTransport());

export function setTransport(t) { transport = t; }
export const api = (path, opts) => current().request(path, opts);
export const subscribe = (onState, onStatus) => current().subscribe(onState, onStatus);
export const modelUrl = () => current().modelUrl();
export const hasToken = () => current().hasToken();
