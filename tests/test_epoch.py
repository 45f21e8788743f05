"""The compiled mini-batch epoch (glassnet._support.fused.epoch) against the NumPy loop it replaces.

The NumPy loop (train.fitting's batch objective driven by train.optimize.run_epoch) is the definition. The compiled
epoch does the same operations per element, but its matrix products run in SciPy's BLAS and its sums over examples
(the bias column of Δ, J) in another order, so the two agree to rounding: float64 to 1e-12 relative after whole
epochs, float32 to 1e-4 (Adam's first steps divide by √v of a few rounded gradients).
"""

import contextlib
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import scipy.sparse

import glassnet
from conftest import kernel_problem as problem
from glassnet._support import fused as _fused
from glassnet.outputs import OUTPUT_LOSS_PAIRS
from glassnet.train import optimize
from glassnet.train.fitting import fit
from glassnet.train.optimize import StopTraining, TrainingDiverged

pytestmark = pytest.mark.skipif(not _fused.blas_ready(), reason="the C kernels were not built at install (no compiler "
                                "found) or GLASSNET_KERNELS=0: only the NumPy loop exists, nothing to compare")

TOL = {np.float64: 1e-12, np.float32: 1e-4}


def both(thetas, X, y, lam, workers=1, **kw):
    """(compiled, NumPy) results of the same fit; asserts the compiled epoch really ran, on ``workers`` threads at
    most."""
    calls = []
    real = _fused._kernels.epoch

    def counted(*args):
        calls.append(args[16])  # workers (then check)
        return real(*args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_fused._kernels, "epoch", counted)
        fast = fit(thetas, X, y, lam, **kw)
    assert calls, "the compiled epoch did not run"
    assert set(calls) == {workers}, f"the compiled epoch ran on {calls} threads, not {workers}"
    with _fused.disabled():
        ref = fit(thetas, X, y, lam, **kw)
    return fast, ref


def assert_close(fast, ref, dtype):
    (a, ha), (b, hb) = fast, ref
    for p, q in zip(a, b):
        assert p.dtype == q.dtype == dtype
        assert np.max(np.abs(p - q)) <= TOL[dtype] * np.max(np.abs(q))
    np.testing.assert_allclose(ha.cost, hb.cost, rtol=TOL[dtype])
    assert ha.n_evals == hb.n_evals and ha.n_iter == hb.n_iter


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "identity"])
@pytest.mark.parametrize("pair", OUTPUT_LOSS_PAIRS)
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_every_activation_and_cost_matches_the_numpy_loop(dtype, activation, pair, solver):
    output, loss = pair
    thetas, X, y = problem(dtype, output=output)
    rate = 0.01 if (activation, output) == ("identity", "identity") else "auto"  # a linear net diverges at 0.1
    kw = dict(solver=solver, max_iter=2, batch_size=16, random_state=1, activation=activation, output=output,
              loss=loss, patience=None, learning_rate=rate)
    assert_close(*both(thetas, X, y, 1.0, **kw), dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("lam, batch, shuffle", [(0.0, 10, True), (3.0, 103, False), (0.5, 500, True),
                                                 (1.0, 1, False)])
def test_lambda_batch_sizes_and_order(dtype, lam, batch, shuffle):
    thetas, X, y = problem(dtype, sizes=(6, 4, 2), m=37)
    kw = dict(solver="adam", max_iter=3, batch_size=batch, random_state=2, shuffle=shuffle, patience=None)
    assert_close(*both(thetas, X, y, lam, **kw), dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("workers", [2, 3, 4])
@pytest.mark.parametrize("sizes, m, batch", [
    ((20, 9, 3), 103, 16),  # narrow batches: thread 0 takes every example past the first hidden layer
    ((20, 40, 7, 5), 700, 256),  # wide ones (≥ 64 examples a thread): split by examples too; a narrower last batch
    ((16, 24, 6), 3000, 300),  # ten wide batches: a thread runs ahead into the next batch while others finish this one
    ((12, 2, 4), 50, 8),  # fewer hidden units than threads
    ((12, 5), 40, 8),  # no hidden layer: the caller's thread alone
    # a batch of X larger than a core's L2 cache: the threads share the rows they gather (the cases above: each
    # thread gathers every row for itself)
    ((4096, 6, 3), 600, 256),
], ids=["narrow", "wide", "wide-many", "few-units", "no-hidden", "rows-past-l2"])
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_the_epoch_on_threads_of_its_own_matches_the_numpy_loop(dtype, workers, sizes, m, batch, solver):
    thetas, X, y = problem(dtype, sizes=sizes, m=m)
    kw = dict(solver=solver, max_iter=2, batch_size=batch, random_state=3, n_threads=workers, patience=None)
    assert_close(*both(thetas, X, y, 0.7, workers=workers, **kw), dtype)


@pytest.mark.parametrize("activation, pair", [("tanh", ("softmax", "log")), ("relu", ("identity", "squared")),
                                              ("sigmoid", ("sigmoid", "squared"))])
def test_every_output_on_threads_of_its_own(activation, pair):
    output, loss = pair
    thetas, X, y = problem(np.float64, sizes=(20, 16, 6, 3), m=400, output=output)
    kw = dict(solver="adam", max_iter=2, batch_size=150, random_state=1, activation=activation, output=output,
              loss=loss, patience=None, learning_rate=0.01, n_threads=2)
    assert_close(*both(thetas, X, y, 1.0, workers=2, **kw), np.float64)


def pool_threads() -> dict[str, str]:
    """The kernels' pool threads of this process: {tid: state letter of /proc/self/task/<tid>/stat}."""
    found = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                if f.read().strip() != "glassnet-pool":
                    continue
            with open(f"/proc/self/task/{tid}/stat") as f:
                found[tid] = f.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:  # a thread that ended while we looked
            continue
    return found


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counting threads needs Linux's /proc")
def test_the_epoch_runs_on_the_pools_threads_which_stay_and_sleep_when_idle():
    thetas, X, y = problem(np.float64, sizes=(20, 12, 3), m=200)
    seen = []

    def should_stop():
        seen.append(pool_threads())
        return False

    kw = dict(solver="adam", max_iter=1, batch_size=50, n_threads=3)
    fit(thetas, X, y, 1.0, should_stop=should_stop, **kw)
    assert min(len(s) for s in seen) >= 2  # two threads beside the caller's
    assert _fused._kernels.pool_status()[1] == 0  # none is still inside the epoch
    kept = pool_threads()
    assert len(kept) >= 2  # kept for the next call, not started again
    fit(thetas, X, y, 1.0, **kw)
    assert pool_threads().keys() == kept.keys()
    # idle, they spin about a millisecond and then sleep: none keeps a core busy (a busy machine may take a while
    # to give them the core they need to get there, hence the generous wait)
    deadline = time.monotonic() + 30
    while any(state == "R" for state in pool_threads().values()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert set(pool_threads().values()) <= {"S"}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_threads_that_wait_more_than_they_work_leave_the_epoch_to_the_callers_thread(dtype):
    # A slow poll makes the caller's thread slow: its partner waits at the barrier far longer than it works (as with
    # more threads than cores), so after 16 batches the caller finishes the epoch alone, with the same numbers.
    thetas, X, y = problem(dtype, sizes=(20, 12, 3), m=400)
    seen = []

    def slow_poll():
        seen.append(_fused._kernels.pool_status()[1])  # pool threads inside a task
        time.sleep(0.003)
        return False

    kw = dict(solver="adam", max_iter=1, batch_size=10, random_state=0, n_threads=2, patience=None)
    fast = fit(thetas, X, y, 1.0, should_stop=slow_poll, **kw)
    # the partner thread worked the first 16 batches (from the second poll on: at the first it may still be waking up;
    # by the second it has met the caller at batch 1's barriers)
    assert seen[1:16] == [1] * 15
    assert seen[-1] == 0  # and had left by the last one: the caller's thread ran the rest alone
    with _fused.disabled():
        ref = fit(thetas, X, y, 1.0, **kw)
    assert_close(fast, ref, dtype)


@pytest.mark.parametrize("nesterov, momentum", [(True, 0.9), (False, 0.5), (True, 0.0)])
def test_sgd_variants(nesterov, momentum):
    thetas, X, y = problem(np.float64)
    rule = optimize.sgd(0.05, momentum=momentum, nesterov=nesterov)
    kw = dict(solver="sgd", rule=rule, max_iter=2, batch_size=20, random_state=0, patience=None)
    assert_close(*both(thetas, X, y, 0.7, **kw), np.float64)


def test_the_estimator_and_a_resumed_run_go_through_it():
    data = glassnet.datasets.load("digits")
    X, y = data.X[:400], data.y[:400]

    def run():
        clf = glassnet.Classifier(hidden_layer_sizes=(15,), solver="adam", max_iter=2, batch_size=32,
                                  random_state=0, n_iter_no_change=10**6).fit(X, y)
        clf.partial_fit(X, y)  # one more epoch, with the moments and the generator kept
        return clf

    fast = run()
    with _fused.disabled():
        ref = run()
    for p, q in zip(fast.thetas_, ref.thetas_):
        assert np.max(np.abs(p - q)) <= 1e-12 * np.max(np.abs(q))
    np.testing.assert_allclose(fast.loss_curve_, ref.loss_curve_, rtol=1e-12)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_divergence_is_reported_like_the_numpy_loop(threads):
    thetas, X, y = problem(np.float64, sizes=(20, 7, 3), output="identity")
    X = X * 1e3
    kw = dict(solver="sgd", max_iter=3, batch_size=8, random_state=0, activation="identity", output="identity",
              loss="squared", learning_rate=1.0, patience=None, n_threads=threads)
    with pytest.raises(TrainingDiverged) as fast:
        fit(thetas, X, y, 0.0, **kw)
    with _fused.disabled(), pytest.raises(TrainingDiverged) as ref:
        fit(thetas, X, y, 0.0, **kw)
    assert str(fast.value).split("J =")[0] == str(ref.value).split("J =")[0]  # the same batch number


@pytest.mark.parametrize("threads", [1, 2])
def test_should_stop_is_polled_before_every_batch(threads):
    thetas, X, y = problem(np.float64)
    polls = []

    def should_stop():
        polls.append(1)
        return len(polls) == 4

    with pytest.raises(StopTraining):
        fit(thetas, X, y, 1.0, solver="adam", max_iter=5, batch_size=10, should_stop=should_stop, n_threads=threads)
    assert len(polls) == 4

    def broken():
        raise RuntimeError("from the callback")

    with pytest.raises(RuntimeError, match="from the callback"):
        fit(thetas, X, y, 1.0, solver="adam", max_iter=1, batch_size=10, should_stop=broken, n_threads=threads)


@pytest.mark.parametrize("make", [lambda X: scipy.sparse.csr_matrix(X), np.asfortranarray],
                         ids=["sparse", "F-ordered"])
def test_other_layouts_take_the_numpy_loop(make, monkeypatch):
    thetas, X, y = problem(np.float64)
    monkeypatch.setattr(_fused._kernels, "epoch", lambda *a: pytest.fail("the compiled epoch ran"))
    got, _ = fit(thetas, make(X), y, 1.0, solver="adam", max_iter=1, batch_size=16, random_state=0)
    with _fused.disabled():
        ref, _ = fit(thetas, X, y, 1.0, solver="adam", max_iter=1, batch_size=16, random_state=0)
    for p, q in zip(got, ref):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-15)


def test_a_custom_rule_takes_the_numpy_loop(monkeypatch):
    thetas, X, y = problem(np.float64)
    plain = optimize.adam(0.01)
    custom = optimize.Optimizer("adam", plain.init, plain.update, plain.learning_rate, plain.update_)  # no kernel
    monkeypatch.setattr(_fused._kernels, "epoch", lambda *a: pytest.fail("the compiled epoch ran"))
    fit(thetas, X, y, 1.0, solver="adam", rule=custom, max_iter=1, batch_size=16)


def test_arrays_it_cannot_take_are_refused_before_anything_is_touched():
    thetas, X, y = problem(np.float64, sizes=(4, 3, 2), m=10)
    Y = np.eye(2)[y]
    flat = np.concatenate([t.ravel() for t in thetas])
    G, m1, v1 = np.zeros_like(flat), np.zeros_like(flat), np.zeros_like(flat)
    before = flat.copy()
    order = np.arange(10)
    args = dict(sizes=[4, 3, 2], batch=4, activation="sigmoid", output="sigmoid", loss="log", lam=1.0, rule="adam",
                params=(0.01, 0.9, 0.999, 1e-8), t=0, should_stop=None)
    bad = [
        (X, Y, order + 1, flat, G, [m1, v1]),  # a row number out of range
        (X, Y, order.astype(np.int32), flat, G, [m1, v1]),  # not int64
        (X.astype(np.float32), Y, order, flat, G, [m1, v1]),  # mixed dtypes
        (X, Y[:5], order, flat, G, [m1, v1]),  # Y too short
        (X, Y, order, flat, flat, [m1, v1]),  # G is Θ
        (X, Y, order, flat[:-1], G[:-1], [m1[:-1], v1[:-1]]),  # not every weight
        (np.asfortranarray(X), Y, order, flat, G, [m1, v1]),  # not C-ordered
    ]
    for X_, Y_, order_, th, G_, arrays in bad:
        assert _fused.epoch(X_, Y_, order_, th, G_, arrays, **args) is None
        assert np.array_equal(flat, before)
    status, total, batches, t, _, _ = _fused.epoch(X, Y, order, flat, G, [m1, v1], **args)
    assert (status, batches, t) == (_fused.EPOCH_OK, 3, 3) and total > 0 and not np.array_equal(flat, before)

def test_glassnet_kernels_0_runs_the_numpy_loop():
    code = ("from glassnet._support import fused; import numpy as np; from glassnet.train.fitting import fit;"
            "rng = np.random.default_rng(0); X = rng.random((30, 4)); y = rng.integers(0, 2, 30);"
            "th = [rng.standard_normal((3, 5)), rng.standard_normal((2, 4))];"
            "fused._kernels = None;"  # any call into the kernels would fail now
            "print(fused.available(), fused.blas_ready(), fit(th, X, y, 1.0, solver='adam', max_iter=2)[1].n_iter)")
    env = {**os.environ, "GLASSNET_KERNELS": "0"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False", "2"]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_asked_to_check_the_epoch_stops_before_the_batch_holding_a_row_that_is_not_finite(dtype, workers, bad):
    # the fit's one look at X for NaN/inf: each row as it is gathered; the batches before that one were stepped
    from glassnet._fast.workspace import Workspace
    from glassnet.params import random_init, unroll

    sizes, m, batch = [40, 8, 3], 200, 32
    thetas, X, y = problem(dtype, sizes=tuple(sizes), m=m)
    rng = np.random.default_rng(5)
    order = rng.permutation(m).astype(np.int64)
    row = int(order[3 * batch + 27])  # in the fourth batch (gathered by the second thread where there are two)
    X = X.copy()
    X[row, 17] = bad
    ws = Workspace(sizes, batch, X.dtype)
    Y = ws.pair.targets(y, sizes[-1], m, dtype=X.dtype)
    run = ws.compiled_epoch(X, Y, 0.5)
    assert run is not None

    def epoch(check):
        flat = unroll(random_init(sizes, rng=0, dtype=dtype), order="C")
        state = [np.zeros_like(flat), np.zeros_like(flat)]
        return run(flat, np.empty_like(flat), "adam", (0.01, 0.9, 0.999, 1e-8), state, 0, order, batch, workers,
                   check=check)

    status, total, batches, t, bad_batch, _ = epoch(True)
    assert (status, batches, t, bad_batch) == (_fused.EPOCH_NOT_FINITE, 3, 3, 4)
    assert np.isfinite(total)
    assert epoch(False)[0] != _fused.EPOCH_NOT_FINITE  # not asked: the row is used (and the cost is not finite)
    X[row, 17] = 0.5
    assert epoch(True)[:3] == epoch(False)[:3]  # a clean X: looking changes nothing


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("kernels", [True, False])
def test_training_fit_refuses_x_that_is_not_finite_with_check_xs_words_whoever_looks(solver, kernels):
    # fit's default check_finite (check_X): the compiled epoch's first gather, the NumPy loop's first batch, or up
    # front for the full-batch solvers; every way the same error, naming the first bad entry
    thetas, X, y = problem(np.float64, sizes=(30, 6, 3), m=120)
    X = X.copy()
    X[97, 11] = np.inf
    with contextlib.nullcontext() if kernels else _fused.disabled(), \
            pytest.raises(ValueError, match=r"X: expected finite values, found inf at row 97, column 11"):
        fit(thetas, X, y, 1.0, solver=solver, max_iter=2, batch_size=16, random_state=0, patience=None)
    X[97, 11] = 0.25
    fit(thetas, X, y, 1.0, solver=solver, max_iter=2, batch_size=16, random_state=0, patience=None)
