"""Red-team figures: what hostile files and load cost glassnet, measured so that the numbers can be reproduced.

```bash
.venv/bin/python benchmarks/redteam.py                      # everything (a few minutes)
.venv/bin/python benchmarks/redteam.py --only bombs,corrupt  # some parts
.venv/bin/python benchmarks/redteam.py --src OTHER/src       # the same measurements of another checkout
```

- ``bombs``: each bomb is built in a temporary folder and read by a fresh Python process, which reports the rise of
  its peak RSS (``VmHWM`` reset after imports) and the outcome: a 618-byte-class bzip2 ``.npz`` whose small ``.npy``
  header hides hundreds of MB of zeros (honest zip header, and forged to match the ``.npy`` header), the same as LZMA,
  an honest ``.npz`` of zeros, a tiny model file whose weights (with a correct checksum) inflate to hundreds of MB,
  and a CSV of ``0,0`` rows (with its peak as a multiple of its converted float64 size).
- ``corrupt``: N damaged copies (bit flips, random bytes, cuts; fixed seed) of a model file, a checkpoint, an
  ``.npz`` and a CSV data file, and a training history JSON read by ``glassnet plot curves``: how many load, how
  many give glassnet's clear error naming the file, and how many escape as another exception (a traceback).
- ``load``: mixed explorer load (``/api/state``, the event stream, small views) from threads against a server in
  another process: requests per second and latencies.
- ``storm``: ``/api/state`` latency, idle and while 8 clients ask for the heaviest views of the largest network the
  limits allow as fast as they can; how the heavy requests were answered.

Writes one JSON document (``--out``, default ``benchmarks/results/redteam-<date>.json``) and prints a summary.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import hashlib
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"

# --------------------------------------------------------------------------------------------------------------------
# Bombs
# --------------------------------------------------------------------------------------------------------------------

_CHILD = r"""
import json, sys, time
from pathlib import Path
import glassnet, glassnet.datasets, glassnet.io

def status(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024

kind, target = sys.argv[1], sys.argv[2]
load = {"npz": glassnet.datasets.load_npz, "model": glassnet.io.load_any, "csv": glassnet.datasets.load_csv}[kind]
Path("/proc/self/clear_refs").write_text("5")
rss0 = status("VmRSS")
t0 = time.perf_counter()
try:
    load(target)
    outcome = "loaded"
except Exception as exc:
    outcome = f"{type(exc).__name__}: {exc}"
print(json.dumps({"rss_peak_rise": status("VmHWM") - rss0, "seconds": time.perf_counter() - t0,
                  "outcome": outcome[:300]}))
"""


def _npy_header(shape, dtype) -> bytes:
    buf = io.BytesIO()
    npy_format.write_array_header_1_0(buf, {"descr": npy_format.dtype_to_descr(np.dtype(dtype)),
                                            "fortran_order": False, "shape": shape})
    return buf.getvalue()


def _member(zf: zipfile.ZipFile, name: str, header: bytes, zeros: int) -> None:
    with zf.open(name, "w", force_zip64=zeros > (1 << 31)) as f:
        f.write(header)
        chunk = bytes(1 << 22)
        while zeros > 0:
            f.write(chunk[:min(zeros, len(chunk))])
            zeros -= len(chunk)


def _array_member(zf: zipfile.ZipFile, name: str, arr: np.ndarray) -> None:
    with zf.open(name, "w") as f:
        npy_format.write_array(f, arr)


def _forge_size(path: Path, name: str, size: int) -> None:
    """Set the uncompressed size the central directory declares for member ``name``."""
    raw = bytearray(path.read_bytes())
    at = raw.find(b"PK\x01\x02")
    while at >= 0:
        n = int.from_bytes(raw[at + 28:at + 30], "little")
        if raw[at + 46:at + 46 + n] == name.encode():
            raw[at + 24:at + 28] = size.to_bytes(4, "little")
            path.write_bytes(bytes(raw))
            return
        at = raw.find(b"PK\x01\x02", at + 4)


def build_bombs(folder: Path, mib: int, csv_mib: int) -> dict[str, tuple[str, Path, int]]:
    """name -> (loader kind, path, converted bytes of what the file honestly holds)."""
    out = {}
    hidden = mib << 20
    for tag, method in (("bzip2", zipfile.ZIP_BZIP2), ("lzma", zipfile.ZIP_LZMA)):
        size = hidden if tag == "bzip2" else min(hidden, 64 << 20)  # LZMA compresses zeros at ~12 MB/s
        path = folder / f"npz-{tag}-hidden.npz"
        with zipfile.ZipFile(path, "w", compression=method) as zf:
            _member(zf, "X.npy", _npy_header((10, 2), np.float64), 160 + size)
            _array_member(zf, "y.npy", np.zeros(10, dtype=np.int64))
        out[f"npz {tag}: small .npy header, {size >> 20} MiB of zeros after it"] = ("npz", path, 160 + 80)
        forged = folder / f"npz-{tag}-forged.npz"
        forged.write_bytes(path.read_bytes())
        _forge_size(forged, "X.npy", len(_npy_header((10, 2), np.float64)) + 160)
        out[f"npz {tag}: the same, zip header forged to match"] = ("npz", forged, 160 + 80)
    path = folder / "npz-bzip2-zeros.npz"
    rows = hidden // 16
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_BZIP2) as zf:
        _member(zf, "X.npy", _npy_header((rows, 2), np.float64), rows * 16)
        _array_member(zf, "y.npy", np.zeros(2, dtype=np.int64))  # too few labels: refused after reading, if read
    out[f"npz bzip2: honest headers, {mib} MiB of zeros"] = ("npz", path, rows * 16)
    # a model file whose weights are zeros with a correct checksum: nothing but its size gives it away
    rows = hidden // 24
    meta = json.dumps({"format": "glassnet-model", "format_version": 1, "layer_sizes": [2, rows], "dtype": "float64"})
    h = hashlib.sha256(f"theta_1|<f8|{(rows, 3)}|".encode())
    left = rows * 24
    while left:
        h.update(bytes(min(left, 1 << 22)))
        left -= min(left, 1 << 22)
    h.update(b"metadata|" + meta.encode())
    path = folder / "model-bzip2.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_BZIP2) as zf:
        _member(zf, "theta_1.npy", _npy_header((rows, 3), np.float64), rows * 24)
        _array_member(zf, "metadata.npy", np.array(meta))
        _array_member(zf, "checksum.npy", np.array("sha256:" + h.hexdigest()))
    out[f"model file: {mib} MiB of zero weights, correct checksum"] = ("model", path, rows * 24)
    path = folder / "zeros.csv"
    rows = (csv_mib << 20) // 4
    with open(path, "wb") as f:
        for _ in range(rows // 1_000_000):
            f.write(b"0,0\n" * 1_000_000)
        f.write(b"0,0\n" * (rows % 1_000_000))
    out[f"CSV: {csv_mib} MiB of '0,0' rows"] = ("csv", path, rows * 16)  # X float64 (m, 1) and y int64 (m,)
    return out


def run_bombs(src: Path, mib: int, csv_mib: int) -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory(prefix="glassnet-redteam-") as tmp:
        t0 = time.perf_counter()
        bombs = build_bombs(Path(tmp), mib, csv_mib)
        print(f"  built {len(bombs)} bombs in {time.perf_counter() - t0:.0f} s", flush=True)
        env = {**os.environ, "PYTHONPATH": str(src)}
        for name, (kind, path, converted) in bombs.items():
            proc = subprocess.run([sys.executable, "-c", _CHILD, kind, str(path)], capture_output=True, text=True,
                                  env=env, timeout=900)
            try:
                rep = json.loads(proc.stdout.strip().splitlines()[-1])
            except (IndexError, ValueError):
                rep = {"rss_peak_rise": None, "seconds": None,
                       "outcome": f"child exited {proc.returncode}: {proc.stderr.strip()[-300:]}"}
            rep.update(name=name, file_bytes=path.stat().st_size, converted_bytes=converted,
                       peak_over_converted=(rep["rss_peak_rise"] / converted
                                            if rep.get("rss_peak_rise") is not None else None))
            results.append(rep)
            peak = rep["rss_peak_rise"]
            print(f"  {name:58s} {rep['file_bytes']:>10,d} B  peak +{(peak or 0) / 2**20:8.1f} MiB  "
                  f"({rep['peak_over_converted']:.2f}x converted)  {rep['outcome'][:110]}", flush=True)
    return results


# --------------------------------------------------------------------------------------------------------------------
# Corrupted files
# --------------------------------------------------------------------------------------------------------------------


def _damage(raw: bytes, rng: random.Random) -> tuple[str, bytes]:
    kind = rng.choice(["bit", "bit", "byte", "cut", "header-bit"])
    if kind == "cut":
        n = rng.randrange(len(raw))
        return f"cut at {n}", raw[:n]
    if kind == "header-bit":  # somewhere in the first 512 bytes or a .npy header
        starts = [0] + [i for i in range(len(raw)) if raw.startswith(b"\x93NUMPY", i)]
        i = min(rng.choice(starts) + rng.randrange(128 if starts else 512), len(raw) - 1)
    else:
        i = rng.randrange(len(raw))
    value = raw[i] ^ (1 << rng.randrange(8)) if kind != "byte" else rng.randrange(256)
    return f"{kind} {i}", raw[:i] + bytes([value]) + raw[i + 1:]


def run_corrupt(n: int, seed: int) -> dict:
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    import glassnet
    from glassnet import DataError, ModelFileError, datasets
    from glassnet import io as gio
    from glassnet.cli import main as cli_main

    rng = random.Random(seed)
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="glassnet-redteam-") as tmp:
        folder = Path(tmp)
        data = datasets.load("xor")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # three iterations do not converge, on purpose
            clf = glassnet.Classifier(hidden_layer_sizes=(3,), max_iter=3, random_state=0).fit(data.X, data.y)
        model = glassnet.save(clf, folder / "m.npz").read_bytes()
        seen = {}
        adam = glassnet.Classifier(hidden_layer_sizes=(3,), solver="adam", batch_size=16, max_iter=3, random_state=0,
                                   early_stopping=True, validation_fraction=0.2, n_iter_no_change=50)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # three epochs do not converge, on purpose
            adam.fit(data.X, data.y, callbacks=lambda state: seen.__setitem__(state.epoch, state.solver_state))
        ckpt = gio.save_checkpoint(adam, folder / "c.npz", seen[max(seen)]).read_bytes()
        np.savez(folder / "d.npz", X=data.X[:50], y=data.y[:50])
        npz = (folder / "d.npz").read_bytes()
        csv_text = "a,b,label\n" + "".join(f"{a:.6g},{b:.6g},{c}\n" for (a, b), c in zip(data.X[:50], data.y[:50]))
        history = json.dumps({"train": [1.0, 0.5, 0.25], "validation": [1.1, 0.6, 0.3]}).encode()
        target = folder / "bad"

        def plot(path):
            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                code = cli_main(["plot", "curves", "--history", str(path), "-o", str(folder / "c.png")])
            if "Traceback" in err.getvalue():
                raise RuntimeError(err.getvalue()[-300:])
            if code != 0 and str(path) not in err.getvalue():
                raise ValueError(f"exit {code} without naming the file: {err.getvalue()[:200]}")

        cases = {
            "model file (load_any)": (model, ".npz", gio.load_any, (ModelFileError,)),
            "checkpoint (load_checkpoint)": (ckpt, ".npz", gio.load_checkpoint, (ModelFileError,)),
            "npz data (datasets.load)": (npz, ".npz", datasets.load, (DataError,)),
            "CSV data (datasets.load)": (csv_text.encode(), ".csv", datasets.load, (DataError,)),
            "history JSON (plot curves)": (history, ".json", plot, (ValueError,)),
        }
        for name, (raw, suffix, load, clear) in cases.items():
            path = target.with_suffix(suffix)
            counts = {"loaded": 0, "clear error": 0, "unclear error": 0, "traceback": 0}
            escaped = []
            for _ in range(n // len(cases)):
                what, bad = _damage(raw, rng)
                path.write_bytes(bad)
                try:
                    load(path)
                    counts["loaded"] += 1
                except clear as exc:
                    counts["clear error" if str(path) in str(exc) or name.startswith("history") else
                           "unclear error"] += 1
                except Exception as exc:  # what the red team counts: anything else is a traceback for the user
                    counts["traceback"] += 1
                    escaped.append(f"{what}: {type(exc).__name__}: {str(exc)[:120]}")
            out[name] = {**counts, "escaped": escaped[:5]}
            print(f"  {name:30s} {counts}", flush=True)
    return out


# --------------------------------------------------------------------------------------------------------------------
# Explorer load and heavy-view storms (a server in another process)
# --------------------------------------------------------------------------------------------------------------------


class Server:
    """``glassnet serve --json`` in a child process: its base URL and token."""

    def __init__(self, src: Path, *args: str):
        env = {**os.environ, "PYTHONPATH": str(src)}
        self.proc = subprocess.Popen([sys.executable, "-m", "glassnet", "serve", "--json", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        line = self.proc.stdout.readline()
        info = json.loads(line)
        self.base = f"http://127.0.0.1:{info['port']}"
        self.headers = {"X-Glassnet-Token": info["token"]}
        self.token = info["token"]

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _percentiles(xs: list[float]) -> dict:
    if not xs:
        return {}
    xs = sorted(xs)
    return {"p50_ms": 1e3 * xs[len(xs) // 2], "p95_ms": 1e3 * xs[int(len(xs) * 0.95)], "max_ms": 1e3 * xs[-1]}


def run_load(src: Path, seconds: float, clients: int) -> dict:
    import httpx

    server = Server(src, "--data", "digits")
    counts: dict[str, int] = {}
    lat: dict[str, list[float]] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def worker(k: int) -> None:
        rng = random.Random(k)
        with httpx.Client(base_url=server.base, headers=server.headers, timeout=60) as c:
            while not stop.is_set():
                pick = rng.random()
                if pick < 0.6:
                    kind, path = "state", "/api/state"
                elif pick < 0.8:
                    kind, path = "view", f"/api/view?index={rng.randrange(20)}"
                elif pick < 0.9:
                    kind, path = "examples", "/api/examples?limit=12"
                else:
                    kind, path = "events", f"/api/events?token={server.token}"
                t0 = time.perf_counter()
                if kind == "events":  # connect, read the first state event, leave
                    with c.stream("GET", path) as r:
                        status = r.status_code
                        for line in r.iter_lines():
                            if line.startswith("data: "):
                                break
                else:
                    status = c.get(path).status_code
                dt = time.perf_counter() - t0
                with lock:
                    counts[f"{kind} {status}"] = counts.get(f"{kind} {status}", 0) + 1
                    lat.setdefault(kind, []).append(dt)

    try:
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        time.sleep(seconds)
        stop.set()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
    finally:
        server.close()
    total = sum(counts.values())
    res = {"clients": clients, "seconds": elapsed, "requests": total, "requests_per_s": total / elapsed,
           "statuses": counts, "latency": {k: _percentiles(v) for k, v in lat.items()}}
    print(f"  {total} requests in {elapsed:.1f} s from {clients} threads: {total / elapsed:.0f} req/s; {counts}",
          flush=True)
    return res


def run_storm(src: Path, seconds: float, clients: int) -> dict:
    import httpx

    largest = "1024,1,1024,1024"
    server = Server(src, "--data", "xor", "--hidden", largest)
    statuses: dict[int, int] = {}
    stop = threading.Event()

    def storm(k: int) -> None:
        paths = [f"/api/plane?resolution={100 - k}", f"/api/view?index={k}", "/api/steps?split=train&index=0",
                 f"/api/examples?which=all&offset={k}"]
        with httpx.Client(base_url=server.base, headers=server.headers, timeout=300) as c:
            i = 0
            while not stop.is_set():
                code = c.get(paths[i % len(paths)]).status_code
                statuses[code] = statuses.get(code, 0) + 1
                i += 1

    def state_latencies(c, n: int) -> list[float]:
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            c.get("/api/state").raise_for_status()
            out.append(time.perf_counter() - t0)
            time.sleep(0.05)
        return out

    try:
        with httpx.Client(base_url=server.base, headers=server.headers, timeout=300) as c:
            idle = state_latencies(c, 20)
            threads = [threading.Thread(target=storm, args=(k,)) for k in range(clients)]
            for t in threads:
                t.start()
            time.sleep(1.0)
            end = time.monotonic() + seconds
            busy = []
            rss = []
            while time.monotonic() < end:
                busy += state_latencies(c, 5)
                rss.append(_rss(server.proc.pid))
            stop.set()
            for t in threads:
                t.join()
    finally:
        server.close()
    res = {"network": f"2-{largest.replace(',', '-')}-1", "clients": clients, "idle": _percentiles(idle),
           "storm": _percentiles(busy), "heavy_statuses": statuses,
           "server_rss_max_mib": max((r for r in rss if r), default=0) / 2**20}
    print(f"  /api/state idle {res['idle']}, during the storm {res['storm']}; heavy answers {statuses}; server RSS "
          f"max {res['server_rss_max_mib']:.0f} MiB", flush=True)
    return res


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


# --------------------------------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default="bombs,corrupt,load,storm")
    p.add_argument("--src", type=Path, default=SRC, help="the glassnet source folder the children import")
    p.add_argument("--bomb-mib", type=int, default=400, help="MiB of zeros hidden in each bomb (default 400)")
    p.add_argument("--csv-mib", type=int, default=62, help="MiB of the CSV of '0,0' rows (default 62)")
    p.add_argument("--corrupt", type=int, default=2000, help="damaged files in all (default 2000)")
    p.add_argument("--seconds", type=float, default=15.0, help="seconds of load and of storm (default 15)")
    p.add_argument("--clients", type=int, default=8, help="client threads (default 8)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    parts = set(args.only.split(","))
    result: dict = {"date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"), "src": str(args.src),
                    "cpus": os.cpu_count(), "loadavg": list(os.getloadavg())}
    if "bombs" in parts:
        print("bombs (peak RSS rise of a fresh process reading each):", flush=True)
        result["bombs"] = run_bombs(args.src, args.bomb_mib, args.csv_mib)
    if "corrupt" in parts:
        print(f"corrupt files ({args.corrupt} damaged copies, seed {args.seed}):", flush=True)
        result["corrupt"] = run_corrupt(args.corrupt, args.seed)
    if "load" in parts:
        print("mixed explorer load:", flush=True)
        result["load"] = run_load(args.src, args.seconds, args.clients)
    if "storm" in parts:
        print("heavy-view storm:", flush=True)
        result["storm"] = run_storm(args.src, args.seconds, args.clients)
    out = args.out or HERE / "results" / f"redteam-{_dt.date.today().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
