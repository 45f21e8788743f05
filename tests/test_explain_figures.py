"""glassnet.explain.figures: PNG pixels of the diagram, the course's displayData, hidden units and curves."""

import numpy as np
import pytest

from explain_helpers import hand_worked_2_2_1, parse, read_png, small_digits  # noqa: F401 (a fixture)
from glassnet.explain import diagram, figures
from glassnet.explain.curves import learning_curve, validation_curve


def test_diagram_png_matches_the_svg_canvas_and_has_both_signs():
    tr = hand_worked_2_2_1()
    root = parse(diagram.diagram_svg(tr, "backward"))
    img = read_png(figures.diagram_png(tr, "backward", scale=1.0))
    assert img.shape[:2] == (round(float(root.get("height"))), round(float(root.get("width"))))
    rgb = (img[..., :3] * 255).round()
    red = np.all(np.abs(rgb - [178, 24, 43]) < 20, axis=-1).sum()
    blue = np.all(np.abs(rgb - [33, 102, 172]) < 20, axis=-1).sum()
    assert red > 200 and blue > 200  # δ₂⁽²⁾ > 0 is red, δ⁽³⁾ < 0 blue, and the edges with them


def test_display_grid_is_the_courses_display_data():
    W = np.array([[1.0, 2.0, 3.0, 4.0], [-2.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    grid = figures.display_grid(W, order="F")
    # floor(√3) = 1 row of ceil(3/1) = 3 patches of 2×2, padded by 1 pixel of −1
    assert grid.shape == (1 + 1 * 3, 1 + 3 * 3)
    np.testing.assert_array_equal(grid[1:3, 1:3], [[0.25, 0.75], [0.5, 1.0]])  # column-major, / max |w| = 4
    np.testing.assert_array_equal(grid[1:3, 4:6], [[-1.0, 0.0], [0.0, 0.5]])
    np.testing.assert_array_equal(grid[1:3, 7:9], 0.0)  # an all-zero unit stays 0 (no division by 0)
    assert (grid[0] == -1).all() and (grid[:, 3] == -1).all()
    assert figures.display_grid(np.ones((25, 64))).shape == (1 + 5 * 9, 1 + 5 * 9)
    with pytest.raises(ValueError, match=r"image_shape: 10 inputs do not form a square image"):
        figures.display_grid(np.ones((2, 10)))


def test_hidden_units_png(ex4_thetas):
    img = read_png(figures.hidden_units_png(ex4_thetas[0], order="F"))
    assert img.shape[1] >= 500 and img.shape[0] > img.shape[1]  # square grid plus a title
    with pytest.raises(ValueError, match="theta1: expected Θ"):
        figures.hidden_units_png(np.ones(5))


def test_cost_curves_from_history_dict_and_list():
    from glassnet.train.optimize import History

    h = History(cost=[3.0, 2.0, 1.5], val_cost=[3.1, 2.4, 2.2])
    for source in (h, {"train": [3.0, 2.0, 1.5], "validation": [3.1, 2.4, 2.2]}, [3.0, 2.0, 1.5]):
        img = read_png(figures.cost_curves_png(source))
        assert img.shape[:2] == (420, 700)
    assert figures._history_series({"cost": [1, 2], "val_cost": [3, 4]}) == ([1.0, 2.0], [3.0, 4.0])
    with pytest.raises(ValueError, match=r"history: expected a training cost list under one of"):
        figures.cost_curves_png({"validation": [1.0]})
    with pytest.raises(ValueError, match="history: the training cost list is empty"):
        figures.cost_curves_png([])


def test_learning_and_validation_curves_train_real_networks(small_digits):  # noqa: F811 (the fixture imported above)
    X, y, Xv, yv = small_digits
    lc = learning_curve(X, y, Xv, yv, hidden_layer_sizes=(8,), lam=0.5, train_sizes=[40, 200], max_iter=25)
    assert lc.m == [40, 200] and lc.sizes == (64, 8, 10)
    vc = validation_curve(X, y, Xv, yv, lams=[0.0, 0.5, 30.0], hidden_layer_sizes=(8,), max_iter=25)
    # m = all rows at λ = 0.5 is the same fit in both (same initial Θ; the shuffle does not change a full batch)
    assert lc.val_cost[1] == pytest.approx(vc.val_cost[1], rel=1e-6)
    assert lc.train_error[1] == pytest.approx(vc.train_error[1], abs=1e-12)
    assert vc.train_cost[2] > vc.train_cost[0]  # a huge λ underfits
    assert vc.best_lam in (0.0, 0.5)
    assert vc.to_dict()["best_lam"] == vc.best_lam and lc.to_dict()["m"] == [40, 200]
    for png in (figures.learning_curve_png(lc), figures.validation_curve_png(vc, metric="error")):
        assert read_png(png).shape[:2] == (420, 700)
    with pytest.raises(ValueError, match=r"train_sizes: expected sizes between 1 and 200"):
        learning_curve(X, y, Xv, yv, train_sizes=[0, 10])
    with pytest.raises(ValueError, match="metric: expected 'cost' or 'error'"):
        figures.learning_curve_png(lc, metric="auc")


def test_learning_curve_measures_and_names_the_lectures_quantities(small_digits):  # noqa: F811 (the fixture)
    from glassnet.cost import cost
    from glassnet.params import random_init
    from glassnet.train import fitting

    X, y, Xv, yv = small_digits
    lc = learning_curve(X, y, Xv, yv, hidden_layer_sizes=(8,), lam=3.0, train_sizes=[30, 120], max_iter=20)
    # the same fit by hand: the first m rows of the seeded shuffle, the seeded initial Θ, L-BFGS at λ = 3
    rows = np.random.default_rng(0).permutation(X.shape[0])[:30]
    thetas, _ = fitting.fit(random_init([64, 8, 10], rng=0), X[rows], y[rows], 3.0, solver="lbfgs", max_iter=20)
    assert lc.train_cost[0] == pytest.approx(cost(thetas, X[rows], y[rows], 0.0), rel=1e-9)  # J_train: no λ term
    assert lc.val_cost[0] == pytest.approx(cost(thetas, Xv, yv, 0.0), rel=1e-9)
    assert cost(thetas, X[rows], y[rows], 3.0) - lc.train_cost[0] > 1e-4  # the λ term (λ/2m)ΣΘ² is left out
    words = figures._learning_curve_text(lc)
    assert words["ylabel"] == "cost J(Θ) without the λ term" and "trained with λ = 3" in words["title"]
    assert words["train"].startswith("J_train") and "no λ term" in words["train"] and "no λ term" in words["val"]
    assert "without the λ term" in words["note"] and "can fall as m grows" in words["note"]
    lc0 = learning_curve(X, y, Xv, yv, hidden_layer_sizes=(8,), lam=0.0, train_sizes=[30], max_iter=5)
    assert "can fall" not in figures._learning_curve_text(lc0)["note"]
    assert figures._learning_curve_text(lc0, "error")["ylabel"] == "misclassification error"
    assert read_png(figures.learning_curve_png(lc)).shape[:2] == (420, 700)
