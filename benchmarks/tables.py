"""The Markdown tables of one ``make bench`` run, from its JSON files (what README.md and benchmarks/README.md show).

Reads ``benchmarks/results/bench_training.json`` and ``bench_cost_gradient.json`` (or the files given) and prints
the tables: the machine line, the mini-batch epoch rows, the fixed cost per batch, time to accuracy, the
full-batch evaluations (each ratio for the objective an optimizer calls / the public call) and label predictions.
Ratios are the other contender's time / glassnet's (> 1: glassnet is faster), bold from 1.2×.
Run: ``python benchmarks/tables.py [training.json] [cost_gradient.json]``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def ratio(v: float | None) -> str:
    if v is None:
        return "—"
    return f"**{v:.2f}×**" if v >= 1.2 else f"{v:.2f}×"


def machine(meta: dict) -> str:
    libs = "; ".join(f"{b['internal_api']} {b['version']} `{b.get('architecture') or '?'}`" for b in meta["blas"]
                     if b["user_api"] == "blas")
    peers = [f"numpy {meta['numpy']}", f"scipy {meta['scipy']}", f"scikit-learn {meta['sklearn']}"]
    if meta.get("torch"):
        peers.append(f"torch {meta['torch']} ({meta.get('torch_blas')})")
    if meta.get("jax"):
        peers.append(f"JAX {meta['jax']} with optax {meta.get('optax')}")
    return (f"{meta['date'][:16].replace('T', ' ')} · {meta['cpu']} · {meta['cores_available']} cores · BLAS kernels "
            f"(threadpoolctl): {libs} · {', '.join(peers)} · load average {meta.get('load_average_start')}")


def epoch_table(rows: list[dict]) -> list[str]:
    peers = [p for p in ("jax", "torch", "torch.compile", "sklearn") if p in rows[0]["ms"]]
    names = {"jax": "JAX", "torch": "torch", "torch.compile": "torch.compile", "sklearn": "scikit-learn"}
    out = ["| mode | dtype | batch | glassnet | " + " | ".join(f"vs {names[p]}" for p in peers)
           + " | NumPy loop / compiled |", "| --- | --- | ---: | ---: | " + " | ".join("---:" for _ in peers)
           + " | ---: |"]
    for r in rows:
        out.append(f"| {r['mode']} | {r['dtype']} | {r['batch']} | {r['ms']['glassnet']:.1f} ms | "
                   + " | ".join(ratio(r["vs"].get(p)) for p in peers)
                   + f" | {r['vs'].get('glassnet.numpy', float('nan')):.2f}× |")
    return out


def overhead_table(rows: list[dict]) -> list[str]:
    out = ["| dtype | batch | glassnet µs | JAX µs |", "| --- | ---: | ---: | ---: |"]
    for r in rows:
        u = r["us_per_batch"]
        jax = f"{u['jax']:.2f}" if "jax" in u else "—"
        out.append(f"| {r['dtype']} | {r['batch']} | {u['glassnet']:.2f} | {jax} |")
    return out


def fit_table(rows: list[dict]) -> list[str]:
    peers = [p for p in ("jax", "torch", "sklearn", "sklearn_1thread") if any(p in r["vs"] for r in rows)]
    names = {"jax": "JAX", "torch": "torch", "sklearn": "scikit-learn", "sklearn_1thread": "scikit-learn, 1 thread"}
    out = ["| data | solver | threads | target | glassnet | " + " | ".join(f"vs {names[p]}" for p in peers) + " |",
           "| --- | --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in peers) + " |"]
    for r in rows:
        g = r["contenders"]["glassnet"]
        out.append(f"| {r['data']} | {r['solver']} | {r['threads']} | {r['target']:.1%} | "
                   f"{g['seconds_to_target']:.3f} s ({g['steps_to_target']}) | "
                   + " | ".join(ratio(r["vs"].get(p)) for p in peers) + " |")
    return out


def full_batch_table(cases: list[dict]) -> list[str]:
    """One row per case and dtype; each ratio as "the objective an optimizer calls / the public call"."""
    out = ["| case | dtype | glassnet | public call | vs JAX | vs torch | vs scikit-learn | % of GEMM peak | "
           "memory per call vs scikit-learn (with a new workspace) |",
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for c in cases:
        g, api = c["contenders"]["glassnet"], c["contenders"]["glassnet.api"]
        sk = c["contenders"]["sklearn"]["peak_extra_bytes"]
        mem = f"{api['peak_extra_bytes'] / sk:.2g}× ({g['memory_vs_sklearn']:.2g}×)" if sk else "—"
        both = [f"{ratio(g[k])} / {ratio(api[k])}" for k in ("vs_jax", "vs_torch", "vs_sklearn")]
        out.append(f"| {c['case']} {c['m']}×{c['sizes'][0]}, {'-'.join(map(str, c['sizes']))} | {c['dtype']} | "
                   f"{g['median_ms']:.1f} ms | {api['median_ms']:.1f} ms | {' | '.join(both)} | "
                   f"{g['pct_peak']:.0f}% | {mem} |")
    return out


def predict_table(rows: list[dict]) -> list[str]:
    """Label predictions: glassnet's public predict, and each other predictor's time over it."""
    peers = [p for p in ("numpy forward", "jax", "torch", "sklearn") if p in rows[0]["contenders"]]
    names = {"numpy forward": "NumPy's forward pass", "jax": "JAX", "torch": "torch", "sklearn": "scikit-learn"}
    out = ["| case | dtype | glassnet predict | " + " | ".join(f"vs {names[p]}" for p in peers) + " |",
           "| --- | --- | ---: | " + " | ".join("---:" for _ in peers) + " |"]
    for r in rows:
        c = r["contenders"]
        out.append(f"| {r['case']} | {r['dtype']} | {c['glassnet']['median_ms']:.2f} ms | "
                   + " | ".join(ratio(c[p]["vs_glassnet"]) for p in peers) + " |")
    return out


def main(argv: list[str]) -> int:
    training = Path(argv[0]) if argv else RESULTS / "bench_training.json"
    cost = Path(argv[1]) if len(argv) > 1 else RESULTS / "bench_cost_gradient.json"
    t = json.loads(training.read_text(encoding="utf-8"))
    c = json.loads(cost.read_text(encoding="utf-8"))
    kinds = {k: [r for r in t["rows"] if r["row"] == k] for k in ("epoch", "overhead", "fit")}
    blocks = [["Training: " + machine(t["meta"])], ["Full batch: " + machine(c["meta"])]]
    if kinds["epoch"]:
        blocks.append(epoch_table(kinds["epoch"]))
    if kinds["overhead"]:
        blocks.append(overhead_table(kinds["overhead"]))
    if kinds["fit"]:
        blocks.append(fit_table(kinds["fit"]))
    if c.get("cases"):
        blocks.append(full_batch_table(c["cases"]))
    if c.get("predict"):
        blocks.append(predict_table(c["predict"]))
    print("\n\n".join("\n".join(b) for b in blocks))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
