"""Vectorized backprop == the lecture's per-example loop == finite differences, plus input validation."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import glassnet
from conftest import random_problem


def rel(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300)


@pytest.mark.parametrize("depth", [2, 3, 4, 5])
@pytest.mark.parametrize("K", [1, 4])
@pytest.mark.parametrize("lam", [0.0, 1.0, 3.0])
def test_vectorized_equals_per_example_loop(depth, K, lam):
    rng = np.random.default_rng(depth * 10 + K)
    sizes = [int(s) for s in rng.integers(2, 7, size=depth - 1)] + [K]
    thetas, X, y = random_problem(sizes, m=9, seed=depth + K, scale=2.0)
    J1, g1 = glassnet.cost_and_gradient(thetas, X, y, lam)
    J2, g2 = glassnet.backprop_per_example(thetas, X, y, lam)
    assert isinstance(J1, float)
    assert abs(J1 - J2) <= 1e-12 * abs(J2)
    for a, b, t in zip(g1, g2, thetas):
        assert a.shape == t.shape
        assert rel(a, b) < 1e-12


def test_one_hot_int_and_column_labels_agree():
    thetas, X, y = random_problem([5, 4, 3], m=6, seed=2)
    J1, g1 = glassnet.cost_and_gradient(thetas, X, y, 1.0)
    J2, g2 = glassnet.cost_and_gradient(thetas, X, np.eye(3)[y], 1.0)
    assert J1 == J2
    thetas, X, y = random_problem([5, 4, 1], m=6, seed=2)
    Ja, _ = glassnet.cost_and_gradient(thetas, X, y, 0.0)
    Jb, _ = glassnet.cost_and_gradient(thetas, X, y.reshape(-1, 1).astype(float), 0.0)
    assert Ja == Jb


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4).map(lambda s: s if s[-1] != 2 else s[:-1] + [3]),
    m=st.integers(1, 6),
    lam=st.sampled_from([0.0, 0.5, 3.0]),
    seed=st.integers(0, 10_000),
)
def test_gradcheck_on_random_small_nets(sizes, m, lam, seed):
    if len(sizes) < 2:
        sizes = sizes + [1]
    # Course-like scale (features in [-1, 1], the course's ε_init = 0.12 weights): there the O(ε²) truncation error
    # of central differences, ε²/6·∂³J, is far below 1e-9 of the gradient, so a failure means a wrong gradient, not a
    # rough finite difference. (With weights of size ~1.5 a correct gradient can miss 1e-9: 1.2e-9 at ε = 1e-4 but
    # 1.6e-11 at ε = 1e-5 for a 1-1 net — that is truncation, not backprop.)
    # The 1e-9 rule also assumes a gradient well above round-off: J is exact to ~1e-16, so (J+ - J-)/2ε carries
    # ~1e-12 of noise, which is 1e-9 of a gradient of norm 1e-3. Below that size the rule says nothing.
    thetas, X, y = random_problem(sizes, m=m, seed=seed, features="uniform", epsilon=0.12)
    _, grads = glassnet.cost_and_gradient(thetas, X, y, lam)
    assume(np.linalg.norm(glassnet.unroll(grads)) > 0.05)
    report = glassnet.gradient_check(thetas, X, y, lam)
    assert report.relative_difference < 1e-9, report.table(limit=10)


def test_float32_computes_in_float32():
    thetas, X, y = random_problem([8, 6, 3], m=20, seed=5)
    J64, g64 = glassnet.cost_and_gradient(thetas, X, y, 1.0)
    J32, g32 = glassnet.cost_and_gradient([t.astype(np.float32) for t in thetas], X.astype(np.float32), y, 1.0)
    assert all(g.dtype == np.float32 for g in g32)
    assert isinstance(J32, float)
    assert J32 == pytest.approx(J64, rel=1e-5)
    for a, b in zip(g32, g64):
        assert rel(a.astype(np.float64), b) < 1e-5
    # float64 Θ with float32 X: the input dtype (X) decides
    _, gmix = glassnet.cost_and_gradient(thetas, X.astype(np.float32), y, 1.0)
    assert gmix[0].dtype == np.float32


def test_F_ordered_X_gives_the_same_result():
    thetas, X, y = random_problem([7, 5, 4], m=11, seed=9)
    J1, g1 = glassnet.cost_and_gradient(thetas, X, y, 2.0)
    J2, g2 = glassnet.cost_and_gradient(thetas, np.asfortranarray(X), y, 2.0)
    assert J1 == pytest.approx(J2, rel=1e-14)
    for a, b in zip(g1, g2):
        assert rel(a, b) < 1e-14


def test_bias_column_is_not_regularized():
    thetas, X, y = random_problem([4, 3, 2 + 1], m=5, seed=1)
    _, g0 = glassnet.cost_and_gradient(thetas, X, y, 0.0)
    _, g3 = glassnet.cost_and_gradient(thetas, X, y, 3.0)
    for a, b, t in zip(g0, g3, thetas):
        np.testing.assert_array_equal(a[:, 0], b[:, 0])
        np.testing.assert_allclose(b[:, 1:] - a[:, 1:], 3.0 / 5 * t[:, 1:], rtol=1e-12, atol=1e-15)


# ---- bad input: every error names the argument, the expectation and what came ----

GOOD = random_problem([3, 4, 3], m=5, seed=0)


@pytest.mark.parametrize(
    "change, pattern",
    [
        (dict(thetas=[np.zeros((4, 4)), np.zeros((3, 4))]),
         r"thetas\[1\].*expected shape \(3, 5\).*got shape \(3, 4\)"),
        (dict(thetas=[np.zeros(4)]), r"thetas\[0\].*2-D.*got shape \(4,\)"),
        (dict(thetas=[]), r"thetas: expected a non-empty list"),
        (dict(X=np.zeros((5, 2))), r"X: expected 3 columns.*got shape \(5, 2\)"),
        (dict(X=np.zeros(3)), r"X: expected a 2-D array.*got shape \(3,\)"),
        (dict(X=np.zeros((0, 3))), r"X: expected at least one example.*\(0, 3\)"),
        (dict(X=np.array([[0, 0, np.nan]] * 5)), r"X: expected finite values, found nan at row 0, column 2"),
        (dict(X=np.array([[0, np.inf, 0]] * 5)), r"X: expected finite values, found inf"),
        (dict(y=np.array([0, 1, 2, 3, 1])), r"y: expected labels in 0\.\.2 .*found 3"),
        (dict(y=np.array([0, 1, -1, 0, 1])), r"y: expected labels in 0\.\.2.*found -1"),
        (dict(y=np.array([0, 1, 2])), r"y: expected 5 labels.*got shape \(3,\)"),
        (dict(y=np.array([0, 1.5, 2, 0, 1])), r"y: expected integer class labels"),
        (dict(y=np.eye(4)[[0, 1, 2, 3, 0]]), r"y: expected a one-hot matrix of shape \(5, 3\)"),
        (dict(lam=-1.0), r"lam: expected a finite number λ ≥ 0, got -1"),
        (dict(lam="much"), r"lam: expected a number"),
    ],
)
def test_bad_input_raises_clear_value_error(change, pattern):
    args = dict(thetas=GOOD[0], X=GOOD[1], y=GOOD[2], lam=1.0)
    args.update(change)
    with pytest.raises(ValueError, match=pattern):
        glassnet.cost_and_gradient(args["thetas"], args["X"], args["y"], args["lam"])


def test_huge_finite_X_is_accepted_and_inf_found_after_an_overflowing_sum():
    from glassnet._validation import check_X

    big = np.array([[1e308, 1e308], [1.0, 2.0]])  # the sum overflows, yet every value is finite
    assert check_X(big) is not None
    with pytest.raises(ValueError, match=r"X: expected finite values, found -inf at row 1, column 0"):
        check_X(np.array([[1e308, 1e308], [-np.inf, 2.0]]))


def test_non_binary_labels_for_single_output():
    thetas, X, _ = random_problem([3, 2, 1], m=4, seed=0)
    with pytest.raises(ValueError, match=r"y: a single output unit \(K = 1\) needs labels 0 or 1, found 2"):
        glassnet.cost_and_gradient(thetas, X, np.array([0, 1, 2, 1]), 0.0)
