"""Independent oracles: torch autograd (float64) and scikit-learn's MLPClassifier loss on a multilabel target."""

import numpy as np
import pytest

import glassnet
from conftest import random_problem


def rel(a, b):
    return np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))


@pytest.mark.parametrize("sizes", [[5, 4, 3], [6, 5, 4, 1], [4, 7, 3, 5, 2 + 1]])
@pytest.mark.parametrize("lam", [0.0, 1.5])
def test_against_torch_autograd(sizes, lam):
    torch = pytest.importorskip("torch")
    thetas, X, y = random_problem(sizes, m=13, seed=len(sizes), scale=2.0)
    J, grads = glassnet.cost_and_gradient(thetas, X, y, lam)

    K = sizes[-1]
    Y = torch.tensor(np.eye(K)[y] if K > 1 else y.reshape(-1, 1), dtype=torch.float64)
    T = [torch.tensor(t, dtype=torch.float64, requires_grad=True) for t in thetas]
    a = torch.tensor(X, dtype=torch.float64)
    for i, t in enumerate(T):
        z = a @ t[:, 1:].T + t[:, 0]
        a = torch.sigmoid(z) if i < len(T) - 1 else None
    m = X.shape[0]
    data = torch.nn.functional.binary_cross_entropy_with_logits(z, Y, reduction="sum") / m
    reg = lam / (2 * m) * sum((t[:, 1:] ** 2).sum() for t in T)
    Jt = data + reg
    Jt.backward()
    assert J == pytest.approx(Jt.item(), rel=1e-12)
    for g, t in zip(grads, T):
        assert rel(g, t.grad.numpy()) < 1e-12


def _sklearn_loss_and_grads(thetas, X, Y, lam):
    from sklearn.neural_network import MLPClassifier

    sizes = [thetas[0].shape[1] - 1] + [t.shape[0] for t in thetas]
    clf = MLPClassifier(hidden_layer_sizes=tuple(sizes[1:-1]), activation="logistic", alpha=lam, max_iter=1)
    # One tiny fit only to build scikit-learn's internal state (layers, output activation, loss name).
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, Y)
    assert clf.out_activation_ == "logistic"  # multilabel target -> K independent sigmoid units, like the lecture
    clf.coefs_ = [t[:, 1:].T.copy() for t in thetas]
    clf.intercepts_ = [t[:, 0].copy() for t in thetas]
    m = X.shape[0]
    activations = [X] + [np.empty((m, s)) for s in sizes[1:]]
    deltas = [np.empty_like(a) for a in activations[1:]]
    coef_grads = [np.empty_like(c) for c in clf.coefs_]
    intercept_grads = [np.empty_like(b) for b in clf.intercepts_]
    loss, cg, ig = clf._backprop(X, Y, None, activations, deltas, coef_grads, intercept_grads)
    return loss, [np.column_stack([b, c.T]) for b, c in zip(ig, cg)]


@pytest.mark.parametrize("sizes", [[6, 5, 3], [8, 6, 4, 3]])
@pytest.mark.parametrize("lam", [0.0, 1.0, 3.0])
def test_against_scikit_learn_mlp_loss(sizes, lam):
    thetas, X, y = random_problem(sizes, m=40, seed=sum(sizes))
    Y = np.eye(sizes[-1])[y]
    Y[0] = 1 - Y[0]  # make sure scikit-learn sees a genuine multilabel target
    J, grads = glassnet.cost_and_gradient(thetas, X, Y, lam)
    loss, sk_grads = _sklearn_loss_and_grads(thetas, X, Y, lam)
    assert J == pytest.approx(loss, rel=1e-12)
    for g, s in zip(grads, sk_grads):
        assert rel(g, s) < 1e-12
