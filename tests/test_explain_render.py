"""glassnet.explain.render: exact text for a hand-worked net, SVG structure, PNG pixels, curves and the HTML report."""

import base64
import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from conftest import random_problem

import glassnet
from glassnet.explain import LayerTrace, Trace, render
from glassnet.explain.curves import learning_curve, validation_curve

SVG = "{http://www.w3.org/2000/svg}"


def hand_worked_2_2_1():
    """x = (1, 0), y = 1.

    Θ⁽¹⁾ = [[0, ln 3, 1], [0, −ln 3, 0.5]]  → z⁽²⁾ = (ln 3, −ln 3), a⁽²⁾ = (3/4, 1/4), g′ = a(1 − a) = 3/16 = 0.1875
    Θ⁽²⁾ = [[−0.5, 2, −4]]                  → z⁽³⁾ = −0.5 + 2·0.75 − 4·0.25 = 0, h = g(0) = 0.5, cost = ln 2
    δ⁽³⁾ = h − y = −0.5
    δ₁⁽²⁾ = Θ₁₁⁽²⁾δ₁⁽³⁾ · g′ = (2)(−0.5) · 0.1875 = −1 · 0.1875 = −0.1875
    δ₂⁽²⁾ = Θ₁₂⁽²⁾δ₁⁽³⁾ · g′ = (−4)(−0.5) · 0.1875 = 2 · 0.1875 = 0.375
    Δ⁽¹⁾ += δ⁽²⁾[1, 1, 0] = [[−0.1875, −0.1875, 0], [0.375, 0.375, 0]];  Δ⁽²⁾ += −0.5·[1, 0.75, 0.25]
    """
    th1 = np.array([[0.0, np.log(3), 1.0], [0.0, -np.log(3), 0.5]])
    th2 = np.array([[-0.5, 2.0, -4.0]])
    return glassnet.explain([th1, th2], np.array([1.0, 0.0]), 1)


HAND_WORKED_TEXT = """\
Example: label 1 · network 2-2-1 · λ = 0
h_Θ(x) = 0.5 → predicted 1 (correct) · cost(t) = 0.6931

Forward pass, z⁽ˡ⁺¹⁾ = Θ⁽ˡ⁾a⁽ˡ⁾ and a = g(z):
layer 1 (input): 2 units + bias unit
  j  x = a
  0      1
  1      1
  2      0
layer 2 (hidden): 2 units + bias unit
  j       z     a   g′(z)        δ
  0             1
  1   1.099  0.75  0.1875  −0.1875
  2  −1.099  0.25  0.1875    0.375
layer 3 (output): 1 unit
  j  z    a  g′(z)     δ  y
  1  0  0.5   0.25  −0.5  1

Backward pass, δ = ∂cost/∂z from the output layer down:
δ₁⁽³⁾ = a₁⁽³⁾ − y₁ = 0.5 − 1 = −0.5
δ₁⁽²⁾ = Θ₁₁⁽²⁾·δ₁⁽³⁾ = (2)(−0.5) = −1;  × g′(z₁⁽²⁾) = 0.1875 → −0.1875
δ₂⁽²⁾ = Θ₁₂⁽²⁾·δ₁⁽³⁾ = (−4)(−0.5) = 2;  × g′(z₂⁽²⁾) = 0.1875 → 0.375

Gradient: this example adds δ⁽ˡ⁺¹⁾(a⁽ˡ⁾)ᵀ to Δ⁽ˡ⁾ (a⁽ˡ⁾ with its bias unit 1 first):
  Δ⁽¹⁾ += δ⁽²⁾(a⁽¹⁾)ᵀ = [[−0.1875  −0.1875  0], [0.375  0.375  0]]
  Δ⁽²⁾ += δ⁽³⁾(a⁽²⁾)ᵀ = [−0.5  −0.375  −0.125]
"""


def test_hand_worked_2_2_1_text_exactly():
    tr = hand_worked_2_2_1()
    assert tr.delta[2][1] == pytest.approx(-0.1875, abs=1e-15) and tr.delta[2][2] == pytest.approx(0.375, abs=1e-15)
    assert render.render_text(tr) == HAND_WORKED_TEXT


def test_hand_worked_unit_view():
    text = render.render_text(hand_worked_2_2_1(), unit=(2, 2))
    assert text == "\n".join(HAND_WORKED_TEXT.splitlines()[:2] + [""] + HAND_WORKED_TEXT.splitlines()[9:14] + [
        "",
        "δ₂⁽²⁾ = Θ₁₂⁽²⁾·δ₁⁽³⁾ = (−4)(−0.5) = 2;  × g′(z₂⁽²⁾) = 0.1875 → 0.375",
        "",
        "Edges of unit 2:2 by size of Θᵢⱼ·δᵢ (they add up to 2):",
        "  i  Θᵢ₂⁽²⁾  δᵢ⁽³⁾  term",
        "  1      −4   −0.5     2",
    ]) + "\n"
    with pytest.raises(IndexError, match=r"j: layer 2 has units j = 1\.\.2, got 3"):
        render.render_text(hand_worked_2_2_1(), unit=(2, 3))
    with pytest.raises(ValueError, match=r"unit 1:1: input units have no δ"):
        render.unit_equation(hand_worked_2_2_1(), 1, 1)


def the_notes_example_trace():
    """The issue's numbers, as a hand-made record: Θ₁₂⁽²⁾ = 0.41, Θ₂₂⁽²⁾ = −0.73, δ⁽³⁾ = (−0.12, 0.05), g′ = 0.2319."""
    th1 = np.zeros((2, 3))
    th2 = np.array([[0.0, 0.3, 0.41], [0.0, -0.2, -0.73]])
    d3 = np.array([-0.12, 0.05])
    s = 0.41 * -0.12 + -0.73 * 0.05  # = −0.0492 − 0.0365 = −0.0857
    gp = np.array([0.25, 0.2319])
    layers = (
        LayerTrace(l=1, kind="input", a=np.array([0.0, 0.0])),
        LayerTrace(l=2, kind="hidden", a=np.array([0.5, 0.65]), z=np.array([0.0, 0.62]), g_prime=gp,
                   delta=np.array([(0.3 * -0.12 + -0.2 * 0.05) * 0.25, s * 0.2319])),
        LayerTrace(l=3, kind="output", a=np.array([0.88, 0.05]), z=np.array([2.0, -2.9]), g_prime=np.array([.1, .05]),
                   delta=d3, has_bias=False),
    )
    return Trace(thetas=(th1, th2), layers=layers, y=np.array([1.0, 0.0]), cost=0.18)


def test_the_notes_equation_with_numbers():
    tr = the_notes_example_trace()
    assert render.unit_equation(tr, 2, 2) == (
        "δ₂⁽²⁾ = Θ₁₂⁽²⁾·δ₁⁽³⁾ + Θ₂₂⁽²⁾·δ₂⁽³⁾ = (0.41)(−0.12) + (−0.73)(0.05) = −0.0857;  "
        "× g′(z₂⁽²⁾) = 0.2319 → −0.01987"
    )
    assert render.unit_equation(tr, 2, 2, digits=2).endswith("= −0.086;  × g′(z₂⁽²⁾) = 0.23 → −0.02")
    # top-k: one term written out, the other summed
    assert render.unit_equation(tr, 2, 2, top_k=1) == (
        "δ₂⁽²⁾ = Θ₁₂⁽²⁾·δ₁⁽³⁾ + … = (0.41)(−0.12) + [1 smaller terms: −0.0365] = −0.0857;  "
        "× g′(z₂⁽²⁾) = 0.2319 → −0.01987"
    )
    assert render.unit_equation(tr, 3, 2) == "δ₂⁽³⁾ = a₂⁽³⁾ − y₂ = 0.05 − 0 = 0.05"


def test_format_number_and_multi_digit_indices(ex4_thetas):
    assert render.format_number(-0.0857) == "−0.0857"
    assert render.format_number(123456.0) == "1.235×10⁵"
    assert render.format_number(-2.5e-12, 3) == "−2.5×10⁻¹²"
    assert render.format_number(-0.0) == "0"
    tr = glassnet.explain(ex4_thetas, np.full(400, 0.1), 3, top_k=2)
    eq = render.unit_equation(tr, 2, 12)
    u = tr.unit(2, 12)
    first, second = u.edges
    assert eq.startswith(f"δ₁₂⁽²⁾ = Θ{render._sub(first.i, 12)}⁽²⁾·δ{render._sub(first.i)}⁽³⁾ + Θ")
    assert "Θ₁₀,₁₂⁽²⁾" in render.unit_equation(tr, 2, 12, top_k=None)
    assert f"[8 smaller terms: {render.format_number(u.omitted_sum)}]" in eq


def test_layer_table_lists_units_and_collapses_big_layers(ex4_thetas):
    tr = glassnet.explain(ex4_thetas, np.full(400, 0.1), 3)
    table = render.layer_table(tr, 2, max_rows=5).splitlines()
    assert table[0] == "layer 2 (hidden): 25 units + bias unit, showing the 5 with the largest |δ|"
    js = [int(row.split()[0]) for row in table[3:]]
    expected = sorted(np.argsort(-np.abs(np.asarray(tr.delta[2])))[:5] + 1)
    assert js == expected and len(table) == 3 + 5
    row = table[3].split()
    j = js[0]
    assert row == [str(j), render.format_number(tr.z[2][j]), render.format_number(tr.a[2][j]),
                   render.format_number(tr.g_prime[2][j]), render.format_number(tr.delta[2][j])]
    out = render.layer_table(tr, 3).splitlines()
    assert out[0] == "layer 3 (output): 10 units" and out[1].split() == ["j", "z", "a", "g′(z)", "δ", "y"]
    assert out[2 + 3].split()[-1] == "1"  # label 3 is output unit 4
    with pytest.raises(IndexError, match=r"l: expected a layer number 1\.\.3, got 4"):
        render.layer_table(tr, 4)


# ----------------------------------------------------------------------------------------------------------------
# SVG


def parse(svg: str):
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    return root


def units_of(root, l):
    layer = root.find(f".//{SVG}g[@id='layer-{l}']")
    return layer, [e for e in layer if "unit" in e.get("class", "").split() and "bias" not in e.get("class", "")]


def test_svg_small_net_one_element_per_unit_and_edge():
    tr = hand_worked_2_2_1()
    root = parse(render.diagram_svg(tr, "backward"))
    assert root.get("data-view") == "backward" and root.get("data-sizes") == "2-2-1"
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    for l, size in ((1, 2), (2, 2), (3, 1)):
        _, units = units_of(root, l)
        assert [u.get("id") for u in units] == [f"unit-{l}-{j}" for j in range(1, size + 1)]
        assert all(u.tag == SVG + "circle" for u in units)
    assert root.find(f".//{SVG}rect[@id='bias-1']") is not None and root.find(f".//{SVG}rect[@id='bias-2']") is not None
    assert root.find(f".//{SVG}rect[@id='bias-3']") is None  # the output layer has no bias unit
    # backward view: the unit value is δ, the edge value is the edge term Θ_ij δ_i
    assert float(root.find(f".//*[@id='unit-2-2']").get("data-value")) == tr.delta[2][2]
    edge = root.find(f".//{SVG}line[@id='edge-2-1-2']")
    assert float(edge.get("data-value")) == pytest.approx(-4 * -0.5)
    assert "pos" in edge.get("class").split() and edge.get("stroke") == render.POSITIVE
    assert edge.find(f"{SVG}title").text == "Θ₁₂⁽²⁾·δ₁⁽³⁾ = (−4)(−0.5) = 2"
    edges = [e for e in root.iter(SVG + "line") if "edge" in e.get("class", "").split()]
    assert len(edges) == 2 * 2 + 2 + 2 * 1 + 1  # weights plus bias edges
    # edge terms are written on the edges of a small net
    labels = [t.text for t in root.iter(SVG + "text") if t.get("class") == "edge-label"]
    assert sorted(labels) == sorted(["−1", "2", "−0.206", "−0.412", "−0.188", "0.188"])


@pytest.mark.parametrize("view", ["forward", "backward"])
def test_svg_colours_and_widths_follow_the_numbers(view):
    thetas, X, y = random_problem([4, 6, 5, 3], m=1, seed=3, scale=2.0)
    tr = glassnet.explain(thetas, X[0], y[0])
    root = parse(render.diagram_svg(tr, view))
    for l in (1, 2, 3):
        edges = [e for e in root.find(f".//{SVG}g[@id='edges-{l}']") if e.tag == SVG + "line"
                 and "bias-edge" not in e.get("class")]
        assert len(edges) == tr.sizes[l - 1] * tr.sizes[l]
        for e in edges:
            i, j = int(e.get("data-i")), int(e.get("data-j"))
            expected = tr.theta[l][i, j] * (tr.delta[l + 1][i] if view == "backward" else 1.0)
            assert float(e.get("data-value")) == pytest.approx(expected, rel=1e-12)
            assert e.get("stroke") == (render.POSITIVE if expected >= 0 else render.NEGATIVE)
        by_size = sorted(edges, key=lambda e: abs(float(e.get("data-value"))))
        widths = [float(e.get("stroke-width")) for e in by_size]
        assert widths == sorted(widths) and widths[-1] == pytest.approx(6.0, abs=0.01)
    value = float(root.find(".//*[@id='unit-3-2']").get("data-value"))
    assert value == (tr.delta[3][2] if view == "backward" else tr.a[3][2])


def test_svg_400_25_10_draws_the_input_as_an_image(ex4_thetas):
    x = np.zeros((20, 20))
    x[4:16, 9:11] = 1.0
    tr = glassnet.explain(ex4_thetas, x.ravel(order="F"), 1)
    root = parse(render.diagram_svg(tr, "backward", image_order="F"))
    layer1, pixels = units_of(root, 1)
    assert layer1.get("class") == "layer input-image" and layer1.get("data-units") == "400"
    assert len(pixels) == 400 and all(p.tag == SVG + "rect" and "pixel" in p.get("class") for p in pixels)
    # column-major: x_j for j = 1..20 is the first column, so pixel 2 sits below pixel 1, pixel 21 right of it
    p = {e.get("id"): (float(e.get("x")), float(e.get("y"))) for e in pixels}
    assert p["unit-1-2"][0] == p["unit-1-1"][0] and p["unit-1-2"][1] > p["unit-1-1"][1]
    assert p["unit-1-21"][1] == p["unit-1-1"][1] and p["unit-1-21"][0] > p["unit-1-1"][0]
    ink = {e.get("id"): e.get("fill") for e in pixels}
    assert ink["unit-1-185"] == "#000000" and ink["unit-1-1"] == "#ffffff"  # x[4, 9] (row 5, column 10) is ink
    _, hidden = units_of(root, 2)
    assert len(hidden) == 25
    e1 = root.find(f".//{SVG}g[@id='edges-1']")
    assert e1.get("data-edges") == "10000" and e1.get("data-edges-shown") == "50"  # 2 per hidden unit
    assert root.find(f".//{SVG}g[@id='edges-2']").get("data-edges-shown") == "250"


def test_svg_784_300_10_collapses_the_hidden_layer():
    thetas, X, y = random_problem([784, 300, 10], m=1, seed=1)
    tr = glassnet.explain(thetas, X[0], y[0])
    root = parse(render.diagram_svg(tr, "backward", max_units=20, id_prefix="p-"))
    layer2 = root.find(f".//{SVG}g[@id='p-layer-2']")
    assert layer2.get("data-units") == "300" and layer2.get("data-shown") == "20"
    shown = sorted(int(e.get("data-j")) for e in layer2 if "hidden" in e.get("class", ""))
    assert shown == sorted(np.argsort(-np.abs(np.asarray(tr.delta[2])))[:20] + 1)
    notes = [t.text for t in root.iter(SVG + "text") if t.get("class") == "collapsed-note"]
    assert notes == ["20 of 300 units shown (largest |δ|)"]
    assert all(e.get("id").startswith("p-") for e in root.iter() if e.get("id"))


def test_svg_rejects_bad_options():
    tr = hand_worked_2_2_1()
    with pytest.raises(ValueError, match="view: expected 'forward' or 'backward', got 'sideways'"):
        render.diagram_svg(tr, "sideways")
    with pytest.raises(ValueError, match="image_shape: 3×3 = 9 pixels, but the input layer has 2 units"):
        render.diagram_svg(tr, image_shape=(3, 3))
    with pytest.raises(ValueError, match=r"class_names: expected 2 names \(one per output unit; two when K = 1\)"):
        render.diagram_svg(tr, class_names=["a", "b", "c"])
    assert render.render_text(tr, class_names=["no", "yes"]).splitlines()[1].startswith(
        "h_Θ(x) = 0.5 → predicted yes (correct)")


# ----------------------------------------------------------------------------------------------------------------
# PNG


def read_png(data: bytes) -> np.ndarray:
    import matplotlib.image as mpimg

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return mpimg.imread(io.BytesIO(data), format="png")


def test_diagram_png_matches_the_svg_canvas_and_has_both_signs():
    tr = hand_worked_2_2_1()
    root = parse(render.diagram_svg(tr, "backward"))
    img = read_png(render.diagram_png(tr, "backward", scale=1.0))
    assert img.shape[:2] == (round(float(root.get("height"))), round(float(root.get("width"))))
    rgb = (img[..., :3] * 255).round()
    red = np.all(np.abs(rgb - [178, 24, 43]) < 20, axis=-1).sum()
    blue = np.all(np.abs(rgb - [33, 102, 172]) < 20, axis=-1).sum()
    assert red > 200 and blue > 200  # δ₂⁽²⁾ > 0 is red, δ⁽³⁾ < 0 blue, and the edges with them


def test_display_grid_is_the_courses_display_data():
    W = np.array([[1.0, 2.0, 3.0, 4.0], [-2.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    grid = render.display_grid(W, order="F")
    # floor(√3) = 1 row of ceil(3/1) = 3 patches of 2×2, padded by 1 pixel of −1
    assert grid.shape == (1 + 1 * 3, 1 + 3 * 3)
    np.testing.assert_array_equal(grid[1:3, 1:3], [[0.25, 0.75], [0.5, 1.0]])  # column-major, / max |w| = 4
    np.testing.assert_array_equal(grid[1:3, 4:6], [[-1.0, 0.0], [0.0, 0.5]])
    np.testing.assert_array_equal(grid[1:3, 7:9], 0.0)  # an all-zero unit stays 0 (no division by 0)
    assert (grid[0] == -1).all() and (grid[:, 3] == -1).all()
    assert render.display_grid(np.ones((25, 64))).shape == (1 + 5 * 9, 1 + 5 * 9)
    with pytest.raises(ValueError, match=r"image_shape: 10 inputs do not form a square image"):
        render.display_grid(np.ones((2, 10)))


def test_hidden_units_png(ex4_thetas):
    img = read_png(render.hidden_units_png(ex4_thetas[0], order="F"))
    assert img.shape[1] >= 500 and img.shape[0] > img.shape[1]  # square grid plus a title
    with pytest.raises(ValueError, match="theta1: expected Θ"):
        render.hidden_units_png(np.ones(5))


def test_cost_curves_from_history_dict_and_list():
    from glassnet.optimize import History

    h = History(cost=[3.0, 2.0, 1.5], val_cost=[3.1, 2.4, 2.2])
    for source in (h, {"train": [3.0, 2.0, 1.5], "validation": [3.1, 2.4, 2.2]}, [3.0, 2.0, 1.5]):
        img = read_png(render.cost_curves_png(source))
        assert img.shape[:2] == (420, 700)
    assert render._history_series({"cost": [1, 2], "val_cost": [3, 4]}) == ([1.0, 2.0], [3.0, 4.0])
    with pytest.raises(ValueError, match=r"history: expected a training cost list under one of"):
        render.cost_curves_png({"validation": [1.0]})
    with pytest.raises(ValueError, match="history: the training cost list is empty"):
        render.cost_curves_png([])


@pytest.fixture(scope="module")
def small_digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X[:300] / 16.0
    return X[:200], y[:200], X[200:], y[:300][200:]


def test_learning_and_validation_curves_train_real_networks(small_digits):
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
    for png in (render.learning_curve_png(lc), render.validation_curve_png(vc, metric="error")):
        assert read_png(png).shape[:2] == (420, 700)
    with pytest.raises(ValueError, match=r"train_sizes: expected sizes between 1 and 200"):
        learning_curve(X, y, Xv, yv, train_sizes=[0, 10])
    with pytest.raises(ValueError, match="metric: expected 'cost' or 'error'"):
        render.learning_curve_png(lc, metric="auc")


# ----------------------------------------------------------------------------------------------------------------
# HTML


def test_html_report_is_self_contained_and_complete(small_digits):
    X, y, Xv, yv = small_digits
    thetas = glassnet.random_init([64, 6, 10], rng=0)
    tr = glassnet.explain(thetas, Xv, yv, lam=1.0, rows=7)
    page = render.html_report(tr, X=Xv, y=yv, history={"train": [2.0, 1.0], "validation": [2.1, 1.4]})
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    # no network: the only URL is the SVG namespace, nothing is fetched
    assert set(re.findall(r"https?://[^\s\"']+", page)) == {"http://www.w3.org/2000/svg"}
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert 'id="bw-unit-2-6"' in page and 'id="fw-unit-2-6"' in page
    assert render.unit_equation(tr, 2, 3, top_k=4) in page.replace("&#x27;", "'")
    wrong = int(np.sum(glassnet.forward(thetas, Xv).output.argmax(axis=1) != yv))
    assert f"{wrong} of 100 examples misclassified" in page
    pngs = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(pngs) == 3  # misclassified examples, hidden units, cost curve
    for b64 in pngs:
        read_png(base64.b64decode(b64))
    for svg in re.findall(r"<svg.*?</svg>", page, flags=re.S):
        parse(svg)
    with pytest.raises(ValueError, match=r"X, y: expected X of shape \(m, 64\)"):
        render.html_report(tr, X=Xv[:, :10], y=yv)
