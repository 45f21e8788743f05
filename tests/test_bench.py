"""Smoke test of ``glassnet bench --quick``: it runs in-process and writes complete, consistent JSON.

No timing is asserted here (speed targets live in the benchmark's own output, see benchmarks/README.md).
"""

import json

import pytest

from glassnet.cli import main
from glassnet.cli.bench import CONTENDERS, gemm_flops

CONTENDER_FIELDS = {"times_ms", "median_ms", "gflops", "pct_peak", "vs_sklearn", "vs_torch", "peak_extra_bytes",
                    "rss_extra_bytes", "J", "J_agrees", "memory_vs_sklearn"}
GEMM_FIELDS = {"whole_ms", "chunked_ms", "peak_ms", "peak_gflops", "torch_ms", "torch_gflops", "times_ms"}


def test_gemm_flops_counts_forward_delta_and_Delta_products():
    # 784-300-10, m = 2: forward 2·2·(784·300 + 300·10), Δ the same again, δ^(2) = δ^(3) Θ^(2): 2·2·10·300
    assert gemm_flops(2, [784, 300, 10]) == 2 * (2 * 2 * (784 * 300 + 300 * 10)) + 2 * 2 * 10 * 300


def test_quick_benchmark_writes_complete_json(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    out = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "cost + gradient" in printed and "GEMM peak" in printed and f"wrote {out}" in printed

    result = json.loads(out.read_text())
    meta = result["meta"]
    assert meta["quick"] is True and meta["repeats"] == 5 and meta["threads"] == 1
    assert meta["torch"] == torch.__version__
    assert any(b["user_api"] == "blas" and b["num_threads"] >= 1 for b in meta["blas"])
    assert {"date", "cpu", "numpy", "scipy", "sklearn", "env", "load_average_start", "load_average_end"} <= set(meta)

    cases = {(c["case"], c["dtype"]) for c in result["cases"]}
    assert cases == {(n, d) for n in ("ex4", "mnist", "deep") for d in ("float64", "float32")}
    for c in result["cases"]:
        assert c["flops"] == gemm_flops(c["m"], c["sizes"])
        assert c["workers"] == 1 and 1 <= c["chunk_rows"] <= c["m"]  # --quick runs on one thread
        assert set(c["gemm"]) == GEMM_FIELDS
        assert c["gemm"]["peak_ms"] == min(c["gemm"]["whole_ms"], c["gemm"]["chunked_ms"]) > 0
        assert set(c["contenders"]) == set(CONTENDERS)
        for name, v in c["contenders"].items():
            assert set(v) == CONTENDER_FIELDS, name
            assert len(v["times_ms"]) == 5 and all(t > 0 for t in v["times_ms"])
            assert v["median_ms"] == pytest.approx(sorted(v["times_ms"])[2])
            assert v["J_agrees"], (c["case"], c["dtype"], name, v["J"])  # every contender computed the same J
            assert v["vs_torch"] > 0 and v["gflops"] > 0
            if name != "torch":  # tracemalloc sees NumPy's allocations, not torch's
                assert v["peak_extra_bytes"] > 0
        assert c["contenders"]["sklearn"]["vs_sklearn"] == pytest.approx(1.0)
        assert c["contenders"]["sklearn"]["memory_vs_sklearn"] == pytest.approx(1.0)
        assert set(c["targets"]) >= {"memory_vs_sklearn"}
        if c["case"] in ("mnist", "deep"):
            assert set(c["targets"]) == {"memory_vs_sklearn", "vs_sklearn", "vs_torch", "pct_peak"}

    tta = {r["dataset"]: r for r in result["time_to_accuracy"]}
    digits = tta["digits"]
    assert digits["network"] == "64-25-10" and digits["threads"] == 1
    for who in ("glassnet", "sklearn"):
        assert digits[who]["n_iter"] >= 1 and 0.5 < digits[who]["test_accuracy"] <= 1.0
    assert "skipped" in tta["mnist5k"]


def test_bad_options_exit_2(capsys):
    assert main(["bench", "--quick", "--cases", "ex4,nope"]) == 2
    assert "--cases: expected names from ex4, mnist, deep, tta, got nope" in capsys.readouterr().err
    assert main(["bench", "--quick", "--repeats", "3"]) == 2
    assert "--repeats: expected at least 5" in capsys.readouterr().err
    assert main(["bench", "--quick", "--dtypes", "float16"]) == 2
    assert "--dtypes: expected float64 and/or float32" in capsys.readouterr().err
