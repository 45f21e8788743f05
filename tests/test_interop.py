"""Interop: scikit-learn MLPClassifier both ways (same predictions; the faithful logistic-output mapping trains on the
lecture's J), Nielsen's network2 JSON and the course's .mat files."""

import json
import os
import warnings

import numpy as np
import pytest
from scipy.io import loadmat
from scipy.special import expit, softmax
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

import glassnet
from conftest import EX4_WEIGHTS
from glassnet import Classifier
from glassnet.errors import DataError, ModelFileError
from glassnet.io import interop


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    return X, names


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def iris_model(iris):
    X, y = iris
    return Classifier(hidden_layer_sizes=(6, 4), alpha=0.3, max_iter=300, tol=1e-8, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def cancer_model(cancer):
    X, y = cancer
    return Classifier(hidden_layer_sizes=(5,), max_iter=200, random_state=0).fit(X, y)


# ------------------------------------------------------------------------------------------ scikit-learn


def test_to_sklearn_binary_is_identical(cancer_model, cancer):
    X, y = cancer
    mlp = interop.to_sklearn(cancer_model)
    assert isinstance(mlp, MLPClassifier) and mlp.activation == "logistic" and mlp.out_activation_ == "logistic"
    assert mlp.hidden_layer_sizes == (5,) and mlp.alpha == 1.0
    np.testing.assert_array_equal(mlp.predict(X), cancer_model.predict(X))
    np.testing.assert_allclose(mlp.predict_proba(X), cancer_model.predict_proba(X), rtol=1e-12, atol=1e-15)
    assert mlp.score(X, y) == cancer_model.score(X, y)
    np.testing.assert_array_equal(mlp.coefs_[0], cancer_model.thetas_[0][:, 1:].T)
    np.testing.assert_array_equal(mlp.intercepts_[1], cancer_model.thetas_[1][:, 0])


def test_to_sklearn_multiclass_logistic_output(iris_model, iris):
    X, y = iris
    mlp = interop.to_sklearn(iris_model)
    np.testing.assert_array_equal(mlp.predict(X), iris_model.predict(X))
    h = mlp.predict_proba(X)  # the raw sigmoid outputs h_k, as in glassnet.forward
    np.testing.assert_allclose(h, glassnet.forward(iris_model.thetas_, X).output, rtol=1e-12)
    np.testing.assert_allclose(h / h.sum(axis=1, keepdims=True), iris_model.predict_proba(X), rtol=1e-12)


def test_to_sklearn_softmax_output_keeps_predictions(iris_model, iris):
    X, y = iris
    mlp = interop.to_sklearn(iris_model, output="softmax")
    assert mlp.out_activation_ == "softmax"
    np.testing.assert_array_equal(mlp.predict(X), iris_model.predict(X))
    z = glassnet.forward(iris_model.thetas_, X).z[-1]
    np.testing.assert_allclose(mlp.predict_proba(X), softmax(z, axis=1), rtol=1e-12)


def test_exported_model_trains_on_the_lectures_cost(iris_model, iris):
    # The logistic-output export makes scikit-learn use its multilabel "binary_log_loss": the lecture's J(Θ) with the
    # same α = λ. Evaluate scikit-learn's own training objective (its _backprop) at our weights: it must be our J.
    X, y = iris
    mlp = interop.to_sklearn(iris_model)
    Y = mlp._label_binarizer.transform(y).astype(float)
    acts = [X] + [np.empty((X.shape[0], c.shape[1])) for c in mlp.coefs_]
    deltas = [np.empty_like(a) for a in acts[1:]]
    cg = [np.empty_like(c) for c in mlp.coefs_]
    ig = [np.empty_like(b) for b in mlp.intercepts_]
    loss, coef_grads, intercept_grads = mlp._backprop(X, Y, None, acts, deltas, cg, ig)
    J, grads = iris_model.cost_and_gradient(X, y)
    assert loss == pytest.approx(J, rel=1e-12)
    for D, cgr, igr in zip(grads, coef_grads, intercept_grads):
        np.testing.assert_allclose(D, np.column_stack([igr, cgr.T]), rtol=1e-9, atol=1e-13)
    assert mlp.out_activation_ == "logistic"
    # and a warm-started scikit-learn fit keeps minimizing that same J: it never ends above where it started
    mlp = interop.to_sklearn(iris_model).set_params(warm_start=True, max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X, y)
    assert mlp.loss_ <= J * (1 + 1e-9)


def test_from_sklearn_binary_matches_sklearns_own_loss(cancer):
    X, y = cancer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier(hidden_layer_sizes=(4,), activation="logistic", solver="lbfgs", alpha=0.5, max_iter=60,
                            random_state=0).fit(X, y)
    clf = interop.from_sklearn(mlp)
    np.testing.assert_array_equal(clf.predict(X), mlp.predict(X))
    np.testing.assert_allclose(clf.predict_proba(X), mlp.predict_proba(X), rtol=1e-12, atol=1e-15)
    assert clf.cost_and_gradient(X, y)[0] == pytest.approx(mlp.loss_, rel=1e-9)  # scikit-learn as an oracle of J
    assert clf.alpha == 0.5 and clf.solver == "lbfgs" and clf.n_iter_ == mlp.n_iter_ and clf.layer_sizes_ == [30, 4, 1]


def test_from_sklearn_softmax_multiclass(iris):
    X, y = iris
    mlp = MLPClassifier(hidden_layer_sizes=(5,), activation="logistic", solver="adam", learning_rate_init=0.05,
                        max_iter=300, random_state=0).fit(X, y)
    clf = interop.from_sklearn(mlp)
    np.testing.assert_array_equal(clf.predict(X), mlp.predict(X))  # argmax of the same z
    np.testing.assert_array_equal(clf.classes_, mlp.classes_)
    assert clf.solver == "adam" and clf.learning_rate == 0.05
    assert clf.loss_curve_ == mlp.loss_curve_ and clf.n_iter_ == mlp.n_iter_
    np.testing.assert_allclose(interop.to_sklearn(clf, output="softmax").predict_proba(X), mlp.predict_proba(X),
                               rtol=1e-12)


def test_sklearn_round_trip_is_exact(iris_model):
    back = interop.from_sklearn(interop.to_sklearn(iris_model))
    for a, b in zip(back.thetas_, iris_model.thetas_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(back.classes_, iris_model.classes_)
    assert back.get_params()["alpha"] == iris_model.alpha


def test_other_activations_go_both_ways_and_sigmoid_formats_refuse_them(iris, tmp_path):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        relu = MLPClassifier(hidden_layer_sizes=(3,), max_iter=5, random_state=0).fit(X, y)
    clf = interop.from_sklearn(relu)
    assert clf.activation == "relu"
    np.testing.assert_array_equal(clf.predict(X), relu.predict(X))
    tanh = Classifier(hidden_layer_sizes=(3,), activation="tanh", output="softmax", max_iter=20, random_state=0)
    tanh.fit(X, y)
    mlp = interop.to_sklearn(tanh)
    assert (mlp.activation, mlp.out_activation_) == ("tanh", "softmax")
    np.testing.assert_allclose(mlp.predict_proba(X), tanh.predict_proba(X), rtol=1e-12)
    with pytest.raises(ValueError, match="holds the lecture's sigmoid networks only"):
        interop.save_mat(tanh, tmp_path / "t.mat")
    with pytest.raises(ValueError, match="holds the lecture's sigmoid networks only"):
        interop.to_nielsen(tanh)
    with pytest.raises(ValueError, match="MLPClassifier"):
        interop.from_sklearn(Classifier())
    with pytest.raises(ValueError, match="fitted glassnet.Classifier"):
        interop.to_sklearn(relu)
    with pytest.raises(ValueError, match="output"):
        interop.to_sklearn(Classifier(), output="relu")


# ------------------------------------------------------------------------------------------ classes


def test_classifier_from_thetas_reorders_units_to_sorted_classes():
    rng = np.random.default_rng(0)
    thetas = glassnet.random_init([3, 4, 3], rng=rng)
    X = rng.standard_normal((50, 3))
    raw = np.argmax(glassnet.forward(thetas, X).output, axis=1)  # unit index
    clf = interop.classifier_from_thetas(thetas, classes=["c", "a", "b"])  # unit 0 is "c"
    np.testing.assert_array_equal(clf.classes_, ["a", "b", "c"])
    np.testing.assert_array_equal(clf.predict(X), np.array(["c", "a", "b"])[raw])
    # One output unit, classes [negative, positive] = ["yes", "no"]: h = P("no"). Sorted, "yes" becomes classes_[1],
    # so the unit is negated to give h' = 1 - h = P("yes").
    single = glassnet.random_init([3, 1], rng=1)
    h = glassnet.forward(single, X).output[:, 0]
    clf = interop.classifier_from_thetas(single, classes=["yes", "no"])
    np.testing.assert_array_equal(clf.classes_, ["no", "yes"])
    np.testing.assert_allclose(clf.predict_proba(X)[:, 1], 1 - h, rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), np.where(h > 0.5, "no", "yes"))
    assert 10 < (h > 0.5).sum() < 40
    with pytest.raises(ValueError, match="3 output units need 3 labels"):
        interop.classifier_from_thetas(thetas, classes=[0, 1])
    with pytest.raises(ValueError, match="distinct"):
        interop.classifier_from_thetas(thetas, classes=[0, 1, 1])
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        interop.classifier_from_thetas(thetas, hidden_layer_sizes=(5,))
    with pytest.raises(ValueError, match="finite"):
        interop.classifier_from_thetas([np.full((1, 3), np.nan)])


# ------------------------------------------------------------------------------------------ Nielsen JSON


def nielsen_feedforward(d, x):
    """network2.Network.feedforward, transcribed: a = σ(w·a + b) with column vectors."""
    a = np.asarray(x, dtype=float).reshape(-1, 1)
    for b, w in zip(d["biases"], d["weights"]):
        a = expit(np.dot(np.array(w), a) + np.array(b))
    return a


def test_to_nielsen_is_network2_layout(iris_model, iris):
    X, _ = iris
    d = to = interop.to_nielsen(iris_model)
    assert d["sizes"] == [4, 6, 4, 3] and d["cost"] == "CrossEntropyCost"
    assert [np.shape(w) for w in d["weights"]] == [(6, 4), (4, 6), (3, 4)]
    assert [np.shape(b) for b in d["biases"]] == [(6, 1), (4, 1), (3, 1)]
    json.dumps(to, allow_nan=False)
    h = glassnet.forward(iris_model.thetas_, X).output
    for t in (0, 70, 149):
        np.testing.assert_allclose(nielsen_feedforward(d, X[t])[:, 0], h[t], rtol=1e-12)


def test_nielsen_round_trip(iris_model, iris, tmp_path):
    X, _ = iris
    back = interop.from_nielsen(interop.to_nielsen(iris_model), classes=iris_model.classes_, alpha=0.3)
    for a, b in zip(back.thetas_, iris_model.thetas_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(back.predict(X), iris_model.predict(X))
    path = interop.save_nielsen(iris_model, tmp_path / "net.json")
    assert json.loads(path.read_text())["sizes"] == [4, 6, 4, 3]
    loaded = interop.load_nielsen(path, classes=iris_model.classes_)
    np.testing.assert_array_equal(loaded.predict(X), iris_model.predict(X))
    assert os.listdir(tmp_path) == ["net.json"]  # no temporary files left behind


def test_from_nielsen_accepts_flat_biases_and_quadratic_cost():
    d = {"sizes": [2, 2, 1], "weights": [[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0]]], "biases": [[0.5, -0.5], [[1.0]]],
         "cost": "QuadraticCost"}
    clf = interop.from_nielsen(d)
    np.testing.assert_array_equal(clf.thetas_[0], [[0.5, 1.0, 2.0], [-0.5, 3.0, 4.0]])
    np.testing.assert_array_equal(clf.thetas_[1], [[1.0, 5.0, 6.0]])
    np.testing.assert_array_equal(clf.classes_, [0, 1])


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.pop("weights"), "missing key"),
        (lambda d: d.update(sizes=[2, 0, 1]), "sizes"),
        (lambda d: d.update(sizes="2,2,1"), "sizes"),
        (lambda d: d["weights"].__setitem__(0, [[1.0, 2.0]]), r"weights'\]\[0\]: expected shape \(2, 2\)"),
        (lambda d: d["biases"].__setitem__(1, [["x"]]), r"biases'\]\[1\]"),
        (lambda d: d["weights"][1][0].__setitem__(0, float("nan")), "finite"),
        (lambda d: d.update(cost="HingeCost"), "cost"),
        (lambda d: d["biases"].pop(), "biases"),
    ],
)
def test_bad_nielsen_dicts_are_named(change, message):
    d = {"sizes": [2, 2, 1], "weights": [[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0]]], "biases": [[[0.5], [-0.5]], [[1.0]]]}
    change(d)
    with pytest.raises(ValueError, match=message):
        interop.from_nielsen(d)


def test_bad_nielsen_files_raise_model_file_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"sizes": [2, 1], "weights": [[[1.0, 2.0]]]')  # truncated
    with pytest.raises(ModelFileError, match="bad.json: not a JSON file"):
        interop.load_nielsen(bad)
    bad.write_text(json.dumps({"sizes": [2, 1], "weights": [[[1.0, 2.0]]]}))
    with pytest.raises(ModelFileError, match="bad.json: nielsen: missing key"):
        interop.load_nielsen(bad)
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ModelFileError, match="bad.json"):
        interop.load_nielsen(bad)
    bad.write_text("[" * 100_000)
    with pytest.raises(ModelFileError, match="bad.json"):
        interop.load_nielsen(bad)
    with pytest.raises(FileNotFoundError):
        interop.load_nielsen(tmp_path / "missing.json")


# ------------------------------------------------------------------------------------------ course .mat


def test_mat_round_trip_in_course_layout(iris_model, iris, tmp_path):
    X, _ = iris
    path = interop.save_mat(iris_model, tmp_path / "weights.mat")
    raw = loadmat(path)
    assert sorted(k for k in raw if not k.startswith("__")) == ["Theta1", "Theta2", "Theta3"]
    np.testing.assert_array_equal(raw["Theta2"], iris_model.thetas_[1])
    clf = interop.load_mat(path, classes=iris_model.classes_, alpha=0.3)
    np.testing.assert_array_equal(clf.predict(X), iris_model.predict(X))
    assert clf.alpha == 0.3 and clf.n_iter_ == 0 and clf.history_.message == "imported weights"
    assert os.listdir(tmp_path) == ["weights.mat"]


def test_save_mat_replaces_atomically_and_accepts_theta_lists(tmp_path):
    path = tmp_path / "w.mat"
    path.write_bytes(b"old content")
    thetas = glassnet.random_init([3, 2, 2], rng=0)
    interop.save_mat(thetas, path)
    np.testing.assert_array_equal(loadmat(path)["Theta1"], thetas[0])
    assert os.listdir(tmp_path) == ["w.mat"]
    with pytest.raises(FileNotFoundError):
        interop.save_mat(thetas, tmp_path / "no" / "such" / "folder.mat")
    with pytest.raises(ValueError, match="thetas"):
        interop.save_mat([np.zeros((2, 3)), np.zeros((2, 5))], path)  # shapes do not chain
    np.testing.assert_array_equal(loadmat(path)["Theta1"], thetas[0])  # old file untouched


def test_course_ex4_weights_with_course_digit_classes():
    if not EX4_WEIGHTS.exists():
        pytest.skip(f"reference weights not found at {EX4_WEIGHTS}")
    clf = interop.load_mat(EX4_WEIGHTS, classes=interop.COURSE_DIGIT_CLASSES)
    assert clf.layer_sizes_ == [400, 25, 10]
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    X = np.random.default_rng(0).uniform(-0.2, 1.0, (300, 400))
    raw = loadmat(EX4_WEIGHTS)
    course = np.argmax(glassnet.forward([raw["Theta1"], raw["Theta2"]], X).output, axis=1) + 1  # Octave's 1..10
    np.testing.assert_array_equal(clf.predict(X), course % 10)  # 10 means digit 0
    assert len(np.unique(course)) > 3


def test_bad_mat_file_raises_data_error(tmp_path):
    bad = tmp_path / "bad.mat"
    bad.write_bytes(b"MATLAB 5.0 MAT-file" + b"\x00" * 20)
    with pytest.raises(DataError, match="bad.mat"):
        interop.load_mat(bad)
