"""glassnet.explain.diagram: SVG structure (one element per unit and edge, ids, colours, widths, collapsed forms)."""

import numpy as np
import pytest

import glassnet
from conftest import random_problem
from explain_helpers import SVG, hand_worked_2_2_1, parse
from glassnet.explain import diagram, text


def units_of(root, l):
    layer = root.find(f".//{SVG}g[@id='layer-{l}']")
    return layer, [e for e in layer if "unit" in e.get("class", "").split() and "bias" not in e.get("class", "")]


def test_svg_small_net_one_element_per_unit_and_edge():
    tr = hand_worked_2_2_1()
    root = parse(diagram.diagram_svg(tr, "backward"))
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
    assert float(root.find(".//*[@id='unit-2-2']").get("data-value")) == tr.delta[2][2]
    edge = root.find(f".//{SVG}line[@id='edge-2-1-2']")
    assert float(edge.get("data-value")) == pytest.approx(-4 * -0.5)
    assert "pos" in edge.get("class").split() and edge.get("stroke") == diagram.POSITIVE
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
    root = parse(diagram.diagram_svg(tr, view))
    for l in (1, 2, 3):
        edges = [e for e in root.find(f".//{SVG}g[@id='edges-{l}']") if e.tag == SVG + "line"
                 and "bias-edge" not in e.get("class")]
        assert len(edges) == tr.sizes[l - 1] * tr.sizes[l]
        for e in edges:
            i, j = int(e.get("data-i")), int(e.get("data-j"))
            expected = tr.theta[l][i, j] * (tr.delta[l + 1][i] if view == "backward" else 1.0)
            assert float(e.get("data-value")) == pytest.approx(expected, rel=1e-12)
            assert e.get("stroke") == (diagram.POSITIVE if expected >= 0 else diagram.NEGATIVE)
        by_size = sorted(edges, key=lambda e: abs(float(e.get("data-value"))))
        widths = [float(e.get("stroke-width")) for e in by_size]
        assert widths == sorted(widths) and widths[-1] == pytest.approx(6.0, abs=0.01)
    value = float(root.find(".//*[@id='unit-3-2']").get("data-value"))
    assert value == (tr.delta[3][2] if view == "backward" else tr.a[3][2])


def test_svg_400_25_10_draws_the_input_as_an_image(ex4_thetas):
    x = np.zeros((20, 20))
    x[4:16, 9:11] = 1.0
    tr = glassnet.explain(ex4_thetas, x.ravel(order="F"), 1)
    root = parse(diagram.diagram_svg(tr, "backward", image_order="F"))
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
    root = parse(diagram.diagram_svg(tr, "backward", max_units=20, id_prefix="p-"))
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
        diagram.diagram_svg(tr, "sideways")
    with pytest.raises(ValueError, match="image_shape: 3×3 = 9 pixels, but the input layer has 2 units"):
        diagram.diagram_svg(tr, image_shape=(3, 3))
    with pytest.raises(ValueError, match=r"class_names: expected 2 names \(one per output unit; two when K = 1\)"):
        diagram.diagram_svg(tr, class_names=["a", "b", "c"])
    assert text.render_text(tr, class_names=["no", "yes"]).splitlines()[1].startswith(
        "h_Θ(x) = 0.5 → predicted yes (correct)")


def test_layout_is_data_and_the_svg_writes_exactly_it():
    tr = hand_worked_2_2_1()
    lay = diagram.layout(tr, "backward")
    root = parse(diagram.diagram_svg(tr, "backward"))
    assert (lay.width, lay.height) == (float(root.get("width")), float(root.get("height")))
    ids = [s.a["id"] for s in lay.shapes if s.a.get("id")] + [g["id"] for g in lay.groups.values()]
    assert sorted(ids) == sorted(e.get("id") for e in root.iter() if e.get("id"))
    unit = next(s for s in lay.shapes if s.a.get("id") == "unit-2-2")
    assert unit.kind == "circle" and unit.a["fill"] == root.find(".//*[@id='unit-2-2']").get("fill")
    assert unit.a["data"]["value"] == tr.delta[2][2] and unit.group == "layer-2"
    assert lay.drawing_order() == ["main", "edges-1", "edges-2", "layer-1", "layer-2", "layer-3", "legend"]


def test_min_text_leaves_out_only_text_too_small_to_read():
    import numpy as np

    import glassnet
    from glassnet.explain.diagram import layout
    from glassnet.params import random_init

    thetas = random_init([2, 16, 1], rng=np.random.default_rng(0))
    tr = glassnet.explain(thetas, np.array([0.2, -0.4]), 1)
    full, readable = layout(tr, "forward"), layout(tr, "forward", min_text=9)
    sizes = [s.a["size"] for s in full.shapes if s.kind == "text"]
    assert min(sizes) < 9  # the values inside 16 small circles
    assert [s for s in readable.shapes if s.kind != "text"] == [s for s in full.shapes if s.kind != "text"]
    assert sorted(s.a["size"] for s in readable.shapes if s.kind == "text") == sorted(v for v in sizes if v >= 9)


@pytest.mark.parametrize("activation", ["tanh", "relu", "identity"])
def test_forward_view_draws_signed_hidden_units_on_the_diverging_scale(activation):
    # tanh/ReLU/identity units can leave [0, 1]: a = −0.9 must not look like a = 0 (the 0..1 scale would clip it)
    thetas, X, y = random_problem([4, 6, 3], m=1, seed=5, scale=2.0)
    tr = glassnet.explain(thetas, X[0], y[0], activation=activation, output="softmax", loss="log")
    root = parse(diagram.diagram_svg(tr, "forward"))
    a = np.array([tr.a[2][j] for j in range(1, 7)])  # lecture indices: a_1..a_6 (a_0 is the bias)
    amax = np.abs(a).max()
    _, units = units_of(root, 2)
    for j, u in enumerate(units):
        assert u.get("fill") == diagram._hex(diagram._interp(diagram._DIVERGING, a[j] / amax))
    _, outputs = units_of(root, 3)  # softmax outputs stay on the 0..1 scale
    for j, u in enumerate(outputs):
        assert u.get("fill") == diagram._hex(diagram._interp(diagram._SEQUENTIAL, tr.a[3][j + 1]))
    legend = [t.text for t in root.find(f".//{SVG}g[@id='legend']").iter(SVG + "text")]
    assert f"{activation} hidden units: a, each layer scaled to its own largest |a|" in legend
    lecture = parse(diagram.diagram_svg(glassnet.explain(thetas, X[0], y[0]), "forward"))
    assert not any("largest |a|" in (t.text or "") for t in lecture.iter(SVG + "text"))
