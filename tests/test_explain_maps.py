"""Maps over the input plane (explain/maps.py) and backprop as steps (explain/steps.py), against the library."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from glassnet.datasets import make_moons
from glassnet.explain.maps import plane_extent, plane_maps
from glassnet.explain.steps import backprop_steps
from glassnet.explain.text import unit_equation
from glassnet.outputs import predict_units
from glassnet.params import random_init


@pytest.fixture
def net():
    return random_init([2, 3, 2, 1], rng=np.random.default_rng(1))


def test_every_grid_value_is_the_forward_pass_at_that_point(net):
    X, _ = make_moons(50, random_state=0)
    maps = plane_maps(net, X, resolution=7)
    lo1, hi1, lo2, hi2 = maps.extent
    assert lo1 < X[:, 0].min() and hi1 > X[:, 0].max() and lo2 < X[:, 1].min() and hi2 > X[:, 1].max()
    assert hi1 - lo1 == pytest.approx(hi2 - lo2)  # square: circles stay round
    r, c = 2, 5
    cache = glassnet.forward(net, np.array([[maps.x1[c], maps.x2[r]]]))
    assert maps.output[0][r, c] == pytest.approx(cache.output[0, 0], rel=1e-12)
    assert maps.prediction[r, c] == predict_units(cache.z[-1])[0]
    assert [u.shape for u in maps.units] == [(3, 7, 7), (2, 7, 7)]
    assert maps.units[1][1][r, c] == pytest.approx(cache.activations[2][0, 1], rel=1e-12)


def test_plane_maps_refuse_what_they_cannot_draw(net):
    with pytest.raises(ValueError, match="2 inputs"):
        plane_maps(random_init([3, 2, 1], rng=np.random.default_rng(0)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="resolution"):
        plane_maps(net, np.zeros((2, 2)), resolution=1)
    with pytest.raises(ValueError, match="extent"):
        plane_maps(net, extent=(1, 0, 0, 1))
    with pytest.raises(ValueError, match="shape"):
        plane_extent(np.zeros((0, 2)))


def test_steps_follow_the_lecture_and_every_delta_is_the_traces(net):
    x, y = np.array([0.3, -0.7]), 1
    tr = glassnet.explain(net, x, y, m=10)
    _, D = glassnet.cost_and_gradient(net, np.array([x]), np.array([y]), 0.0)
    steps = backprop_steps(tr, D=D, m=1)
    assert [s.phase for s in steps] == ["forward"] * 3 + ["output"] + ["hidden"] * 5 + ["gradient"] * 3 + ["batch"]
    hidden = [s for s in steps if s.phase == "hidden"]
    assert [s.unit for s in hidden] == [(3, 1), (3, 2), (2, 1), (2, 2), (2, 3)]  # from the output layer down
    for s in hidden:
        l, j = s.unit
        assert s.value == tr.delta[l][j]
        assert s.edges == tuple((l, i, j) for i in range(1, tr.sizes[l] + 1))  # the edges leaving unit j
    assert steps[3].value == pytest.approx(tr.output[0] - y)  # δ^(L) = a − y
    assert "× g′(z₁⁽²⁾)" in hidden[2].lines[1]
    assert steps[-1].layers == (1, 2, 3)


def test_maps_follow_the_chosen_units(net):
    maps = plane_maps(net, extent=(-2, 2, -2, 2), resolution=5, activation="tanh")
    cache = glassnet.forward(net, np.array([[maps.x1[1], maps.x2[3]]]), activation="tanh")
    assert maps.output[0][3, 1] == pytest.approx(cache.output[0, 0], rel=1e-12)
    assert maps.units[0][2][3, 1] == pytest.approx(cache.activations[1][0, 2], rel=1e-12)
    assert maps.units[0].min() < 0  # tanh units, not the sigmoid's (0, 1)
    multi = random_init([2, 3, 3], rng=np.random.default_rng(2))
    soft = plane_maps(multi, extent=(-1, 1, -1, 1), resolution=4, output="softmax")
    np.testing.assert_allclose(soft.output.sum(axis=0), 1.0, rtol=1e-12)


@pytest.mark.parametrize("activation, output, loss, head", [
    ("tanh", "softmax", "log", "δ⁽³⁾ = a⁽³⁾ − y (softmax output with the log cost: no g′ factor):"),
    ("relu", "sigmoid", "squared", "δ⁽³⁾ = (a⁽³⁾ − y)·g′(z⁽³⁾) (sigmoid output with the squared cost: "
                                   "g′(z) = a(1 − a) stays):"),
])
def test_steps_write_the_chosen_units_and_cost(activation, output, loss, head):
    thetas = random_init([2, 3, 2], rng=np.random.default_rng(3))
    tr = glassnet.explain(thetas, np.array([0.3, -0.7]), 1, activation=activation, output=output, loss=loss)
    steps = backprop_steps(tr)
    out = next(s for s in steps if s.phase == "output")
    assert out.lines[0] == head and out.lines[1] == tr.pair.cost_text
    assert out.lines[2] == unit_equation(tr, 3, 1)
    assert steps[0].lines[0].endswith(f"then a⁽²⁾ = {activation}(z⁽²⁾):")
    last = steps[1].lines
    assert last[0].endswith(f"then a⁽³⁾ = {output}(z⁽³⁾):")
    assert ("softmax(z⁽³⁾)₁ = " in last[1]) == (output == "softmax")
