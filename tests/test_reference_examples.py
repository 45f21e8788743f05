"""Hand-worked numbers: Mazur's 2-2-2 example, the seed's δ₂⁽²⁾ equation, the ex4 weights, saturated units."""

import numpy as np
import pytest

import glassnet
from glassnet.backprop import deltas
from glassnet.outputs import encode_labels


def test_mazur_step_by_step_forward_and_deltas():
    # Mazur, "A Step by Step Backpropagation Example": i1 = .05, i2 = .10, w1..w4 = .15 .20 .25 .30, b1 = .35,
    # w5..w8 = .40 .45 .50 .55, b2 = .60. In lecture form (bias column first):
    theta1 = np.array([[0.35, 0.15, 0.20], [0.35, 0.25, 0.30]])
    theta2 = np.array([[0.60, 0.40, 0.45], [0.60, 0.50, 0.55]])
    X = np.array([[0.05, 0.10]])
    cache = glassnet.forward([theta1, theta2], X)
    # net_h1 = .15*.05 + .2*.1 + .35 = .3775 -> out_h1 = g(.3775) = 0.593269992; out_h2 = g(.3925) = 0.596884378
    np.testing.assert_allclose(cache.z[1], [[0.3775, 0.3925]], rtol=1e-15)
    np.testing.assert_allclose(cache.activations[1], [[0.593269992, 0.596884378]], atol=5e-10)
    # net_o1 = .4*.593269992 + .45*.596884378 + .6 = 1.105905967 -> out_o1 = 0.75136507; out_o2 = 0.772928465
    np.testing.assert_allclose(cache.output, [[0.75136507, 0.772928465]], atol=5e-9)

    # Our cost is the logistic one, so with y = (0, 1) (Mazur's 0.01/0.99 targets rounded to labels):
    # δ^(3) = a^(3) - y = (0.75136507, 0.772928465 - 1) = (0.75136507, -0.227071535)
    # δ₁^(2) = (Θ₁₁^(2) δ₁^(3) + Θ₂₁^(2) δ₂^(3)) g'(z₁^(2))
    #        = (0.40 * 0.75136507 + 0.50 * -0.227071535) * 0.593269992 * (1 - 0.593269992)
    #        = (0.300546028 - 0.113535768) * 0.241300709 = 0.187010260 * 0.241300709 = 0.045125708
    # δ₂^(2) = (0.45 * 0.75136507 + 0.55 * -0.227071535) * 0.596884378 * (1 - 0.596884378)
    #        = (0.338114282 - 0.124889344) * 0.240613417 = 0.213224938 * 0.240613417 = 0.051304781
    Y = encode_labels(np.array([[0, 1]]), 2, 1)
    d = deltas([theta1, theta2], cache, Y)
    np.testing.assert_allclose(d[2], [[0.75136507, -0.227071535]], atol=5e-9)
    np.testing.assert_allclose(d[1], [[0.045125708, 0.051304781]], atol=2e-9)
    # And the gradient of Θ^(1)_{1,1} (w1) is δ₁^(2) * i1 = 0.045125708 * 0.05 = 0.0022562854
    _, grads = glassnet.cost_and_gradient([theta1, theta2], X, np.array([1]), 0.0)
    assert grads[0][0, 1] == pytest.approx(0.0022562854, abs=1e-10)


def test_seed_delta_2_2_is_the_weighted_sum_of_the_next_deltas():
    # The note's 2-2-2-1 style net (inputs x1, x2; two hidden layers of 2; one output):
    # δ₂^(2) = Θ₁₂^(2) δ₁^(3) + Θ₂₂^(2) δ₂^(3) (times g'(z₂^(2))), and δ₂^(3) = Θ₁₂^(3) δ₁^(4) (times g'(z₂^(3))).
    thetas = glassnet.random_init([2, 2, 2, 1], rng=7, epsilon=1.0)
    X = np.array([[0.3, -1.2]])
    cache = glassnet.forward(thetas, X)
    d = deltas(thetas, cache, encode_labels(np.array([1]), 1, 1))
    th2, th3 = thetas[1], thetas[2]  # Θ^(2), Θ^(3); lecture Θ_ij is [i-1, j] here (column 0 is the bias)
    a2, a3 = cache.activations[1][0], cache.activations[2][0]
    delta3, delta4 = d[2][0], d[3][0]
    expected_d22 = (th2[0, 2] * delta3[0] + th2[1, 2] * delta3[1]) * a2[1] * (1 - a2[1])
    expected_d23 = th3[0, 2] * delta4[0] * a3[1] * (1 - a3[1])
    assert d[1][0][1] == pytest.approx(expected_d22, rel=1e-14)
    assert d[2][0][1] == pytest.approx(expected_d23, rel=1e-14)
    # the per-example loop, the vectorized code and this trace agree on the gradient built from these δ
    _, g = glassnet.cost_and_gradient(thetas, X, np.array([1]), 0.0)
    assert g[0][1, 1] == pytest.approx(d[1][0][1] * X[0, 0], rel=1e-14)


def test_ex4_weights_facts(ex4_thetas):
    t1, t2 = ex4_thetas
    assert t1.shape == (25, 401) and t2.shape == (10, 26)
    total = float((t1[:, 1:] ** 2).sum() + (t2[:, 1:] ** 2).sum())
    assert total == pytest.approx(961.406939, abs=5e-7)
    from glassnet.cost import regularization

    assert regularization(ex4_thetas, 1.0, 5000) == pytest.approx(0.096141, abs=5e-7)
    # J(λ) - J(0) on any m = 5000 data set is exactly that term times λ
    rng = np.random.default_rng(0)
    X = rng.random((5000, 400))
    y = rng.integers(0, 10, 5000)
    J0, _ = glassnet.cost_and_gradient(ex4_thetas, X, y, 0.0)
    J1, _ = glassnet.cost_and_gradient(ex4_thetas, X, y, 1.0)
    assert J1 - J0 == pytest.approx(0.096141, abs=5e-7)


def _mp_reference_cost(thetas, X, Y, lam):
    import mpmath

    mpmath.mp.dps = 50
    m = X.shape[0]
    total = mpmath.mpf(0)
    for t in range(m):
        a = [mpmath.mpf(float(v)) for v in X[t]]
        for li, theta in enumerate(thetas):
            z = [mpmath.fsum([mpmath.mpf(float(theta[i, 0]))]
                             + [mpmath.mpf(float(w)) * v for w, v in zip(theta[i, 1:], a)])
                 for i in range(theta.shape[0])]
            if li < len(thetas) - 1:
                a = [1 / (1 + mpmath.exp(-zi)) for zi in z]
                # The float64 network rounds hidden activations to doubles; mirror that so the reference is of
                # the same function, then evaluate the cost itself in high precision.
                a = [mpmath.mpf(float(v)) for v in a]
        for k, zk in enumerate(z):
            # -[y log g(z) + (1-y) log(1-g(z))] = log(1 + e^{-z}) if y = 1 else log(1 + e^{z})
            total += mpmath.log1p(mpmath.exp(-zk)) if Y[t, k] == 1 else mpmath.log1p(mpmath.exp(zk))
    reg = mpmath.mpf(lam) / (2 * m) * mpmath.fsum(mpmath.mpf(float(w)) ** 2 for th in thetas for w in th[:, 1:].ravel())
    return total / m + reg


def test_saturated_units_give_finite_exact_cost(ex4_thetas):
    pytest.importorskip("mpmath")
    big = [80.0 * t for t in ex4_thetas]
    rng = np.random.default_rng(1)
    X = rng.random((12, 400))
    y = rng.integers(0, 10, 12)
    J, grads = glassnet.cost_and_gradient(big, X, y, 1.0)
    assert np.isfinite(J) and all(np.isfinite(g).all() for g in grads)
    ref = _mp_reference_cost(big, X, np.eye(10)[y], 1.0)
    assert abs(J - float(ref)) <= 1e-9 * abs(float(ref))
    # and the data term alone (where clipping or log(0) would show) is just as exact
    J0, _ = glassnet.cost_and_gradient(big, X, y, 0.0)
    ref0 = _mp_reference_cost(big, X, np.eye(10)[y], 0.0)
    assert abs(J0 - float(ref0)) <= 1e-9 * abs(float(ref0))
