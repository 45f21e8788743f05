"""``glassnet bench`` (a thin user command) and the benchmark in ``benchmarks/`` (a smoke run at tiny sizes).

No timing is asserted here: timings depend on the machine and its load. What is checked: the runs complete, every
implementation computes the same J, the JSON is one complete document, files are written only where asked.
"""

import ast
import functools
import importlib
import json
from pathlib import Path

import pytest

from glassnet import _timing
from glassnet.cli import main

ROOT = Path(__file__).resolve().parents[1]

CONTENDER_FIELDS = {"times_ms", "median_ms", "gflops", "pct_peak", "vs_sklearn", "vs_torch", "vs_jax", "compile_s",
                    "peak_extra_bytes", "rss_extra_bytes", "J", "J_agrees", "memory_vs_sklearn"}
GEMM_FIELDS = {"whole_ms", "chunked_ms", "peak_ms", "peak_gflops", "torch_ms", "torch_gflops", "times_ms"}


def test_gemm_flops_counts_forward_delta_and_Delta_products():
    # 784-300-10, m = 2: forward 2·2·(784·300 + 300·10), Δ the same again, δ^(2) = δ^(3) Θ^(2): 2·2·10·300
    assert _timing.gemm_flops(2, [784, 300, 10]) == 2 * (2 * 2 * (784 * 300 + 300 * 10)) + 2 * 2 * 10 * 300


def test_interleaved_rotates_the_order_and_skips_the_warmup():
    calls = []
    times = _timing.interleaved({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, 3, warmup=1)
    assert calls == ["a", "b", "b", "a", "a", "b", "b", "a"]
    assert [len(t) for t in times.values()] == [3, 3] and all(t >= 0 for ts in times.values() for t in ts)


def test_interleaved_bursts_warm_up_untimed_then_time_each_call(monkeypatch):
    monkeypatch.setattr(_timing, "BURST_WARMUP", 0.0)  # one untimed call before each burst
    calls = []
    times = _timing.interleaved({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, 2, warmup=1,
                                burst=3)
    assert calls == ["a"] * 4 + ["b"] * 4 + ["b"] * 4 + ["a"] * 4 + ["a"] * 4 + ["b"] * 4
    assert [len(t) for t in times.values()] == [6, 6]


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("sizes", ["8,5,3", "4,3,1"])  # K = 3 and a single output unit
def test_bench_prints_a_small_table_and_one_json_document(sizes, tmp_path, capsys):
    small = ("--sizes", sizes, "--rows", 40, "--repeats", 2)
    code, out, err = _run(capsys, "bench", *small)
    assert code == 0 and err == ""
    assert out.startswith(f"glassnet bench: J(Θ) + gradient of a {sizes.replace(',', '-')} network on 40 random rows")
    assert "glassnet (as a fit calls it)" in out and "time vs glassnet" in out
    assert "NOT MET" not in out and "issue" not in out and "NO" not in out.split()  # J agrees everywhere
    assert not list(tmp_path.iterdir())

    code, out, err = _run(capsys, "bench", *small, "--json")
    assert code == 0
    payload = json.loads(out)  # exactly one document, nothing else on stdout
    assert payload["command"] == "bench" and payload["sizes"] == [int(s) for s in sizes.split(",")]
    names = [r["name"] for r in payload["results"]]
    assert names[:2] == ["glassnet", "glassnet.cost_and_gradient"]
    for peer, module in (("scikit-learn", "sklearn"), ("torch", "torch")):
        assert (peer in names) != (peer in payload["skipped"])
        if importlib.util.find_spec(module) is not None:
            assert peer in names
    for r in payload["results"]:
        assert r["J_agrees"], r
        assert len(r["times_ms"]) == 2 and r["median_ms"] > 0
    assert payload["results"][0]["time_vs_glassnet"] == 1.0
    assert payload["gemm_flops"] == _timing.gemm_flops(40, payload["sizes"])


def test_bench_writes_json_only_with_o_and_never_replaces_without_force(tmp_path, capsys):
    out_file = tmp_path / "bench.json"
    args = ("bench", "--sizes", "5,4,2", "--rows", 30, "--repeats", 1, "--no-peers")
    code, out, _ = _run(capsys, *args, "-o", out_file)
    assert code == 0 and f"wrote {out_file}" in out and "left out (--no-peers)" in out
    written = json.loads(out_file.read_text())
    assert [r["name"] for r in written["results"]] == ["glassnet", "glassnet.cost_and_gradient"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench.json"]  # no temporary file left behind
    code, _, err = _run(capsys, *args, "-o", out_file)
    assert code == 1 and "file exists; use --force" in err
    assert _run(capsys, *args, "-o", out_file, "--force")[0] == 0


@pytest.mark.parametrize("argv, needle", [
    (("--sizes", "3"), "--sizes"),
    (("--rows", "0"), "--rows"),
    (("--dtype", "float16"), "--dtype"),
    (("--lam", "-1"), "--lam"),
])
def test_bench_bad_options_exit_2(argv, needle, capsys):
    code, out, err = _run(capsys, "bench", *argv)
    assert code == 2 and out == "" and needle in err


def test_the_package_never_imports_the_benchmarks():
    for path in (ROOT / "src" / "glassnet").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert not any(n.split(".")[0] in ("benchmarks", "_harness") or n.startswith("bench_")
                               for n in names), path


@pytest.fixture
def benchmark(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    return importlib.import_module("bench_cost_gradient")


def test_quick_benchmark_writes_complete_json(benchmark, tmp_path, capsys):
    torch = pytest.importorskip("torch")
    out = tmp_path / "bench.json"
    assert benchmark.main(["--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "cost + gradient" in printed and "GEMM peak" in printed and f"wrote {out}" in printed
    assert "NOT MET" not in printed and "issue" not in printed

    result = json.loads(out.read_text())
    meta = result["meta"]
    assert meta["quick"] is True and meta["repeats"] == 5 and meta["threads"] == 1
    assert meta["torch"] == torch.__version__
    assert any(b["user_api"] == "blas" and b["num_threads"] >= 1 for b in meta["blas"])
    assert {"date", "cpu", "numpy", "scipy", "sklearn", "env", "load_average_start", "load_average_end"} <= set(meta)

    cases = {(c["case"], c["dtype"]) for c in result["cases"]}
    assert cases == {(n, d) for n in ("ex4", "mnist", "deep") for d in ("float64", "float32")}
    rows = {(r["case"], r["activation"]) for r in result["activations"]}
    assert rows == {(n, a) for n in ("ex4", "mnist", "deep") for a in ("sigmoid", "tanh", "relu")}
    for r in result["activations"]:
        assert r["J_agrees"], r  # scikit-learn's loss with the same hidden units is glassnet's J
        assert r["glassnet_ms"] > 0 and r["vs_sklearn"] == pytest.approx(r["sklearn_ms"] / r["glassnet_ms"])
    for c in result["cases"]:
        assert c["flops"] == _timing.gemm_flops(c["m"], c["sizes"])
        assert c["workers"] == 1 and 1 <= c["chunk_rows"] <= c["m"]  # --quick runs on one thread
        assert set(c["gemm"]) == GEMM_FIELDS
        assert c["gemm"]["peak_ms"] == min(c["gemm"]["whole_ms"], c["gemm"]["chunked_ms"]) > 0
        jax_installed = importlib.util.find_spec("jax") is not None
        assert set(c["contenders"]) == set(benchmark.CONTENDERS) - (set() if jax_installed else {"jax"})
        for name, v in c["contenders"].items():
            assert set(v) == CONTENDER_FIELDS, name
            assert len(v["times_ms"]) == 5 and all(t > 0 for t in v["times_ms"])
            assert v["median_ms"] == pytest.approx(sorted(v["times_ms"])[2])
            assert v["J_agrees"], (c["case"], c["dtype"], name, v["J"])  # every contender computed the same J
            assert v["vs_torch"] > 0 and v["gflops"] > 0
            assert (v["compile_s"] is not None) == (name == "jax")  # JAX's compile time, apart from its timings
            if name not in ("torch", "jax"):  # tracemalloc sees NumPy's allocations, not torch's or XLA's
                assert v["peak_extra_bytes"] > 0
        assert c["contenders"]["sklearn"]["vs_sklearn"] == pytest.approx(1.0)
        assert c["contenders"]["sklearn"]["memory_vs_sklearn"] == pytest.approx(1.0)

    predicted = {(r["case"], r["dtype"]) for r in result["predict"]}
    assert predicted == cases
    for r in result["predict"]:  # every predictor gives the labels of NumPy's bare forward pass (random weights)
        assert {"glassnet", "numpy forward", "sklearn", "torch"} <= set(r["contenders"])
        for name, v in r["contenders"].items():
            assert v["agree"] >= 0.99 and v["median_ms"] > 0 and len(v["times_ms"]) == 5, name
        assert r["contenders"]["glassnet"]["vs_glassnet"] == pytest.approx(1.0)
    assert "label predictions" in printed

    tta = {r["dataset"]: r for r in result["time_to_accuracy"]}
    digits = tta["digits"]
    assert digits["network"] == "64-25-10" and digits["threads"] == 1
    for who in ("glassnet", "sklearn"):
        assert digits[who]["n_iter"] >= 1 and 0.5 < digits[who]["test_accuracy"] <= 1.0
    assert "skipped" in tta["mnist_5k"]


def test_benchmark_without_out_writes_no_file(benchmark, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert benchmark.main(["--quick", "--no-torch", "--cases", "ex4", "--dtypes", "float64"]) == 0
    assert "wrote" not in capsys.readouterr().out and not list(tmp_path.iterdir())


def test_the_profile_line_says_when_glassnet_beats_its_products_called_from_numpy(benchmark, tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert benchmark.main(["--quick", "--no-torch", "--no-jax", "--cases", "ex4", "--dtypes", "float64", "--profile",
                           "--out", str(out)]) == 0
    capsys.readouterr()
    result = json.loads(out.read_text())
    (case,) = result["cases"]
    assert "matrix products" in benchmark.format_report(result)
    # the compiled lanes call the products from C in small chunks: faster than NumPy calling them, no negative rest
    case["profile"].update(glassnet_ms=2.2, gemm_ms=2.6, other_ms=-0.4, gemm_share=2.6 / 2.2)
    report = benchmark.format_report(result)
    assert "glassnet 2.2 ms in all, under the 2.6 ms its matrix products alone take when called from NumPy" in report
    assert "elementwise/Python -" not in report


def test_benchmark_bad_options_exit_2(benchmark, capsys):
    assert benchmark.main(["--quick", "--cases", "ex4,nope"]) == 2
    assert "--cases: expected names from ex4, mnist, deep, act, predict, tta, got nope" in capsys.readouterr().err
    assert benchmark.main(["--quick", "--repeats", "3"]) == 2
    assert "--repeats: expected at least 5" in capsys.readouterr().err
    assert benchmark.main(["--quick", "--dtypes", "float16"]) == 2
    assert "--dtypes: expected float64 and/or float32" in capsys.readouterr().err


@pytest.fixture
def training_bench(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    return importlib.import_module("bench_training")


FIT_FIELDS = {"row", "data", "solver", "unit", "network", "m", "m_test", "lam", "batch", "learning_rate", "threads",
              "budget", "fraction", "target", "repeats", "contenders", "vs", "floor_ms"}
CONTENDER_FIT_FIELDS = {"best_accuracy", "final_accuracy", "budget_seconds", "steps", "steps_to_target",
                        "seconds_to_target", "seconds_all", "steps_all", "curve"}


def test_quick_training_benchmark_reports_every_row(training_bench, tmp_path, capsys):
    """bench_training.py --quick: the epoch, overhead, dtype and fit rows run and the JSON holds them (no timing
    asserted)."""
    out_file = tmp_path / "training.json"
    assert training_bench.main(["--quick", "--out", str(out_file)]) == 0
    out = capsys.readouterr().out
    assert "one Adam epoch" in out and "float32 vs float64" in out and "whole fits to a common test accuracy" in out
    assert "fixed cost per batch" in out
    result = json.loads(out_file.read_text())
    kinds = [r["row"] for r in result["rows"]]
    assert kinds.count("epoch") == 12 and "dtype" in kinds  # (cpu1, wall2) × (float64, float32) × 3 batch sizes
    assert kinds.count("overhead") == 4  # (float64, float32) × batches of 1 and 16
    for r in result["rows"]:
        if r["row"] == "overhead":
            assert "glassnet" in r["us_per_batch"]
        else:
            assert r["floor_ms"] > 0
    fits = {(r["data"], r["solver"]): r for r in result["rows"] if r["row"] == "fit"}
    assert set(fits) == {("digits", "lbfgs"), ("digits", "adam")}  # --quick: digits only
    torch_installed = importlib.util.find_spec("torch") is not None
    for (_, solver), r in fits.items():
        assert set(r) == FIT_FIELDS, set(r) ^ FIT_FIELDS
        who = list(r["contenders"])
        expected = ["glassnet", "sklearn"] + (["torch"] if solver == "adam" and torch_installed else []) + (
            ["jax"] if importlib.util.find_spec("jax") is not None else [])
        assert who == expected  # glassnet first in every row
        assert r["repeats"] == 1 and r["network"] == "64-25-10" and r["threads"] == 1
        best = [c["best_accuracy"] for c in r["contenders"].values()]
        assert r["target"] == pytest.approx(r["fraction"] * min(best)) and r["fraction"] == 0.98
        for name, c in r["contenders"].items():
            assert set(c) == CONTENDER_FIT_FIELDS, name
            assert 0.0 < r["target"] <= c["best_accuracy"] <= 1.0, name
            assert c["steps"] == len(c["curve"]) == r["budget"], name  # every run goes the whole budget
            times = [t for t, _ in c["curve"]]
            assert all(t > 0 for t in times) and times == sorted(times), name  # cumulative training time
            assert c["best_accuracy"] == max(a for _, a in c["curve"]) and c["final_accuracy"] == c["curve"][-1][1]
            assert c["seconds_to_target"] > 0 and c["budget_seconds"] >= c["seconds_to_target"], name
            # one timed run: its curve is the one kept, and the time to the target is read off it
            t, n = training_bench.first_at(c["curve"], r["target"])
            assert (c["seconds_to_target"], c["steps_to_target"]) == (pytest.approx(t, abs=1e-6), n)
            assert c["seconds_all"] == [pytest.approx(t, abs=1e-6)] and c["steps_all"] == [n]
        for name, ratio in r["vs"].items():
            assert ratio == pytest.approx(r["contenders"][name]["seconds_to_target"]
                                          / r["contenders"]["glassnet"]["seconds_to_target"])
        assert set(r["vs"]) == set(who[1:])
    table = out[out.index("whole fits"):]
    assert "digits    lbfgs" in table and "digits    adam" in table and "glassnet" in table and "ratio" in table
    # dtype rows: glassnet in float64 and float32, time to a common accuracy by the same rule, for both solvers
    dtypes = {(r["data"], r["solver"]): r for r in result["rows"] if r["row"] == "dtype"}
    assert set(dtypes) == {("digits", "lbfgs"), ("digits", "adam")}
    for (_, solver), r in dtypes.items():
        c = r["contenders"]
        assert list(c) == ["float64", "float32"] and set(r["vs"]) == {"float32"}
        assert r["budget"] == fits[("digits", solver)]["budget"] and r["network"] == "64-25-10"
        for name in c:
            assert set(c[name]) == CONTENDER_FIT_FIELDS and 0.0 < r["target"] <= c[name]["best_accuracy"], name
        assert r["float32_speedup"] == pytest.approx(c["float64"]["seconds_to_target"]
                                                     / c["float32"]["seconds_to_target"])
        assert r["vs"]["float32"] == pytest.approx(1.0 / r["float32_speedup"])
        # the fixed share and the ceiling it sets: float64 time / (fixed + half the rest), between 1 and 2
        assert set(r["fixed_ms_per_step"]) == {"float64", "float32"} and min(r["fixed_ms_per_step"].values()) > 0
        assert 0 < r["fixed_share"] <= 1 and 1 <= r["ceiling"] <= 2
        assert r["ceiling"] == pytest.approx(1 / (r["fixed_share"] + (1 - r["fixed_share"]) / 2))
    dtype_table = out[out.index("float32 vs float64"):out.index("whole fits")]
    assert "digits    lbfgs" in dtype_table and "digits    adam" in dtype_table and "× faster" in dtype_table
    assert "ceiling" in dtype_table and "fixed" in dtype_table


def test_probe_leaves_the_test_evaluation_out_of_the_training_time(training_bench, monkeypatch):
    now = [0.0]
    monkeypatch.setattr(training_bench.time, "perf_counter", lambda: now[0])

    def evaluate(acc):
        now[0] += 10.0  # a slow evaluation, which must not count
        return acc

    probe = training_bench.Probe()
    probe.start()
    for acc in (0.5, 0.9, 0.8):
        now[0] += 1.0  # one epoch of training
        probe.check(functools.partial(evaluate, acc))
    assert probe.curve == [(1.0, 0.5), (2.0, 0.9), (3.0, 0.8)]
    assert training_bench.first_at(probe.curve, 0.85) == (2.0, 2)
    assert training_bench.first_at(probe.curve, 0.95) is None
