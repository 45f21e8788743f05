"""glassnet.Classifier: scikit-learn's estimator checks (no expected failures), the acceptance numbers, and the
features beyond MLPClassifier (hidden activations, cost_and_gradient, validation curves, early stopping)."""

import json
import warnings
from functools import partial

import numpy as np
import pytest
from scipy.special import expit
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, make_classification
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_array_api_input, parametrize_with_checks

import glassnet
from glassnet import Classifier, History


@parametrize_with_checks(
    [
        Classifier(max_iter=50, random_state=0),
        Classifier(solver="adam", max_iter=20, random_state=0),
        Classifier(solver="sgd", hidden_layer_sizes=(5, 4), learning_rate=0.5, max_iter=30, random_state=0),
        Classifier(solver="cg", hidden_layer_sizes=(), max_iter=30, early_stopping=True, random_state=0),
    ]
)
def test_sklearn_compatible(estimator, check, monkeypatch):
    if isinstance(check, partial) and check.func is check_array_api_input:
        # scikit-learn skips this check unless SCIPY_ARRAY_API is set; with NumPy inputs it does not depend on
        # scipy's array-API mode, so set it and really run the check instead of skipping it.
        monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    check(estimator)


# ------------------------------------------------------------------------------------------ acceptance


@pytest.fixture(scope="module")
def digits_split():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.25, stratify=y, random_state=0)


@pytest.fixture(scope="module")
def digits_model(digits_split):
    Xtr, Xte, ytr, yte = digits_split
    return Classifier(hidden_layer_sizes=(25,), alpha=1.0, max_iter=400, solver="lbfgs", random_state=0).fit(Xtr, ytr)


def test_acceptance_digits_64_25_10(digits_model, digits_split):
    Xtr, Xte, ytr, yte = digits_split
    clf = digits_model
    assert clf.layer_sizes_ == [64, 25, 10] and clf.n_outputs_ == 10
    assert clf.score(Xte, yte) >= 0.975
    assert 300 < clf.n_iter_ <= 400 and clf.history_.solver == "lbfgs"
    assert clf.loss_ == pytest.approx(glassnet.cost(clf.thetas_, Xtr, ytr, 1.0), rel=1e-12)
    assert clf.loss_curve_[-1] < clf.loss_curve_[0] < clf.history_.initial_cost


def test_acceptance_breast_cancer_single_output():
    X, y = load_breast_cancer(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    clf = make_pipeline(StandardScaler(), Classifier(max_iter=400, random_state=0)).fit(Xtr, ytr)
    net = clf[-1]
    assert net.n_outputs_ == 1 and net.thetas_[-1].shape == (1, 26)
    assert clf.score(Xte, yte) >= 0.95


# ------------------------------------------------------------------------------------------ outputs


def test_binary_uses_one_sigmoid_unit_and_string_labels():
    X, y = make_classification(n_samples=120, n_features=4, random_state=0)
    labels = np.array(["spam", "ham"])[y]
    clf = Classifier(hidden_layer_sizes=(3,), max_iter=100, random_state=0).fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, ["ham", "spam"])
    h = glassnet.forward(clf.thetas_, X).output[:, 0]  # P(classes_[1] = "spam")
    P = clf.predict_proba(X)
    np.testing.assert_allclose(P, np.column_stack([1 - h, h]), atol=1e-15)
    np.testing.assert_array_equal(clf.predict(X), np.where(h > 0.5, "spam", "ham"))
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(P), rtol=1e-12)


def test_multiclass_proba_is_normalized_sigmoid_outputs(digits_model, digits_split):
    X = digits_split[1]
    h = glassnet.forward(digits_model.thetas_, X).output
    P = digits_model.predict_proba(X)
    np.testing.assert_allclose(P, h / h.sum(axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_array_equal(digits_model.predict(X), np.argmax(h, axis=1))
    np.testing.assert_allclose(digits_model.predict_log_proba(X), np.log(P), rtol=1e-10)


def test_saturated_outputs_give_finite_probabilities():
    X, y = load_iris(return_X_y=True)
    clf = Classifier(hidden_layer_sizes=(4,), max_iter=30, random_state=0).fit(X, y)
    clf.thetas_ = [t * 300 for t in clf.thetas_]  # every output sigmoid rounds to exactly 0.0 or 1.0
    assert np.isin(glassnet.forward(clf.thetas_, X).output, (0.0, 1.0)).mean() > 0.5
    P = clf.predict_proba(X)
    assert np.isfinite(P).all() and np.allclose(P.sum(axis=1), 1.0)
    np.testing.assert_array_equal(P.argmax(axis=1), np.searchsorted(clf.classes_, clf.predict(X)))
    assert np.isfinite(clf.predict_log_proba(X)).all()


def test_unsorted_integer_labels_are_sorted_in_classes():
    X, y = load_iris(return_X_y=True)
    labels = np.array([30, 10, 20])[y]
    clf = Classifier(hidden_layer_sizes=(4,), alpha=0.1, max_iter=200, random_state=0).fit(X, labels)
    np.testing.assert_array_equal(clf.classes_, [10, 20, 30])
    assert clf.score(X, labels) > 0.9
    assert clf.predict_proba(X).shape == (150, 3)


# ------------------------------------------------------------------------------------------ lecture-level access


def test_hidden_activations_and_transform():
    X, y = load_iris(return_X_y=True)
    clf = Classifier(hidden_layer_sizes=(6, 4), max_iter=50, random_state=0).fit(X, y)
    cache = glassnet.forward(clf.thetas_, X)
    a2, a3 = clf.hidden_activations(X)
    np.testing.assert_array_equal(a2, cache.activations[1])
    np.testing.assert_array_equal(a3, cache.activations[2])
    np.testing.assert_allclose(a2, expit(X @ clf.thetas_[0][:, 1:].T + clf.thetas_[0][:, 0]), rtol=1e-14)
    np.testing.assert_array_equal(clf.transform(X), a3)
    np.testing.assert_array_equal(clf.transform(X, layer=2), a2)
    np.testing.assert_array_equal(clf.fit_transform(X, y), a3)  # same seed, same fit
    assert list(clf.get_feature_names_out()) == ["classifier0", "classifier1", "classifier2", "classifier3"]
    np.testing.assert_array_equal(clf.transform(X, layer=1), X)
    for bad in (0, 4, 2.0):
        with pytest.raises(ValueError, match="layer"):
            clf.transform(X, layer=bad)
    logreg = Classifier(hidden_layer_sizes=(), max_iter=50, random_state=0).fit(X, y)
    assert logreg.hidden_activations(X) == [] and logreg.layer_sizes_ == [4, 3]
    np.testing.assert_array_equal(logreg.transform(X), X)  # no hidden layer: the input feeds the output


def test_cost_and_gradient_on_fitted_weights():
    X, y = load_iris(return_X_y=True)
    labels = np.array(["a", "b", "c"])[y]
    clf = Classifier(hidden_layer_sizes=(5,), alpha=0.5, max_iter=40, random_state=0).fit(X, labels)
    J, grads = clf.cost_and_gradient(X, labels)
    J_ref, grads_ref = glassnet.cost_and_gradient(clf.thetas_, X, y, 0.5)
    assert J == J_ref and J == pytest.approx(clf.loss_, rel=1e-12)
    for g, r in zip(grads, grads_ref):
        np.testing.assert_array_equal(g, r)
    with pytest.raises(ValueError, match="not seen in fit"):
        clf.cost_and_gradient(X, np.where(labels == "a", "z", labels))
    with pytest.raises(ValueError, match="150 labels"):
        clf.cost_and_gradient(X, labels[:-1])


def test_random_state_int_gives_random_init_weights():
    X, y = load_iris(return_X_y=True)
    clf = Classifier(hidden_layer_sizes=(5,), max_iter=1, random_state=7).fit(X, y)
    start = glassnet.random_init([4, 5, 3], rng=7)
    assert clf.history_.initial_cost == pytest.approx(glassnet.cost(start, X, y, 1.0), rel=1e-12)
    again = Classifier(hidden_layer_sizes=(5,), max_iter=1, random_state=np.random.RandomState(7)).fit(X, y)
    assert again.history_.initial_cost != clf.history_.initial_cost  # a RandomState draws a seed instead


def test_init_epsilon_is_the_course_range():
    X, y = load_iris(return_X_y=True)
    clf = Classifier(hidden_layer_sizes=(5,), max_iter=1, init_epsilon=0.12, random_state=0).fit(X, y)
    start = glassnet.random_init([4, 5, 3], rng=0, epsilon=0.12)
    assert clf.history_.initial_cost == pytest.approx(glassnet.cost(start, X, y, 1.0), rel=1e-12)


# ------------------------------------------------------------------------------------------ training features


def test_validation_data_curves(digits_split):
    Xtr, Xte, ytr, yte = digits_split
    clf = Classifier(max_iter=30, random_state=0).fit(Xtr, ytr, X_val=Xte, y_val=yte)
    assert len(clf.validation_scores_) == len(clf.validation_loss_curve_) == len(clf.loss_curve_) == clf.n_iter_
    assert clf.validation_scores_[-1] == pytest.approx(clf.score(Xte, yte))
    assert clf.validation_loss_curve_[-1] == pytest.approx(glassnet.cost(clf.thetas_, Xte, yte, 0.0))
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.history_.best_epoch is None  # curves only; no early stopping asked for
    plain = Classifier(max_iter=5, random_state=0).fit(Xtr, ytr)
    assert plain.validation_scores_ is None and plain.validation_loss_curve_ is None


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_early_stopping_keeps_the_best_validation_weights(solver):
    # Few noisy examples, no regularization, many units: the validation cost turns up while training cost falls.
    X, y = make_classification(n_samples=160, n_features=20, n_informative=3, flip_y=0.2, random_state=0)
    clf = Classifier(hidden_layer_sizes=(40,), alpha=0.0, solver=solver, learning_rate=0.05, max_iter=2000,
                     early_stopping=True, validation_fraction=0.3, n_iter_no_change=10, tol=0.0,
                     random_state=0).fit(X, y)
    h = clf.history_
    assert h.stopped_early and h.n_iter < 2000 and h.n_iter == h.best_epoch + 10
    assert h.val_cost[h.best_epoch - 1] == min(h.val_cost) < h.val_cost[-1]
    assert clf.loss_ == h.cost[h.best_epoch - 1]
    assert len(h.val_accuracy) == h.n_iter


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_minibatch_solvers_fit_digits(solver, digits_split):
    Xtr, Xte, ytr, yte = digits_split
    clf = Classifier(solver=solver, max_iter=60, random_state=0).fit(Xtr, ytr)
    assert clf.score(Xte, yte) > 0.95
    assert clf.n_iter_ == len(clf.loss_curve_) <= 60 and clf.history_.solver == solver


def test_cg_solver(digits_split):
    Xtr, Xte, ytr, yte = digits_split
    clf = Classifier(solver="cg", max_iter=100, random_state=0).fit(Xtr, ytr)
    assert clf.score(Xte, yte) > 0.95 and clf.history_.solver == "cg"


def test_callbacks_reach_the_optimizer():
    X, y = load_iris(return_X_y=True)
    epochs = []

    def stop_at_3(state):
        epochs.append(state.epoch)
        return state.epoch == 3

    clf = Classifier(max_iter=100, random_state=0).fit(X, y, callbacks=[stop_at_3])
    assert epochs == [1, 2, 3] and clf.n_iter_ == 3 and clf.history_.message == "stopped by callback"


def test_verbose_shows_a_progress_bar(capsys):
    X, y = load_iris(return_X_y=True)
    Classifier(max_iter=5, random_state=0).fit(X, y)
    assert capsys.readouterr().err == ""
    Classifier(max_iter=5, verbose=True, random_state=0).fit(X, y)
    assert "lbfgs" in capsys.readouterr().err


def test_warm_start_continues_training():
    X, y = load_iris(return_X_y=True)
    clf = Classifier(hidden_layer_sizes=(5,), max_iter=10, warm_start=True, random_state=0).fit(X, y)
    first = clf.loss_
    clf.fit(X, y)
    assert clf.n_iter_ == 20 and len(clf.loss_curve_) == 20 and clf.loss_ < first
    assert clf.history_.initial_cost is None or clf.loss_curve_[10] <= first + 1e-12
    with pytest.raises(ValueError, match="warm_start"):
        clf.fit(X[y < 2], y[y < 2])
    cold = Classifier(hidden_layer_sizes=(5,), max_iter=10, random_state=0).fit(X, y)
    assert cold.fit(X, y).n_iter_ == 10


def test_partial_fit_epochs():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = Classifier(hidden_layer_sizes=(8,), solver="adam", learning_rate=0.05, batch_size=32, random_state=0)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y)
    for _ in range(40):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    assert clf.n_iter_ == 40 and len(clf.loss_curve_) == 40
    assert clf.loss_curve_[-1] < 0.5 * clf.loss_curve_[0]
    assert clf.score(X, y) > 0.9
    with pytest.raises(ValueError, match="not seen in fit"):
        clf.partial_fit(X, y + 5)


def test_partial_fit_only_for_minibatch_solvers():
    clf = Classifier(solver="lbfgs")
    assert not hasattr(clf, "partial_fit")
    with pytest.raises(AttributeError) as info:
        clf.partial_fit  # noqa: B018 (the attribute access itself raises)
    assert "only available for the mini-batch solvers 'sgd' and 'adam'" in str(info.value.__cause__)
    assert hasattr(Classifier(solver="sgd"), "partial_fit")


def test_n_threads_option(digits_split):
    Xtr, Xte, ytr, yte = digits_split
    a = Classifier(max_iter=20, n_threads=1, random_state=0).fit(Xtr, ytr)
    b = Classifier(max_iter=20, n_threads=2, random_state=0).fit(Xtr, ytr)
    assert a.history_.blas_threads == 1 and b.history_.blas_threads == 2
    np.testing.assert_allclose(a.thetas_[0], b.thetas_[0], rtol=1e-8, atol=1e-10)


# ------------------------------------------------------------------------------------------ what io.save/load rebuild


def test_rebuilt_from_params_and_arrays_is_a_working_fitted_model(digits_model, digits_split):
    # What the model-file loader does: Classifier(**params), then thetas_, classes_, n_features_in_, history_, n_iter_.
    Xte = digits_split[1]
    src = digits_model
    params = json.loads(json.dumps(src.get_params()))
    history = json.loads(json.dumps(src.history_.to_dict(), allow_nan=False))
    clf = Classifier(**params)
    clf.thetas_ = [np.array(t) for t in src.thetas_]
    clf.classes_ = np.array(src.classes_.tolist())
    clf.n_features_in_ = src.n_features_in_
    clf.history_ = History.from_dict(history)
    clf.n_iter_ = src.n_iter_
    np.testing.assert_array_equal(clf.predict(Xte), src.predict(Xte))
    np.testing.assert_array_equal(clf.predict_proba(Xte), src.predict_proba(Xte))
    assert clf.loss_curve_ == src.loss_curve_ and clf.loss_ == src.loss_ and clf.layer_sizes_ == [64, 25, 10]
    np.testing.assert_array_equal(clf.transform(Xte), src.transform(Xte))


def test_a_failed_fit_leaves_the_previous_model_intact():
    X, y = load_iris(return_X_y=True)
    clf = Classifier(max_iter=20, random_state=0).fit(X, y)
    before = clf.predict_proba(X)
    with pytest.raises(ValueError, match="labels not seen in fit"):
        clf.fit(X[y < 2], y[y < 2], X_val=X, y_val=y)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_inconsistent_fitted_state_is_reported():
    clf = Classifier()
    clf.thetas_ = glassnet.random_init([4, 3, 3], rng=0)
    clf.classes_ = np.array([0, 1])
    clf.n_features_in_ = 4
    with pytest.raises(ValueError, match="output layer has 3 units but there are 2 classes"):
        clf.predict(np.zeros((2, 4)))


# ------------------------------------------------------------------------------------------ errors


def test_not_fitted_error_is_clear():
    for method in ("predict", "predict_proba", "transform", "hidden_activations"):
        with pytest.raises(NotFittedError, match="Classifier instance is not fitted yet"):
            getattr(Classifier(), method)(np.zeros((2, 3)))
    with pytest.raises(NotFittedError):
        Classifier().cost_and_gradient(np.zeros((2, 3)), [0, 1])


@pytest.mark.parametrize(
    "params, name",
    [
        ({"hidden_layer_sizes": (25, 0)}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": "25"}, "hidden_layer_sizes"),
        ({"alpha": -1}, "alpha"),
        ({"alpha": float("nan")}, "alpha"),
        ({"max_iter": 0}, "max_iter"),
        ({"max_iter": 2.5}, "max_iter"),
        ({"solver": "newton"}, "solver"),
        ({"batch_size": 0}, "batch_size"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"momentum": 1.0}, "momentum"),
        ({"beta_2": 1.5}, "beta_2"),
        ({"epsilon": 0}, "epsilon"),
        ({"tol": -1e-3}, "tol"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"n_iter_no_change": 0}, "n_iter_no_change"),
        ({"init_epsilon": -0.1}, "init_epsilon"),
        ({"n_threads": 0}, "n_threads"),
        ({"early_stopping": "yes"}, "early_stopping"),
        ({"random_state": "seed"}, "random_state"),
    ],
)
def test_bad_hyper_parameters_are_named_at_fit(params, name):
    X, y = load_iris(return_X_y=True)
    clf = Classifier(**params)  # __init__ only stores
    with pytest.raises(ValueError, match=name):
        clf.fit(X, y)


def test_data_errors():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="at least 2 classes"):
        Classifier().fit(X, np.zeros(150))
    with pytest.raises(ValueError, match="Unknown label type"):
        Classifier().fit(X, X[:, 0])
    with pytest.raises(ValueError, match="pass both or neither"):
        Classifier().fit(X, y, X_val=X)
    with pytest.raises(ValueError, match="not seen in fit"):
        Classifier(max_iter=1).fit(X[y < 2], y[y < 2], X_val=X, y_val=y)
    clf = Classifier(max_iter=5, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but Classifier is expecting 4"):
        clf.predict(X[:, :3])


def test_fit_scans_X_for_nan_once(monkeypatch):
    # validate_data refuses NaN/inf; training.fit is told so and does not scan all of X a second time
    from glassnet.train import fitting as training

    seen = []
    real = training.check_X
    monkeypatch.setattr(training, "check_X", lambda *a, **kw: (seen.append(kw.get("assume_finite")), real(*a, **kw))[1])
    X, y = np.random.default_rng(0).random((40, 3)), np.arange(40) % 2
    for solver in ("adam", "lbfgs"):
        glassnet.Classifier(hidden_layer_sizes=(3,), solver=solver, max_iter=2).fit(X, y)
    assert seen == [True]  # the mini-batch objective; the full-batch one checks in Workspace.objective
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        glassnet.Classifier(hidden_layer_sizes=(3,), solver="adam", max_iter=2).fit(X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_fit_refuses_nan_and_inf_in_x_with_scikit_learns_words(bad, sparse, dtype):
    # the fits scan X with the kernels' one pass (train.setup.refuse_non_finite); the error stays scikit-learn's
    import scipy.sparse as sp
    from sklearn.utils.validation import check_array

    rng = np.random.default_rng(1)
    X, y = rng.random((30, 4)).astype(dtype), np.arange(30) % 3
    X[7, 2] = bad
    Xin = sp.csr_matrix(X) if sparse else X
    with pytest.raises(ValueError) as want:
        check_array(Xin, accept_sparse=["csr", "csc"], estimator=glassnet.Classifier(), input_name="X")
    fits = [lambda c: c.fit(Xin, y), lambda c: c.partial_fit(Xin, y, classes=[0, 1, 2]),
            lambda c: c.fit(Xin, (y == 1)[:, None] * [1, 1]),  # multilabel
            lambda c: c.fit(Xin[8:20] if sparse else X[8:20].copy(), y[8:20])]
    for fit in fits[:3]:
        with pytest.raises(ValueError) as got:
            fit(glassnet.Classifier(hidden_layer_sizes=(3,), max_iter=2, solver="adam"))
        assert str(got.value) == str(want.value)
    with pytest.raises(ValueError) as got:
        glassnet.Regressor(hidden_layer_sizes=(3,), max_iter=2).fit(Xin, y.astype(float))
    with pytest.raises(ValueError) as want:
        check_array(Xin, accept_sparse=["csr", "csc"], estimator=glassnet.Regressor(), input_name="X")
    assert str(got.value) == str(want.value)
    clean = X[:7].copy()  # rows without the bad value: validation X gets the same check
    with pytest.raises(ValueError, match="NaN|infinity"):
        glassnet.Classifier(hidden_layer_sizes=(3,), max_iter=2).fit(clean, y[:7], X_val=Xin, y_val=y)
    fits[3](glassnet.Classifier(hidden_layer_sizes=(3,), max_iter=2))  # rows 8.. are finite


def test_the_nan_scan_is_skipped_where_scikit_learn_is_told_to():
    import sklearn

    from glassnet.train import setup

    X = np.array([[1.0, np.inf]])
    with sklearn.config_context(assume_finite=True):
        setup.refuse_non_finite(glassnet.Classifier(), X)  # the caller vouches for X, as check_array allows
    with pytest.raises(ValueError, match="infinity"):
        setup.refuse_non_finite(glassnet.Classifier(), X)


def test_integer_labels_skip_scikit_learns_target_scan_and_others_keep_it():
    from glassnet.train import setup

    setup.class_labels(np.array([0, 1, 1]))
    setup.class_labels(np.array([True, False]))
    setup.class_labels(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        setup.class_labels(np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="Unknown label type"):
        setup.class_labels(np.array([[0.5], [1.5]]))


def test_check_X_assume_finite_skips_only_the_nan_scan():
    from glassnet._validation import check_X

    X = np.array([[1.0, np.nan]])
    assert check_X(X, assume_finite=True) is X
    with pytest.raises(ValueError, match="finite"):
        check_X(X)
    with pytest.raises(ValueError, match="columns"):
        check_X(X, n_features=3, assume_finite=True)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_predict_finds_nan_and_inf_in_x_through_z2_and_says_so_like_scikit_learn(bad):
    # predict reads NaN/inf from z^(2) (a non-finite x makes its row of z^(2) non-finite) and only then scans X;
    # an inf that meets a column of zero weights still does (inf·0 is NaN), and no NumPy warning comes first
    thetas = glassnet.random_init([6, 4, 3], rng=0)
    thetas[0][:, 3] = 0.0  # x_3 reaches no hidden unit
    clf = glassnet.Classifier.from_weights(thetas, np.array([0, 1, 2]))
    X = np.random.default_rng(0).random((5, 6))
    for column in (3, 4):
        Xb = X.copy()
        Xb[2, column] = bad
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
                clf.predict(Xb)
            with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
                clf.predict_proba(Xb)


def test_predict_is_the_largest_unit_of_the_forward_pass_in_either_dtype():
    thetas = glassnet.random_init([8, 5, 4], rng=1)
    clf = glassnet.Classifier.from_weights(thetas, np.array(["a", "b", "c", "d"]))
    X = np.random.default_rng(1).standard_normal((40, 8))
    for Xd in (X, X.astype(np.float32)):
        a_out = glassnet.forward(thetas, Xd).activations[-1]
        assert a_out.dtype == Xd.dtype
        np.testing.assert_array_equal(clf.predict(Xd), clf.classes_[np.argmax(a_out, axis=1)])


@pytest.mark.skipif(not __import__("glassnet._support.fused", fromlist=["x"]).blas_ready(),
                    reason="the compiled epoch is not built here (no compiler) or switched off")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_a_mini_batch_fit_looks_at_x_for_nan_in_its_first_epoch_not_in_a_pass_of_its_own(monkeypatch, dtype,
                                                                                        n_threads):
    # validate_data leaves the scan out; the compiled epoch looks at each row as it gathers it, first epoch only
    from sklearn.utils.validation import check_array

    from glassnet._support import _kernels, fused

    scans, checks = [], []
    real_scan, real_epoch = fused.all_finite, _kernels.epoch
    monkeypatch.setattr(fused, "all_finite", lambda a: (scans.append(a.shape), real_scan(a))[1])
    monkeypatch.setattr(_kernels, "epoch", lambda *a: (checks.append(a[17] if len(a) > 17 else False),
                                                       real_epoch(*a))[1])
    rng = np.random.default_rng(3)
    X, y = rng.random((300, 20)).astype(dtype), np.arange(300) % 3
    clf = glassnet.Classifier(hidden_layer_sizes=(8,), solver="adam", max_iter=3, batch_size=50, n_threads=n_threads,
                              random_state=0, tol=0.0, n_iter_no_change=100)
    clf.fit(X, y)
    assert X.shape not in scans and checks == [True, False, False]
    before = [t.copy() for t in clf.thetas_]
    for bad in (np.nan, np.inf):
        X2 = X.copy()
        X2[-1, 4] = bad
        with pytest.raises(ValueError) as want:
            check_array(X2, estimator=clf, input_name="X")
        with pytest.raises(ValueError) as got:
            clf.set_params(warm_start=True).fit(X2, y)
        assert str(got.value) == str(want.value)
        assert all(np.array_equal(a, b) for a, b in zip(clf.thetas_, before))  # the failed fit changed nothing
        with fused.disabled(), pytest.raises(ValueError) as got:  # the NumPy loop: checked before its first batch
            clf.fit(X2, y)
        assert str(got.value) == str(want.value)
        with pytest.raises(ValueError, match="NaN|infinity"):  # a validation split reads rows of X: checked first
            glassnet.Classifier(hidden_layer_sizes=(4,), solver="adam", early_stopping=True).fit(X2, y)
    with pytest.raises(ValueError, match="NaN|infinity"):
        glassnet.Regressor(hidden_layer_sizes=(4,), solver="sgd", max_iter=2).fit(X2, y.astype(float))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_plain_new_fit_is_validated_as_scikit_learn_validates_it(dtype):
    """setup.validated checks a new fit on a float ndarray and integer labels itself (no validate_data): the same
    arrays back, n_features_in_ recorded, and the feature names of an earlier fit on a DataFrame dropped, exactly as
    scikit-learn's validate_data leaves an estimator; other input still goes through scikit-learn."""
    pd = pytest.importorskip("pandas")
    from sklearn.utils.validation import validate_data

    from glassnet.train import setup

    rng = np.random.default_rng(0)
    X, y = rng.random((30, 4)).astype(dtype), rng.integers(0, 3, 30)
    frame = pd.DataFrame(X, columns=list("abcd"))
    ours, theirs = Classifier(), Classifier()
    for clf in (ours, theirs):
        validate_data(clf, frame, y, reset=True)
        assert list(clf.feature_names_in_) == list("abcd")
    Xo, yo = setup.validated(ours, X, y, dtype=setup.X_DTYPES, reset=True, finite=False)
    Xt, yt = validate_data(theirs, X, y, dtype=setup.X_DTYPES, reset=True, accept_sparse=setup.SPARSE,
                           ensure_all_finite=False)
    assert Xo is X and yo is y  # not even a view: nothing to convert
    assert np.shares_memory(Xt, X) and np.shares_memory(yt, y) and Xt.dtype == X.dtype and yt.dtype == y.dtype
    assert vars(ours) == vars(theirs) and ours.n_features_in_ == 4 and not hasattr(ours, "feature_names_in_")
    # what it leaves to scikit-learn: labels as a list, a column vector (its warning), an empty X (its error)
    assert np.array_equal(setup.validated(ours, X, list(y), dtype=setup.X_DTYPES, reset=True)[1], y)
    with pytest.warns(Warning, match="column-vector y"):
        setup.validated(ours, X, y.reshape(-1, 1), dtype=setup.X_DTYPES, reset=True)
    with pytest.raises(ValueError, match="0 sample"):
        setup.validated(ours, X[:0], y[:0], dtype=setup.X_DTYPES, reset=True)
