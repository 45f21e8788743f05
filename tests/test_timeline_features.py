"""The hidden units' timeline (glassnet.explain.timeline), the 2-D feature toggles (glassnet.datasets.features) and
the maps over (x1, x2) of a network on chosen features, against per-example traces and hand-built inputs."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import explain
from glassnet.activations import sigmoid
from glassnet.datasets.features import FEATURES, expand
from glassnet.explain.maps import plane_maps
from glassnet.explain.timeline import saturation_threshold, unit_timeline
from glassnet.explain.walkthrough import NOTE_THETAS, NOTE_X, NOTE_Y
from glassnet.forward import propagate
from glassnet.params import random_init


def test_timeline_is_the_mean_over_examples_of_each_traced_g_prime_and_delta():
    later = [t * 3.0 for t in NOTE_THETAS]  # larger weights: units nearer saturation
    tl = unit_timeline([list(NOTE_THETAS), later], [0, 7], NOTE_X, NOTE_Y)
    assert tl.iterations == [0, 7] and tl.layers == [2] and tl.m == 3
    for k, thetas in enumerate([NOTE_THETAS, later]):
        traces = explain(list(thetas), NOTE_X, NOTE_Y, rows=[0, 1, 2])
        gp = np.array([tr.layers[1].g_prime for tr in traces])
        d = np.array([tr.layers[1].delta for tr in traces])
        np.testing.assert_allclose(tl.gprime[0][k], gp.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(tl.delta[0][k], np.abs(d).mean(axis=0), rtol=1e-12)
        np.testing.assert_array_equal(tl.saturated[0][k], (gp < tl.threshold).mean(axis=0))
    assert tl.threshold == pytest.approx(0.025)  # a tenth of the sigmoid's g′(0) = 1/4
    assert saturation_threshold("relu") == pytest.approx(0.1)
    d = tl.to_dict()
    assert d["layers"][0]["l"] == 2 and len(d["layers"][0]["gprime"]) == 2


def test_timeline_refuses_mismatched_iterations():
    with pytest.raises(ValueError, match="iterations: expected one per snapshot"):
        unit_timeline([list(NOTE_THETAS)], [0, 1], NOTE_X, NOTE_Y)


def test_features_are_the_playground_columns_in_the_order_chosen():
    X = np.array([[2.0, -1.0], [0.5, 3.0]])
    F = expand(X, ["sin(x2)", "x1", "x1x2", "x2^2", "x1^2", "x2", "sin(x1)"])
    np.testing.assert_array_equal(F, np.column_stack([np.sin(X[:, 1]), X[:, 0], X[:, 0] * X[:, 1], X[:, 1] ** 2,
                                                      X[:, 0] ** 2, X[:, 1], np.sin(X[:, 0])]))
    assert len(FEATURES) == 7
    for bad in ([], ["x3"], ["x1", "x1"]):
        with pytest.raises(ValueError, match="features: expected one or more different features"):
            expand(X, bad)
    with pytest.raises(ValueError, match=r"shape \(m, 2\)"):
        expand(np.ones((3, 4)), ["x1"])


def test_plane_maps_of_a_network_on_features_stay_over_x1_x2():
    features = ["x1^2", "x1x2", "sin(x2)"]
    thetas = random_init([3, 4, 1], rng=np.random.default_rng(0))
    maps = plane_maps(thetas, extent=(-2.0, 2.0, -1.0, 1.0), resolution=5, features=features)
    g1, g2 = np.meshgrid(maps.x1, maps.x2)
    grid = np.column_stack([g1.ravel(), g2.ravel()])
    h = sigmoid(np.column_stack([np.ones(25), expand(grid, features)]) @ thetas[0].T)
    out = sigmoid(np.column_stack([np.ones(25), h]) @ thetas[1].T)
    np.testing.assert_allclose(maps.output[0], out[:, 0].reshape(5, 5), rtol=1e-12)
    np.testing.assert_allclose(maps.output[0], propagate(thetas, expand(grid, features)).output[:, 0].reshape(5, 5))
    with pytest.raises(ValueError, match=r"needs a network with 3 inputs \(x1\^2, x1x2, sin\(x2\)\)"):
        plane_maps(random_init([2, 3, 1]), extent=(0, 1, 0, 1), features=features)
