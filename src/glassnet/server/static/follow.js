// A panel that follows the server's state (the gallery, the decision map, the hidden-unit timeline): one request at a
// time, at most one every `everyMs`, and no change lost. A state that arrives while a request is out, or inside the
// quiet interval, is fetched when that ends; otherwise a panel could keep showing an older state for good once the
// server goes quiet (e.g. the validation share set to 0 while the gallery's previous request was still out).
import { problem } from "./api.js";
import { S } from "./state.js";
import { toast } from "./dom.js";

// load(): fetches and draws the panel, returns the state version it drew (the server's `version`). active(): whether
// the panel follows the state at all now (e.g. it is open).
export function follower(everyMs, load, active = () => true) {
  let busy = false, again = false, at = 0, shown = -1, timer = null;

  function follow() {
    if (!S.state || !active() || busy || S.state.version === shown) return;
    const wait = everyMs - (Date.now() - at);
    if (wait > 0) {
      clearTimeout(timer);
      timer = setTimeout(follow, wait);
      return;
    }
    now();
  }

  // Fetch now, whatever the interval says (a choice the user made, such as which examples the gallery lists).
  async function now() {
    if (busy) { again = true; return; }
    busy = true;
    at = Date.now();
    const asked = S.state ? S.state.version : -1;
    try {
      shown = await load();
    } catch (e) {
      shown = asked;  // not asked again until the state changes: one message per failure, not one a second
      toast(problem(e));
    } finally {
      busy = false;
      if (again) { again = false; now(); } else follow();
    }
  }

  return { follow, now };
}
