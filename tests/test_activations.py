import numpy as np
import pytest

from glassnet.activations import log_sigmoid, sigmoid, sigmoid_gradient, sigmoid_gradient_from_a, softplus


def test_sigmoid_gradient_course_values():
    # The course's ex4 check: sigmoidGradient([-1 -0.5 0 0.5 1]).
    got = sigmoid_gradient(np.array([-1, -0.5, 0, 0.5, 1.0]))
    np.testing.assert_allclose(got, [0.196612, 0.235004, 0.25, 0.235004, 0.196612], atol=5e-7)
    assert sigmoid_gradient(np.array(0.0)) == 0.25  # exactly


@pytest.mark.parametrize("z", [1e4, -1e4, 800.0, -800.0, 40.0, -40.0])
def test_extreme_inputs_are_finite_without_warnings(z):
    # pytest runs with warnings as errors, so any overflow warning fails here.
    arr = np.array([z])
    assert np.isfinite(sigmoid(arr)).all()
    assert np.isfinite(sigmoid_gradient(arr)).all()
    assert np.isfinite(log_sigmoid(arr)).all()
    assert np.isfinite(softplus(arr)).all()
    assert 0.0 <= sigmoid_gradient(arr)[0] <= 0.25


def test_softplus_and_log_sigmoid_are_exact_in_the_tails():
    assert softplus(np.array([1e4]))[0] == 1e4
    assert softplus(np.array([-50.0]))[0] == pytest.approx(np.exp(-50.0), rel=1e-15)
    assert log_sigmoid(np.array([-1e4]))[0] == -1e4
    assert log_sigmoid(np.array([50.0]))[0] == pytest.approx(-np.exp(-50.0), rel=1e-15)


def test_gradient_from_a_matches_gradient_from_z():
    z = np.linspace(-8, 8, 41)
    np.testing.assert_allclose(sigmoid_gradient_from_a(sigmoid(z)), sigmoid_gradient(z), rtol=0, atol=1e-17)


def test_float32_stays_float32():
    z = np.linspace(-3, 3, 5, dtype=np.float32)
    assert sigmoid(z).dtype == np.float32
    assert sigmoid_gradient(z).dtype == np.float32
