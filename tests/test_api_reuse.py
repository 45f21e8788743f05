"""The public cost_and_gradient reuses targets and workspaces between calls, and never gives a stale answer."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import glassnet
from glassnet import api
from glassnet.backprop import backprop_per_example


def problem(dtype=np.float64, m=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((m, 8)).astype(dtype)
    y = rng.integers(0, 4, m)
    thetas = [(0.3 * rng.standard_normal((5, 9))).astype(dtype), (0.3 * rng.standard_normal((4, 6))).astype(dtype)]
    return thetas, X, y


def fresh(thetas, X, y, lam, **kw):
    """The same call on copies nobody has seen: nothing cached can apply."""
    return glassnet.cost_and_gradient([t.copy() for t in thetas], X.copy(), np.array(y, copy=True), lam, **kw)


def assert_same(got, want):
    assert got[0] == want[0]
    for a, b in zip(got[1], want[1]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_repeated_calls_equal_a_fresh_call_and_the_lecture(dtype):
    thetas, X, y = problem(dtype)
    first = glassnet.cost_and_gradient(thetas, X, y, 1.0)
    again = glassnet.cost_and_gradient(thetas, X, y, 1.0)
    assert_same(again, first)
    assert_same(first, fresh(thetas, X, y, 1.0))
    if dtype == np.float64:
        J, grads = backprop_per_example(thetas, X, y, 1.0)
        assert np.isclose(first[0], J, rtol=1e-12)
    assert all(g.flags.writeable for g in again[1])  # arrays of the caller's own
    assert again[1][0] is not first[1][0]


def test_x_and_y_changed_in_place_are_computed_afresh():
    thetas, X, y = problem()
    glassnet.cost_and_gradient(thetas, X, y, 1.0)
    X[3, 2] += 0.25  # the same object, new contents
    assert_same(glassnet.cost_and_gradient(thetas, X, y, 1.0), fresh(thetas, X, y, 1.0))
    y[7] = (y[7] + 1) % 4  # the same label array, one label changed
    got = glassnet.cost_and_gradient(thetas, X, y, 1.0)
    assert_same(got, fresh(thetas, X, y, 1.0))
    y[:] = (y + 1) % 4
    assert_same(glassnet.cost_and_gradient(thetas, X, y, 1.0), fresh(thetas, X, y, 1.0))


def test_a_new_array_at_a_recycled_address_is_not_mistaken_for_the_old_one():
    thetas, X, _ = problem()
    for seed in range(20):  # new label arrays, some at the address of a freed one, same shape and dtype
        y = np.random.default_rng(seed).integers(0, 4, len(X))
        assert_same(glassnet.cost_and_gradient(thetas, X, y, 0.5), fresh(thetas, X, y, 0.5))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_x_still_gets_its_clear_error(bad):
    thetas, X, y = problem()
    glassnet.cost_and_gradient(thetas, X, y, 1.0)
    X[5, 1] = bad
    with pytest.raises(ValueError, match=r"X: expected finite values, found .* at row 5, column 1"):
        glassnet.cost_and_gradient(thetas, X, y, 1.0)


def test_inf_that_saturates_every_unit_is_still_found():
    # all first-layer weights of input 1 positive: z^(2) = +inf, a^(2) = 1 exactly, J finite; D^(1) is not
    thetas, X, y = problem()
    thetas[0][:, 2] = 1.0
    X[0, 1] = np.inf
    with pytest.raises(ValueError, match="X: expected finite values"):
        glassnet.cost_and_gradient(thetas, X, y, 1.0)


def test_a_finite_x_with_a_non_finite_result_is_returned_as_before():
    thetas, X, y = problem()
    thetas[0][:] = 1e308  # z overflows: J is not finite, X is fine
    with np.errstate(all="ignore"):
        J, grads = glassnet.cost_and_gradient(thetas, X, y, 1.0)
    assert not np.isfinite(J) or not all(np.isfinite(g).all() for g in grads)


def test_cached_targets_are_read_only_and_bounded():
    thetas, X, _ = problem()
    for seed in range(10):
        glassnet.cost_and_gradient(thetas, X, np.random.default_rng(seed).integers(0, 4, len(X)), 0.0)
    assert len(api._target_cache) <= api._CACHE_SIZE and len(api._workspaces) <= api._CACHE_SIZE
    assert all(not Y.flags.writeable for _, Y in api._target_cache.values())


def test_concurrent_calls_each_get_their_own_answer():
    cases = [problem(seed=s) for s in range(6)]
    want = [fresh(*c, 1.0) for c in cases]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            got = list(pool.map(lambda c: glassnet.cost_and_gradient(*c, 1.0), cases * 2))
            for g, w in zip(got, want * 2):
                assert_same(g, w)


def test_other_inputs_take_the_validating_path():
    thetas, X, y = problem()
    want = fresh(thetas, X, y, 1.0)
    assert_same(glassnet.cost_and_gradient(thetas, X.tolist(), y.tolist(), 1.0), want)  # lists
    got = glassnet.cost_and_gradient(thetas, np.asfortranarray(X), y, 1.0)  # F-ordered: the same sums
    np.testing.assert_allclose(got[0], want[0], rtol=1e-13)


def test_a_strided_label_view_changed_through_its_base_is_encoded_again():
    thetas, X, _ = problem()
    base = np.random.default_rng(3).integers(0, 4, 2 * len(X))
    y = base[::2]  # not contiguous: compared item by item all the same
    first = glassnet.cost_and_gradient(thetas, X, y, 1.0)
    assert_same(first, fresh(thetas, X, y, 1.0))
    base[10] = (base[10] + 1) % 4  # row 5 of the view
    got = glassnet.cost_and_gradient(thetas, X, y, 1.0)
    assert got[0] != first[0]
    assert_same(got, fresh(thetas, X, y, 1.0))
    targets = np.eye(4)[y]  # a 0/1 matrix is kept as given: nothing cached to go stale
    assert_same(glassnet.cost_and_gradient(thetas, X, targets, 1.0), fresh(thetas, X, y, 1.0))
