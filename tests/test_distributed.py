"""Dask data parallelism: chunk sums equal the in-memory J and D, fits match, files read lazily, faults surface.

One LocalCluster (2 worker processes, 1 thread each) serves the whole module; it is created with Dask's
``allowed-failures`` set to 1 so that the worker-death tests finish in seconds. The fault tests run last.
"""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

import glassnet
from conftest import dask_client, random_problem
from glassnet.scale import distributed as gd

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def client():
    with dask_client(allowed_failures=1) as c:
        yield c


def assert_same(result, expected, rtol=1e-10):
    """J and every D^(l) equal to ``rtol`` relative (each gradient relative to its largest entry)."""
    J, grads = result
    J0, grads0 = expected
    assert isinstance(J, float)
    assert abs(J - J0) <= rtol * abs(J0)
    assert [g.shape for g in grads] == [g.shape for g in grads0]
    for g, g0 in zip(grads, grads0):
        assert isinstance(g, np.ndarray)
        np.testing.assert_allclose(g, g0, rtol=rtol, atol=rtol * np.abs(g0).max())


# --------------------------------------------------------------------------------------------------------------------
# J and D equal the in-memory computation
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sizes", "m", "row_chunks", "col_chunks", "lam"),
    [
        ([6, 5, 3], 50, 7, 6, 0.0),  # 8 chunks: a 2-level reduction tree; last chunk short
        ([6, 5, 3], 50, 50, 6, 1.5),  # one chunk
        ([8, 7, 4, 3], 103, 20, 3, 0.3),  # column chunks are merged before the map step
        ([5, 4, 1], 40, (10, 25, 5), 5, 2.0),  # K = 1 with uneven chunks
    ],
)
def test_chunk_sums_equal_in_memory(client, sizes, m, row_chunks, col_chunks, lam):
    thetas, X, y = random_problem(sizes, m, seed=m + len(sizes))
    expected = glassnet.cost_and_gradient(thetas, X, y, lam)
    Xd = da.from_array(X, chunks=(row_chunks, col_chunks))
    yd = da.from_array(y, chunks=(Xd.chunks[0],))
    assert_same(gd.cost_and_gradient_dask(thetas, Xd, yd, lam, client=client), expected)


def test_public_cost_and_gradient_uses_the_current_client(client):
    thetas, X, y = random_problem([6, 5, 3], 60, seed=3)
    Y = np.eye(3)[y]  # one-hot targets work too
    expected = glassnet.cost_and_gradient(thetas, X, Y, 0.7)
    Xd = da.from_array(X, chunks=(16, 6))
    with client.as_current(), distributed.get_task_stream(client) as stream:
        result = glassnet.cost_and_gradient(thetas, Xd, da.from_array(Y, chunks=(16, 3)), 0.7)
    assert_same(result, expected)
    # The work really ran on the cluster's workers: one map task per row chunk.
    names = [task["key"][0] if isinstance(task["key"], tuple) else task["key"] for task in stream.data]
    assert sum(str(name).startswith("_chunk_sums") for name in names) == 4
    # Errors of the chunks come through the current client unchanged.
    with client.as_current(), pytest.raises(ValueError, match=r"y \(row chunk \d\): expected labels in 0..2"):
        glassnet.cost_and_gradient(thetas, Xd, da.from_array(y + 1, chunks=16), 0.7)


def test_local_scheduler_without_a_client():
    thetas, X, y = random_problem([6, 5, 3], 40, seed=4)
    result = glassnet.cost_and_gradient(thetas, da.from_array(X, chunks=(9, 6)), da.from_array(y, chunks=9), 0.2)
    assert_same(result, glassnet.cost_and_gradient(thetas, X, y, 0.2))


def test_in_memory_labels_are_chunked_like_X(client):
    thetas, X, y = random_problem([6, 5, 3], 45, seed=5)
    result = gd.cost_and_gradient_dask(thetas, da.from_array(X, chunks=(10, 6)), list(y), 1.0, client=client)
    assert_same(result, glassnet.cost_and_gradient(thetas, X, y, 1.0))


def test_float32_stays_float32(client):
    thetas, X, y = random_problem([6, 5, 3], 64, seed=6)
    X32 = X.astype(np.float32)
    J, grads = gd.cost_and_gradient_dask(thetas, da.from_array(X32, chunks=(16, 6)), da.from_array(y, chunks=16),
                                         0.5, client=client)
    J0, grads0 = glassnet.cost_and_gradient(thetas, X32, y, 0.5)
    assert all(g.dtype == np.float32 for g in grads)
    assert abs(J - J0) <= 1e-6 * J0
    for g, g0 in zip(grads, grads0):
        np.testing.assert_allclose(g, g0, rtol=1e-4, atol=1e-5 * np.abs(g0).max())


def test_dask_dataframe_with_unknown_chunk_sizes(client):
    thetas, X, y = random_problem([4, 5, 3], 70, seed=7)
    frame = pd.DataFrame(X, columns=list("abcd")).assign(label=y)
    ddf = dd.from_pandas(frame, npartitions=4)
    Xd, yd = ddf[list("abcd")], ddf["label"]
    assert np.isnan(Xd.to_dask_array().chunks[0][0])  # sizes are unknown until computed: glassnet counts the rows
    assert_same(gd.cost_and_gradient_dask(thetas, Xd, yd, 0.4, client=client),
                glassnet.cost_and_gradient(thetas, X, y, 0.4))
    # A one-column DataFrame of labels is taken as the label Series.
    assert_same(gd.cost_and_gradient_dask(thetas, Xd, ddf[["label"]], 0.4, client=client),
                glassnet.cost_and_gradient(thetas, X, y, 0.4))


def test_empty_partitions_add_nothing(client):
    thetas, X, y = random_problem([4, 5, 3], 60, seed=8)
    frame = pd.DataFrame(X, columns=list("abcd")).assign(label=y, keep=np.arange(60) >= 30)
    ddf = dd.from_pandas(frame, npartitions=4)
    ddf = ddf[ddf["keep"]]  # the first two partitions become empty
    result = gd.cost_and_gradient_dask(thetas, ddf[list("abcd")], ddf["label"], 0.4, client=client)
    assert_same(result, glassnet.cost_and_gradient(thetas, X[30:], y[30:], 0.4))


def test_scheduler_address_opens_and_closes_its_own_client(client):
    thetas, X, y = random_problem([6, 5, 3], 30, seed=9)
    n_clients = client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.clients))
    result = gd.cost_and_gradient_dask(thetas, da.from_array(X, chunks=10), da.from_array(y, chunks=10), 0.1,
                                       scheduler=client.scheduler.address)
    assert_same(result, glassnet.cost_and_gradient(thetas, X, y, 0.1))
    assert client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.clients)) == n_clients


# --------------------------------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------------------------------


def test_mismatched_chunks_name_X_y_and_the_sizes(client):
    thetas, X, y = random_problem([6, 5, 3], 50, seed=10)
    expected = r"X and y: .*X with 3 chunks of sizes \(20, 20, 10\).*y with 2 chunks of sizes \(25, 25\)"
    with pytest.raises(ValueError, match=expected):
        gd.cost_and_gradient_dask(thetas, da.from_array(X, chunks=(20, 6)), da.from_array(y, chunks=25), client=client)


def test_mismatched_unknown_chunks_fail_on_the_worker(client):
    thetas, X, y = random_problem([4, 5, 3], 40, seed=11)
    Xd = dd.from_pandas(pd.DataFrame(X, columns=list("abcd")), npartitions=2)
    yd = dd.from_pandas(pd.Series(y[:38], name="y"), npartitions=2)  # same number of partitions, 2 labels short
    with pytest.raises(ValueError, match=r"X and y: row chunk \d has \d+ rows of X but \d+ labels"):
        gd.cost_and_gradient_dask(thetas, Xd, yd, client=client)


def test_bad_values_are_reported_with_their_chunk(client):
    thetas, X, y = random_problem([6, 5, 3], 40, seed=12)
    X[25, 2] = np.nan
    with pytest.raises(ValueError, match=r"X \(row chunk 2\): expected finite values"):
        gd.cost_and_gradient_dask(thetas, da.from_array(X, chunks=10), da.from_array(y, chunks=10), client=client)
    X[25, 2] = 0.0
    y[33] = 7
    with pytest.raises(ValueError, match=r"y \(row chunk 3\): expected labels in 0..2 .*found 7"):
        gd.cost_and_gradient_dask(thetas, da.from_array(X, chunks=10), da.from_array(y, chunks=10), client=client)


def test_bad_arguments_fail_on_the_driver(client):
    thetas, X, y = random_problem([6, 5, 3], 20, seed=13)
    Xd, yd = da.from_array(X, chunks=10), da.from_array(y, chunks=10)
    with pytest.raises(ValueError, match=r"X: expected 6 columns \(s_1.*got 5"):
        gd.cost_and_gradient_dask(thetas, Xd[:, :5], yd, client=client)
    with pytest.raises(ValueError, match=r"X: expected a Dask array or DataFrame chunked by rows, got ndarray"):
        gd.cost_and_gradient_dask(thetas, X, yd, client=client)
    with pytest.raises(ValueError, match=r"y: expected 20 labels"):
        gd.cost_and_gradient_dask(thetas, Xd, y[:19], client=client)
    with pytest.raises(ValueError, match=r"lam: expected"):
        gd.cost_and_gradient_dask(thetas, Xd, yd, -1.0, client=client)
    with pytest.raises(ValueError, match=r"client, scheduler: pass one of them"):
        gd.cost_and_gradient_dask(thetas, Xd, yd, client=client, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(ValueError, match=r"X: expected numeric columns, got \{'b': "):
        gd.cost_and_gradient_dask(thetas, dd.from_pandas(pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}),
                                                         npartitions=1), yd, client=client)


def test_unreachable_scheduler_is_a_connection_error():
    thetas, X, y = random_problem([6, 5, 3], 20, seed=14)
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(ConnectionError, match=r"scheduler: could not connect to the Dask scheduler at 'tcp://127"):
            gd.cost_and_gradient_dask(thetas, da.from_array(X, chunks=10), da.from_array(y, chunks=10),
                                      scheduler="tcp://127.0.0.1:9")


def _fail_on_third_block(block, block_info=None):
    if block_info[0]["chunk-location"][0] == 2:
        raise RuntimeError("disk read failed in block 2")
    return block


def test_a_task_that_raises_makes_the_call_raise(client):
    thetas, X, y = random_problem([6, 5, 3], 40, seed=15)
    Xd = da.from_array(X, chunks=(10, 6)).map_blocks(_fail_on_third_block, meta=X[:0])
    with pytest.raises(RuntimeError, match="disk read failed in block 2") as info:
        gd.cost_and_gradient_dask(thetas, Xd, da.from_array(y, chunks=10), client=client)
    assert any("no result was returned" in note for note in getattr(info.value, "__notes__", []))


# --------------------------------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------------------------------


def test_fit_full_batch_follows_the_in_memory_lbfgs(client):
    thetas, X, y = random_problem([6, 8, 3], 90, seed=16)
    Xd, yd = da.from_array(X, chunks=(20, 6)), da.from_array(y, chunks=20)
    out, history = gd.fit_full_batch(thetas, Xd, yd, 0.5, client=client, max_iter=15)
    ref, ref_history = glassnet.train.optimize.minimize_full_batch(
        lambda th: glassnet.cost_and_gradient(th, X, y, 0.5), thetas, max_iter=15)
    assert history.n_iter == ref_history.n_iter == 15
    np.testing.assert_allclose(history.cost, ref_history.cost, rtol=1e-9)
    for t, r in zip(out, ref):
        np.testing.assert_allclose(t, r, rtol=1e-7, atol=1e-9)
    assert history.cost[-1] < history.initial_cost


def test_fit_sgd_is_the_same_on_the_cluster_and_locally(client):
    thetas, X, y = random_problem([6, 8, 3], 120, seed=17)
    Xd, yd = da.from_array(X, chunks=(25, 6)), da.from_array(y, chunks=25)
    kw = dict(optimizer=glassnet.train.optimize.sgd(0.5, 0.9), batch_size=16, max_epochs=4, random_state=3)
    out, history = gd.fit_sgd(thetas, Xd, yd, 0.1, client=client, **kw)
    local, local_history = gd.fit_sgd(thetas, Xd, yd, 0.1, **kw)
    assert history.n_iter == 4 and history.n_evals == 4 * 10  # chunks 25,25,25,25,20 -> 2 batches each
    np.testing.assert_allclose(history.cost, local_history.cost, rtol=1e-12)
    for t, r in zip(out, local):
        np.testing.assert_allclose(t, r, rtol=1e-12, atol=1e-14)


def test_fit_sgd_learns_and_stops_on_callback(client):
    rng = np.random.default_rng(18)
    X = rng.standard_normal((200, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)  # linearly separable: the net must get most of it right
    thetas = glassnet.random_init([4, 5, 2], rng=1)
    Xd, yd = da.from_array(X, chunks=(50, 4)), da.from_array(y, chunks=50)
    seen = []

    def stop_after_8(state):
        seen.append(state.epoch)
        return state.epoch == 8

    out, history = gd.fit_sgd(thetas, Xd, yd, 0.0, client=client, optimizer=glassnet.train.optimize.adam(0.05),
                              batch_size=20, max_epochs=50, random_state=0, callbacks=stop_after_8)
    assert seen == list(range(1, 9)) and history.n_iter == 8 and history.stopped_early
    assert history.cost[-1] < 0.75 * history.cost[0]
    prediction = glassnet.forward(out, X).output.argmax(axis=1)
    assert (prediction == y).mean() > 0.9
    with pytest.raises(ValueError, match="optimizer: expected 'adam', 'sgd'"):
        gd.fit_sgd(thetas, Xd, yd, optimizer="lbfgs", client=client)
    with pytest.raises(ValueError, match="batch_size: expected a positive int"):
        gd.fit_sgd(thetas, Xd, yd, batch_size=0, client=client)


# --------------------------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------------------------


def _frame(X, y):
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])]).assign(label=y)


def test_read_chunks_csv_glob(client, tmp_path):
    thetas, X, y = random_problem([5, 4, 3], 60, seed=19)
    _frame(X[:35], y[:35]).to_csv(tmp_path / "part-0.csv", index=False)
    _frame(X[35:], y[35:]).to_csv(tmp_path / "part-1.csv", index=False)
    Xd, yd = gd.read_chunks(tmp_path / "part-*.csv", label_column="label")
    assert Xd.shape[1] == 5 and Xd.numblocks[0] == 2
    assert_same(gd.cost_and_gradient_dask(thetas, Xd, yd, 0.3, client=client),
                glassnet.cost_and_gradient(thetas, X, y, 0.3))
    # Only some columns, in a chosen order.
    Xd2, _ = gd.read_chunks(str(tmp_path / "part-*.csv"), "label", feature_columns=["x4", "x0"])
    np.testing.assert_allclose(Xd2.compute(), X[:, [4, 0]], rtol=1e-13)  # CSV text round trip: last digits


def test_read_chunks_csv_without_header_keeps_every_row(client, tmp_path):
    """A CSV whose first row is numbers (numpy.savetxt) has no header: that row is an example, not column names."""
    thetas, X, y = random_problem([5, 4, 3], 40, seed=22)
    np.savetxt(tmp_path / "plain.csv", np.column_stack([X, y]), delimiter=",", fmt="%.17g")
    assert glassnet.datasets.csv_columns(tmp_path / "plain.csv") == ([f"col_{j}" for j in range(6)], False)
    Xd, yd = gd.read_chunks(tmp_path / "plain.csv", label_column="col_5")
    np.testing.assert_array_equal(Xd.compute(), X)  # all 40 rows, the first one included (17 digits: exact)
    np.testing.assert_array_equal(yd.compute(), y)
    assert_same(gd.cost_and_gradient_dask(thetas, Xd, yd, 0.3, client=client),
                glassnet.cost_and_gradient(thetas, X, y, 0.3))
    with pytest.raises(ValueError, match=r"no column 'label'; its columns are \['col_0', .*no header row, so they "
                                         r"are named by position"):
        gd.read_chunks(tmp_path / "plain.csv", label_column="label")
    # The same rule as the in-memory reader
    data = glassnet.datasets.load_csv(tmp_path / "plain.csv")
    np.testing.assert_array_equal(data.X, X)
    np.testing.assert_array_equal(data.y, y)


def test_read_chunks_parquet(client, tmp_path):
    pytest.importorskip("pyarrow")
    thetas, X, y = random_problem([5, 4, 3], 50, seed=20)
    folder = tmp_path / "data"
    folder.mkdir()
    _frame(X[:20], y[:20]).to_parquet(folder / "a.parquet")
    _frame(X[20:], y[20:]).to_parquet(folder / "b.parquet")
    Xd, yd = gd.read_chunks(folder, label_column="label")
    assert_same(gd.cost_and_gradient_dask(thetas, Xd, yd, 0.3, client=client),
                glassnet.cost_and_gradient(thetas, X, y, 0.3))


def test_read_chunks_npz_rows_without_loading(client, tmp_path):
    thetas, X, y = random_problem([5, 4, 3], 70, seed=21)
    np.savez(tmp_path / "a.npz", X=X[:40], y=y[:40])
    np.savez_compressed(tmp_path / "b.npz", X=X[40:], y=y[40:])
    Xd, yd = gd.read_chunks(tmp_path / "*.npz", rows_per_chunk=15)
    assert Xd.chunks[0] == (15, 15, 10, 15, 15) and yd.chunks[0] == Xd.chunks[0]
    assert_same(gd.cost_and_gradient_dask(thetas, Xd, yd, 0.3, client=client),
                glassnet.cost_and_gradient(thetas, X, y, 0.3))
    # The row reader: C order seeks to the rows; Fortran order falls back to reading the array.
    np.savez(tmp_path / "f.npz", X=np.asfortranarray(X), y=y)
    np.testing.assert_array_equal(gd._read_npz_rows(str(tmp_path / "a.npz"), "X", 7, 19), X[7:19])
    np.testing.assert_array_equal(gd._read_npz_rows(str(tmp_path / "b.npz"), "y", 3, 30), y[43:70])
    np.testing.assert_array_equal(gd._read_npz_rows(str(tmp_path / "f.npz"), "X", 50, 70), X[50:70])


def test_read_chunks_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"path: no file matches .*nothing-\*\.csv"):
        gd.read_chunks(tmp_path / "nothing-*.csv")
    _frame(np.ones((3, 2)), [0, 1, 0]).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(ValueError, match=r"label_column: .*d.csv has no column 'y'; its columns are \['x0', 'x1', 'l"):
        gd.read_chunks(tmp_path / "d.csv")
    with pytest.raises(ValueError, match=r"feature_columns: .*has no columns \['x9'\]"):
        gd.read_chunks(tmp_path / "d.csv", "label", feature_columns=["x9"])
    pd.DataFrame({"x0": [1.0], "label": ["cat"]}).to_csv(tmp_path / "s.csv", index=False)
    with pytest.raises(ValueError, match=r"path: expected numeric columns in .*s.csv, got \{'label'"):
        gd.read_chunks(tmp_path / "s.csv", "label")
    np.savez(tmp_path / "k.npz", features=np.ones((3, 2)), y=np.zeros(3))
    with pytest.raises(ValueError, match=r"k.npz: expected an array named 'X' in the npz file, found \['features', "):
        gd.read_chunks(tmp_path / "k.npz")
    np.savez(tmp_path / "o.npz", X=np.ones((3, 2)), y=np.array([0, 1, None], dtype=object))
    with pytest.raises(ValueError, match=r"o.npz: array 'y' holds Python objects \(refused: .*would need pickle\)"):
        gd.read_chunks(tmp_path / "o.npz")
    (tmp_path / "t.json").write_text("[1, 2]\n")
    with pytest.raises(ValueError, match=r"path: cannot tell the file format"):
        gd.read_chunks(tmp_path / "t.json")


def test_globbed_csv_files_with_and_without_header_keep_every_row(client, tmp_path):
    """Each file's first row is judged by itself (the one header rule, csv_columns): a file without a header between
    two with one keeps its first row, in file order, through read_chunks and read_labelled."""
    thetas, X, y = random_problem([5, 4, 3], 30, seed=23)
    _frame(X[:10], y[:10]).to_csv(tmp_path / "part-0.csv", index=False)
    np.savetxt(tmp_path / "part-1.csv", np.column_stack([X[10:20], y[10:20]]), delimiter=",", fmt="%.17g")
    _frame(X[20:], y[20:]).to_csv(tmp_path / "part-2.csv", index=False, float_format="%.17g")
    Xd, yd = gd.read_chunks(tmp_path / "part-*.csv", label_column="label")
    np.testing.assert_array_equal(Xd.compute()[10:20], X[10:20])  # the headerless file's first row is kept
    np.testing.assert_allclose(Xd.compute(), X, rtol=1e-13)  # all 30 rows, in the files' order
    np.testing.assert_array_equal(yd.compute(), y)
    Xl, yl, classes, sizes = gd.read_labelled(str(tmp_path / "part-*.csv"), "label", client)
    assert sum(sizes) == 30 and classes.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(client.compute(yl).result(), y)
    # A later header that names other columns is refused, naming the files (not read as one table by position)
    pd.DataFrame(X[:3], columns=list("abcde")).assign(label=y[:3]).to_csv(tmp_path / "part-3.csv", index=False)
    with pytest.raises(ValueError, match=r"part-3.csv has the columns \['a', .*but .*part-0.csv has \['x0'"):
        gd.read_chunks(tmp_path / "part-*.csv", label_column="label")
    # As many columns are needed in every file
    np.savetxt(tmp_path / "part-3.csv", np.column_stack([X[:3, :2], y[:3]]), delimiter=",")
    with pytest.raises(ValueError, match=r"part-3.csv has the columns \['col_0', 'col_1', 'col_2'\]"):
        gd.read_chunks(tmp_path / "part-*.csv", label_column="label")


def test_read_chunks_reads_txt_as_csv_like_load_csv(tmp_path):
    # .txt is CSV text in the one suffix table (glassnet.datasets.FORMATS), for the chunked reader as for load_csv
    path = tmp_path / "t.TXT"
    path.write_text("1,2,0\n3,4,1\n5,6,1\n")
    X, y = gd.read_chunks(path, "col_2")
    expected = glassnet.datasets.load_csv(path)
    np.testing.assert_array_equal(X.compute(), expected.X)
    np.testing.assert_array_equal(y.compute(), expected.y)


# --------------------------------------------------------------------------------------------------------------------
# Workers dying (last: they restart worker processes of the shared cluster)
# --------------------------------------------------------------------------------------------------------------------


# map_blocks gets ``meta=`` below so that Dask never calls these in the test process to guess the output type.


def _die_once(block, marker):
    """Kill this worker process the first time any task runs it; afterwards behave (a transient crash)."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return block
    os.close(fd)
    os._exit(1)


def _always_die(block):
    os._exit(1)


def test_worker_killed_during_a_fit_is_recovered(client):
    """Killing a worker between L-BFGS iterations loses its persisted chunks; Dask recomputes them, same result."""
    thetas, X, y = random_problem([6, 8, 3], 90, seed=22)
    Xd, yd = da.from_array(X, chunks=(15, 6)), da.from_array(y, chunks=15)
    killed = []
    pids = client.run(os.getpid)  # worker address -> process id

    def kill_a_worker(state):
        if state.epoch == 2:
            victim = sorted(pids)[0]
            killed.append(victim)
            os.kill(pids[victim], signal.SIGKILL)  # no goodbye: the worker and its persisted chunks vanish

    out, history = gd.fit_full_batch(thetas, Xd, yd, 0.5, client=client, max_iter=6, callbacks=kill_a_worker)
    ref, ref_history = glassnet.train.optimize.minimize_full_batch(
        lambda th: glassnet.cost_and_gradient(th, X, y, 0.5), thetas, max_iter=6)
    assert killed and killed[0] not in client.scheduler_info()["workers"]  # it really died
    np.testing.assert_allclose(history.cost, ref_history.cost, rtol=1e-9)
    for t, r in zip(out, ref):
        np.testing.assert_allclose(t, r, rtol=1e-7, atol=1e-9)


def test_a_transient_worker_crash_is_retried(client, tmp_path):
    client.wait_for_workers(1, timeout=60)  # the nanny restarts the worker killed by the previous test
    thetas, X, y = random_problem([6, 5, 3], 40, seed=23)
    Xd = da.from_array(X, chunks=(10, 6)).map_blocks(_die_once, str(tmp_path / "died"), meta=X[:0])
    result = gd.cost_and_gradient_dask(thetas, Xd, da.from_array(y, chunks=10), 0.3, client=client)
    assert (tmp_path / "died").exists()
    assert_same(result, glassnet.cost_and_gradient(thetas, X, y, 0.3))


def test_a_worker_that_keeps_dying_fails_the_call(client):
    client.wait_for_workers(1, timeout=60)
    thetas, X, y = random_problem([6, 5, 3], 40, seed=24)
    Xd = da.from_array(X, chunks=(10, 6))
    Xd = da.concatenate([Xd[:30], Xd[30:].map_blocks(_always_die, meta=X[:0])])
    with pytest.raises(distributed.KilledWorker, match="workers died") as info:
        gd.cost_and_gradient_dask(thetas, Xd, da.from_array(y, chunks=10), client=client)
    assert any("no result was returned" in note for note in getattr(info.value, "__notes__", []))


def test_read_labelled_refuses_features_past_the_float_limit_naming_the_files(client, tmp_path):
    """The rule of the in-memory loaders (glassnet.datasets.files.feature_limit): a value near 1e308 is refused when
    the files are read, not later and unclearly inside a fit."""
    _frame(np.array([[1.0, 2.0], [1e308, 3.0], [4.0, 5.0]]), [0, 1, 0]).to_csv(tmp_path / "big.csv", index=False)
    with pytest.raises(ValueError, match=r"big.csv: a feature holds 1e\+308, too large; .* rescale the data"):
        gd.read_labelled(str(tmp_path / "big.csv"), "label", client)
    _frame(np.array([[1.0, 2.0], [1e150, 3.0], [4.0, 5.0]]), [0, 1, 0]).to_csv(tmp_path / "big.csv", index=False)
    X, _, _, sizes = gd.read_labelled(str(tmp_path / "big.csv"), "label", client)  # below the limit: read as is
    assert sum(sizes) == 3 and client.compute(X).result()[1, 0] == 1e150


def test_read_chunks_reads_npz_members_with_a_bound(client, tmp_path):
    """A bzip2 member whose zip header is forged to a small size is refused as soon as more comes out of it."""
    import zipfile

    from numpy.lib import format as npy_format

    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_BZIP2) as zf:
        with zf.open("X.npy", "w") as f:
            npy_format.write_array(f, np.zeros((10, 2)))
            f.write(bytes(8 << 20))
        with zf.open("y.npy", "w") as f:
            npy_format.write_array(f, np.zeros(10, dtype=np.int64))
    with pytest.raises(ValueError, match=r"bomb.npz: array 'X': its zip header declares"):
        gd.read_chunks(path)
