"""Optimizers: convex toys against independent solutions first (logistic regression = a net without hidden layer),
update rules against torch.optim, then small networks; History, early stopping, callbacks, threads, progress."""

import json

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_moons
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from threadpoolctl import threadpool_info

import glassnet
from glassnet._support import threads as _threads
from glassnet._support.threads import choose_blas_threads, choose_epoch_threads
from glassnet.train.optimize import (
    History,
    StopTraining,
    TrainState,
    adam,
    batches,
    minimize_full_batch,
    minimize_minibatch,
    run_epoch,
    sgd,
)

LAM = 1.0


@pytest.fixture(scope="module")
def logistic_toy():
    """A convex problem: sizes [5, 1] is logistic regression; its optimum is known from scikit-learn."""
    X, y = make_classification(n_samples=300, n_features=5, n_informative=3, random_state=0)
    # J = mean log-loss + (λ/2m)||w||², bias free  ⇔  (1/λ)Σ log-loss + ½||w||²  ⇔  LogisticRegression(C = 1/λ).
    lr = LogisticRegression(C=1 / LAM, tol=1e-12, max_iter=10_000).fit(X, y)
    theta_star = [np.column_stack([lr.intercept_, lr.coef_])]
    J_star = glassnet.cost(theta_star, X, y, LAM)
    return X, y, theta_star, J_star


def full(X, y, lam=LAM):
    return lambda th: glassnet.cost_and_gradient(th, X, y, lam)


def batch(X, y, lam=LAM):
    m = X.shape[0]
    return lambda th, idx: glassnet.cost_and_gradient(th, X[idx], y[idx], lam * len(idx) / m)


# ------------------------------------------------------------------------------------------ convex toys first


@pytest.mark.parametrize("method", ["L-BFGS-B", "lbfgs", "CG"])
def test_full_batch_finds_the_logistic_regression_optimum(logistic_toy, method):
    X, y, theta_star, J_star = logistic_toy
    start = glassnet.random_init([5, 1], rng=1)
    # L-BFGS-B also stops on a relative cost change of 2e-9 (ftol); CG loses precision below a gradient of ~1e-7.
    options, tol = ({"ftol": 1e-15}, 1e-9) if method != "CG" else ({}, 3e-8)
    thetas, h = minimize_full_batch(full(X, y), start, method=method, max_iter=500, tol=tol, options=options)
    np.testing.assert_allclose(thetas[0], theta_star[0], atol=1e-5)
    assert h.cost[-1] == pytest.approx(J_star, abs=1e-10)
    assert h.converged and not h.stopped_early
    assert h.solver == ("cg" if method == "CG" else "lbfgs")
    assert h.initial_cost == pytest.approx(glassnet.cost(start, X, y, LAM))
    assert h.n_iter == len(h.cost) and h.n_evals >= h.n_iter
    np.testing.assert_array_equal(start[0], glassnet.random_init([5, 1], rng=1)[0])  # input untouched


def test_full_batch_multiclass_toy_is_one_vs_rest_logistic_regression():
    # K sigmoid outputs and no hidden layer: K independent logistic regressions (scikit-learn's one-vs-rest).
    X, y = make_classification(n_samples=240, n_features=4, n_informative=3, n_redundant=0, n_classes=3,
                               random_state=1)
    ovr = OneVsRestClassifier(LogisticRegression(C=1 / LAM, tol=1e-12, max_iter=10_000)).fit(X, y)
    theta_star = np.vstack([np.r_[e.intercept_, e.coef_[0]] for e in ovr.estimators_])
    thetas, h = minimize_full_batch(full(X, y), glassnet.random_init([4, 3], rng=0), max_iter=500, tol=1e-9,
                                    options={"ftol": 1e-15})
    np.testing.assert_allclose(thetas[0], theta_star, atol=1e-5)


def test_full_batch_gd_with_momentum_reaches_the_optimum(logistic_toy):
    # batch_size = m turns SGD into deterministic (Nesterov) momentum gradient descent: it must converge exactly.
    X, y, theta_star, J_star = logistic_toy
    for nesterov in (True, False):
        thetas, h = minimize_minibatch(batch(X, y), glassnet.random_init([5, 1], rng=1), len(X),
                                       optimizer=sgd(0.5, momentum=0.9, nesterov=nesterov), batch_size=len(X),
                                       max_epochs=1500, patience=None)
        np.testing.assert_allclose(thetas[0], theta_star[0], atol=1e-5)
        assert h.n_iter == 1500 and h.message == "reached max_epochs = 1500"


@pytest.mark.parametrize("opt", [sgd(0.01, momentum=0.9), sgd(0.05, momentum=0.0), adam(0.01)])
def test_minibatch_gets_close_to_the_optimum(logistic_toy, opt):
    X, y, theta_star, J_star = logistic_toy
    thetas, h = minimize_minibatch(batch(X, y), glassnet.random_init([5, 1], rng=1), len(X), optimizer=opt,
                                   batch_size=32, max_epochs=150, patience=None, random_state=0)
    J = glassnet.cost(thetas, X, y, LAM)
    assert J_star <= J < J_star + 2e-3
    assert h.initial_cost is None and len(h.cost) == 150 and h.n_evals == 150 * 10  # ceil(300 / 32) batches
    assert h.cost[-1] < h.cost[0]


def test_batch_objective_is_unbiased_for_the_full_cost(logistic_toy):
    # With λ scaled by |batch|/m, the size-weighted mean of batch costs/gradients is exactly the full J and D.
    X, y, _, _ = logistic_toy
    thetas = glassnet.random_init([5, 1], rng=3)
    J, D = full(X, y)(thetas)
    parts = [(len(idx), *batch(X, y)(thetas, idx)) for idx in batches(len(X), 64, np.random.default_rng(0))]
    assert sum(n * Jb for n, Jb, _ in parts) / len(X) == pytest.approx(J, rel=1e-12)
    np.testing.assert_allclose(sum(n * g[0] for n, _, g in parts) / len(X), D[0], rtol=1e-10, atol=1e-15)


# ------------------------------------------------------------------------------------------ update rules


def _torch_run(opt_name, steps, **kw):
    torch = pytest.importorskip("torch")
    A = torch.tensor([[3.0, 0.5], [0.5, 1.0]], dtype=torch.float64)
    p = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, opt_name)([p], **kw)
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * p @ A @ p).backward()
        opt.step()
    return p.detach().numpy()


def _ours_run(optimizer, steps):
    A = np.array([[3.0, 0.5], [0.5, 1.0]])
    thetas = [np.array([[1.0, -2.0]])]
    state = optimizer.init(thetas)
    for _ in range(steps):
        thetas, state = optimizer.update(thetas, [thetas[0] @ A], state)
    return thetas[0][0]


@pytest.mark.parametrize("nesterov", [True, False])
def test_sgd_momentum_matches_torch(nesterov):
    # torch keeps b = μb + g and steps -η(g + μb) (Nesterov) or -ηb; with v = -ηb that is our update exactly.
    ours = _ours_run(sgd(0.1, momentum=0.8, nesterov=nesterov), 25)
    theirs = _torch_run("SGD", 25, lr=0.1, momentum=0.8, nesterov=nesterov)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_adam_matches_torch():
    # Ours puts ε outside the bias correction of v (as scikit-learn does); with a negligible ε both are the paper's.
    ours = _ours_run(adam(0.05, beta_1=0.9, beta_2=0.99, epsilon=1e-30), 40)
    theirs = _torch_run("Adam", 40, lr=0.05, betas=(0.9, 0.99), eps=1e-30)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def test_first_adam_step_moves_every_weight_by_the_learning_rate():
    g = [np.array([[3.0, -0.2, 1e-2]])]
    new, state = adam(0.01).update([np.zeros((1, 3))], g, adam(0.01).init([np.zeros((1, 3))]))
    # m̂ = g, v̂ = g², so the step is η·g/|g| (up to ε).
    np.testing.assert_allclose(new[0], [[-0.01, 0.01, -0.01]], rtol=1e-4)
    assert state["t"] == 1


def test_update_rules_do_not_modify_their_inputs():
    thetas, grads = [np.ones((2, 3))], [np.full((2, 3), 0.5)]
    for opt in (sgd(), adam()):
        state = opt.init(thetas)
        opt.update(thetas, grads, state)
        np.testing.assert_array_equal(thetas[0], 1.0)
        np.testing.assert_array_equal(grads[0], 0.5)


@pytest.mark.parametrize("make", [lambda: sgd(0.1, momentum=0.8), lambda: sgd(0.1, nesterov=False),
                                  lambda: sgd(0.1, momentum=0.0), lambda: adam(0.05, beta_1=0.8, beta_2=0.99)])
def test_in_place_step_is_the_pure_step(make):
    # run_epoch steps with update_ on its own buffers; update (the public pure form) must give the same numbers.
    opt = make()
    rng = np.random.default_rng(1)
    pure = [rng.standard_normal((4, 6)), rng.standard_normal((3, 5))]
    inplace = [t.copy() for t in pure]
    s_pure, s_in = opt.init(pure), opt.init(inplace)
    for _ in range(7):
        grads = [rng.standard_normal(t.shape) for t in pure]
        pure, s_pure = opt.update(pure, grads, s_pure)
        opt.update_(inplace, [g.copy() for g in grads], s_in)
    for a, b in zip(pure, inplace):
        np.testing.assert_array_equal(a, b)
    for key, value in s_pure.items():
        if isinstance(value, list):
            for a, b in zip(value, s_in[key]):
                np.testing.assert_array_equal(a, b)
        else:
            assert value == s_in[key]


@pytest.mark.parametrize("make", [sgd, adam])
def test_in_place_step_allocates_nothing_of_the_weights_size(make):
    import tracemalloc

    opt = make()
    thetas = [np.ones((200, 501)), np.ones((10, 201))]
    grads = [np.full(t.shape, 0.5) for t in thetas]
    state = opt.init(thetas)
    opt.update_(thetas, grads, state)  # warm up
    size = sum(t.nbytes for t in thetas)
    tracemalloc.start()
    try:
        opt.update_(thetas, grads, state)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < size / 20, f"update_ allocated {peak} bytes for {size} bytes of weights"
    _, peak_pure = _peak(lambda: opt.update(thetas, grads, state))
    assert peak_pure > size  # the pure form returns new arrays: the measurement sees allocations


def _peak(fn):
    import tracemalloc

    tracemalloc.start()
    try:
        out = fn()
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_run_epoch_modifies_neither_weights_nor_state(logistic_toy):
    X, y, _, _ = logistic_toy
    thetas = glassnet.random_init([5, 1], rng=3)
    before = [t.copy() for t in thetas]
    opt = adam(0.05)
    state = opt.init(thetas)
    new, new_state, J, n = run_epoch(batch(X, y), thetas, len(X), opt, state, 16, np.random.default_rng(0))
    for a, b in zip(thetas, before):
        np.testing.assert_array_equal(a, b)
    assert state["t"] == 0 and not np.any(state["m"][0]) and new_state["t"] == n > 1
    assert not np.array_equal(new[0], before[0])
    # the same epoch with the pure rule (no update_) gives the same weights
    pure = glassnet.train.optimize.Optimizer("adam", opt.init, opt.update, opt.learning_rate)
    again, _, J2, _ = run_epoch(batch(X, y), thetas, len(X), pure, opt.init(thetas), 16, np.random.default_rng(0))
    np.testing.assert_array_equal(again[0], new[0])
    assert J2 == J


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: sgd(learning_rate=0), "learning_rate"),
        (lambda: sgd(momentum=1.0), "momentum"),
        (lambda: adam(beta_2=-0.1), "beta_2"),
        (lambda: adam(epsilon="x"), "epsilon"),
    ],
)
def test_bad_optimizer_settings_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# ------------------------------------------------------------------------------------------ small networks


@pytest.fixture(scope="module")
def moons():
    X, y = make_moons(300, noise=0.1, random_state=0)
    return X, y


@pytest.mark.parametrize(
    "run",
    [
        lambda f, fb, th, m: minimize_full_batch(f, th, max_iter=300)[0],
        lambda f, fb, th, m: minimize_full_batch(f, th, method="CG", max_iter=300)[0],
        lambda f, fb, th, m: minimize_minibatch(fb, th, m, optimizer=adam(0.05), batch_size=32, max_epochs=150,
                                                random_state=0, patience=None)[0],
        lambda f, fb, th, m: minimize_minibatch(fb, th, m, optimizer=sgd(0.5), batch_size=32, max_epochs=150,
                                                random_state=0, patience=None)[0],
    ],
    ids=["lbfgs", "cg", "adam", "sgd-nesterov"],
)
def test_every_optimizer_learns_moons_with_a_hidden_layer(moons, run):
    X, y = moons
    lam = 1e-3
    start = glassnet.random_init([2, 10, 1], rng=0)
    thetas = run(full(X, y, lam), batch(X, y, lam), start, len(X))
    accuracy = np.mean((glassnet.forward(thetas, X).output[:, 0] > 0.5) == y)
    assert accuracy > 0.97  # a linear boundary gets about 0.87
    assert glassnet.cost(thetas, X, y, lam) < 0.2 < glassnet.cost(start, X, y, lam)


def test_full_batch_max_iter_and_tol():
    X, y = make_moons(100, noise=0.2, random_state=1)
    start = glassnet.random_init([2, 5, 1], rng=0)
    _, h = minimize_full_batch(full(X, y), start, max_iter=5)
    assert h.n_iter == 5 and len(h.cost) == 5 and not h.converged
    assert all(b <= a for a, b in zip(h.cost, h.cost[1:]))
    _, h = minimize_full_batch(full(X, y), start, max_iter=1000, tol=1e-3)
    assert h.converged and h.n_iter < 1000


def test_minibatch_stops_when_the_training_cost_stalls(logistic_toy):
    X, y, _, _ = logistic_toy
    _, h = minimize_minibatch(batch(X, y), glassnet.random_init([5, 1], rng=1), len(X), optimizer=adam(0.01),
                              max_epochs=1000, patience=5, min_delta=1e-4, random_state=0)
    assert h.converged and h.n_iter < 1000 and not h.stopped_early
    assert "did not improve" in h.message


def test_minibatch_shuffle_is_seeded(logistic_toy):
    X, y, _, _ = logistic_toy
    run = lambda seed, shuffle=True: minimize_minibatch(  # noqa: E731
        batch(X, y), glassnet.random_init([5, 1], rng=1), len(X), optimizer=sgd(0.1), batch_size=16, max_epochs=3,
        random_state=seed, shuffle=shuffle)[0][0]
    np.testing.assert_array_equal(run(7), run(7))
    assert not np.array_equal(run(7), run(8))
    np.testing.assert_array_equal(run(7, shuffle=False), run(8, shuffle=False))


def test_batches_cover_every_row_once():
    parts = batches(103, 25, np.random.default_rng(0))
    assert [len(p) for p in parts] == [25, 25, 25, 25, 3]
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)), np.arange(103))
    np.testing.assert_array_equal(np.concatenate(batches(10, 4, None)), np.arange(10))


def test_divergence_is_reported_not_hidden():
    # ½||θ||² with η = 3: θ ← -2θ, so the weights blow up and must stop with a clear error.
    f = lambda th, idx: (0.5 * float(np.sum(th[0] ** 2)), [th[0].copy()])  # noqa: E731
    with np.errstate(over="ignore"), pytest.raises(FloatingPointError, match="learning_rate"):
        minimize_minibatch(f, [np.ones((1, 2))], 4, optimizer=sgd(3.0, momentum=0.0), max_epochs=2000,
                           patience=None)


# ------------------------------------------------------------------------------------------ validation, early stopping


def scripted_validation(values):
    """A validate() that returns scripted validation costs, to test the stopping rule exactly."""
    calls = iter(values)
    return lambda thetas: (next(calls), 0.5)


@pytest.mark.parametrize("family", ["full", "mini"])
def test_early_stopping_restores_the_best_weights(family, moons):
    X, y = moons
    seen = []
    keep = lambda s: seen.append([t.copy() for t in s.thetas])  # noqa: E731
    validate = scripted_validation([5.0, 4.0, 3.0, 3.5, 3.6, 3.7, 9.0, 9.0])
    start = glassnet.random_init([2, 4, 1], rng=0)
    kw = dict(validate=validate, early_stopping=True, patience=3, callbacks=[keep])
    if family == "full":
        thetas, h = minimize_full_batch(full(X, y), start, max_iter=50, **kw)
    else:
        thetas, h = minimize_minibatch(batch(X, y), start, len(X), optimizer=sgd(0.1), max_epochs=50, **kw)
    assert h.n_iter == 6 and h.best_epoch == 3 and h.stopped_early and not h.converged
    assert h.val_cost == [5.0, 4.0, 3.0, 3.5, 3.6, 3.7] and h.val_accuracy == [0.5] * 6
    assert "early stopping" in h.message
    np.testing.assert_array_equal(thetas[0], seen[2][0])
    np.testing.assert_array_equal(thetas[1], seen[2][1])


def test_min_delta_counts_tiny_improvements_as_none(moons):
    X, y = moons
    validate = scripted_validation([1.0, 0.99995, 0.9999, 0.99985, 0.5, 0.4])
    thetas, h = minimize_minibatch(batch(X, y), glassnet.random_init([2, 3, 1], rng=0), len(X), max_epochs=6,
                                   validate=validate, early_stopping=True, patience=3, min_delta=1e-3)
    assert h.n_iter == 4 and h.best_epoch == 4  # stopped for no real gain, but kept the (slightly) best weights


def test_early_stopping_needs_validation():
    with pytest.raises(ValueError, match="early_stopping"):
        minimize_full_batch(lambda th: (0.0, [np.zeros_like(th[0])]), [np.zeros((1, 2))], early_stopping=True)


def test_real_validation_curve_on_held_out_data(moons):
    X, y = moons
    Xv, yv = make_moons(100, noise=0.1, random_state=1)

    def validate(thetas):
        cache = glassnet.forward(thetas, Xv)
        return glassnet.cost(thetas, Xv, yv, 0.0, cache=cache), float(np.mean((cache.output[:, 0] > 0.5) == yv))

    thetas, h = minimize_full_batch(full(X, y, 1e-3), glassnet.random_init([2, 10, 1], rng=0), max_iter=200,
                                    validate=validate)
    assert len(h.val_cost) == len(h.val_accuracy) == h.n_iter
    assert h.val_accuracy[-1] > 0.95 and h.val_cost[-1] < h.val_cost[0]
    assert h.val_cost[-1] == pytest.approx(validate(thetas)[0])


# ------------------------------------------------------------------------------------------ callbacks


class StopAt:
    def __init__(self, epoch):
        self.epoch, self.states = epoch, []

    def on_epoch_end(self, state: TrainState):
        self.states.append(state)
        return state.epoch == self.epoch


def test_callback_object_returning_true_stops_and_sees_the_state(moons):
    X, y = moons
    cb = StopAt(4)
    thetas, h = minimize_full_batch(full(X, y), glassnet.random_init([2, 4, 1], rng=0), max_iter=100, callbacks=cb)
    assert h.n_iter == 4 and h.stopped_early and h.message == "stopped by callback"
    assert [s.epoch for s in cb.states] == [1, 2, 3, 4]
    last = cb.states[-1]
    assert last.cost == pytest.approx(glassnet.cost(last.thetas, X, y, LAM), rel=1e-12)
    assert last.val_cost is None and last.history is h
    np.testing.assert_array_equal(thetas[0], last.thetas[0])


def test_callback_raising_stop_training(moons):
    X, y = moons

    def cb(state):
        if state.epoch == 2:
            raise StopTraining("enough")

    _, h = minimize_minibatch(batch(X, y), glassnet.random_init([2, 4, 1], rng=0), len(X), callbacks=[cb])
    assert h.n_iter == 2 and h.message == "stopped by callback: enough"


def test_other_exceptions_from_callbacks_propagate(moons):
    X, y = moons

    def cb(state):
        raise KeyError("bug in the callback")

    with pytest.raises(KeyError):
        minimize_full_batch(full(X, y), glassnet.random_init([2, 4, 1], rng=0), callbacks=cb)


def test_bad_callback_is_named():
    with pytest.raises(ValueError, match=r"callbacks\[1\]"):
        minimize_full_batch(lambda th: (0.0, [np.zeros_like(th[0])]), [np.zeros((1, 2))], callbacks=[print, 42])


# ------------------------------------------------------------------------------------------ History


def test_history_round_trips_through_strict_json(moons):
    X, y = moons
    Xv, yv = make_moons(50, noise=0.1, random_state=2)
    validate = lambda th: (glassnet.cost(th, Xv, yv), 0.75)  # noqa: E731
    _, h = minimize_full_batch(full(X, y), glassnet.random_init([2, 3, 1], rng=0), max_iter=20, validate=validate,
                               early_stopping=True, patience=100)
    h.val_cost[0] = float("nan")
    text = json.dumps(h.to_dict(), allow_nan=False)
    back = History.from_dict(json.loads(text))
    assert back.cost == h.cost and back.val_accuracy == h.val_accuracy and np.isnan(back.val_cost[0])
    assert back.val_cost[1:] == h.val_cost[1:]
    for name in ("n_iter", "n_evals", "converged", "message", "solver", "best_epoch", "stopped_early", "seconds",
                 "blas_threads", "initial_cost"):
        assert getattr(back, name) == getattr(h, name), name
    assert History.from_dict({}) == History()


@pytest.mark.parametrize(
    "d, message",
    [
        ([1, 2], "expected a dict"),
        ({"cost": [1.0], "bogus": 1}, "unknown keys"),
        ({"cost": "1.0"}, "cost"),
        ({"cost": [1.0, "x"], "n_iter": 2}, "cost"),
        ({"n_iter": -1}, "n_iter"),
        ({"converged": "yes"}, "converged"),
        ({"best_epoch": 0}, "best_epoch"),
        ({"cost": [1.0, 2.0], "n_iter": 1}, "n_iter"),
    ],
)
def test_history_from_bad_dict_names_the_key(d, message):
    with pytest.raises(ValueError, match=message):
        History.from_dict(d)


def test_history_extend_appends_epochs():
    a = History(cost=[3.0, 2.0], n_iter=2, n_evals=5, solver="adam", seconds=1.0)
    a.extend(History(cost=[1.5], n_iter=1, n_evals=3, solver="adam", seconds=0.5, best_epoch=1))
    assert a.cost == [3.0, 2.0, 1.5] and a.n_iter == 3 and a.n_evals == 8 and a.best_epoch == 3 and a.seconds == 1.5


# ------------------------------------------------------------------------------------------ threads and progress


def _blas_threads():
    return {lib["filepath"]: lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def test_blas_threads_are_limited_during_the_fit_and_restored_after(moons):
    X, y = moons
    before = _blas_threads()
    seen = []

    def f(th):
        seen.append(set(_blas_threads().values()))
        return glassnet.cost_and_gradient(th, X, y, LAM)

    _, h = minimize_full_batch(f, glassnet.random_init([2, 3, 1], rng=0), max_iter=3, n_threads=1)
    assert seen and all(s == {1} for s in seen)  # numpy's and scipy's BLAS alike
    assert h.blas_threads == 1
    assert _blas_threads() == before
    seen.clear()
    _, h = minimize_full_batch(f, glassnet.random_init([2, 3, 1], rng=0), max_iter=3, n_threads=2)
    assert seen and all(s == {2} for s in seen) and h.blas_threads == 2
    assert _blas_threads() == before
    seen.clear()
    minimize_minibatch(lambda th, idx: f(th), glassnet.random_init([2, 3, 1], rng=0), len(X), max_epochs=1)
    assert seen and all(s == {1} for s in seen)  # automatic: a 200-row batch of a 2-3-1 net is tiny


def test_scipy_runs_single_threaded_between_evaluations(moons):
    X, y = moons
    seen = []
    cb = lambda state: seen.append(set(_blas_threads().values()))  # noqa: E731  (runs inside scipy's loop)
    minimize_full_batch(full(X, y), glassnet.random_init([2, 3, 1], rng=0), max_iter=3, n_threads=2, callbacks=cb)
    assert seen == [{1}] * 3


def test_thread_heuristic(monkeypatch):
    monkeypatch.setattr(_threads, "available_cores", lambda: 16)
    monkeypatch.setattr(_threads, "current_blas_threads", lambda: 16)
    assert choose_blas_threads(1347, [64, 25, 10]) == 1  # digits: 2.2e6 multiply-adds per product
    assert choose_blas_threads(200, [64, 100, 10]) == 1  # a mini-batch
    assert choose_blas_threads(3750, [784, 25, 10]) == 16  # MNIST-5k: 7e7
    assert choose_blas_threads(3750, [784, 2, 10]) == 11  # 5.9e6 multiply-adds: 11 threads' worth of work
    assert choose_blas_threads(200, [784, 25, 10]) == 1  # 3.9e6
    assert choose_blas_threads(200, [784, 30, 10]) == 9  # 4.7e6: threads pay off (0.81 → 0.44 ms on 16 cores)
    monkeypatch.setattr(_threads, "current_blas_threads", lambda: 4)
    assert choose_blas_threads(3750, [784, 25, 10]) == 4  # never above an outer limit
    assert choose_blas_threads(10, [2, 1], n_threads=3) == 3
    assert choose_blas_threads(10, [2, 1], n_threads=-1) == 16
    for bad in (0, -2, 1.5, True, "2"):
        with pytest.raises(ValueError, match="n_threads"):
            choose_blas_threads(10, [2, 1], n_threads=bad)


def test_epoch_thread_heuristic(monkeypatch):
    monkeypatch.setattr(_threads, "available_cores", lambda: 16)
    monkeypatch.setattr(_threads, "current_blas_threads", lambda: 16)
    assert choose_epoch_threads(1347, 64, [64, 25, 10]) == 1  # digits: 2.5e6 multiply-adds an epoch, too few
    assert choose_epoch_threads(5000, 16, [784, 100, 10]) == 9  # 1.25e6 a batch: 9 threads' worth
    assert choose_epoch_threads(5000, 200, [784, 100, 10]) == 16  # every core
    assert choose_epoch_threads(3750, 16, [784, 25, 10]) == 2  # 3.2e5 a batch
    assert choose_epoch_threads(2000, 32, [100, 50, 10]) == 1  # 1.8e5 a batch: one thread's worth
    assert choose_epoch_threads(100, 10**6, [784, 100, 10]) == 16  # the batch is at most the rows
    monkeypatch.setattr(_threads, "available_cores", lambda: 2)
    assert choose_epoch_threads(5000, 200, [784, 100, 10]) == 2  # never above the cores
    monkeypatch.setattr(_threads, "available_cores", lambda: 16)
    monkeypatch.setattr(_threads, "current_blas_threads", lambda: 3)
    assert choose_epoch_threads(5000, 200, [784, 100, 10]) == 3  # nor above an outer limit
    assert choose_epoch_threads(10, 5, [2, 1], n_threads=3) == 3  # asked for: as given
    assert choose_epoch_threads(10, 5, [2, 1], n_threads=-1) == 16
    with pytest.raises(ValueError, match="n_threads"):
        choose_epoch_threads(10, 5, [2, 1], n_threads=0)


def test_progress_bar_only_when_asked(moons, capsys):
    X, y = moons
    minimize_full_batch(full(X, y), glassnet.random_init([2, 3, 1], rng=0), max_iter=3)
    assert capsys.readouterr().err == ""
    minimize_full_batch(full(X, y), glassnet.random_init([2, 3, 1], rng=0), max_iter=3, progress=True)
    err = capsys.readouterr().err
    assert "lbfgs" in err and "3/3" in err and "J=" in err


def test_argument_errors_are_named():
    f = lambda th: (0.0, [np.zeros_like(th[0])])  # noqa: E731
    with pytest.raises(ValueError, match="method"):
        minimize_full_batch(f, [np.zeros((1, 2))], method="newton")
    with pytest.raises(ValueError, match="max_iter"):
        minimize_full_batch(f, [np.zeros((1, 2))], max_iter=0)
    with pytest.raises(ValueError, match="tol"):
        minimize_full_batch(f, [np.zeros((1, 2))], tol=-1)
    with pytest.raises(ValueError, match="patience"):
        minimize_full_batch(f, [np.zeros((1, 2))], patience=0)
    with pytest.raises(ValueError, match="optimizer"):
        minimize_minibatch(lambda th, idx: f(th), [np.zeros((1, 2))], 5, optimizer="rmsprop")
    with pytest.raises(ValueError, match="batch_size"):
        minimize_minibatch(lambda th, idx: f(th), [np.zeros((1, 2))], 5, batch_size=0)


def test_stop_messages_in_plain_words():
    from glassnet.train.optimize import plain_reason

    assert plain_reason("CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL") == "converged: the gradient is ~0"
    assert plain_reason("STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT") == "stopped: iteration budget used up"
    assert plain_reason("Maximum number of iterations has been exceeded.") == "stopped: iteration budget used up"
    assert plain_reason("ABNORMAL_TERMINATION_IN_LNSRCH").startswith("stopped: the line search")
    h = glassnet.train.optimize.History(message="CONVERGENCE: REL_REDUCTION_OF_F <= FACTR*EPSMCH")
    assert h.reason == "converged: J stopped decreasing"


def test_training_objective_writes_d_into_the_runners_buffer_and_matches_a_plain_objective(logistic_toy):
    # training.fit's batch objective takes out= (run_epoch hands it the scratch buffer); a plain objective's D is
    # copied instead. Both runs must give the same weights.
    from glassnet.train import fitting as training
    from glassnet.train.optimize import _takes_out

    X, y, _, _ = logistic_toy
    thetas = glassnet.random_init([5, 4, 1], rng=2)
    fitted, _ = training.fit(thetas, X, y, LAM, solver="adam", max_iter=3, batch_size=32, random_state=0,
                             learning_rate=0.05, patience=None)
    m = len(X)
    plain = lambda th, idx: glassnet.cost_and_gradient(th, X[idx], y[idx], LAM * len(idx) / m)  # noqa: E731
    assert not _takes_out(plain)
    again, _ = minimize_minibatch(plain, thetas, m, optimizer=adam(0.05), batch_size=32, max_epochs=3,
                                  random_state=0, patience=None)
    for a, b in zip(fitted, again):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_fit_with_a_pure_rule_of_ones_own(logistic_toy):
    # A rule given as init/update only (no update_) steps on new arrays; training.fit's objective then returns new D.
    from glassnet.train import fitting as training
    from glassnet.train.optimize import Optimizer

    X, y, _, _ = logistic_toy
    thetas = glassnet.random_init([5, 4, 1], rng=2)
    opt = adam(0.05)
    pure = Optimizer("adam", opt.init, opt.update, opt.learning_rate)
    kw = dict(solver="adam", max_iter=2, batch_size=32, random_state=0, patience=None)
    a, _ = training.fit(thetas, X, y, LAM, rule=pure, **kw)
    b, _ = training.fit(thetas, X, y, LAM, rule=opt, **kw)
    for u, v in zip(a, b):  # the in-place rule may run the compiled epoch: equal to rounding (tests/test_epoch.py)
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-15)
