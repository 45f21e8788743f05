"""The array-API path: same J and D as the NumPy path on NumPy, array-api-strict and torch (CPU; CUDA when present);
torch CPU tensors through the front door: the NumPy path on the tensors' memory."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from conftest import random_problem
from glassnet._validation import is_dask_collection, is_foreign_array
from glassnet.scale.backends import cost_and_gradient_xp

pytest.importorskip("array_api_compat")

PROBLEMS = [
    ([6, 5, 3], 40, 0.0),
    ([8, 7, 4, 3], 31, 1.3),
    ([5, 4, 1], 25, 0.5),  # K = 1
]


def assert_same(result, expected, to_numpy, rtol=1e-12):
    J, grads = result
    J0, grads0 = expected
    assert isinstance(J, float)
    assert abs(J - J0) <= rtol * abs(J0)
    for g, g0 in zip(grads, grads0):
        g = to_numpy(g)
        assert g.shape == g0.shape
        np.testing.assert_allclose(g, g0, rtol=rtol, atol=rtol * np.abs(g0).max())


@pytest.mark.parametrize(("sizes", "m", "lam"), PROBLEMS)
def test_numpy_namespace_equals_the_numpy_path(sizes, m, lam):
    thetas, X, y = random_problem(sizes, m, seed=m)
    result = cost_and_gradient_xp(thetas, X, y, lam)
    assert all(isinstance(g, np.ndarray) and g.dtype == np.float64 for g in result[1])
    assert_same(result, glassnet.cost_and_gradient(thetas, X, y, lam), np.asarray)


def test_numpy_namespace_with_saturated_units_is_exact_and_warning_free():
    # |z| in the hundreds: g(z) rounds to 0 or 1; J must stay finite and equal the NumPy path (warnings are errors).
    thetas, X, y = random_problem([6, 5, 3], 30, seed=1, scale=300.0)
    result = cost_and_gradient_xp(thetas, X, y, 0.1)
    expected = glassnet.cost_and_gradient(thetas, X, y, 0.1)
    assert np.isfinite(result[0]) and result[0] > 10
    assert_same(result, expected, np.asarray)


def test_float32_stays_float32_and_labels_may_be_one_hot():
    thetas, X, y = random_problem([6, 5, 3], 40, seed=2)
    X32 = X.astype(np.float32)
    J, grads = cost_and_gradient_xp(thetas, X32, np.eye(3)[y], 0.4)
    J0, grads0 = glassnet.cost_and_gradient(thetas, X32, y, 0.4)
    assert all(g.dtype == np.float32 for g in grads)
    assert abs(J - J0) <= 1e-6 * J0
    for g, g0 in zip(grads, grads0):
        np.testing.assert_allclose(g, g0, rtol=1e-5, atol=1e-6 * np.abs(g0).max())


# --------------------------------------------------------------------------------------------------------------------
# array-api-strict: only what the standard allows
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("sizes", "m", "lam"), PROBLEMS)
def test_array_api_strict(sizes, m, lam):
    xps = pytest.importorskip("array_api_strict")
    thetas, X, y = random_problem(sizes, m, seed=m + 1)
    expected = glassnet.cost_and_gradient(thetas, X, y, lam)
    result = glassnet.cost_and_gradient([xps.asarray(t) for t in thetas], xps.asarray(X), xps.asarray(y), lam)
    assert all(type(g).__module__.startswith("array_api_strict") and g.dtype == xps.float64 for g in result[1])
    assert_same(result, expected, lambda g: np.asarray(g))
    # NumPy Θ and labels are copied over to X's library.
    assert_same(glassnet.cost_and_gradient(thetas, xps.asarray(X), y, lam), expected, lambda g: np.asarray(g))


def test_array_api_strict_bad_labels():
    xps = pytest.importorskip("array_api_strict")
    thetas, X, y = random_problem([6, 5, 3], 10, seed=3)
    Xs = xps.asarray(X)
    with pytest.raises(ValueError, match=r"y: expected labels in 0..2 \(K = 3 output units\), found 3"):
        cost_and_gradient_xp(thetas, Xs, xps.asarray(np.r_[y[:-1], 3]))
    with pytest.raises(ValueError, match=r"y: expected integer class labels 0..2"):
        cost_and_gradient_xp(thetas, Xs, xps.asarray(y + 0.5))
    with pytest.raises(ValueError, match=r"y: expected 10 labels \(one per row of X\), got shape \(9,\)"):
        cost_and_gradient_xp(thetas, Xs, xps.asarray(y[:9]))
    with pytest.raises(ValueError, match=r"y: expected a one-hot/multilabel matrix of 0s and 1s"):
        cost_and_gradient_xp(thetas, Xs, xps.asarray(2.0 * np.eye(3)[y]))


# --------------------------------------------------------------------------------------------------------------------
# torch
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("sizes", "m", "lam"), PROBLEMS)
def test_torch_cpu_float64(sizes, m, lam):
    torch = pytest.importorskip("torch")
    thetas, X, y = random_problem(sizes, m, seed=m + 2)
    expected = glassnet.cost_and_gradient(thetas, X, y, lam)
    result = glassnet.cost_and_gradient([torch.from_numpy(t) for t in thetas], torch.from_numpy(X),
                                        torch.from_numpy(y), lam)
    assert all(isinstance(g, torch.Tensor) and g.dtype == torch.float64 and g.device.type == "cpu" for g in result[1])
    assert_same(result, expected, lambda g: g.numpy())
    # The array-API path itself on the same tensors (what a GPU runs): torch's own ops, the same numbers.
    result = cost_and_gradient_xp([torch.from_numpy(t) for t in thetas], torch.from_numpy(X), torch.from_numpy(y), lam)
    assert all(isinstance(g, torch.Tensor) and g.dtype == torch.float64 for g in result[1])
    assert_same(result, expected, lambda g: g.numpy())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_torch_cpu_tensors_run_the_numpy_path_on_their_own_memory(dtype, monkeypatch):
    """CPU tensors: NumPy views of the tensors (no copy of X), the NumPy path's numbers bit for bit, tensors back."""
    torch = pytest.importorskip("torch")
    from glassnet._fast.workspace import Workspace

    thetas, X, y = random_problem([6, 5, 3], 50, seed=9)
    X, thetas = X.astype(dtype), [t.astype(dtype) for t in thetas]
    expected = glassnet.cost_and_gradient(thetas, X, y, 0.6)
    Xt = torch.from_numpy(X.copy())
    seen = []
    real = Workspace.cost_and_gradient

    def spy(self, th, X_, *args, **kwargs):
        seen.append(X_)
        return real(self, th, X_, *args, **kwargs)

    monkeypatch.setattr(Workspace, "cost_and_gradient", spy)
    params = [torch.nn.Parameter(torch.from_numpy(t.copy())) for t in thetas]  # require grad: detached, not copied
    J, grads = glassnet.cost_and_gradient(params, Xt, torch.from_numpy(y), 0.6)
    assert len(seen) == 1 and np.shares_memory(seen[0], Xt.numpy())
    assert J == expected[0]
    for g, g0 in zip(grads, expected[1]):
        assert isinstance(g, torch.Tensor) and g.device.type == "cpu" and not g.requires_grad
        assert g.dtype == (torch.float32 if dtype == np.float32 else torch.float64)
        np.testing.assert_array_equal(g.numpy(), g0)
    assert all(p.grad is None for p in params)


def test_torch_cpu_other_dtypes_and_layouts():
    """Any dtype but float32 is computed in float64 (bfloat16 has no NumPy dtype: converted in torch); a transposed
    (non-contiguous) tensor and labels as a one-hot tensor work; bad input is named as on the NumPy path."""
    torch = pytest.importorskip("torch")
    thetas, X, y = random_problem([6, 5, 3], 40, seed=10)
    Xb = torch.from_numpy(X).to(torch.bfloat16)
    expected = glassnet.cost_and_gradient(thetas, Xb.to(torch.float64).numpy(), y, 0.3)
    J, grads = glassnet.cost_and_gradient([torch.from_numpy(t).to(torch.bfloat16) for t in thetas], Xb,
                                          torch.nn.functional.one_hot(torch.from_numpy(y), 3), 0.3)
    assert all(g.dtype == torch.float64 for g in grads)
    bf16 = [torch.from_numpy(t).to(torch.bfloat16).to(torch.float64).numpy() for t in thetas]
    J0, grads0 = glassnet.cost_and_gradient(bf16, Xb.to(torch.float64).numpy(), y, 0.3)
    assert J == J0 and all(np.array_equal(g.numpy(), g0) for g, g0 in zip(grads, grads0))
    assert abs(J - expected[0]) < 0.05 * expected[0]
    XT = torch.from_numpy(np.ascontiguousarray(X.T)).T  # a strided view
    assert not XT.is_contiguous()
    J1, _ = glassnet.cost_and_gradient(thetas, XT, torch.from_numpy(y), 0.3)
    assert J1 == glassnet.cost_and_gradient(thetas, XT.numpy(), y, 0.3)[0]  # the same memory layout: the same lane
    assert abs(J1 - glassnet.cost_and_gradient(thetas, X, y, 0.3)[0]) <= 1e-12 * J1
    bad = X.copy()
    bad[2, 2] = np.nan
    with pytest.raises(ValueError, match="X: expected finite values"):
        glassnet.cost_and_gradient(thetas, torch.from_numpy(bad), y)
    with pytest.raises(ValueError, match=r"y: expected labels in 0..2"):
        glassnet.cost_and_gradient(thetas, torch.from_numpy(X), torch.from_numpy(y) + 1)


@pytest.mark.parametrize("m", [2 * 2048, 2 * 2048 + 37])
def test_row_chunks_add_up_to_the_whole_batch(m):
    # On a CPU the array-API path streams rows in chunks (2048 rows for these sizes): whole and ragged last chunks.
    from glassnet._fast.workspace import default_chunk_rows

    assert default_chunk_rows([6, 9, 4, 3]) == 2048
    thetas, X, y = random_problem([6, 9, 4, 3], m, seed=11)
    expected = glassnet.cost_and_gradient(thetas, X, y, 0.7)
    strict = pytest.importorskip("array_api_strict")
    assert_same(cost_and_gradient_xp(thetas, strict.asarray(X), strict.asarray(y), 0.7), expected, np.asarray)
    torch = pytest.importorskip("torch")
    result = cost_and_gradient_xp([torch.from_numpy(t) for t in thetas], torch.from_numpy(X), torch.from_numpy(y), 0.7)
    assert_same(result, expected, lambda g: g.numpy())


def test_torch_matches_autograd_of_the_lecture_cost():
    """An independent oracle: torch autograd differentiating J written out with torch ops."""
    torch = pytest.importorskip("torch")
    thetas, X, y = random_problem([7, 6, 4], 35, seed=4)
    lam = 0.8
    tt = [torch.tensor(t, requires_grad=True) for t in thetas]
    a = torch.from_numpy(X)
    for t in tt:
        z = a @ t[:, 1:].T + t[:, 0]
        a = torch.sigmoid(z)
    Y = torch.nn.functional.one_hot(torch.from_numpy(y), 4).double()
    m = X.shape[0]
    J = torch.nn.functional.binary_cross_entropy_with_logits(z, Y, reduction="sum") / m
    J = J + lam / (2 * m) * sum((t[:, 1:] ** 2).sum() for t in tt)
    J.backward()
    # Parameters that require grad are fine: glassnet computes its own gradient and detaches them.
    result = cost_and_gradient_xp(tt, torch.from_numpy(X), torch.from_numpy(y), lam)
    assert_same(result, (float(J.detach()), [t.grad.numpy() for t in tt]), lambda g: g.numpy())
    assert not any(g.requires_grad for g in result[1])


def test_torch_float32_and_numpy_inputs_mixed():
    torch = pytest.importorskip("torch")
    thetas, X, y = random_problem([6, 5, 3], 30, seed=5)
    J0, grads0 = glassnet.cost_and_gradient(thetas, X.astype(np.float32), y, 0.2)
    for run in (glassnet.cost_and_gradient, cost_and_gradient_xp):  # the front door (NumPy path) and the xp path
        J, grads = run(thetas, torch.from_numpy(X.astype(np.float32)), y, 0.2)
        assert all(isinstance(g, torch.Tensor) and g.dtype == torch.float32 for g in grads)
        assert abs(J - J0) <= 1e-6 * J0
        for g, g0 in zip(grads, grads0):
            np.testing.assert_allclose(g.numpy(), g0, rtol=1e-5, atol=1e-6 * np.abs(g0).max())


def test_torch_bad_input_is_named():
    torch = pytest.importorskip("torch")
    thetas, X, y = random_problem([6, 5, 3], 10, seed=6)
    Xt = torch.from_numpy(X)
    with pytest.raises(ValueError, match=r"X: expected 6 columns \(s_1"):
        cost_and_gradient_xp(thetas, Xt[:, :5], y)
    bad = X.copy()
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match=r"X: expected finite values"):
        cost_and_gradient_xp(thetas, torch.from_numpy(bad), y)
    with pytest.raises(ValueError, match=r"thetas\[1\] \(Θ\^\(2\)\): expected finite weights"):
        cost_and_gradient_xp([thetas[0], thetas[1] * np.nan], Xt, y)
    with pytest.raises(ValueError, match=r"y: expected labels in 0..2"):
        cost_and_gradient_xp(thetas, Xt, torch.from_numpy(y) - 1)
    with pytest.raises(ValueError, match=r"lam: expected"):
        cost_and_gradient_xp(thetas, Xt, y, -1)
    with pytest.raises(ValueError, match=r"X: expected a 2-D array"):
        cost_and_gradient_xp(thetas, Xt[0], y)


def test_cuda_when_present():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    thetas, X, y = random_problem([20, 16, 5], 500, seed=7)
    expected = glassnet.cost_and_gradient(thetas, X, y, 0.9)
    dev = torch.device("cuda")
    result = glassnet.cost_and_gradient([torch.from_numpy(t).to(dev) for t in thetas], torch.from_numpy(X).to(dev),
                                        torch.from_numpy(y).to(dev), 0.9)
    assert all(g.device.type == "cuda" and g.dtype == torch.float64 for g in result[1])
    assert_same(result, expected, lambda g: g.cpu().numpy())
    # NumPy Θ and labels are moved to the device; float32 stays float32 there.
    J32, grads32 = glassnet.cost_and_gradient(thetas, torch.from_numpy(X).float().to(dev), y, 0.9)
    assert all(g.device.type == "cuda" and g.dtype == torch.float32 for g in grads32)
    assert abs(J32 - expected[0]) <= 1e-5 * expected[0]


# --------------------------------------------------------------------------------------------------------------------
# Dispatch
# --------------------------------------------------------------------------------------------------------------------


def test_what_is_dispatched():
    torch = pytest.importorskip("torch")
    pd = pytest.importorskip("pandas")
    da = pytest.importorskip("dask.array")
    X = np.zeros((2, 2))
    assert not is_foreign_array(X) and not is_foreign_array(X.tolist()) and not is_foreign_array(pd.DataFrame(X))
    assert is_foreign_array(torch.zeros(2)) and is_foreign_array(da.zeros(2))
    assert is_dask_collection(da.zeros(2)) and not is_dask_collection(torch.zeros(2))
    # A pandas DataFrame stays on the NumPy path and gets NumPy gradients.
    thetas, Xn, y = random_problem([3, 2, 2], 6, seed=8)
    J, grads = glassnet.cost_and_gradient(thetas, pd.DataFrame(Xn), y, 0.0)
    assert all(type(g) is np.ndarray for g in grads)
