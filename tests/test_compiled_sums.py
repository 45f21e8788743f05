"""The compiled full-batch sums (glassnet._support.fused.sums, a workspace lane in C) against the NumPy lane.

The NumPy lane (glassnet._fast.workspace._Lane.sums) is the definition; the compiled one runs the same operations per
element, its products in SciPy's BLAS and its chunks smaller, so the two agree to rounding: float64 to 1e-12
relative, float32 to 1e-5.
"""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
import scipy.sparse

import glassnet
from conftest import kernel_problem as problem
from glassnet._fast import workspace as ws
from glassnet._support import fused as _fused
from glassnet.outputs import OUTPUT_LOSS_PAIRS

pytestmark = pytest.mark.skipif(not _fused.blas_ready(), reason="the C kernels were not built at install (no compiler "
                                "found) or GLASSNET_KERNELS=0: only the NumPy lane exists, nothing to compare")

TOL = {np.float64: 1e-12, np.float32: 1e-5}


def both(sizes, m, dtype, workers=1, activation="sigmoid", pair=("sigmoid", "log"), lam=0.7, X=None, chunk_rows=None):
    """(compiled, NumPy) J and D of one workspace call; asserts the compiled sums really ran (on every worker)."""
    output, loss = pair
    thetas, X0, y = problem(dtype, sizes, m, output)
    X = X0 if X is None else X
    calls = []
    real = _fused._kernels.sums

    def counted(*args):
        M, k = args[0].shape[0], len(args[3])
        calls.extend(M * (w + 1) // k - M * w // k for w in range(k))  # the rows of each lane
        return real(*args)

    def run():
        w = ws.Workspace(sizes, m, dtype, n_workers=workers, activation=activation, output=output, loss=loss,
                         chunk_rows=chunk_rows)
        return w.cost_and_gradient(thetas, X, y, lam)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_fused._kernels, "sums", counted)
        fast = run()
    with _fused.disabled():
        ref = run()
    return fast, ref, calls


def assert_close(fast, ref, dtype):
    (J, D), (J0, D0) = fast, ref
    assert abs(J - J0) <= TOL[dtype] * abs(J0)
    for d, d0 in zip(D, D0):
        assert d.dtype == d0.dtype == dtype and d.shape == d0.shape
        assert np.max(np.abs(d - d0)) <= TOL[dtype] * np.max(np.abs(d0))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "identity"])
@pytest.mark.parametrize("pair", OUTPUT_LOSS_PAIRS)
def test_every_activation_and_cost_matches_the_numpy_lane(dtype, activation, pair):
    fast, ref, calls = both([20, 7, 5, 3], 103, dtype, activation=activation, pair=pair)
    assert calls == [103]
    assert_close(fast, ref, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("sizes", "m", "workers", "lane_rows"), [
    ([400, 25, 10], 5000, 2, None),  # the course's network: chunks of 32 rows, two lanes
    ([400, 25, 10], 31, 1, None),  # fewer rows than one chunk
    ([30, 40, 10], 257, 3, 90),  # lanes of 85-86 rows: a 64-row chunk and a ragged one each
    ([12, 3], 50, 1, None),  # no hidden layer
    ([9, 300, 4, 2], 600, 2, 300),  # 256-row chunks, two hidden layers
])
def test_chunks_lanes_and_depths_match_the_numpy_lane(dtype, sizes, m, workers, lane_rows):
    fast, ref, calls = both(sizes, m, dtype, workers=workers, chunk_rows=lane_rows)
    assert sorted(calls) == sorted(m * (w + 1) // workers - m * w // workers for w in range(workers))
    assert_close(fast, ref, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_both_forms_of_the_first_layers_product_agree(dtype):
    thetas, X, y = problem(dtype, [30, 9, 4], 301)
    Y = np.eye(4, dtype=dtype)[y]
    results = []
    for rows_form in (False, True):
        lane = ([np.empty(9 * 64, dtype), np.empty(4 * 64, dtype)], [np.empty(9 * 64, dtype), np.empty(4 * 64, dtype)],
                [np.empty(t.shape, dtype) for t in thetas])
        results.append((_fused._kernels.sums(X, Y, thetas, [lane], [30, 9, 4], 64, 0, 0, rows_form), lane[2]))
    wt = np.empty(30 * 9, dtype)  # the rows form into memory given (a workspace's): the same numbers
    lane = ([np.empty(9 * 64, dtype), np.empty(4 * 64, dtype)], [np.empty(9 * 64, dtype), np.empty(4 * 64, dtype)],
            [np.empty(t.shape, dtype) for t in thetas])
    assert _fused._kernels.sums(X, Y, thetas, [lane], [30, 9, 4], 64, 0, 0, wt) == results[1][0]
    for d, d1 in zip(lane[2], results[1][1]):
        np.testing.assert_array_equal(d, d1)
    np.testing.assert_array_equal(wt.reshape(30, 9), thetas[0][:, 1:].T)
    (J0, D0), (J1, D1) = results
    assert abs(J1 - J0) <= TOL[dtype] * abs(J0)
    for d0, d1 in zip(D0, D1):
        assert np.max(np.abs(d1 - d0)) <= TOL[dtype] * np.max(np.abs(d0))


def test_thin_first_layers_are_asked_as_rows():
    assert [ws.first_layer_as_rows(s) for s in ([400, 25, 10], [64, 25, 10], [784, 16, 10], [400, 32, 10],
                                                [784, 25, 10], [400, 50, 10], [100, 100, 10], [784, 300, 10])] == [
        True, True, True, True, False, False, False, False]


def test_the_chunk_follows_the_first_hidden_layer():
    assert [ws.compiled_chunk_rows(s) for s in ([400, 25, 10], [784, 100, 10], [784, 300, 10], [784, 512, 10],
                                                   [5, 2], [784, 25, 10])] == [64, 128, 256, 256, 64, 32]


def test_sparse_and_strided_x_take_the_numpy_lane():
    thetas, X, y = problem(np.float64, [10, 4, 3], 40)
    for X_other in (scipy.sparse.csr_matrix(X), np.asfortranarray(X)):
        fast, ref, calls = both([10, 4, 3], 40, np.float64, X=X_other)
        assert calls == []
        assert_close(fast, ref, np.float64)


def test_the_public_call_and_a_training_run_go_through_it(monkeypatch):
    calls = []
    real = _fused._kernels.sums
    monkeypatch.setattr(_fused._kernels, "sums", lambda *a: (calls.append(1), real(*a))[1])
    thetas, X, y = problem(np.float64, [400, 25, 10], 300)
    J, grads = glassnet.cost_and_gradient(thetas, X, y, 1.0)
    assert calls
    with _fused.disabled():
        J0, grads0 = glassnet.cost_and_gradient(thetas, X, y, 1.0)
    assert abs(J - J0) <= 1e-12 * J0
    calls.clear()
    glassnet.Classifier(hidden_layer_sizes=(25,), max_iter=3, solver="lbfgs").fit(X, y)
    assert calls


def test_arrays_it_cannot_take_are_refused_before_anything_is_touched():
    k = _fused._kernels
    thetas, X, y = problem(np.float64, [6, 4, 3], 10)
    Y = np.eye(3)[y]

    def lane():
        return [np.zeros(4 * 8), np.zeros(3 * 8)], [np.zeros(4 * 8), np.zeros(3 * 8)], [np.full(t.shape, 7.0)
                                                                                       for t in thetas]

    (A, Dl, Delta), other = lane(), lane()
    good = (X, Y, thetas, [(A, Dl, Delta), other], [6, 4, 3], 8, 0, 0)

    def with_lane(A=A, Dl=Dl, Delta=Delta):
        return good[:3] + ([(A, Dl, Delta), other],) + good[4:]

    bad = [
        (X.astype(np.float32),) + good[1:],  # two dtypes
        (X[:, :5].copy(),) + good[1:],  # X does not have s_1 columns
        with_lane(A=[np.zeros(4 * 7), A[1]]),  # A too small for 8 rows
        with_lane(Delta=[Delta[0], np.zeros((3, 4))]),  # Delta of the wrong shape
        with_lane(Delta=[Delta[0], Delta[0]]),  # written arrays that overlap
        with_lane(Delta=[Delta[0], other[2][1]]),  # two lanes writing one Delta
        with_lane(A=[X.ravel()[:32], A[1]]),  # a written buffer that is X's memory
        good[:3] + ([(A, Dl)],) + good[4:],  # a lane that is not a triple
        good[:3] + ([],) + good[4:],  # no lane
        good[:3] + ([(A, Dl, Delta)] * 11,) + good[4:],  # more lanes than rows (and lanes sharing buffers)
        good[:7] + (9,),  # unknown output/loss pair
        good[:5] + (0,) + good[6:],  # no rows per chunk
        (X[:0], Y[:0]) + good[2:],  # no rows
        good + (np.zeros(6 * 4 - 1),),  # rows form: too little room for Θ^(1) transposed
        good + (X.ravel()[:24],),  # rows form: Θ^(1) transposed into X's memory
        good + (False, False, [np.zeros((4, 7))], 1.0),  # out: one array for two layers
        good + (False, False, [np.zeros((4, 7)), np.zeros((3, 4))], 1.0),  # out of the wrong size
        good + (False, False, [np.zeros((4, 7)), Delta[1]], 1.0),  # out that is a lane's Delta
        good + (False, False, [np.zeros((4, 7)), thetas[1]], 1.0),  # out that is Θ
        good + (False, False, [np.zeros((4, 7)), np.zeros((3, 5)).T.copy().T], 1.0),  # out not C-ordered
        good + (False, False, [np.zeros((4, 7)), np.zeros((3, 5))], -1.0),  # λ < 0
        good + (False, False, [np.zeros((4, 7)), np.zeros((3, 5))], np.inf),  # λ not finite
    ]
    for args in bad:
        with pytest.raises(ValueError):
            k.sums(*args)
        assert all((D == 7.0).all() for D in Delta + other[2])
    assert np.isfinite(k.sums(*good))
    assert not all((D == 7.0).all() for D in Delta)


def test_lanes_on_the_pool_add_up_to_one_lane_bit_for_bit_in_lane_order():
    # lane w takes rows M*w//k ..; lane 0's Delta ends as Δ_0 + Δ_1 + ... added in that order, J likewise: what the
    # NumPy reduction of the workspace does, so the result does not depend on which thread ran which lane
    thetas, X, y = problem(np.float64, [30, 9, 4], 301)
    Y = np.eye(4)[y]
    k = _fused._kernels

    def lane():
        return [np.empty(9 * 32), np.empty(4 * 32)], [np.empty(9 * 32), np.empty(4 * 32)], [np.empty(t.shape)
                                                                                         for t in thetas]

    lanes = [lane() for _ in range(3)]
    J = k.sums(X, Y, thetas, lanes, [30, 9, 4], 32, 0, 0)
    parts = []
    for w in range(3):
        lo, hi = 301 * w // 3, 301 * (w + 1) // 3
        one = lane()
        parts.append((k.sums(X[lo:hi], Y[lo:hi], thetas, [one], [30, 9, 4], 32, 0, 0), one[2]))
    assert J == parts[0][0] + parts[1][0] + parts[2][0]
    for l in range(2):
        assert np.array_equal(lanes[0][2][l], parts[0][1][l] + parts[1][1][l] + parts[2][1][l])


def test_compiled_lanes_hold_one_chunk_and_their_delta_only():
    # the compiled lanes need a few chunk-sized buffers and Δ: the first call's memory (0.08× scikit-learn's on ex4)
    sizes, m = [400, 25, 10], 5000
    thetas, X, y = problem(np.float64, sizes, m)
    w = ws.Workspace(sizes, m, np.float64, n_workers=2)
    w.cost_and_gradient(thetas, X, y, 1.0)
    weights = sum(t.size for t in thetas)
    rows = ws.compiled_chunk_rows(sizes)
    per_lane = weights + rows * (2 * sum(sizes[1:]) + sizes[-1] + 1) + max(sizes[1:])
    assert len(w._lanes) == 2 and w.nbytes == 2 * per_lane * 8
    w.cost_and_gradient(thetas, X, y, 1.0)  # from the second call on, Θ^(1) transposed in the workspace's memory
    transposed = sizes[0] * sizes[1]
    assert w.nbytes == (2 * per_lane + transposed) * 8
    with _fused.disabled():  # the NumPy lanes: 1250-row chunks and the product buffer
        w.cost_and_gradient(thetas, X, y, 1.0)
    assert w.nbytes > 5 * 2 * per_lane * 8


def test_a_build_without_the_sums_runs_the_numpy_lanes(monkeypatch):
    # an extension built from older sources (no sums()): every call still works, on the NumPy lanes
    monkeypatch.delattr(_fused._kernels, "sums")
    thetas, X, y = problem(np.float64, [8, 5, 3], 60)
    J, grads = glassnet.cost_and_gradient(thetas, X, y, 0.5)
    with _fused.disabled():
        J0, grads0 = glassnet.cost_and_gradient(thetas, X, y, 0.5)
    assert J == J0  # the NumPy lanes' J; D through the kernels' finish or NumPy's, to rounding
    for g, g0 in zip(grads, grads0):
        np.testing.assert_allclose(g, g0, rtol=1e-13, atol=1e-15)


_FORKED_CHILD = """
import os, sys
import numpy as np
from glassnet._support import fused, threads

k = fused._kernels
assert fused.blas_ready()
limit = threads.kernels_limit_blas()  # the lanes on one-thread BLAS, set by the kernels (where this BLAS allows)
rng = np.random.default_rng(0)
thetas = [rng.standard_normal((9, 31)), rng.standard_normal((4, 10))]
X, Y = rng.random((301, 30)), np.eye(4)[rng.integers(0, 4, 301)]


def run():
    lanes = [([np.empty(9 * 32), np.empty(4 * 32)], [np.empty(9 * 32), np.empty(4 * 32)],
              [np.empty(t.shape) for t in thetas]) for _ in range(2)]
    return k.sums(X, Y, thetas, lanes, [30, 9, 4], 32, 0, 0, False, limit), lanes[0][2]


J, Delta = run()
assert k.pool_status()[0] >= 1
before = threads.blas_threads()
pid = os.fork()
if pid == 0:
    J_child, Delta_child = run()  # hangs if the child waits for the parent's threads
    same = J_child == J and all(np.array_equal(a, b) for a, b in zip(Delta, Delta_child))
    with threads.single_threaded_blas():  # the child's own count of callers: it starts at none
        one = threads.blas_threads() == 1
    os._exit(0 if same and one and k.pool_status()[0] >= 1 and threads.blas_threads() == before else 1)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only")
def test_a_forked_child_starts_its_own_pool():
    # a child forked after the pool started has none of its threads: it must start its own, not wait for them (in
    # a fresh interpreter: this one may hold libraries that warn about fork, JAX among them)
    done = subprocess.run([sys.executable, "-c", _FORKED_CHILD], timeout=120, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_calls_from_several_python_threads_at_once_give_each_its_own_answer():
    # one call holds the kernels' pool at a time; a call that finds it taken runs its lanes on its own thread
    from concurrent.futures import ThreadPoolExecutor

    problems = [problem(np.float64, [40, 9, 4], 400 + 37 * i) for i in range(4)]

    def call(i):
        thetas, X, y = problems[i]
        return ws.Workspace([40, 9, 4], X.shape[0], np.float64, n_workers=2).cost_and_gradient(thetas, X, y, 0.5)

    alone = [call(i) for i in range(4)]
    with ThreadPoolExecutor(4) as ex:
        for _ in range(3):
            together = list(ex.map(call, [0, 1, 2, 3] * 5))
            for i, (J, D) in enumerate(together):
                J0, D0 = alone[i % 4]
                assert J == J0 and all(np.array_equal(d, d0) for d, d0 in zip(D, D0))


def test_the_chunks_are_the_rules_whatever_buffers_the_lanes_already_hold(monkeypatch):
    # A workspace whose lanes were made by the NumPy code (chunks of hundreds of rows) still runs the compiled lanes in
    # chunks of compiled_chunk_rows, and after those bigger lanes are replaced it hands the kernels the new buffers
    thetas, X, y = problem(np.float64, [30, 9, 4], 700)
    w = ws.Workspace([30, 9, 4], 700, np.float64, n_workers=1)
    with _fused.disabled():
        ref = w.cost_and_gradient(thetas, X, y, 0.5)
    assert w._lanes[0].rows > ws.compiled_chunk_rows([30, 9, 4])
    rows = []
    real = _fused._kernels.sums
    monkeypatch.setattr(_fused._kernels, "sums", lambda *a: (rows.append(a[5]), real(*a))[1])
    fast = w.cost_and_gradient(thetas, X, y, 0.5)
    assert rows == [ws.compiled_chunk_rows([30, 9, 4])]
    assert_close(fast, ref, np.float64)
    w._lane(0, 900)  # a bigger lane replaces the old one: the buffers handed to the kernels follow
    assert_close(w.cost_and_gradient(thetas, X, y, 0.5), ref, np.float64)


def test_lanes_side_by_side_run_on_one_thread_blas_which_comes_back_after():
    from threadpoolctl import threadpool_info, threadpool_limits

    from glassnet._support import threads

    if not threads.kernels_limit_blas():
        pytest.skip("this BLAS has no thread functions the kernels can call: threadpoolctl sets the limit, around "
                    "the call (tests/test_workspace.py)")
    if threads.available_cores() < 2:
        pytest.skip("one core: the lanes never run side by side")
    thetas, X, y = problem(np.float64, [200, 64, 10], 60_000)
    Y = np.eye(10)[y]
    lanes = [([np.empty(64 * 64), np.empty(10 * 64)], [np.empty(64 * 64), np.empty(10 * 64)],
              [np.empty(t.shape) for t in thetas]) for _ in range(2)]
    with threadpool_limits(limits=2, user_api="blas"):
        seen, done = set(), threading.Event()

        def watch():  # the BLAS thread counts, read over and over while the lanes run
            while not done.is_set():
                seen.update(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas")

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            for _ in range(3):
                _fused._kernels.sums(X, Y, thetas, lanes, [200, 64, 10], 64, 0, 0, False, True)
        finally:
            done.set()
            watcher.join()
        assert 1 in seen
        assert threads.blas_threads() == 2  # put back by the last lane's caller


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("lam", [0.0, 0.7])
def test_lanes_that_finish_give_finishs_d_bit_for_bit_and_the_penalty_to_rounding(dtype, lam):
    from glassnet.backprop import finish
    from glassnet.cost import penalty, regularization

    thetas, X, y = problem(dtype, [30, 9, 4], 301)
    Y = np.eye(4, dtype=dtype)[y]

    def lanes():
        return [([np.empty(9 * 64, dtype), np.empty(4 * 64, dtype)], [np.empty(9 * 64, dtype), np.empty(4 * 64, dtype)],
                 [np.empty(t.shape, dtype) for t in thetas]) for _ in range(2)]

    plain = lanes()
    J_sum = _fused.sums(X, Y, thetas, plain, [30, 9, 4], 64, "sigmoid", "sigmoid", "log")
    want = finish(thetas, plain[0][2], 301, lam, out=[np.empty(t.shape, dtype) for t in thetas])
    out = [np.empty(t.shape, dtype) for t in thetas]
    J_sum2, squares = _fused.sums_finished(X, Y, thetas, lanes(), [30, 9, 4], 64, "sigmoid", "sigmoid", "log", False,
                                           False, out, lam)
    assert J_sum2 == J_sum
    for d, w in zip(out, want):
        np.testing.assert_array_equal(d, w)
    reg = regularization(thetas, lam, 301)  # NumPy sums float32 squares in float32, the kernels in float64
    assert penalty(squares, lam, 301) == pytest.approx(reg, rel=1e-12 if dtype == np.float64 else 1e-6, abs=0.0)
    assert (squares == 0.0) == (lam == 0.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_workspace_finishes_in_the_kernels_where_it_may_and_in_python_elsewhere(dtype, monkeypatch):
    from glassnet.params import roll, unroll

    thetas, X, y = problem(dtype, [30, 9, 4], 301)
    finished = []
    real = _fused.sums_finished
    monkeypatch.setattr(_fused, "sums_finished", lambda *a: (finished.append(1), real(*a))[1])
    w = ws.Workspace([30, 9, 4], 301, dtype)
    J, D = w.cost_and_gradient(thetas, X, y, 0.7)
    flat = np.zeros(sum(t.size for t in thetas), dtype)  # views of a flat vector: the optimizer's gradient buffer
    J_views, D_views = w.cost_and_gradient(thetas, X, y, 0.7, out=roll(flat, [30, 9, 4], order="C"))
    assert finished == [1, 1] and J_views == J
    np.testing.assert_array_equal(flat, unroll(D, order="C"))
    strided = [np.zeros((t.shape[1], t.shape[0]), dtype).T for t in thetas]  # not C-ordered: finished in Python
    J_strided, _ = w.cost_and_gradient(thetas, X, y, 0.7, out=strided)
    assert finished == [1, 1] and J_strided == pytest.approx(J, rel=1e-12 if dtype == np.float64 else 1e-6)
    for a, b in zip(strided, D):
        np.testing.assert_array_equal(a, b)
    Y = np.eye(4, dtype=dtype)[y]  # a NumPy λ, unchecked (as a training loop passes it): float32 rounds otherwise
    J_numpy_lam, _ = w.cost_and_gradient(thetas, X, Y, np.float64(0.7), check_input=False)
    assert len(finished) == (3 if dtype == np.float64 else 2)
    assert J_numpy_lam == pytest.approx(J, rel=1e-12 if dtype == np.float64 else 1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "identity"])
@pytest.mark.parametrize("sizes", [[30, 9, 4], [30, 9, 1], [400, 25, 10], [20, 12, 7, 3]])
def test_the_forward_pass_alone_gives_propagates_outputs(dtype, activation, sizes):
    from glassnet.forward import propagate

    thetas, X, _ = problem(dtype, sizes, 301)
    w = ws.Workspace(sizes, 301, dtype, activation=activation)
    zL, finite = w.outputs(thetas, X)
    want = propagate(thetas, X, activation, None).z_out
    assert finite and zL.dtype == dtype and zL.shape == (301, sizes[-1]) and zL.flags.c_contiguous
    np.testing.assert_allclose(zL, want, rtol=0, atol=TOL[dtype] * 10 * np.max(np.abs(want)))
    X[123, 4] = np.nan
    assert w.outputs(thetas, X)[1] is False  # the row's z^(2): the caller looks at X for its error


def test_the_forward_pass_alone_declines_what_the_kernels_do_not_take():
    thetas, X, _ = problem(np.float64, [30, 9, 4], 50)
    w = ws.Workspace([30, 9, 4], 50)
    assert w.outputs(thetas, scipy.sparse.csr_matrix(X)) is None
    assert w.outputs(thetas, np.asfortranarray(X)) is None
    assert w.outputs(thetas, X.astype(np.float32)) is None
    with _fused.disabled():
        assert w.outputs(thetas, X) is None
    with pytest.raises(ValueError, match=r"thetas: expected shapes"):
        w.outputs(thetas[:1], X)


def test_predictions_come_from_the_forward_pass_alone(monkeypatch):
    thetas, X, y = problem(np.float64, [30, 9, 4], 301)
    clf = glassnet.Classifier(hidden_layer_sizes=(9,), max_iter=5).fit(X, y)
    calls = []
    real = _fused.predict
    monkeypatch.setattr(_fused, "predict", lambda *a: (calls.append(1), real(*a))[1])
    labels, proba = clf.predict(X), clf.predict_proba(X)
    assert len(calls) == 2
    with _fused.disabled():
        np.testing.assert_array_equal(clf.predict(X), labels)
        np.testing.assert_allclose(clf.predict_proba(X), proba, rtol=1e-12)
    X[5, 2] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        clf.predict(X)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_first_call_gives_the_later_calls_numbers_and_holds_less_at_once(dtype):
    import tracemalloc

    thetas, X, y = problem(dtype, [400, 25, 10], 5000)
    Y = np.eye(10, dtype=dtype)[y]
    ws.Workspace([400, 25, 10], 5000, dtype, n_workers=2).cost_and_gradient(thetas, X, Y, 1.0, check_input=False)
    w = ws.Workspace([400, 25, 10], 5000, dtype, n_workers=2)  # the libraries looked at already: the call alone
    tracemalloc.start()
    first = w.cost_and_gradient(thetas, X, Y, 1.0, check_input=False)  # a new workspace: D over Δ, then copied
    peak_first = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    lanes_bytes = sum(lane.nbytes for lane in w._lanes)
    for J, D in [w.cost_and_gradient(thetas, X, Y, 1.0, check_input=False) for _ in range(2)]:
        assert J == first[0]  # bit for bit: the same arithmetic on every call
        for d, d0 in zip(D, first[1]):
            np.testing.assert_array_equal(d, d0)
    assert not any(np.shares_memory(d, D) for d in first[1] for D in w._lanes[0].Delta)  # the caller's own arrays
    weights = sum(t.nbytes for t in thetas)
    transposed = 400 * 25 * np.dtype(dtype).itemsize
    # the lanes, then the larger of Θ^(1) transposed (freed in the call) and D (made after it), never both
    assert peak_first < lanes_bytes + max(weights, transposed) + 16 * 1024
