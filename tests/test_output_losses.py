"""Hidden activations × output/loss pairs: every path equals torch autograd, scikit-learn's losses where it has the
pair, central differences, and the lecture's default is unchanged."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import glassnet
from glassnet._fast.workspace import Workspace
from glassnet.activations import ACTIVATIONS, get_activation
from glassnet.backprop import backprop_per_example, deltas, gradients
from glassnet.forward import propagate
from glassnet.gradcheck import course_problem, gradient_check
from glassnet.outputs import OUTPUT_LOSS_PAIRS, one_hot, output_loss

ACTS = list(ACTIVATIONS)
PAIRS = list(OUTPUT_LOSS_PAIRS)
SIZES = [[4, 3], [5, 4, 3], [4, 6, 5, 2], [3, 4, 1]]  # L = 2, 3, 4 layers, and a single output unit


def rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    den = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / den) if den else 0.0


def targets(pair, K, m, rng):
    output, _ = pair
    if output == "identity":
        return rng.normal(size=(m, K))
    if output == "softmax":
        return rng.integers(0, K, size=m)
    return (rng.random((m, K)) < 0.5).astype(float)  # K sigmoid units: multilabel 0/1 targets


def problem(sizes, pair, m=13, seed=0):
    rng = np.random.default_rng(seed)
    thetas = [rng.uniform(-1.2, 1.2, (b, a + 1)) for a, b in zip(sizes[:-1], sizes[1:])]
    X = rng.normal(size=(m, sizes[0]))
    return thetas, X, targets(pair, sizes[-1], m, rng)


def cases():
    for sizes in SIZES:
        for act in ACTS:
            for pair in PAIRS:
                if pair[0] == "softmax" and sizes[-1] == 1:
                    continue
                yield pytest.param(sizes, act, pair, id=f"{'-'.join(map(str, sizes))}-{act}-{pair[0]}+{pair[1]}")


def torch_reference(thetas, X, y, lam, act, pair):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    K, m = thetas[-1].shape[0], X.shape[0]
    Y = one_hot(y, K) if pair[0] == "softmax" else np.asarray(y, dtype=float).reshape(m, K)
    Y = torch.tensor(Y, dtype=torch.float64)
    g = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda z: z}[act]
    T = [torch.tensor(t, dtype=torch.float64, requires_grad=True) for t in thetas]
    a = torch.tensor(X, dtype=torch.float64)
    for i, t in enumerate(T):
        z = a @ t[:, 1:].T + t[:, 0]
        if i < len(T) - 1:
            a = g(z)
    if pair == ("sigmoid", "log"):
        data = F.binary_cross_entropy_with_logits(z, Y, reduction="sum")
    elif pair == ("softmax", "log"):
        data = -(Y * F.log_softmax(z, dim=1)).sum()
    elif pair == ("sigmoid", "squared"):
        data = 0.5 * ((torch.sigmoid(z) - Y) ** 2).sum()
    else:
        data = 0.5 * ((z - Y) ** 2).sum()
    J = data / m + lam / (2 * m) * sum((t[:, 1:] ** 2).sum() for t in T)
    J.backward()
    return J.item(), [t.grad.numpy() for t in T]


@pytest.mark.parametrize("sizes, act, pair", list(cases()))
def test_every_path_equals_torch_autograd(sizes, act, pair):
    thetas, X, y = problem(sizes, pair, seed=len(sizes))
    lam = 0.8
    kw = dict(activation=act, output=pair[0], loss=pair[1])
    Jt, Gt = torch_reference(thetas, X, y, lam, act, pair)
    Y = output_loss(*pair).targets(y, sizes[-1], X.shape[0])
    cache = propagate(thetas, X, act, pair[0])
    whole = gradients(thetas, cache, deltas(thetas, cache, Y, **kw), lam)
    results = {
        "front door": glassnet.cost_and_gradient(thetas, X, y, lam, **kw),
        "per example": backprop_per_example(thetas, X, y, lam, **kw),
        "chunks, 2 workers": Workspace(sizes, 13, chunk_rows=4, n_workers=2, **kw).cost_and_gradient(thetas, X, y, lam),
        "whole batch": (glassnet.cost(thetas, X, y, lam, **kw), whole),
    }
    for name, (J, G) in results.items():
        assert J == pytest.approx(Jt, rel=1e-9, abs=1e-12), name
        for g, gt in zip(G, Gt):
            assert rel(g, gt) < 1e-9, name


def _fitted_sklearn(est, X, y):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():  # one tiny fit only builds scikit-learn's internal state
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    return est


def _sklearn_backprop(est, thetas, X, Y):
    est.coefs_ = [t[:, 1:].T.copy() for t in thetas]
    est.intercepts_ = [t[:, 0].copy() for t in thetas]
    sizes = [X.shape[1]] + [t.shape[0] for t in thetas]
    m = X.shape[0]
    activations = [X] + [np.empty((m, s)) for s in sizes[1:]]
    dlt = [np.empty_like(a) for a in activations[1:]]
    cg = [np.empty_like(c) for c in est.coefs_]
    ig = [np.empty_like(b) for b in est.intercepts_]
    loss, cg, ig = est._backprop(X, Y, None, activations, dlt, cg, ig)
    return loss, [np.column_stack([b, c.T]) for b, c in zip(ig, cg)]


SK_ACT = {"sigmoid": "logistic", "tanh": "tanh", "relu": "relu", "identity": "identity"}


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("sizes", [[5, 4, 3], [4, 6, 5, 4]])
def test_softmax_log_equals_sklearn_multiclass_loss(act, sizes):
    from sklearn.metrics import log_loss
    from sklearn.neural_network import MLPClassifier

    thetas, X, y = problem(sizes, ("softmax", "log"), m=40, seed=3)
    y[: sizes[-1]] = np.arange(sizes[-1])  # every class present, so scikit-learn builds K softmax units
    lam = 0.6
    est = _fitted_sklearn(MLPClassifier(hidden_layer_sizes=tuple(sizes[1:-1]), activation=SK_ACT[act], alpha=lam,
                                        max_iter=1), X, y)
    assert est.out_activation_ == "softmax"
    loss, grads = _sklearn_backprop(est, thetas, X, one_hot(y, sizes[-1]))
    J, G = glassnet.cost_and_gradient(thetas, X, y, lam, activation=act, output="softmax", loss="log")
    assert J == pytest.approx(loss, rel=1e-10)
    for g, gs in zip(G, grads):
        assert rel(g, gs) < 1e-10
    # and the data term alone is scikit-learn's public log_loss of the softmax probabilities
    P = glassnet.forward(thetas, X, activation=act, output="softmax").output
    J0 = glassnet.cost(thetas, X, y, 0.0, activation=act, output="softmax", loss="log")
    assert J0 == pytest.approx(log_loss(y, P, labels=range(sizes[-1])), rel=1e-10)


@pytest.mark.parametrize("act", ACTS)
def test_identity_squared_equals_sklearn_regressor_loss(act):
    from sklearn.neural_network import MLPRegressor

    sizes = [5, 6, 4, 1]
    thetas, X, Y = problem(sizes, ("identity", "squared"), m=30, seed=5)
    y = Y[:, 0]
    lam = 0.9
    est = _fitted_sklearn(MLPRegressor(hidden_layer_sizes=tuple(sizes[1:-1]), activation=SK_ACT[act], alpha=lam,
                                       max_iter=1), X, y)
    assert est.out_activation_ == "identity"
    loss, grads = _sklearn_backprop(est, thetas, X, Y)  # (1/2m)Σ(h − y)² + (α/2m)ΣW²
    J, G = glassnet.cost_and_gradient(thetas, X, y, lam, activation=act, output="identity", loss="squared")
    assert J == pytest.approx(loss, rel=1e-10)
    for g, gs in zip(G, grads):
        assert rel(g, gs) < 1e-10


@pytest.mark.parametrize("act", ["tanh", "relu", "identity"])
def test_multilabel_sigmoid_log_equals_sklearn_with_other_hidden_units(act):
    from sklearn.neural_network import MLPClassifier

    sizes = [5, 4, 3]
    thetas, X, Y = problem(sizes, ("sigmoid", "log"), m=30, seed=8)
    Y[:2] = [[1, 0, 1], [0, 1, 0]]  # every label seen both ways
    Y[2:4] = 1 - Y[:2]
    est = _fitted_sklearn(MLPClassifier((4,), activation=SK_ACT[act], alpha=0.5, max_iter=1), X, Y)
    loss, grads = _sklearn_backprop(est, thetas, X, Y)
    J, G = glassnet.cost_and_gradient(thetas, X, Y, 0.5, activation=act)
    assert J == pytest.approx(loss, rel=1e-10)
    for g, gs in zip(G, grads):
        assert rel(g, gs) < 1e-10


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("lam", [0.0, 3.0])
def test_gradient_check_on_the_course_debug_net(act, pair, lam):
    thetas, X, y = course_problem(lam)
    if pair[0] == "identity":
        y = one_hot(y, 3) + np.linspace(-0.5, 0.5, 15).reshape(5, 3)  # real-valued targets
    report = gradient_check(thetas, X, y, lam, activation=act, output=pair[0], loss=pair[1])
    assert report.relative_difference < 1e-9, report.table(limit=5)


def _cost_from_layer(thetas, l, z_l, y_row, act, pair):
    """cost(t) as a function of z^(l) (lecture l ≥ 2) of one example: forward from layer l on."""
    L = len(thetas) + 1
    g = get_activation(act).g
    a = pair.activate(z_l[None, :])[0] if l == L else g(z_l)
    for i in range(l - 1, L - 1):
        z = thetas[i][:, 1:] @ a + thetas[i][:, 0]
        a = pair.activate(z[None, :])[0] if i == L - 2 else g(z)
        z_last = z
    zL = z_l if l == L else z_last
    return pair.cost_sum(zL[None, :], y_row[None, :])


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("pair", PAIRS)
def test_trace_delta_is_the_derivative_of_the_cost_by_z(act, pair):
    sizes = [3, 4, 5, 3]
    thetas, X, y = problem(sizes, pair, m=4, seed=11)
    pl = output_loss(*pair)
    traces = glassnet.explain(thetas, X, y, activation=act, output=pair[0], loss=pair[1])
    h = 1e-5  # central differences: error ~1e-9 here (rounding and h²), far below a wrong δ's
    for n, trace in enumerate(traces):
        assert trace.activation == act and trace.pair == pl
        for l in range(2, trace.L + 1):
            z = np.array(trace.z[l], dtype=float)
            for j in range(1, len(z) + 1):
                zp, zm = z.copy(), z.copy()
                zp[j - 1] += h
                zm[j - 1] -= h
                num = (_cost_from_layer(thetas, l, zp, trace.y, act, pl)
                       - _cost_from_layer(thetas, l, zm, trace.y, act, pl)) / (2 * h)
                assert trace.delta[l][j] == pytest.approx(num, rel=1e-6, abs=1e-8), (n, l, j)
        cost_t = _cost_from_layer(thetas, trace.L, np.asarray(trace.z[trace.L], float), trace.y, act, pl)
        assert trace.cost == pytest.approx(cost_t, rel=1e-12)


def test_the_explainer_says_which_network_and_shows_the_squared_delta():
    thetas, X, y = problem([3, 4, 2], ("sigmoid", "squared"), m=2, seed=1)
    trace = glassnet.explain(thetas, X[0], y[0], activation="tanh", output="sigmoid", loss="squared")
    text = glassnet.explain.text.render_text(trace)
    assert "hidden units: tanh" in text and "g′(z) = 1 − a²" in text and "½ Σ_k (h_k − y_k)²" in text
    out = trace.layers[-1]
    a, yv, gp, d = out.a[0], trace.y[0], out.g_prime[0], out.delta[0]
    assert gp == pytest.approx(a * (1 - a), rel=1e-15) and d == pytest.approx((a - yv) * gp, rel=1e-15)
    fmt = glassnet.explain.text.format_number
    assert f"δ₁⁽³⁾ = (a₁⁽³⁾ − y₁)·g′(z₁⁽³⁾) = ({fmt(a)} − {fmt(yv)})({fmt(gp)}) = {fmt(d)}" in text
    lecture = glassnet.explain(thetas, X[0], y[0])
    lecture_text = glassnet.explain.text.render_text(lecture)
    assert "Network:" not in lecture_text and "δ₁⁽³⁾ = a₁⁽³⁾ − y₁ = " in lecture_text
    html = glassnet.explain.report.html_report(trace)
    assert "hidden units: tanh" in html and "(a₁⁽³⁾ − y₁)·g′(z₁⁽³⁾)" in html
    assert "tanh hidden, sigmoid + squared cost" in glassnet.explain.diagram.diagram_svg(trace, "backward")
    d = trace.to_dict()
    assert (d["activation"], d["output_activation"], d["loss"], d["delta_output"]) == (
        "tanh", "sigmoid", "squared", "(a − y)·g′(z)")


# Values computed by the code before activations and output/loss pairs existed (same problems, same recipe).
LECTURE_BEFORE = [
    ((3, 5, 3), 5, 3.0, 8.758632297068033,
     [0.0006587717976268087, 0.7339555295333468, 0.5092326514758914, -0.22936827807318153, -0.8799775834882293]),
    ((4, 6, 5, 1), 40, 0.7, 1.1361915232779662,
     [-0.0023588301275874472, -0.005234266972069072, 0.02496806506004871, 0.11996237371983184, 0.02339195186507413]),
    ((8, 7, 6, 4), 3000, 1.2, 2.997572712733331,
     [-0.004600956989313159, -0.001955036852685283, -9.575340973324637e-06, 0.2793451108605283, 0.16452173736563147]),
]


def test_the_lecture_default_is_unchanged():
    rng = np.random.default_rng(7)
    for sizes, m, lam, J_before, entries_before in LECTURE_BEFORE:
        thetas = [rng.uniform(-1.5, 1.5, (b, a + 1)) for a, b in zip(sizes[:-1], sizes[1:])]
        X = rng.normal(size=(m, sizes[0]))
        y = rng.integers(0, max(sizes[-1], 2), size=m)
        J, grads = glassnet.cost_and_gradient(thetas, X, y, lam)
        entries = [*grads[0][0, :3], *grads[-1][-1, -2:]]
        assert J == pytest.approx(J_before, rel=1e-14)
        np.testing.assert_allclose(entries, entries_before, rtol=1e-12, atol=1e-17)
        # the keywords at their defaults are the same code path: bit for bit
        J2, grads2 = glassnet.cost_and_gradient(thetas, X, y, lam, activation="sigmoid", output="sigmoid", loss="log")
        assert J2 == J and all(np.array_equal(g, g2) for g, g2 in zip(grads, grads2))


def test_unsupported_pairs_and_activations_are_clear_errors():
    thetas, X, y = course_problem()
    with pytest.raises(ValueError, match=r"sigmoid\+log, softmax\+log, sigmoid\+squared, identity\+squared"):
        glassnet.cost_and_gradient(thetas, X, y, output="softmax", loss="squared")
    with pytest.raises(ValueError, match="activation: expected one of 'sigmoid', 'tanh', 'relu', 'identity'"):
        glassnet.cost_and_gradient(thetas, X, y, activation="swish")
    with pytest.raises(ValueError, match="softmax output needs K ≥ 2"):
        glassnet.cost_and_gradient([np.zeros((1, X.shape[1] + 1))], X, [0, 1, 0, 1, 0], output="softmax")
    with pytest.raises(ValueError, match="one-hot rows"):
        glassnet.cost_and_gradient(thetas, X, np.ones((5, 3)), output="softmax")


def test_torch_path_names_what_it_supports():
    torch = pytest.importorskip("torch")
    pytest.importorskip("array_api_compat")
    from glassnet.scale.backends import cost_and_gradient_xp

    thetas, X, y = course_problem()
    # The array-API path (GPUs, CuPy, JAX) keeps one copy of the math: the lecture's network only, and says so.
    with pytest.raises(NotImplementedError, match="only activation='sigmoid', output='sigmoid', loss='log'"):
        cost_and_gradient_xp(thetas, torch.tensor(X), y, activation="tanh")
    # torch CPU tensors run the NumPy path on the tensors' memory: every activation and cost, the NumPy numbers.
    for kinds in ({"activation": "tanh"}, {"activation": "relu", "output": "softmax", "loss": "log"}):
        J, grads = glassnet.cost_and_gradient(thetas, torch.tensor(X), torch.tensor(y), 0.4, **kinds)
        J0, grads0 = glassnet.cost_and_gradient(thetas, X, y, 0.4, **kinds)
        assert J == J0 and all(isinstance(g, torch.Tensor) for g in grads)
        for g, g0 in zip(grads, grads0):
            np.testing.assert_array_equal(g.numpy(), g0)


def test_stable_costs_for_saturated_outputs():
    # z^(L) = ±800: exp overflows, but the costs come from z (softplus, logsumexp)
    thetas = [np.array([[0.0, 800.0], [0.0, -800.0]])]
    X = np.array([[1.0]])
    J = glassnet.cost(thetas, X, [1], 0.0, output="softmax", loss="log")
    assert J == pytest.approx(1600.0)
    J, G = glassnet.cost_and_gradient(thetas, X, [1], 0.0, output="softmax", loss="log")
    assert J == pytest.approx(1600.0) and np.isfinite(G[0]).all()
    assert glassnet.cost(thetas, X, [[0.0, 1.0]], 0.0, output="sigmoid", loss="squared") == pytest.approx(1.0)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("act, pair", [("sigmoid", ("sigmoid", "log")), ("relu", ("softmax", "log")),
                                       ("tanh", ("identity", "squared")), ("identity", ("sigmoid", "squared"))])
def test_sparse_X_equals_dense(fmt, act, pair):
    sizes = [30, 6, 4]
    thetas, X, y = problem(sizes, pair, m=300, seed=2)
    X[np.random.default_rng(0).random(X.shape) < 0.9] = 0.0
    Xs = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    kw = dict(activation=act, output=pair[0], loss=pair[1])
    J, G = glassnet.cost_and_gradient(thetas, X, y, 0.5, **kw)
    for name, (Js, Gs) in {
        "front door": glassnet.cost_and_gradient(thetas, Xs, y, 0.5, **kw),
        "chunks": Workspace(sizes, 300, chunk_rows=64, n_workers=2, **kw).cost_and_gradient(thetas, Xs, y, 0.5),
        "per example": backprop_per_example(thetas, Xs[:20], y[:20], 0.5, **kw),
    }.items():
        J_ref, G_ref = ((J, G) if name != "per example"
                        else glassnet.cost_and_gradient(thetas, X[:20], y[:20], 0.5, **kw))
        assert Js == pytest.approx(J_ref, rel=1e-12), name
        for g, gs in zip(G_ref, Gs):
            assert rel(g, gs) < 1e-12, name
    cache = propagate(thetas, Xs.tocsr(), act, pair[0])  # the whole-batch code keeps X sparse
    assert sp.issparse(cache.activations[0])
    Y = output_loss(*pair).targets(y, 4, 300)
    Gw = gradients(thetas, cache, deltas(thetas, cache, Y, **kw), 0.5)
    for g, gw in zip(G, Gw):
        assert rel(g, gw) < 1e-12
    np.testing.assert_allclose(glassnet.forward(thetas, Xs, activation=act, output=pair[0]).output,
                               glassnet.forward(thetas, X, activation=act, output=pair[0]).output, rtol=1e-12)
