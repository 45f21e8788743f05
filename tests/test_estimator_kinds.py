"""glassnet.Regressor, the estimators' activation/output/loss hyper-parameters, and scikit-learn's input kinds:
sparse X, multilabel targets, float32; model files record the new hyper-parameters and old files load as the lecture."""

import warnings
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_iris, make_multilabel_classification, make_regression
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_array_api_input, parametrize_with_checks

import glassnet
from glassnet import Classifier, Regressor

DATA = Path(__file__).parent / "data"


@parametrize_with_checks(
    [
        Regressor(max_iter=100, random_state=0),
        Regressor(solver="adam", activation="relu", hidden_layer_sizes=(8,), max_iter=40, random_state=0),
        Regressor(solver="sgd", activation="tanh", learning_rate=0.05, max_iter=30, early_stopping=True,
                  random_state=0),
        Classifier(activation="tanh", loss="squared", max_iter=50, random_state=0),
        Classifier(activation="relu", solver="adam", max_iter=20, random_state=0),
    ]
)
def test_sklearn_compatible(estimator, check, monkeypatch):
    if isinstance(check, partial) and check.func is check_array_api_input:
        monkeypatch.setenv("SCIPY_ARRAY_API", "1")  # as in test_estimator.py: really run the check
    check(estimator)


def _sk(est, X, y):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def test_regressor_cost_is_sklearns_regressor_loss_and_it_learns():
    from sklearn.neural_network import MLPRegressor

    X, y = make_regression(n_samples=120, n_features=4, noise=5.0, random_state=0)
    X, y = StandardScaler().fit_transform(X), (y - y.mean()) / y.std()
    reg = Regressor(hidden_layer_sizes=(6,), activation="tanh", alpha=0.3, max_iter=300, random_state=0).fit(X, y)
    assert reg.n_outputs_ == 1 and reg.predict(X).shape == (120,)
    assert reg.score(X, y) > 0.95
    J, grads = reg.cost_and_gradient(X, y)
    assert J == pytest.approx(reg.loss_, rel=1e-6)  # the cost the solver saw at the kept weights
    sk = _sk(MLPRegressor(hidden_layer_sizes=(6,), activation="tanh", alpha=0.3, max_iter=1), X, y)
    sk.coefs_ = [t[:, 1:].T.copy() for t in reg.thetas_]
    sk.intercepts_ = [t[:, 0].copy() for t in reg.thetas_]
    h = sk.predict(X)
    np.testing.assert_allclose(h, reg.predict(X), rtol=1e-12, atol=1e-12)
    W2 = sum(float(np.sum(c * c)) for c in sk.coefs_)
    assert J == pytest.approx(np.mean((h - y) ** 2) / 2 + 0.3 * W2 / (2 * len(y)), rel=1e-12)


def test_regressor_multioutput_and_validation_r2():
    X, Y = make_regression(n_samples=150, n_features=5, n_targets=3, noise=1.0, random_state=1)
    X, Y = StandardScaler().fit_transform(X), StandardScaler().fit_transform(Y)
    reg = Regressor(hidden_layer_sizes=(10,), alpha=1e-3, max_iter=200, random_state=0)
    reg.fit(X[:120], Y[:120], X_val=X[120:], y_val=Y[120:])
    assert reg.predict(X).shape == (150, 3)
    assert reg.best_validation_score_ > 0.9  # R²
    assert reg.validation_scores_[-1] == pytest.approx(reg.score(X[120:], Y[120:]), rel=1e-9)


def test_classifier_softmax_matches_sklearn_probabilities():
    from sklearn.neural_network import MLPClassifier

    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = Classifier(hidden_layer_sizes=(5,), activation="relu", output="softmax", alpha=0.1, max_iter=300,
                     random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.95
    P = clf.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    sk = _sk(MLPClassifier(hidden_layer_sizes=(5,), activation="relu", alpha=0.1, max_iter=1), X, y)
    sk.coefs_ = [t[:, 1:].T.copy() for t in clf.thetas_]
    sk.intercepts_ = [t[:, 0].copy() for t in clf.thetas_]
    np.testing.assert_allclose(P, sk.predict_proba(X), rtol=1e-10, atol=1e-14)
    np.testing.assert_array_equal(clf.predict(X), sk.predict(X))
    with pytest.raises(ValueError, match="softmax output needs K ≥ 2"):
        Classifier(output="softmax").fit(X[y < 2], y[y < 2])
    with pytest.raises(ValueError, match="use glassnet.Regressor"):
        Classifier(output="identity", loss="squared").fit(X, y)
    with pytest.raises(ValueError, match="activation: expected one of"):
        Classifier(activation="swish").fit(X, y)


def test_multilabel_classifier():
    X, Y = make_multilabel_classification(n_samples=200, n_features=8, n_classes=4, random_state=0)
    X = StandardScaler().fit_transform(X)
    clf = Classifier(hidden_layer_sizes=(12,), alpha=0.1, max_iter=300, random_state=0).fit(X, Y)
    assert clf.n_outputs_ == 4 and clf.classes_.tolist() == [0, 1, 2, 3]
    pred = clf.predict(X)
    assert pred.shape == (200, 4) and set(np.unique(pred)) <= {0, 1}
    P = clf.predict_proba(X)
    assert P.shape == (200, 4) and np.array_equal(pred, (P >= 0.5).astype(int))
    assert clf.score(X, Y) == pytest.approx(np.mean(np.all(pred == Y, axis=1)))
    assert clf.score(X, Y) > 0.6  # subset accuracy on the training data
    J, _ = clf.cost_and_gradient(X, Y)
    assert J == pytest.approx(glassnet.cost(clf.thetas_, X, Y, 0.1), rel=1e-12)
    trace = clf.explain(X[0], Y[0])
    assert trace.K == 4 and np.array_equal(trace.y, Y[0])
    clf2 = Classifier(hidden_layer_sizes=(12,), alpha=0.1, max_iter=30, early_stopping=True, random_state=0)
    assert clf2.fit(X, Y).validation_scores_ is not None


def test_sparse_fit_equals_dense():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X[np.abs(X) < 0.5] = 0.0
    for solver in ("lbfgs", "adam"):
        kw = dict(hidden_layer_sizes=(4,), solver=solver, max_iter=15, activation="tanh", random_state=0)
        dense = Classifier(**kw).fit(X, y)
        for Xs in (sp.csr_matrix(X), sp.csc_matrix(X)):
            sparse = Classifier(**kw).fit(Xs, y)
            for t, ts in zip(dense.thetas_, sparse.thetas_):
                np.testing.assert_allclose(ts, t, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(sparse.predict_proba(Xs), dense.predict_proba(X), rtol=1e-9)
            J, G = dense.cost_and_gradient(X, y)
            Js, Gs = dense.cost_and_gradient(Xs, y)
            assert Js == pytest.approx(J, rel=1e-12)
            for g, gs in zip(G, Gs):
                np.testing.assert_allclose(gs, g, rtol=1e-12, atol=1e-15)
    reg = Regressor(hidden_layer_sizes=(3,), max_iter=10, random_state=0)
    np.testing.assert_allclose(reg.fit(sp.csr_matrix(X), X[:, 0]).predict(X), reg.fit(X, X[:, 0]).predict(X),
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("Est, target", [(Classifier, "labels"), (Regressor, "values")])
def test_float32_is_trained_and_stored_in_float32(Est, target):
    X, y = load_iris(return_X_y=True)
    y = y if target == "labels" else X[:, 0] * 0.5
    X32 = X.astype(np.float32)
    model = Est(hidden_layer_sizes=(5,), max_iter=50, random_state=0).fit(X32, y)
    assert all(t.dtype == np.float32 for t in model.thetas_)
    assert model.transform(X32).dtype == np.float32
    model64 = Est(hidden_layer_sizes=(5,), max_iter=50, random_state=0).fit(X, y)
    assert all(t.dtype == np.float64 for t in model64.thetas_)
    assert model.score(X32, y) == pytest.approx(model64.score(X, y), abs=0.05)


@pytest.mark.parametrize("Est, target", [(Classifier, "labels"), (Regressor, "values")])
def test_dtype_asks_for_the_precision_whatever_X_is(Est, target, tmp_path):
    X, y = load_iris(return_X_y=True)
    y = y if target == "labels" else X[:, 0] * 0.5
    X32 = X.astype(np.float32)
    kw = dict(hidden_layer_sizes=(5,), max_iter=30, random_state=0)
    followed = Est(**kw).fit(X32, y)  # dtype=None: float32 X trains in float32
    asked = Est(**kw, dtype="float32").fit(X, y, X_val=X[:20], y_val=y[:20])  # float64 X, converted once
    assert all(t.dtype == np.float32 for t in asked.thetas_)
    assert asked.history_.val_cost and np.isfinite(asked.history_.val_cost).all()
    # the same fit as on float32 X: the validation data only watch it
    for a, f in zip(asked.thetas_, followed.thetas_):
        np.testing.assert_array_equal(a, f)
    up = Est(**kw, dtype=np.float64).fit(X32, y)
    assert all(t.dtype == np.float64 for t in up.thetas_)
    for a, b in zip(up.thetas_, Est(**kw).fit(X32.astype(np.float64), y).thetas_):  # the float64 fit of its values
        np.testing.assert_array_equal(a, b)
    # a model file keeps the precision, also when it was given as a NumPy type
    back = glassnet.load(glassnet.save(Est(**kw, dtype=np.float32).fit(X, y), tmp_path / "m.npz"))
    assert back.get_params()["dtype"] == "float32" and back.thetas_[0].dtype == np.float32
    back.set_params(warm_start=True, max_iter=2).fit(X, y)
    assert all(t.dtype == np.float32 for t in back.thetas_)


@pytest.mark.parametrize("bad", ["float16", np.int64, "double precision", True, 32])
def test_a_bad_dtype_names_the_parameter(bad):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match=r"dtype: expected None .*'float32' or 'float64'"):
        Classifier(dtype=bad, max_iter=2).fit(X, y)


def test_partial_fit_follows_dtype():
    X, y = load_iris(return_X_y=True)
    clf = Classifier(solver="adam", dtype="float32", random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    assert all(t.dtype == np.float32 for t in clf.thetas_)
    clf.partial_fit(X, y)
    assert all(t.dtype == np.float32 for t in clf.thetas_)


def test_model_files_record_the_kinds_and_old_files_load_as_the_lecture(tmp_path):
    X, y = load_iris(return_X_y=True)
    clf = Classifier(hidden_layer_sizes=(3,), activation="tanh", output="softmax", alpha=0.5, max_iter=40,
                     random_state=0).fit(X, y)
    path = glassnet.save(clf, tmp_path / "m.npz")
    back = glassnet.load(path)
    assert (back.activation, back.output, back.loss) == ("tanh", "softmax", "log")
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    old = glassnet.load(DATA / "classifier_before_activations.npz")  # written by glassnet before activations existed
    assert (old.activation, old.output, old.loss) == ("sigmoid", "sigmoid", "log")
    # what that model predicted when it was written (computed then, by the code of the time)
    np.testing.assert_allclose(old.predict_proba(X[:3]), [
        [0.8807237634245921, 0.11775564900481336, 0.0015205875705946378],
        [0.8762887115892493, 0.12214341547226182, 0.001567872938488963],
        [0.8796896591972704, 0.11877843995170133, 0.0015319008510282952]], rtol=1e-12)


def test_model_files_hold_multilabel_classifiers_and_regressors(tmp_path):
    X, Y = make_multilabel_classification(n_samples=40, n_features=4, n_classes=3, random_state=0)
    multilabel = Classifier(hidden_layer_sizes=(3,), max_iter=5, random_state=0).fit(X, Y)
    back = glassnet.load(glassnet.save(multilabel, tmp_path / "m.npz"))
    assert isinstance(back, Classifier) and back.multilabel_ and back.n_outputs_ == 3
    np.testing.assert_array_equal(back.predict(X), multilabel.predict(X))
    np.testing.assert_array_equal(back.predict_proba(X), multilabel.predict_proba(X))
    reg = Regressor(hidden_layer_sizes=(3,), activation="relu", max_iter=5, random_state=0).fit(X, Y[:, 0] * 1.5)
    back = glassnet.load(glassnet.save(reg, tmp_path / "r.npz"))
    assert isinstance(back, Regressor) and back.activation == "relu" and back.n_iter_ == reg.n_iter_
    np.testing.assert_array_equal(back.predict(X), reg.predict(X))
    assert glassnet.io.load_any(tmp_path / "r.npz").get_params() == reg.get_params()
    two = Regressor(hidden_layer_sizes=(2,), max_iter=3, random_state=0).fit(X, Y * 0.5)  # two targets
    np.testing.assert_array_equal(glassnet.load(glassnet.save(two, tmp_path / "t.npz")).predict(X), two.predict(X))


def test_transform_uses_the_hidden_activation_and_dask_refuses_other_networks():
    X, y = load_iris(return_X_y=True)
    clf = Classifier(hidden_layer_sizes=(4, 3), activation="tanh", output="softmax", max_iter=10, random_state=0)
    clf.fit(X, y)
    cache = glassnet.forward(clf.thetas_, X, activation="tanh", output="softmax")
    np.testing.assert_array_equal(clf.transform(X, layer=2), cache.activations[1])
    np.testing.assert_array_equal(clf.transform(X), cache.activations[2])
    assert clf.transform(X).min() < 0  # tanh, not a sigmoid
    da = pytest.importorskip("dask.array")
    with pytest.raises(NotImplementedError, match="only the lecture's single-label network"):
        clf.predict(da.from_array(X, chunks=50))
