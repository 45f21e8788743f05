"""``glassnet.Classifier`` on Dask input: the same fit as in memory, the sgd/adam stream, lazy predictions, errors.

One LocalCluster (2 worker processes, 1 thread each) serves the whole module; the tests make it the current client
with ``client.as_current()``, the way a user's ``distributed.Client(...)`` becomes the default.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from conftest import dask_client

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def client():
    with dask_client() as c:
        yield c


def blobs(m=120, n=4, labels=(3, 7, 11), seed=0):
    """Gaussian blobs with the given (unsorted, not 0..K-1) labels: the classes must be found and encoded."""
    rng = np.random.default_rng(seed)
    y = rng.choice(np.asarray(labels), size=m)
    centers = {c: rng.normal(scale=2.0, size=n) for c in labels}
    X = np.array([centers[c] for c in y]) + rng.standard_normal((m, n))
    return X, y


def assert_same_fit(clf, ref, rtol=1e-8):
    """Same classes, iterations, costs (1e-10) and weights (``rtol`` relative to each Θ's largest entry)."""
    np.testing.assert_array_equal(clf.classes_, ref.classes_)
    assert clf.classes_.dtype == ref.classes_.dtype
    assert clf.n_iter_ == ref.n_iter_ == clf.history_.n_iter
    assert clf.n_features_in_ == ref.n_features_in_
    np.testing.assert_allclose(clf.history_.cost, ref.history_.cost, rtol=1e-10)
    for t, r in zip(clf.thetas_, ref.thetas_, strict=True):
        np.testing.assert_allclose(t, r, rtol=rtol, atol=rtol * np.abs(r).max())


# --------------------------------------------------------------------------------------------------------------------
# Full batch: the same fit as in memory
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["lbfgs", "cg"])
def test_full_batch_fit_equals_the_in_memory_fit(client, solver):
    X, y = blobs()
    kw = dict(hidden_layer_sizes=(6,), alpha=0.5, max_iter=15, solver=solver, random_state=4)
    ref = glassnet.Classifier(**kw).fit(X, y)
    Xd, yd = da.from_array(X, chunks=(25, 2)), da.from_array(y, chunks=25)  # 5 row chunks, column chunks merged
    with client.as_current(), distributed.get_task_stream(client) as stream:
        clf = glassnet.Classifier(**kw).fit(Xd, yd)
    assert clf.n_iter_ == 15 and clf.classes_.tolist() == [3, 7, 11]
    assert_same_fit(clf, ref)
    assert clf.history_.initial_cost == pytest.approx(ref.history_.initial_cost, rel=1e-12)
    # The sums really ran on the workers: 5 map tasks per evaluation (plus the classes pass, once per chunk).
    names = [str(t["key"][0] if isinstance(t["key"], tuple) else t["key"]) for t in stream.data]
    assert sum(n.startswith("_chunk_sums") for n in names) == 5 * clf.history_.n_evals
    assert sum(n.startswith("_chunk_labels") for n in names) == 5
    assert not hasattr(clf, "feature_names_in_")
    np.testing.assert_array_equal(clf.predict(X), ref.predict(X))


def test_dask_fits_compute_in_the_in_memory_fits_dtype(client):
    X, y = blobs()
    kw = dict(hidden_layer_sizes=(6,), alpha=0.5, max_iter=10, random_state=4)
    Xd, yd = da.from_array(X, chunks=(40, 4)), da.from_array(y, chunks=40)
    with client.as_current():
        asked = glassnet.Classifier(**kw, dtype="float32").fit(Xd, yd)
        followed = glassnet.Classifier(**kw).fit(Xd.astype(np.float32), yd)  # float32 chunks stay float32
    ref = glassnet.Classifier(**kw).fit(X.astype(np.float32), y)
    for model in (asked, followed):
        assert all(t.dtype == np.float32 for t in model.thetas_)
        for t, r in zip(model.thetas_, ref.thetas_):
            np.testing.assert_allclose(t, r, rtol=1e-3, atol=1e-4)  # float32 sums taken chunk by chunk


def test_binary_text_labels_from_a_dask_dataframe_with_unknown_chunks(client):
    X, y = blobs(m=90, n=3, labels=(0, 1), seed=1)
    names = np.array(["no", "yes"])[y]
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    kw = dict(hidden_layer_sizes=(4,), alpha=0.1, max_iter=12, random_state=2)
    ref = glassnet.Classifier(**kw).fit(frame, names)
    ddf = dd.from_pandas(frame.assign(label=names), npartitions=3)
    assert np.isnan(ddf[["a", "b", "c"]].to_dask_array().chunks[0][0])  # sizes unknown until computed
    with client.as_current():
        clf = glassnet.Classifier(**kw).fit(ddf[["a", "b", "c"]], ddf["label"])
        assert clf.classes_.tolist() == ["no", "yes"] and clf.n_outputs_ == 1
        assert clf.feature_names_in_.tolist() == ["a", "b", "c"]
        assert_same_fit(clf, ref)
        pred = clf.predict(ddf[["a", "b", "c"]])
        assert isinstance(pred, da.Array)
        np.testing.assert_array_equal(pred.compute(), ref.predict(frame))
        assert clf.score(ddf[["a", "b", "c"]], ddf["label"]) == pytest.approx(ref.score(frame, names), abs=1e-15)
        with pytest.raises(ValueError, match=r"feature names should match .*\['a', 'b', 'c'\], got \['c', 'b', 'a'\]"):
            clf.predict(ddf[["c", "b", "a"]])


def test_in_memory_labels_and_the_local_scheduler():
    """Without any Dask client the fit runs on Dask's local scheduler; in-memory y is cut like X."""
    X, y = blobs(m=60, seed=3)
    kw = dict(hidden_layer_sizes=(5,), alpha=1.0, max_iter=8, random_state=0)
    clf = glassnet.Classifier(**kw).fit(da.from_array(X, chunks=(16, 4)), list(y))
    assert_same_fit(clf, glassnet.Classifier(**kw).fit(X, y))


def test_warm_start_continues_like_in_memory(client):
    X, y = blobs(m=80, seed=5)
    kw = dict(hidden_layer_sizes=(5,), alpha=0.2, max_iter=6, random_state=1, warm_start=True)
    ref = glassnet.Classifier(**kw).fit(X, y).fit(X, y)
    Xd, yd = da.from_array(X, chunks=(30, 4)), da.from_array(y, chunks=30)
    with client.as_current():
        clf = glassnet.Classifier(**kw).fit(Xd, yd).fit(Xd, yd)
        assert clf.n_iter_ == 12 and len(clf.history_.cost) == 12
        assert_same_fit(clf, ref, rtol=1e-7)
        with pytest.raises(ValueError, match=r"y: warm_start needs the classes of the previous fit \[3, 7, 11\]"):
            clf.fit(Xd, da.where(yd == 3, 4, yd))


def test_early_stopping_with_in_memory_validation_data(client):
    X, y = blobs(m=150, seed=6)
    Xv, yv = blobs(m=40, seed=7)
    kw = dict(hidden_layer_sizes=(8,), alpha=0.0, max_iter=200, early_stopping=True, n_iter_no_change=3,
              random_state=0)
    ref = glassnet.Classifier(**kw).fit(X, y, X_val=Xv, y_val=yv)
    with client.as_current():
        clf = glassnet.Classifier(**kw).fit(da.from_array(X, chunks=50), da.from_array(y, chunks=50),
                                            X_val=Xv, y_val=yv)
    assert clf.history_.stopped_early and clf.n_iter_ < 200
    assert clf.history_.best_epoch == ref.history_.best_epoch
    assert_same_fit(clf, ref, rtol=1e-7)
    np.testing.assert_allclose(clf.history_.val_cost, ref.history_.val_cost, rtol=1e-9)


# --------------------------------------------------------------------------------------------------------------------
# Mini-batch: chunks are streamed
# --------------------------------------------------------------------------------------------------------------------


def test_adam_streams_the_chunks_and_learns(client):
    rng = np.random.default_rng(8)
    X = rng.standard_normal((400, 4))
    y = np.where(X[:, 0] - X[:, 2] > 0, "pos", "neg")
    Xd, yd = da.from_array(X, chunks=(100, 4)), da.from_array(y, chunks=100)
    kw = dict(hidden_layer_sizes=(5,), solver="adam", learning_rate=0.05, batch_size=25, max_iter=15, tol=0.0,
              random_state=3)
    seen = []
    with client.as_current():
        clf = glassnet.Classifier(**kw).fit(Xd, yd, callbacks=lambda state: seen.append(state.epoch))
        again = glassnet.Classifier(**kw).fit(Xd, yd)
        assert clf.score(Xd, yd) > 0.95
    assert seen == list(range(1, 16)) and clf.n_iter_ == 15 and clf.history_.solver == "adam"
    assert clf.history_.n_evals == 15 * 16  # 4 chunks of 100 rows in batches of 25
    assert clf.history_.cost[-1] < 0.5 * clf.history_.cost[0]
    assert clf.history_.message == "reached max_epochs = 15"
    for t, r in zip(clf.thetas_, again.thetas_):  # seeded: the same run twice, whichever worker ran what
        np.testing.assert_array_equal(t, r)


def test_sgd_stops_on_tol_and_keeps_the_best_validation_weights(client):
    X, y = blobs(m=200, n=3, seed=9)
    Xv, yv = blobs(m=60, n=3, seed=10)
    Xd, yd = da.from_array(X, chunks=50), da.from_array(y, chunks=50)
    with client.as_current():
        flat = glassnet.Classifier(hidden_layer_sizes=(4,), solver="sgd", learning_rate=0.2, max_iter=300, tol=1e-2,
                                   n_iter_no_change=2, random_state=0).fit(Xd, yd)
        early = glassnet.Classifier(hidden_layer_sizes=(4,), solver="sgd", learning_rate=0.2, max_iter=300,
                                    early_stopping=True, n_iter_no_change=3, random_state=0).fit(
            Xd, yd, X_val=Xv, y_val=yv)
    h = flat.history_
    assert h.converged and not h.stopped_early and flat.n_iter_ < 300
    assert h.message.startswith("training cost did not improve by more than 0.01 for 2 epochs")
    e = early.history_
    assert e.stopped_early and early.n_iter_ < 300 and len(e.val_cost) == len(e.cost) == early.n_iter_
    assert e.best_epoch == int(np.argmin(e.val_cost)) + 1 and e.message.startswith("early stopping")
    # the kept weights are those of the best epoch: their validation cost is the lowest recorded
    J_val = glassnet.cost(early.thetas_, Xv, early._encode(yv), 0.0)
    assert J_val == pytest.approx(min(e.val_cost), rel=1e-12)


# --------------------------------------------------------------------------------------------------------------------
# Using the fitted model on Dask input
# --------------------------------------------------------------------------------------------------------------------


def test_predictions_are_lazy_dask_arrays_equal_to_in_memory(client):
    X, y = blobs(m=70, seed=11)
    clf = glassnet.Classifier(hidden_layer_sizes=(5, 4), alpha=0.3, max_iter=20, random_state=0).fit(X, y)
    Xd = da.from_array(X, chunks=(20, 4))
    with client.as_current():
        for method, shape in (("predict", (70,)), ("predict_proba", (70, 3)), ("predict_log_proba", (70, 3)),
                              ("transform", (70, 4))):
            out = getattr(clf, method)(Xd)
            assert isinstance(out, da.Array) and out.shape == shape and out.chunks[0] == Xd.chunks[0]
            np.testing.assert_allclose(out.compute(), getattr(clf, method)(X), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(clf.transform(Xd, layer=2).compute(), clf.transform(X, layer=2), rtol=1e-12)
        assert clf.score(Xd, da.from_array(y, chunks=20)) == clf.score(X, y)
        assert clf.score(Xd, y) == clf.score(X, y)
        J, grads = clf.cost_and_gradient(Xd, da.from_array(y, chunks=20))
        J0, grads0 = clf.cost_and_gradient(X, y)
        assert J == pytest.approx(J0, rel=1e-12)
        for g, g0 in zip(grads, grads0):
            np.testing.assert_allclose(g, g0, rtol=1e-10, atol=1e-12)
        with pytest.raises(ValueError, match=r"y \(row chunk 1\): found labels not seen in fit, e.g. 5"):
            clf.cost_and_gradient(Xd, da.from_array(np.where(np.arange(70) == 30, 5, y), chunks=20))
        bad = X.copy()
        bad[45, 1] = np.nan
        with pytest.raises(ValueError, match=r"X \(row chunk 2\): expected finite values, found nan at row 5"):
            clf.predict(da.from_array(bad, chunks=(20, 4))).compute()
    with pytest.raises(ValueError, match=r"X has 3 features, but Classifier is expecting 4 features"):
        clf.predict(Xd[:, :3])
    with pytest.raises(ValueError, match=r"sample_weight: not supported with Dask input"):
        clf.score(Xd, y, sample_weight=np.ones(70))


# --------------------------------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------------------------------


def test_mismatched_chunks_are_a_clear_error(client):
    X, y = blobs(m=50, seed=12)
    clf = glassnet.Classifier(max_iter=3, random_state=0)
    with client.as_current():
        with pytest.raises(ValueError, match=r"X and y: expected the same row chunks, got X with 3 chunks of sizes "
                                             r"\(20, 20, 10\) and y with 2 chunks of sizes \(25, 25\)"):
            clf.fit(da.from_array(X, chunks=(20, 4)), da.from_array(y, chunks=25))
        # unknown sizes (DataFrames partitioned differently): found by the worker that holds the chunk
        Xd = dd.from_pandas(pd.DataFrame(X, columns=list("abcd")), npartitions=2)
        yd = dd.from_pandas(pd.Series(y[:48], name="y"), npartitions=2)
        with pytest.raises(ValueError, match=r"X and y: row chunk \d has \d+ rows of X but \d+ labels"):
            clf.fit(Xd, yd)
    assert not hasattr(clf, "thetas_")


def test_unsupported_dask_combinations_say_what_to_do(client):
    X, y = blobs(m=40, seed=13)
    Xd, yd = da.from_array(X, chunks=20), da.from_array(y, chunks=20)
    with client.as_current():
        with pytest.raises(ValueError, match=r"early_stopping: with Dask input, pass in-memory validation data"):
            glassnet.Classifier(early_stopping=True).fit(Xd, yd)
        with pytest.raises(ValueError, match=r"X_val, y_val: expected in-memory arrays .*call .compute\(\)"):
            glassnet.Classifier(max_iter=2).fit(Xd, yd, X_val=Xd, y_val=yd)
        with pytest.raises(ValueError, match=r"X: expected a Dask array or DataFrame like y, got ndarray"):
            glassnet.Classifier().fit(X, yd)
        with pytest.raises(ValueError, match=r"Unknown label type: continuous"):
            glassnet.Classifier().fit(Xd, yd + 0.5)
        with pytest.raises(ValueError, match=r"y: Classifier needs at least 2 classes to learn from, got 1 class "
                                             r"\(np.int64\(3\)\) in 40 labels|got 1 class \(3\) in 40 labels"):
            glassnet.Classifier().fit(Xd, da.full(40, 3, chunks=20))
        with pytest.raises(ValueError, match=r"X: expected numbers, got dtype"):
            glassnet.Classifier().fit(da.from_array(X.astype(str), chunks=20), yd)
        with pytest.raises(ValueError, match=r"y: expected 40 labels \(one per row of X\), got shape \(39,\)"):
            glassnet.Classifier().fit(Xd, y[:39])
    clf = glassnet.Classifier(solver="adam", max_iter=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"X: partial_fit takes in-memory arrays, got a Dask Array; call "
                                         r"\.compute\(\) first"):
        clf.partial_fit(Xd, yd)
    with pytest.raises(ValueError, match=r"X: hidden_activations takes in-memory arrays"):
        clf.hidden_activations(Xd)
