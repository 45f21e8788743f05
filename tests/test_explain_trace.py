"""glassnet.explain: the trace is backprop's own δ, edge terms add up, and δ = ∂cost/∂z by finite differences."""

import json

import numpy as np
import pytest
from scipy.special import expit, log_expit

import glassnet
from conftest import random_problem
from glassnet.backprop import accumulate, deltas
from glassnet.explain import Trace
from glassnet.outputs import encode_labels

NETS = [[2, 2, 1], [3, 5, 3], [4, 6, 5, 3], [2, 3, 3, 1], [5, 4]]


def example_cost_from_z(thetas, l, z_l, y_vec):
    """cost(t) as a function of z^(l) alone: a^(l) = g(z^(l)), then the rest of the forward pass (Θ fixed).

    Written independently of glassnet: log h = log_expit(z), log(1 - h) = log_expit(-z).
    """
    a = expit(z_l)
    z = z_l
    for theta in thetas[l - 1 :]:
        z = theta[:, 0] + theta[:, 1:] @ a
        a = expit(z)
    return float(-np.sum(y_vec * log_expit(z) + (1 - y_vec) * log_expit(-z)))


def assert_delta_is_dcost_dz(tr: Trace, h=1e-5, atol=1e-7):
    thetas = [np.asarray(t) for t in tr.thetas]
    for l in range(2, tr.L + 1):
        z = np.asarray(tr.z[l])
        for j in range(1, len(z) + 1):
            zp, zm = z.copy(), z.copy()
            zp[j - 1] += h
            zm[j - 1] -= h
            fd = (example_cost_from_z(thetas, l, zp, tr.y) - example_cost_from_z(thetas, l, zm, tr.y)) / (2 * h)
            assert tr.delta[l][j] == pytest.approx(fd, abs=atol), (l, j)
    # and the example's cost itself
    assert tr.cost == pytest.approx(example_cost_from_z(thetas, 2, np.asarray(tr.z[2]), tr.y), rel=1e-12)


@pytest.mark.parametrize("sizes", NETS, ids=lambda s: "-".join(map(str, s)))
def test_trace_delta_equals_backprop_delta_exactly(sizes):
    thetas, X, y = random_problem(sizes, m=6, seed=len(sizes) + sizes[0], scale=3.0)
    traces = glassnet.explain(thetas, X, y)
    cache = glassnet.forward(thetas, X)
    d = deltas(thetas, cache, encode_labels(y, sizes[-1], 6))
    for t, tr in enumerate(traces):
        for l in range(2, len(sizes) + 1):
            np.testing.assert_array_equal(np.asarray(tr.delta[l]), d[l - 1][t])
            np.testing.assert_array_equal(np.asarray(tr.z[l]), cache.z[l - 1][t])
            np.testing.assert_array_equal(np.asarray(tr.a[l]), cache.activations[l - 1][t])


@pytest.mark.parametrize("sizes", NETS, ids=lambda s: "-".join(map(str, s)))
def test_edge_terms_sum_to_delta_over_g_prime(sizes):
    thetas, X, y = random_problem(sizes, m=3, seed=11, scale=2.0)
    for tr in glassnet.explain(thetas, X, y):
        for l in range(2, tr.L):
            for u in tr.units(l):
                assert u.n_edges == sizes[l] == len(u.edges)
                terms = [e.term for e in u.edges]
                assert [e.i for e in u.edges] == list(range(1, sizes[l] + 1))
                for e in u.edges:
                    assert e.term == e.theta * e.delta
                    assert e.theta == tr.theta[l][e.i, u.j] and e.delta == tr.delta[l + 1][e.i]
                assert u.edge_sum == pytest.approx(sum(terms), rel=1e-14, abs=1e-300)
                assert u.edge_sum * u.g_prime == pytest.approx(u.delta, rel=1e-13, abs=1e-300)
                assert u.g_prime == u.a * (1 - u.a)


@pytest.mark.parametrize("sizes", NETS, ids=lambda s: "-".join(map(str, s)))
def test_delta_is_the_central_difference_of_cost_wrt_z(sizes):
    thetas, X, y = random_problem(sizes, m=2, seed=5, scale=2.5)
    for tr in glassnet.explain(thetas, X, y):
        assert_delta_is_dcost_dz(tr)


def test_ex4_weights_400_25_10(ex4_thetas):
    rng = np.random.default_rng(3)
    # a blob of ink on a 20×20 canvas (column-major like the course's data), values in the data's range
    img = np.zeros((20, 20))
    img[5:15, 8:12] = 1.0
    img += rng.uniform(-0.1, 0.1, img.shape)
    x = img.ravel(order="F")
    tr = glassnet.explain(ex4_thetas, x, 3, top_k=4)
    assert tr.sizes == [400, 25, 10] and tr.K == 10
    assert_delta_is_dcost_dz(tr)
    cache = glassnet.forward(ex4_thetas, x[None])
    d = deltas(ex4_thetas, cache, encode_labels([3], 10, 1))
    np.testing.assert_array_equal(np.asarray(tr.delta[2]), d[1][0])
    for u in tr.units(2):  # top-k summary: 4 edges shown, the rest summed
        assert len(u.edges) == 4 and u.n_edges == 10 and u.n_omitted == 6
        all_terms = tr.edge_terms(2, u.j)
        shown = sorted(np.argsort(-np.abs(all_terms), kind="stable")[:4] + 1)
        assert [e.i for e in u.edges] == shown
        assert sum(e.term for e in u.edges) + u.omitted_sum == pytest.approx(u.edge_sum, abs=1e-15)
        assert u.edge_sum * u.g_prime == pytest.approx(u.delta, rel=1e-12, abs=1e-300)
    # the cost of this example is glassnet's J on a batch of one
    assert tr.cost == pytest.approx(glassnet.cost(ex4_thetas, x[None], [3]), rel=1e-15)


def test_784_300_10_top_k_summaries_are_small_and_json_safe():
    thetas, X, y = random_problem([784, 300, 10], m=8, seed=2)
    tr = glassnet.explain(thetas, X, y, lam=1.0, top_k=3, rows=5)
    d = tr.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert len(text) < 1_000_000  # the full 300×785 contribution alone would be ~5 MB
    hidden = d["layers"][1]["units"]
    assert len(hidden) == 300 and all(len(u["edges"]) == 3 and u["n_edges"] == 10 for u in hidden)
    g1 = d["gradients"][0]
    assert g1["shape"] == [300, 785] and g1["m"] == 8
    assert set(g1["contribution"]) == {"summary", "norm", "top"} and len(g1["contribution"]["top"]) == 3
    top = g1["contribution"]["top"][0]
    c = tr.gradients[0].contribution
    assert top["value"] == c[top["i"] - 1, top["j"]] and abs(top["value"]) == np.abs(c).max()
    assert isinstance(d["gradients"][1]["contribution"], list)  # 10 × 301 is small enough to keep whole


def test_lecture_indices_and_their_error_messages():
    thetas, X, y = random_problem([2, 2, 2, 1], m=1, seed=7, scale=4.0)
    tr = glassnet.explain(thetas, X[0], y[0])
    th2 = thetas[1]
    # the note: δ₂⁽²⁾ = Θ₁₂⁽²⁾·δ₁⁽³⁾ + Θ₂₂⁽²⁾·δ₂⁽³⁾, times g′(z₂⁽²⁾); Θ_ij^(l) is thetas[l-1][i-1, j]
    assert tr.theta[2][1, 2] == th2[0, 2] and tr.theta[2][2, 2] == th2[1, 2]
    expected = (th2[0, 2] * tr.delta[3][1] + th2[1, 2] * tr.delta[3][2]) * tr.g_prime[2][2]
    assert tr.delta[2][2] == pytest.approx(expected, rel=1e-14)
    assert tr.a[2][0] == 1.0 and tr.a[1][1] == X[0, 0] and tr.x.tolist() == X[0].tolist()
    assert tr.output[0] == tr.a[4][1] and len(tr.delta[2]) == 2
    with pytest.raises(IndexError, match=r"delta\[1\]: delta is defined for layers l = 2\.\.4"):
        tr.delta[1]
    with pytest.raises(IndexError, match=r"delta\[2\]\[3\]: layer 2 has units j = 1\.\.2$"):
        tr.delta[2][3]
    with pytest.raises(IndexError, match=r"a\[4\]\[0\]: layer 4 has units j = 1\.\.1$"):
        tr.a[4][0]  # the output layer has no bias unit
    with pytest.raises(IndexError, match=r"0 is the bias unit"):
        tr.a[2][3]
    with pytest.raises(IndexError, match=r"theta\[2\]\[3, 1\]: Θ\^\(2\) has i = 1\.\.2 .* j = 0\.\.2"):
        tr.theta[2][3, 1]
    with pytest.raises(IndexError, match=r"j: layer 3 has units j = 1\.\.2, got 0"):
        tr.unit(3, 0)
    with pytest.raises(IndexError, match=r"output units \(layer 4\) have no outgoing edges"):
        tr.edge_terms(4, 1)
    with pytest.raises(TypeError, match="integer unit number"):
        tr.delta[2][1.0]


def test_k1_output_and_input_units():
    thetas, X, y = random_problem([3, 4, 1], m=1, seed=1, scale=3.0)
    tr = glassnet.explain(thetas, X[0], 0)
    out = tr.unit(3, 1)
    assert out.kind == "output" and out.target == 0.0 and out.delta == out.a - 0.0
    assert tr.prediction == int(out.a >= 0.5) and tr.target_class == 0 and tr.label == 0
    inp = tr.unit(1, 2)
    assert inp.kind == "input" and inp.a == X[0, 1] and inp.z is None and inp.delta is None and inp.edges == ()
    assert_delta_is_dcost_dz(tr)


def test_gradient_contributions_add_up_to_Delta_and_shares_to_one():
    thetas, X, y = random_problem([4, 5, 3], m=7, seed=9, scale=2.0)
    lam = 0.7
    traces = glassnet.explain(thetas, X, y, lam=lam)
    _, grads = glassnet.cost_and_gradient(thetas, X, y, lam)
    cache = glassnet.forward(thetas, X)
    Delta = accumulate(cache, deltas(thetas, cache, encode_labels(y, 3, 7)))
    for l in (1, 2):
        total = sum(tr.gradients[l - 1].contribution for tr in traces)
        np.testing.assert_allclose(total, Delta[l - 1], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(traces[0].gradients[l - 1].D, grads[l - 1], rtol=1e-12, atol=1e-15)
        assert sum(tr.gradients[l - 1].share for tr in traces) == pytest.approx(1.0, rel=1e-12)
        g = traces[2].gradients[l - 1]
        # δ^(l+1) (a^(l))ᵀ with a^(l) = [1; activations]
        a = np.concatenate([[1.0], np.asarray(traces[2].a[l])])
        np.testing.assert_allclose(g.contribution, np.outer(np.asarray(traces[2].delta[l + 1]), a), rtol=1e-14)
        np.testing.assert_allclose(g.D_term, g.contribution / 7, rtol=1e-15)
    # one row from the batch, and one example with m given
    one = glassnet.explain(thetas, X, y, rows=3)
    assert isinstance(one, Trace) and one.example == 3 and one.label == int(y[3])
    single = glassnet.explain(thetas, X[3], y[3], m=7)
    np.testing.assert_array_equal(single.gradients[0].contribution, one.gradients[0].contribution)
    assert single.gradients[0].share is None and single.gradients[0].D is None
    np.testing.assert_allclose(single.gradients[1].D_term, one.gradients[1].contribution / 7, rtol=1e-15)
    assert glassnet.explain(thetas, X[3], y[3]).gradients[0].D_term is None


def test_to_dict_is_json_safe_and_holds_the_numbers():
    thetas, X, y = random_problem([3, 4, 2], m=1, seed=4)
    tr = glassnet.explain(thetas, X[0], y[0])
    d = json.loads(json.dumps(tr.to_dict(), allow_nan=False))
    assert d["sizes"] == [3, 4, 2] and d["L"] == 3 and d["K"] == 2
    assert d["cost"] == tr.cost and d["prediction"] == tr.prediction
    u = d["layers"][1]["units"][2]
    assert (u["l"], u["j"], u["kind"]) == (2, 3, "hidden")
    assert u["delta"] == tr.delta[2][3] and u["z"] == tr.z[2][3] and u["g_prime"] == tr.g_prime[2][3]
    assert [e["term"] for e in u["edges"]] == tr.edge_terms(2, 3).tolist()
    assert d["layers"][0]["units"][0] == {"l": 1, "j": 1, "kind": "input", "z": None, "a": X[0, 0],
                                          "g_prime": None, "delta": None}
    assert d["layers"][2]["units"][1]["target"] == tr.y[1]
    assert np.array(d["gradients"][1]["contribution"]).shape == (2, 5)


def test_one_hot_targets_float32_inputs_and_bad_arguments():
    thetas, X, y = random_problem([3, 4, 3], m=2, seed=6)
    a = glassnet.explain(thetas, X[0], 2)
    b = glassnet.explain(thetas, X[0].astype(np.float32), np.array([0, 0, 1]))
    assert b.layers[1].a.dtype == np.float64 and b.label is None and b.target_class == 2
    np.testing.assert_allclose(np.asarray(b.delta[2]), np.asarray(a.delta[2]), rtol=1e-6)
    with pytest.raises(ValueError, match=r"y: expected one label \(0\.\.2\) or a target vector of shape \(3,\)"):
        glassnet.explain(thetas, X[0], [1, 2])
    with pytest.raises(ValueError, match=r"y: expected labels in 0\.\.2"):
        glassnet.explain(thetas, X[0], 3)
    with pytest.raises(ValueError, match="x: expected 3 columns"):
        glassnet.explain(thetas, np.ones(4), 1)
    with pytest.raises(ValueError, match="top_k: expected a positive number"):
        glassnet.explain(thetas, X[0], 1, top_k=0)
    with pytest.raises(IndexError, match=r"rows: X has rows 0\.\.1, got 2"):
        glassnet.explain(thetas, X, y, rows=[0, 2])
    with pytest.raises(ValueError, match="rows: only meaningful when x is a batch"):
        glassnet.explain(thetas, X[0], 1, rows=0)
    with pytest.raises(ValueError, match="lam: expected a finite number"):
        glassnet.explain(thetas, X[0], 1, lam=-1)


def test_classifier_explain_uses_its_labels_and_lambda():
    from glassnet.datasets import load_iris

    X, y = load_iris()
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = glassnet.Classifier(hidden_layer_sizes=(4,), alpha=0.3, max_iter=15, random_state=0).fit(X, names)
    tr = clf.explain(X[60], names[60])
    direct = glassnet.explain(clf.thetas_, X[60], 1, lam=0.3)
    np.testing.assert_array_equal(np.asarray(tr.delta[2]), np.asarray(direct.delta[2]))
    assert tr.label == "versicolor" and tr.target_class == 1 and tr.lam == 0.3
    with pytest.raises(ValueError, match="y_row: found labels not seen in fit"):
        clf.explain(X[0], "rose")
