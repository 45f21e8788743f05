"""glassnet.explain.text: exact text for a hand-worked net, the note's equation with numbers, tables, the summary."""

import numpy as np
import pytest

import glassnet
from conftest import random_problem
from explain_helpers import hand_worked_2_2_1
from glassnet.explain import LayerTrace, Trace, text
from glassnet.notation import sub

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
    assert text.render_text(tr) == HAND_WORKED_TEXT


def test_hand_worked_unit_view():
    out = text.render_text(hand_worked_2_2_1(), unit=(2, 2))
    assert out == "\n".join(HAND_WORKED_TEXT.splitlines()[:2] + [""] + HAND_WORKED_TEXT.splitlines()[9:14] + [
        "",
        "δ₂⁽²⁾ = Θ₁₂⁽²⁾·δ₁⁽³⁾ = (−4)(−0.5) = 2;  × g′(z₂⁽²⁾) = 0.1875 → 0.375",
        "",
        "Edges of unit 2:2 by size of Θᵢⱼ·δᵢ (they add up to 2):",
        "  i  Θᵢ₂⁽²⁾  δᵢ⁽³⁾  term",
        "  1      −4   −0.5     2",
    ]) + "\n"
    with pytest.raises(IndexError, match=r"j: layer 2 has units j = 1\.\.2, got 3"):
        text.render_text(hand_worked_2_2_1(), unit=(2, 3))
    with pytest.raises(ValueError, match=r"unit 1:1: input units have no δ"):
        text.unit_equation(hand_worked_2_2_1(), 1, 1)


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
    assert text.unit_equation(tr, 2, 2) == (
        "δ₂⁽²⁾ = Θ₁₂⁽²⁾·δ₁⁽³⁾ + Θ₂₂⁽²⁾·δ₂⁽³⁾ = (0.41)(−0.12) + (−0.73)(0.05) = −0.0857;  "
        "× g′(z₂⁽²⁾) = 0.2319 → −0.01987"
    )
    assert text.unit_equation(tr, 2, 2, digits=2).endswith("= −0.086;  × g′(z₂⁽²⁾) = 0.23 → −0.02")
    # top-k: one term written out, the other summed
    assert text.unit_equation(tr, 2, 2, top_k=1) == (
        "δ₂⁽²⁾ = Θ₁₂⁽²⁾·δ₁⁽³⁾ + … = (0.41)(−0.12) + [1 smaller terms: −0.0365] = −0.0857;  "
        "× g′(z₂⁽²⁾) = 0.2319 → −0.01987"
    )
    assert text.unit_equation(tr, 3, 2) == "δ₂⁽³⁾ = a₂⁽³⁾ − y₂ = 0.05 − 0 = 0.05"


def test_format_number_and_multi_digit_indices(ex4_thetas):
    assert text.format_number(-0.0857) == "−0.0857"
    assert text.format_number(123456.0) == "1.235×10⁵"
    assert text.format_number(-2.5e-12, 3) == "−2.5×10⁻¹²"
    assert text.format_number(-0.0) == "0"
    tr = glassnet.explain(ex4_thetas, np.full(400, 0.1), 3, top_k=2)
    eq = text.unit_equation(tr, 2, 12)
    u = tr.unit(2, 12)
    first, second = u.edges
    assert eq.startswith(f"δ₁₂⁽²⁾ = Θ{sub(first.i, 12)}⁽²⁾·δ{sub(first.i)}⁽³⁾ + Θ")
    assert "Θ₁₀,₁₂⁽²⁾" in text.unit_equation(tr, 2, 12, top_k=None)
    assert f"[8 smaller terms: {text.format_number(u.omitted_sum)}]" in eq


def test_layer_table_lists_units_and_collapses_big_layers(ex4_thetas):
    tr = glassnet.explain(ex4_thetas, np.full(400, 0.1), 3)
    table = text.layer_table(tr, 2, max_rows=5).splitlines()
    assert table[0] == "layer 2 (hidden): 25 units + bias unit, showing the 5 with the largest |δ|"
    js = [int(row.split()[0]) for row in table[3:]]
    expected = sorted(np.argsort(-np.abs(np.asarray(tr.delta[2])))[:5] + 1)
    assert js == expected and len(table) == 3 + 5
    row = table[3].split()
    j = js[0]
    assert row == [str(j), text.format_number(tr.z[2][j]), text.format_number(tr.a[2][j]),
                   text.format_number(tr.g_prime[2][j]), text.format_number(tr.delta[2][j])]
    out = text.layer_table(tr, 3).splitlines()
    assert out[0] == "layer 3 (output): 10 units" and out[1].split() == ["j", "z", "a", "g′(z)", "δ", "y"]
    assert out[2 + 3].split()[-1] == "1"  # label 3 is output unit 4
    with pytest.raises(IndexError, match=r"l: expected a layer number 1\.\.3, got 4"):
        text.layer_table(tr, 4)


def test_summary_is_a_few_lines_naming_the_network_target_and_prediction():
    s = text.summary(hand_worked_2_2_1())
    assert s.splitlines() == [
        "Trace · Example: label 1 · network 2-2-1 · λ = 0",
        "h_Θ(x) = 0.5 → predicted 1 (correct) · cost(t) = 0.6931",
        "target: y₁ = 1",
        "δⱼ⁽ˡ⁾ = trace.delta[l][j] · edge terms: trace.unit(l, j) · every equation: "
        "glassnet.explain.text.render_text(trace)",
    ]
    thetas, X, y = random_problem([4, 6, 3], m=5, seed=2)
    tr = glassnet.explain(thetas, X, y, lam=0.5, rows=3)
    lines = text.summary(tr).splitlines()
    k = int(y[3]) + 1
    assert lines[0] == "Trace · Example 3: label " + str(int(y[3])) + " · network 4-6-3 · λ = 0.5"
    assert lines[2] == (f"target: output unit {k} (y{sub(k)} = 1) · from a batch of m = 5: its Δ, D and this "
                        "example's share are in trace.gradients")
    assert text.summary(glassnet.explain(thetas, X[0], y[0], m=5)).splitlines()[2].endswith(" · m = 5")
    multilabel = glassnet.explain(thetas, X[0], np.array([1.0, 0.0, 1.0]))
    assert text.summary(multilabel).splitlines()[2] == "target: output unit 1 (y₁ = 1), output unit 3 (y₃ = 1)"


def test_readable_top_k_is_the_one_rule_for_long_equations(ex4_thetas):
    small = hand_worked_2_2_1()
    assert text.readable_top_k(small) is None  # every hidden unit has 1 outgoing edge: write them all
    big = glassnet.explain(ex4_thetas, np.full(400, 0.1), 3)
    assert text.readable_top_k(big) == 4  # 10 outgoing edges per hidden unit: the 4 largest
    assert text.readable_top_k(glassnet.explain(ex4_thetas, np.full(400, 0.1), 3, top_k=2)) == 2
