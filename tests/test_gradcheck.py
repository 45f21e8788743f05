import numpy as np
import pytest

import glassnet
from conftest import random_problem
from glassnet.gradcheck import course_problem, relative_difference


@pytest.mark.parametrize("lam", [0.0, 3.0])
def test_course_standard_check(lam):
    report = glassnet.course_gradient_check(lam)
    assert report.relative_difference < 1e-9
    assert report.passed
    assert len(report.rows) == 5 * 4 + 3 * 6
    first = report.rows[0]
    assert (first.layer, first.i, first.j) == (1, 0, 0)
    assert "PASS" in report.table()


def test_course_problem_matches_check_nn_gradients():
    thetas, X, y = course_problem()
    assert [t.shape for t in thetas] == [(5, 4), (3, 6)]
    assert X.shape == (5, 3)
    np.testing.assert_array_equal(y, [1, 2, 0, 1, 2])  # 1 + mod(1:m, 3), made 0-based


def test_a_broken_gradient_is_caught():
    thetas, X, y = course_problem()

    def broken(th, X, y, lam):
        J, g = glassnet.cost_and_gradient(th, X, y, lam)
        g[0] = g[0].copy()
        g[0][:, 0] *= 1.01  # a 1% error in the bias gradients of Θ^(1)
        return J, g

    report = glassnet.gradient_check(thetas, X, y, 0.0, grad_fn=broken)
    assert not report.passed
    assert report.relative_difference > 1e-5
    assert "FAIL" in report.table()


def test_subset_and_direction_modes_on_a_bigger_net():
    thetas, X, y = random_problem([30, 20, 10], m=15, seed=4)
    sub = glassnet.gradient_check(thetas, X, y, 1.0, n_params=40, seed=1)
    assert sub.mode == "subset" and len(sub.rows) == 40 and sub.passed
    again = glassnet.gradient_check(thetas, X, y, 1.0, n_params=40, seed=1)
    assert [(r.layer, r.i, r.j) for r in again.rows] == [(r.layer, r.i, r.j) for r in sub.rows]
    d = glassnet.gradient_check(thetas, X, y, 1.0, n_directions=5, seed=2)
    assert d.mode == "directions" and d.relative_difference < 1e-9


def test_relative_difference_definition():
    assert relative_difference(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert relative_difference(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)


def test_gradcheck_argument_errors():
    thetas, X, y = course_problem()
    with pytest.raises(ValueError, match="epsilon"):
        glassnet.gradient_check(thetas, X, y, epsilon=0)
    with pytest.raises(ValueError, match="n_params, n_directions"):
        glassnet.gradient_check(thetas, X, y, n_params=3, n_directions=3)
