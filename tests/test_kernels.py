"""The fused C kernels (glassnet._support.fused) give bit for bit what the NumPy code gives, and step aside when they
can't."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassnet
from glassnet._support import fused as _fused
from glassnet.backprop import finish
from glassnet.train.optimize import adam, run_epoch, sgd

pytestmark = pytest.mark.skipif(not _fused.available(), reason="the C kernels were not built at install (no "
                                "compiler found) or GLASSNET_KERNELS=0: the NumPy code runs, nothing to compare")

DTYPES = [np.float32, np.float64]


def arrays(seed: int, shapes, dtype, scale=1.0):
    rng = np.random.default_rng(seed)
    return [(scale * rng.standard_normal(s)).astype(dtype) for s in shapes]


def same(a, b) -> bool:
    """Equal bit for bit, NaN included."""
    return all(x.dtype == y.dtype and x.tobytes() == y.tobytes() for x, y in zip(a, b))


def run_rule(rule, thetas, grads_seq):
    """Apply ``rule.update_`` to copies for each gradient list in turn; the weights and state at the end."""
    thetas = [t.copy() for t in thetas]
    state = rule.init(thetas)
    for grads in grads_seq:
        rule.update_(thetas, [g.copy() for g in grads], state)
    return thetas, state


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("make", [lambda: adam(0.01), lambda: adam(0.3, beta_1=0.5, beta_2=0.9, epsilon=1e-3),
                                  lambda: sgd(0.1), lambda: sgd(0.05, momentum=0.7, nesterov=False),
                                  lambda: sgd(0.2, momentum=0.0)])
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(1, 4), scale=st.sampled_from([1e-6, 1.0, 1e3]))
def test_update_rules_match_the_numpy_code(make, dtype, seed, steps, scale):
    shapes = [(7, 5), (3, 8)]
    thetas = arrays(seed, shapes, dtype)
    grads_seq = [arrays(seed + 1 + i, shapes, dtype, scale) for i in range(steps)]
    fast_t, fast_s = run_rule(make(), thetas, grads_seq)
    with _fused.disabled():
        ref_t, ref_s = run_rule(make(), thetas, grads_seq)
    assert same(fast_t, ref_t)
    for key, value in ref_s.items():
        assert same(fast_s[key], value) if isinstance(value, list) else fast_s[key] == value


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lam", [0.0, 1.0, 0.37])
@pytest.mark.parametrize("in_place", [False, True])
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), m=st.integers(1, 10**6))
def test_finish_matches_the_numpy_code(dtype, lam, in_place, seed, m):
    shapes = [(25, 401), (10, 26), (1, 3)]
    thetas = arrays(seed, shapes, dtype)
    Delta = arrays(seed + 1, shapes, dtype, 50.0)

    def run():
        D = [d.copy() for d in Delta]
        return finish(thetas, D, m, lam) if in_place else finish(thetas, D, m, lam, out=[np.empty_like(d) for d in D])

    fast = run()
    with _fused.disabled():
        ref = run()
    assert same(fast, ref)


def test_special_values_pass_through_as_in_numpy():
    # inf, NaN, -0.0 and huge moments: the same IEEE results, so divergence is detected the same way
    g = np.array([np.inf, -np.inf, np.nan, -0.0, 0.0, 1e308, -1e-320, 3.0])
    for make in (lambda: adam(0.01), lambda: sgd(0.1)):
        with np.errstate(all="ignore"):
            fast = run_rule(make(), [np.full(8, 0.5)], [[g]])[0]
            with _fused.disabled():
                ref = run_rule(make(), [np.full(8, 0.5)], [[g]])[0]
        assert same(fast, ref)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_whole_training_run_is_the_same_with_and_without_the_kernels(dtype, monkeypatch):
    # the elementwise kernels alone (the compiled epoch, which rounds its products differently, is tests/test_epoch.py)
    monkeypatch.setattr(_fused, "blas_ready", lambda: False)
    X, y = glassnet.datasets.load("digits").X[:300].astype(dtype), glassnet.datasets.load("digits").y[:300]

    def fit(solver):
        return glassnet.Classifier(hidden_layer_sizes=(12,), solver=solver, max_iter=3, batch_size=32,
                                   random_state=0).fit(X, y)

    for solver in ("adam", "sgd"):
        fast = fit(solver)
        with _fused.disabled():
            ref = fit(solver)
        assert same(fast.thetas_, ref.thetas_)
        assert fast.loss_curve_ == ref.loss_curve_


def test_arrays_that_do_not_fit_go_to_the_numpy_code():
    a = np.zeros(6)
    assert not _fused.adam(a, a.copy(), a.copy(), np.zeros(6, np.float32), 0.9, 0.999, 1e-8, 0.1)  # mixed dtypes
    assert not _fused.adam(a, a.copy(), a.copy(), np.zeros(5), 0.9, 0.999, 1e-8, 0.1)  # sizes differ
    assert not _fused.adam(np.zeros(12)[::2], a.copy(), a.copy(), a.copy(), 0.9, 0.999, 1e-8, 0.1)  # strided
    assert not _fused.adam(a, a, a.copy(), a.copy(), 0.9, 0.999, 1e-8, 0.1)  # θ and m are one array
    assert not _fused.sgd(np.zeros(6, np.int64), np.zeros(6, np.int64), np.zeros(6, np.int64), 0.1, 0.9, True)
    frozen = np.zeros(6)
    frozen.flags.writeable = False
    assert not _fused.sgd(frozen, a.copy(), a.copy(), 0.1, 0.9, True)
    G = np.zeros((3, 4), np.float32)
    assert not _fused.finish(G, G.copy(), G.copy(), np.int64(5), 1.0)  # NumPy would compute this one in float64
    assert not _fused.finish(np.zeros((4, 3)).T, np.zeros((3, 4)), np.zeros((3, 4)), 5, 1.0)  # G not C-ordered
    assert _fused.finish(np.zeros((3, 4)), np.zeros((3, 4)), np.zeros((3, 4)), 5, 1.0)


def test_the_epoch_runner_uses_the_kernels_on_its_flat_buffers(monkeypatch):
    calls = []
    kernel = _fused._kernels.adam
    # recorded after the kernel returned: a call it refused (and NumPy then ran) does not count
    monkeypatch.setattr(_fused._kernels, "adam", lambda *args: (kernel(*args), calls.append(args[0].shape)))
    thetas = glassnet.random_init([4, 3, 2], rng=np.random.default_rng(0))
    X = np.random.default_rng(1).random((20, 4))
    y = np.arange(20) % 2

    def objective(th, idx):
        return glassnet.cost_and_gradient(th, X[idx], y[idx], 0.0)

    run_epoch(objective, thetas, 20, adam(0.01), adam(0.01).init(thetas), 5, None)
    n_weights = sum(t.size for t in thetas)
    assert calls == [(n_weights,)] * 4  # one fused call per batch (20 rows / 5), on the whole flat buffer


@pytest.mark.parametrize("dtype", DTYPES)
def test_all_finite_sees_every_inf_and_nan(dtype):
    big = np.finfo(dtype).max
    a = np.array([0.0, -0.0, big, -big, np.finfo(dtype).tiny / 4], dtype)
    assert _fused.all_finite(a) is True
    for bad in (np.inf, -np.inf, np.nan):
        for where in (0, 4):
            b = a.copy()
            b[where] = bad
            assert _fused.all_finite(b) is False
    assert _fused.all_finite(np.zeros(0, dtype)) is True
    assert _fused.all_finite(np.zeros(8, dtype)[::2]) is None  # strided: the caller asks NumPy
    strided = np.zeros(8, dtype)[::2]
    assert _fused.is_finite(strided) is True  # is_finite asks NumPy itself
    strided[1] = np.nan
    assert _fused.is_finite(strided) is False and _fused.is_finite(a) is True


def test_finish_into_theta_itself_is_refused():
    theta = np.ones((3, 4))
    assert not _fused.finish(theta, np.ones((3, 4)), theta, 5, 1.0)


# The epoch's vectorized exponential (_vexp.h), checked against exp in extended precision: (bound in ulp, the
# argument range where results are finite and non-zero, the range down to the smallest subnormal).
EXP_CASES = {np.float32: (1.0, (-103.97, 88.72)), np.float64: (2.0, (-745.13, 709.78))}


def ulp_error(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """|y − e^x| in units in the last place of the correctly rounded e^x (e^x in long double)."""
    exact = np.exp(x.astype(np.longdouble))
    rounded = exact.astype(x.dtype)
    return np.abs(y.astype(np.longdouble) - exact) / np.spacing(rounded).astype(np.longdouble)


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_vectorized_exp_is_within_its_ulp_bound(dtype):
    if np.finfo(np.longdouble).nmant < 60:
        pytest.skip("long double is no wider than double here: no reference for the double exponential")
    from glassnet._support import _kernels

    bound, (lo, hi) = EXP_CASES[dtype]
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(-30, 30, 200_000), rng.uniform(lo, hi, 200_000), np.linspace(lo, hi, 50_001),
                        [0.0, -0.0, 1e-30, -1e-30, np.log(2), -np.log(2)]]).astype(dtype)
    y = x.copy()
    _kernels.exp(y)
    err = ulp_error(x, y)
    assert err.max() <= bound, (x[err.argmax()], y[err.argmax()])
    assert np.mean(err <= 0.5) > 0.85  # mostly correctly rounded, not merely within the bound
    assert y[x == 0].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_vectorized_exp_keeps_the_edges_of_numpy_exp(dtype):
    """Overflow to inf, underflow through the subnormals to 0, inf and NaN: as np.exp (which rounds them exactly)."""
    from glassnet._support import _kernels

    info = np.finfo(dtype)
    tiny = float(np.log(np.longdouble(info.smallest_subnormal)))
    big = float(np.log(np.longdouble(info.max)))
    x = np.array([np.inf, -np.inf, np.nan, -np.nan, big * 1.01, 1e30, -1e30, tiny * 1.01, tiny * 0.99, tiny + 1.0,
                  float(np.log(np.longdouble(info.smallest_normal))), big * 0.9999], dtype=dtype)
    y = x.copy()
    _kernels.exp(y)
    with np.errstate(over="ignore", under="ignore"):
        ref = np.exp(x)
    special = ~np.isfinite(ref) | (ref == 0)
    assert np.array_equal(y[special], ref[special], equal_nan=True)
    finite = ~special
    assert np.all(y[finite] > 0) and np.all(np.isfinite(y[finite]))
    # the subnormals keep their few bits: within one step of the smallest subnormal's grid
    assert np.all(np.abs(y[finite].astype(np.longdouble) - np.exp(x[finite].astype(np.longdouble)))
                  <= np.maximum(np.spacing(ref[finite]), info.smallest_subnormal) * 2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_vectorized_log1p_is_within_3_ulp_on_0_to_1(dtype):
    """The output layer's log1p(e^{-|s|}): arguments in [0, 1], from the subnormals up, against long double."""
    if np.finfo(np.longdouble).nmant < 60:
        pytest.skip("long double is no wider than double here: no reference for the double log1p")
    from glassnet._support import _kernels

    info = np.finfo(dtype)
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.random(200_000), 10.0 ** rng.uniform(np.log10(info.smallest_normal), 0, 200_000),
                        np.linspace(0, 1, 50_001), [0.0, 1.0, np.sqrt(2) - 1, info.smallest_subnormal, info.eps]])
    x = x.astype(dtype)
    y = x.copy()
    _kernels.log1p_unit(y)
    exact = np.log1p(x.astype(np.longdouble))
    step = np.spacing(exact.astype(dtype)).astype(np.longdouble)
    err = np.abs(y.astype(np.longdouble) - exact) / np.maximum(step, np.longdouble(info.smallest_subnormal))
    assert err.max() <= 3.0, (x[err.argmax()], y[err.argmax()])
    assert np.mean(err <= 0.5) > 0.75
    nan = np.array([np.nan], dtype)
    _kernels.log1p_unit(nan)
    assert np.isnan(nan[0])


def test_same_contents_is_byte_for_byte_and_counts_anything_else_as_changed():
    y = np.arange(40) % 7
    copy = y.copy()
    assert _fused.same_contents(copy, y)
    y[17] += 1
    assert not _fused.same_contents(copy, y)
    assert not _fused.same_contents(copy[:-1], copy)  # another shape
    assert not _fused.same_contents(copy.astype(np.int32), copy)  # another dtype, the same numbers
    strided = np.repeat(copy, 2)[::2]  # not C-ordered: NumPy's comparison
    assert _fused.same_contents(strided, copy) and not _fused.same_contents(strided, y)
    z = np.array([0.0, np.nan])
    assert not _fused.same_contents(np.array([-0.0, np.nan]), z)  # other bytes: changed (encoded again, safe)
    with _fused.disabled():  # NumPy's comparison: NaN never equals itself, so changed as well
        assert not _fused.same_contents(z.copy(), z) and _fused.same_contents(y.copy(), y)
