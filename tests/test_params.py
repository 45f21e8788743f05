import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassnet
from glassnet.params import debug_initialize_weights, init_epsilon, layer_shapes, roll, sizes_from_thetas, unroll


def test_layer_shapes_follow_the_lecture():
    assert layer_shapes([400, 25, 10]) == [(25, 401), (10, 26)]


def test_random_init_range_and_seed():
    a = glassnet.random_init([400, 25, 10], rng=3)
    b = glassnet.random_init([400, 25, 10], rng=np.random.default_rng(3))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    eps1 = init_epsilon(400, 25)
    assert eps1 == pytest.approx(np.sqrt(6) / np.sqrt(425))
    assert np.abs(a[0]).max() <= eps1 and np.abs(a[0]).max() > 0.9 * eps1
    c = glassnet.random_init([400, 25, 10], rng=0, epsilon=0.12)
    assert all(np.abs(t).max() <= 0.12 for t in c)


def test_debug_initialize_weights_is_column_major_sine():
    W = debug_initialize_weights(5, 3)  # fan_out 5, fan_in 3 -> 5 x 4
    assert W.shape == (5, 4)
    assert W[0, 0] == pytest.approx(np.sin(1) / 10)
    assert W[1, 0] == pytest.approx(np.sin(2) / 10)  # column-major: down the first column first
    assert W[0, 1] == pytest.approx(np.sin(6) / 10)


@given(st.lists(st.integers(1, 7), min_size=2, max_size=5))
def test_unroll_roll_round_trip(sizes):
    thetas = glassnet.random_init(sizes, rng=0)
    vec = unroll(thetas)
    assert vec.shape == (sum(t.size for t in thetas),)
    back = roll(vec, sizes)
    for t, b in zip(thetas, back):
        np.testing.assert_array_equal(t, b)
    np.testing.assert_array_equal(unroll(back), vec)


def test_unroll_matches_course_order():
    t1 = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(unroll([t1]), [0, 3, 1, 4, 2, 5])  # Theta1(:) is column-major


def test_roll_rejects_wrong_length():
    with pytest.raises(ValueError, match=r"vector: expected a 1-D array of 9 parameters"):
        roll(np.zeros(8), [2, 3])


@pytest.mark.parametrize("sizes", [[3], [], [3, 0, 2], [2.5, 3]])
def test_bad_sizes(sizes):
    with pytest.raises(ValueError, match="sizes"):
        layer_shapes(sizes)


def test_sizes_from_thetas_names_the_bad_layer():
    with pytest.raises(ValueError, match=r"thetas\[1\].*expected shape \(3, 6\).*got shape \(3, 5\)"):
        sizes_from_thetas([np.zeros((5, 4)), np.zeros((3, 5))])
