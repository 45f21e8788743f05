import numpy as np
import pytest

import glassnet


def test_forward_shapes_and_bias_units():
    thetas = glassnet.random_init([4, 3, 2], rng=0)
    X = np.arange(20.0).reshape(5, 4) / 20
    cache = glassnet.forward(thetas, X)
    assert cache.z[0] is None
    assert cache.z[1].shape == (5, 3) and cache.z[2].shape == (5, 2)
    a = cache.a
    assert a[0].shape == (5, 5) and np.all(a[0][:, 0] == 1)  # a^(1) = [1; x]
    assert a[1].shape == (5, 4) and np.all(a[1][:, 0] == 1)  # hidden layer has a bias unit
    assert a[2].shape == (5, 2)  # output h_Θ(x): no bias unit
    # z^(l+1) = Θ^(l) a^(l) exactly as the lecture writes it
    np.testing.assert_allclose(cache.z[1], a[0] @ thetas[0].T, rtol=1e-14)
    np.testing.assert_allclose(cache.z[2], a[1] @ thetas[1].T, rtol=1e-14)
    z2, a2 = cache.layer(2)
    np.testing.assert_array_equal(z2, cache.z[1])
    with pytest.raises(IndexError, match=r"1\.\.3"):
        cache.layer(4)


def test_forward_accepts_F_order_and_float32():
    thetas = glassnet.random_init([6, 4, 3], rng=1)
    X = np.random.default_rng(0).standard_normal((7, 6))
    c = glassnet.forward(thetas, X).output
    f = glassnet.forward(thetas, np.asfortranarray(X)).output
    np.testing.assert_allclose(c, f, rtol=1e-14)
    out32 = glassnet.forward([t.astype(np.float32) for t in thetas], X.astype(np.float32)).output
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, c, rtol=1e-5)
