"""The fast path: Workspace (row chunks, preallocated buffers, worker threads) == the lecture's per-example loop."""

import threading
import tracemalloc

import numpy as np
import pytest

import glassnet
from conftest import random_problem
from glassnet._fast.workspace import Workspace, batch_sums, default_chunk_rows
from glassnet._support import fused as _fused
from glassnet._support.threads import available_cores, blas_threads
from glassnet.backprop import accumulate, backprop_per_example, deltas
from glassnet.forward import propagate
from glassnet.outputs import encode_labels


def rel(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300)


@pytest.mark.parametrize("sizes", [[5, 4, 3], [6, 5, 4, 1], [4, 7, 3, 5, 4], [3, 1]])
@pytest.mark.parametrize("chunk_rows, n_workers", [(3, 1), (4, 2), (5, 3), (100, None)])
@pytest.mark.parametrize("lam", [0.0, 1.5])
def test_workspace_equals_per_example_loop(sizes, chunk_rows, n_workers, lam):
    # m = 23 rows in chunks of 3..5: several chunks per worker and a short last chunk.
    thetas, X, y = random_problem(sizes, m=23, seed=sum(sizes) + chunk_rows, scale=2.0)
    ws = Workspace(sizes, m=23, chunk_rows=chunk_rows, n_workers=n_workers)
    J, grads = ws.cost_and_gradient(thetas, X, y, lam)
    J_ref, grads_ref = backprop_per_example(thetas, X, y, lam)
    assert isinstance(J, float)
    assert J == pytest.approx(J_ref, rel=1e-12)
    for g, r, t in zip(grads, grads_ref, thetas):
        assert g.shape == t.shape and g.dtype == np.float64
        assert rel(g, r) < 1e-12
    # the same workspace again (buffers reused) gives the same numbers
    J2, grads2 = ws.cost_and_gradient(thetas, X, y, lam)
    assert J2 == J and all(np.array_equal(a, b) for a, b in zip(grads, grads2))


def test_chunked_batch_sums_equal_whole_batch_accumulate():
    # 784-700-3 style: the widest layer sets chunk_rows, so m = 2000 streams through several chunks.
    sizes = [20, 700, 3]
    assert default_chunk_rows(sizes) == 600_000 // 700 == 857
    thetas, X, y = random_problem(sizes, m=2000, seed=3)
    Y = encode_labels(y, 3, 2000)
    J_sum, Delta = batch_sums(thetas, X, Y)
    cache = propagate(thetas, X)
    Delta_ref = accumulate(cache, deltas(thetas, cache, Y))
    assert J_sum == pytest.approx(glassnet.cost(thetas, X, y) * 2000, rel=1e-12)
    for D, R in zip(Delta, Delta_ref):
        assert rel(D, R) < 1e-13


def test_default_chunk_rows_rule():
    assert default_chunk_rows([784, 300, 10]) == 2000
    assert default_chunk_rows([784, 512, 256, 128, 10]) == 1171
    assert default_chunk_rows([400, 25, 10]) == 2048  # capped: narrow nets still get big GEMMs and bounded memory
    assert default_chunk_rows([10, 100_000, 2]) == 256  # floored: tiny chunks would waste the matrix products
    assert Workspace([400, 25, 10], m=100).chunk_rows == 100


def test_float32_end_to_end_and_close_to_float64():
    thetas, X, y = random_problem([30, 20, 10, 4], m=300, seed=11)
    ws32 = Workspace([30, 20, 10, 4], m=300, dtype=np.float32, chunk_rows=64, n_workers=2)
    J32, g32 = ws32.cost_and_gradient([t.astype(np.float32) for t in thetas], X.astype(np.float32), y, 1.0)
    J64, g64 = glassnet.cost_and_gradient(thetas, X, y, 1.0)
    assert all(g.dtype == np.float32 for g in g32)
    assert all(b.dtype == np.float32 for lane in ws32._lanes for b in lane.buffers())
    assert J32 == pytest.approx(J64, rel=1e-5)
    for a, b in zip(g32, g64):
        assert rel(a.astype(np.float64), b) < 1e-5


def test_objective_validates_once_and_matches_public_function():
    thetas, X, y = random_problem([8, 6, 3], m=50, seed=4)
    f = Workspace([8, 6, 3], m=50, chunk_rows=16).objective(X, y, lam=2.0)
    J, grads = f(thetas)
    J_ref, grads_ref = glassnet.cost_and_gradient(thetas, X, y, 2.0)
    assert J == pytest.approx(J_ref, rel=1e-13)
    for g, r in zip(grads, grads_ref):
        assert rel(g, r) < 1e-13
    # float64 workspace, float32 data: converted once at objective(), not on every call
    f32 = Workspace([8, 6, 3], m=50).objective(X.astype(np.float32), y, lam=2.0)
    assert f32(thetas)[1][0].dtype == np.float64
    bad = X.copy()
    bad[7, 2] = np.nan
    with pytest.raises(ValueError, match=r"X: expected finite values, found nan at row 7, column 2"):
        Workspace([8, 6, 3], m=50).objective(bad, y)
    with pytest.raises(ValueError, match=r"y: expected labels in 0\.\.2"):
        Workspace([8, 6, 3], m=50).objective(X, np.full(50, 3))
    with pytest.raises(ValueError, match=r"lam: expected a finite number λ ≥ 0, got -1"):
        Workspace([8, 6, 3], m=50).objective(X, y, lam=-1)


def test_out_arrays_receive_the_gradient_in_any_layout():
    sizes = [7, 5, 4]
    thetas, X, y = random_problem(sizes, m=40, seed=8)
    vec = np.full(sum(t.size for t in thetas), np.nan)
    out = glassnet.roll(vec, sizes)  # F-ordered views of one flat vector, what scipy's optimizers want
    J, grads = Workspace(sizes, m=40, chunk_rows=9).cost_and_gradient(thetas, X, y, 1.0, out=out)
    assert all(g is o for g, o in zip(grads, out))
    _, grads_ref = glassnet.cost_and_gradient(thetas, X, y, 1.0)
    assert rel(vec, glassnet.unroll(grads_ref)) < 1e-13
    with pytest.raises(ValueError, match=r"out: expected 2 arrays of shapes \[\(5, 8\), \(4, 6\)\]"):
        Workspace(sizes, m=40).cost_and_gradient(thetas, X, y, 1.0, out=[np.empty((5, 8))])


def test_saturated_units_give_finite_exact_cost_without_warnings():
    # Weights ×80: hidden and output units saturate; e^{-z} overflows to inf on purpose (g = 0 exactly), silently.
    thetas, X, y = random_problem([6, 5, 3], m=30, seed=2)
    thetas = [t * 80 for t in thetas]
    J, grads = Workspace([6, 5, 3], m=30, chunk_rows=7, n_workers=2).cost_and_gradient(thetas, X, y, 0.0)
    assert np.isfinite(J) and all(np.isfinite(g).all() for g in grads)
    assert J == pytest.approx(glassnet.cost(thetas, X, y), rel=1e-12)  # the logaddexp path of glassnet.cost
    J_ref, g_ref = backprop_per_example(thetas, X, y, 0.0)
    assert J == pytest.approx(J_ref, rel=1e-12)
    for g, r in zip(grads, g_ref):
        assert rel(g, r) < 1e-12


def test_no_allocation_of_size_m_per_call():
    # m = 20000 rows of a 50-200-10 net: the whole-batch version would hold 20000×200 floats (32 MB) per array.
    sizes = [50, 200, 10]
    thetas, X, y = random_problem(sizes, m=20_000, seed=1)
    ws = Workspace(sizes, m=20_000, n_workers=1)
    f = ws.objective(X, y, 1.0)
    f(thetas)
    tracemalloc.start()
    try:
        f(thetas)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    grads_bytes = sum(t.nbytes for t in thetas)
    assert ws.nbytes < 20_000 * 200 * 8 / 4
    assert peak < grads_bytes + 256 * 1024  # fresh grads and a few small temporaries, nothing chunk- or m-sized


def test_workers_restore_the_blas_thread_limit_even_when_calls_overlap():
    sizes = [12, 9, 4]
    thetas, X, y = random_problem(sizes, m=400, seed=6)
    _, ref = glassnet.cost_and_gradient(thetas, X, y, 1.0)
    before = blas_threads()
    results, errors = [], []

    def work():
        try:
            ws = Workspace(sizes, m=400, chunk_rows=17, n_workers=2)
            for _ in range(20):
                results.append(ws.cost_and_gradient(thetas, X, y, 1.0)[1])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 60
    for grads in results:
        for g, r in zip(grads, ref):
            assert rel(g, r) < 1e-13
    assert blas_threads() == before


@pytest.mark.parametrize("in_kernels", [True, False])
def test_the_one_thread_limit_nests_restores_and_the_lanes_follow_the_limit(in_kernels, monkeypatch):
    from threadpoolctl import threadpool_limits

    from glassnet._support import threads

    _fused.blas_ready()  # SciPy's BLAS loaded and, where the kernels are built, the limit handed to them
    if in_kernels and not threads.kernels_limit_blas():
        pytest.skip("the C kernels were not built or this BLAS has no thread functions they can call: "
                    "threadpoolctl sets the limit (the other case)")
    if not in_kernels:
        monkeypatch.setitem(threads._blas, "handed", False)  # threadpoolctl's setters, as without the kernels
    before = blas_threads()
    with threads.single_threaded_blas():
        assert blas_threads() == 1
        with threads.single_threaded_blas():  # another call inside: the limit is put back once, by the last one
            assert blas_threads() == 1
        assert blas_threads() == 1
    assert blas_threads() == before
    thetas, X, y = random_problem([12, 9, 4], m=400, seed=6)
    ws = Workspace([12, 9, 4], m=400, chunk_rows=50)
    lanes = []
    real = _fused._kernels.sums if _fused.blas_ready() else None
    for limit in (1, 2):
        with threadpool_limits(limits=limit, user_api="blas"):
            assert blas_threads() == limit
            if real is not None:  # the compiled lanes: as many as the limit allows
                with pytest.MonkeyPatch.context() as mp:
                    mp.setattr(_fused._kernels, "sums", lambda *a: (lanes.append(len(a[3])), real(*a))[1])
                    ws.cost_and_gradient(thetas, X, y, 1.0)
            assert ws.plan(400)[0] == min(limit, available_cores())
            assert blas_threads() == limit
        assert blas_threads() == before
    if real is not None:
        assert lanes == [1, min(2, available_cores())]


def test_workspace_argument_errors():
    thetas, X, y = random_problem([4, 3, 2 + 1], m=6, seed=0)
    with pytest.raises(ValueError, match=r"m: expected a positive number of examples, got 0"):
        Workspace([4, 3, 3], m=0)
    with pytest.raises(ValueError, match=r"dtype: expected float32 or float64, got int64"):
        Workspace([4, 3, 3], m=6, dtype=np.int64)
    with pytest.raises(ValueError, match=r"chunk_rows: expected a positive int, got 0"):
        Workspace([4, 3, 3], m=6, chunk_rows=0)
    with pytest.raises(ValueError, match=r"n_workers: expected a positive int or None"):
        Workspace([4, 3, 3], m=6, n_workers=0)
    with pytest.raises(ValueError, match=r"sizes: expected at least 2 layers"):
        Workspace([4], m=6)
    ws = Workspace([4, 3, 3], m=6)
    with pytest.raises(ValueError, match=r"X: this workspace computes in float64 but X is float32"):
        ws.cost_and_gradient(thetas, X.astype(np.float32), y, 0.0)
    with pytest.raises(ValueError, match=r"thetas: expected shapes \[\(3, 5\), \(3, 4\)\].*got \[\(3, 5\)\]"):
        ws.batch_sums(thetas[:1], X, encode_labels(y, 3, 6))
    with pytest.raises(ValueError, match=r"X: expected 4 columns"):
        ws.cost_and_gradient(thetas, X[:, :3], y, 0.0)


def test_empty_batch_sums_are_zero():
    thetas, X, y = random_problem([4, 3, 3], m=6, seed=0)
    J_sum, Delta = Workspace([4, 3, 3], m=6).batch_sums(thetas, X[:0], encode_labels(y, 3, 6)[:0])
    assert J_sum == 0.0
    assert all(D.shape == t.shape and not D.any() for D, t in zip(Delta, thetas))


@pytest.fixture
def numpy_lanes():
    """The NumPy lanes (the compiled ones hold chunks of 32-256 rows: tests/test_compiled_sums.py)."""
    with _fused.disabled():
        yield


def test_rows_are_shared_evenly_between_workers_and_chunks(numpy_lanes):
    # 5000 rows, chunk_rows 2048: two workers take 2500 rows each, as 2 chunks of 1250 (not 2048 + 452 and a third
    # chunk for one of them); one worker takes 3 chunks of 1667. Buffers are sized for the chunks actually used.
    thetas, X, y = random_problem([4, 25, 10], m=5000, seed=12)
    ws2 = Workspace([4, 25, 10], m=5000, n_workers=2)
    assert ws2.chunk_rows == 2048 and ws2.nbytes == 0  # nothing allocated before the first call
    assert ws2.plan(5000) == (2, 1250) and ws2.plan(100) == (1, 100)
    J2, g2 = ws2.cost_and_gradient(thetas, X, y, 1.0)
    assert [lane.rows for lane in ws2._lanes] == [1250, 1250]
    ws1 = Workspace([4, 25, 10], m=5000, n_workers=1)
    J1, g1 = ws1.cost_and_gradient(thetas, X, y, 1.0)
    assert [lane.rows for lane in ws1._lanes] == [1667] and ws1.plan(5000) == (1, 1667)
    assert J1 == pytest.approx(J2, rel=1e-13)
    for a, b in zip(g1, g2):
        assert rel(a, b) < 1e-13
    # a later, larger batch grows the buffers once; a smaller one reuses them
    ws1.cost_and_gradient(thetas[:1] + thetas[1:], np.vstack([X, X]), np.concatenate([y, y]), 1.0)
    assert [lane.rows for lane in ws1._lanes] == [2000]
    ws1.cost_and_gradient(thetas, X[:10], y[:10], 1.0)
    assert [lane.rows for lane in ws1._lanes] == [2000]


def _fork_child(queue):
    thetas, X, y = random_problem([12, 9, 4], m=400, seed=6)
    J, _ = Workspace([12, 9, 4], m=400, chunk_rows=17, n_workers=2).cost_and_gradient(thetas, X, y, 1.0)
    queue.put(J)


def test_worker_threads_work_in_a_forked_child():
    # The parent's worker threads do not exist in a fork()ed child; the child must not wait for them forever.
    import multiprocessing
    import warnings

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork() on this platform")
    thetas, X, y = random_problem([12, 9, 4], m=400, seed=6)
    J_parent, _ = Workspace([12, 9, 4], m=400, chunk_rows=17, n_workers=2).cost_and_gradient(thetas, X, y, 1.0)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Python ≥ 3.12 warns about fork() with threads alive
        # JAX, where an earlier test imported it (the benchmarks' smoke run, with the bench extra installed), warns
        # at every fork; this child never touches JAX
        warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called", category=RuntimeWarning)
        child = ctx.Process(target=_fork_child, args=(queue,))
        child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung in Workspace.cost_and_gradient")
    assert child.exitcode == 0
    assert queue.get(timeout=5) == pytest.approx(J_parent, rel=1e-13)
