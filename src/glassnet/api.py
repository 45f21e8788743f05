"""The front door: :func:`cost_and_gradient` sends each kind of array to the code written for it.

- NumPy (and anything array-like): :class:`glassnet._fast.workspace.Workspace`, the tuned row-chunk path;
- torch tensors on the CPU: the same NumPy path, on NumPy views of the tensors' memory
  (:func:`glassnet.scale.backends.torch_cpu_views`), the gradients returned as CPU tensors;
- torch on a GPU, CuPy, JAX, array-api-strict: :func:`glassnet.scale.backends.cost_and_gradient_xp`, on X's device;
- Dask arrays and DataFrames: :func:`glassnet.scale.distributed.cost_and_gradient_dask`, sums over row chunks.

All three compute the lecture's J(Θ) and D^(l) (tested equal). The routing test lives in
:func:`glassnet._validation.is_foreign_array` / :func:`~glassnet._validation.is_dask_collection`. Nothing below this
module imports it; the optional extras (array-api-compat, Dask) are imported only when such an array arrives.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from glassnet._fast.workspace import Workspace
from glassnet._support import fused as _fused
from glassnet._validation import check_lam, check_thetas, check_X, is_dask_collection, is_foreign_array
from glassnet.activations import get_activation
from glassnet.backprop import _prepare
from glassnet.outputs import OutputLoss, output_loss
from glassnet.scale import backends, distributed

__all__ = ["cost_and_gradient"]


def cost_and_gradient(thetas: Sequence[np.ndarray], X, y, lam: float = 0.0, *, activation="sigmoid",
                      output="sigmoid", loss="log") -> tuple[float, list[np.ndarray]]:
    """J(Θ) and its gradient D^(l) for every layer, by vectorized backpropagation.

    Parameters
    ----------
    thetas : list of arrays
        ``thetas[l-1]`` is Θ^(l), shape (s_{l+1}, s_l + 1), bias column first.
    X : array or SciPy sparse CSR/CSC matrix, shape (m, s_1)
        Examples, one per row (C- or F-ordered). float32 is computed in float32, anything else in float64.
        Also a torch tensor (CPU: every activation and cost; GPU: the lecture's), a CuPy, JAX or array-api-strict
        array (the lecture's network), or a Dask array / DataFrame (the lecture's network).
    y : array
        Integer labels 0..K-1, shape (m,) (K > 1); or an (m, K) 0/1 matrix (one-hot or multilabel); or 0/1 labels
        for one output (K = 1). ``output="identity"``: real targets, shape (m,) (K = 1) or (m, K).
    lam : float
        λ ≥ 0, the regularization strength (the bias column is not regularized, for every cost).
    activation : {"sigmoid", "tanh", "relu", "identity"}, default="sigmoid"
        g of the hidden layers (the lecture: sigmoid).
    output, loss : str, default="sigmoid", "log"
        The output/loss pair: ``sigmoid``+``log`` (the lecture's J), ``softmax``+``log`` (cross-entropy),
        ``sigmoid``+``squared`` (J = 1/(2m) ΣΣ(h − y)²), ``identity``+``squared`` (regression); see
        :class:`glassnet.outputs.OutputLoss`. Any other pair is a ValueError.

    Returns
    -------
    J : float
    grads : list of arrays
        ``grads[l-1]`` = D^(l) = ∂J/∂Θ^(l), same shapes as ``thetas``, in the compute dtype; arrays of X's library
        on X's device when X is not NumPy.

    Notes
    -----
    To read the lecture's algorithm, read :mod:`glassnet.backprop`, not this path: :func:`~glassnet.backprop.deltas`
    (δ^(L), then δ^(l) from the output layer down), :func:`~glassnet.backprop.accumulate` (Δ^(l)) and
    :func:`~glassnet.backprop.finish` (D^(l)) on a :func:`glassnet.forward` cache, and
    :func:`~glassnet.backprop.backprop_per_example`, the note's loop over t = 1..m written out literally.
    This function computes the same J and D faster; each fast path is tested equal to that code:

    - :mod:`glassnet._fast.workspace` (row chunks through preallocated buffers, worker threads):
      ``tests/test_workspace.py`` against ``backprop_per_example`` and ``accumulate(deltas(...))``,
      ``tests/test_backprop.py`` (this function against the per-example loop and finite differences);
    - the optional C kernels (:mod:`glassnet._support.fused`): ``tests/test_kernels.py``, bit for bit the NumPy code;
    - the array-API backends (:mod:`glassnet.scale.backends`): ``tests/test_backends.py`` against the NumPy path,
      and ``tests/test_oracles.py`` against torch autograd and scikit-learn's MLP loss;
    - Dask (:mod:`glassnet.scale.distributed`): ``tests/test_distributed.py`` against the in-memory result.
    """
    pair = output_loss(output, loss)
    get_activation(activation)
    lecture = pair.is_lecture and activation == "sigmoid"
    if is_dask_collection(X):
        if not lecture:
            raise NotImplementedError("Dask input: only the lecture's activation='sigmoid', output='sigmoid', "
                                      "loss='log' is supported; compute() the data or use NumPy arrays")
        return distributed.cost_and_gradient_dask(thetas, X, y, lam)
    if is_foreign_array(X):
        views = backends.torch_cpu_views(thetas, X, y)
        if views is None:
            return backends.cost_and_gradient_xp(thetas, X, y, lam, activation=activation, output=output, loss=loss)
        thetas, X, y, to_tensor = views
        J, grads = _numpy_path(thetas, X, y, lam, activation, output, loss)
        return J, [to_tensor(g) for g in grads]
    return _numpy_path(thetas, X, y, lam, activation, output, loss)


def _numpy_path(thetas, X, y, lam, activation, output, loss) -> tuple[float, list[np.ndarray]]:
    if not (isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype in (np.float32, np.float64)):
        thetas, X, Y, lam, sizes = _prepare(thetas, X, y, lam, output, loss)
        # Row chunks shared by as many worker threads as BLAS may use (see Workspace); input validated just above.
        workspace = Workspace(sizes, X.shape[0], X.dtype, activation=activation, output=output, loss=loss)
        return workspace.cost_and_gradient(thetas, X, Y, lam, check_input=False)
    # A float array: the same checks, but the scan of X for NaN and inf (a pass over all of X, ~10% of the call on
    # the course's ex4 size) runs only when the result is not finite (a non-finite x_tj makes z^(2)_t, and with it J
    # or column j of D^(1), non-finite). Nothing about X's values is remembered between calls: a changed X is
    # always computed afresh. y's targets and the workspace's buffers are reused (see _targets, _take_workspace).
    # Each step here is written for few Python operations: this call follows the compiled one, whose 1.5 ms on ex4
    # have just filled the caches, and each operation then costs microseconds.
    pair = output_loss(output, loss)
    thetas, sizes = check_thetas(thetas, X.dtype)
    X = check_X(X, n_features=sizes[0], assume_finite=True)
    lam = check_lam(lam)
    m, dtype = X.shape[0], X.dtype
    Y = _targets(pair, y, sizes[-1], m, dtype)
    key = (*sizes, m, dtype.char, activation, pair.output, pair.loss)  # strings and ints: cheap to hash
    workspace, lent = _take_workspace(key, sizes, m, dtype, activation, pair)
    try:
        with np.errstate(all="ignore"):
            J, grads = workspace.cost_and_gradient(thetas, X, Y, lam, check_input=False)
    finally:
        if lent is not None:
            lent.release()  # the cached one: free for the next call
        else:
            _keep_workspace(key, workspace)
    if math.isfinite(J):
        for g in grads:
            if not _fused.is_finite(g):
                break
        else:
            return J, grads
    check_X(X, n_features=sizes[0])  # a non-finite X: its clear error, here
    # A finite X that gives a non-finite result (huge weights): computed again as before, with NumPy's warnings
    workspace = Workspace(sizes, m, dtype, activation=activation, output=output, loss=loss)
    return workspace.cost_and_gradient(thetas, X, Y, lam, check_input=False)


# Reuse between public calls on small data, where set-up is a visible share of a call. Keyed by what the reused
# thing depends on; a few entries each; one lock. Nothing here may ever give a stale answer:
# - workspaces hold no results, only buffers (each call overwrites them); one is lent to one call at a time (its
#   lock held while the call runs; a call that finds it held makes its own);
# - targets: y's array is compared with a copy of itself on every hit (y is small: m labels or an (m, K) matrix),
#   so a y changed in place (same object, same id) is encoded again.
_CACHE_SIZE = 4
_MAX_CACHED_BYTES = 64 * 2**20  # a workspace that grew beyond this (huge layers) is not kept
_cache_lock = threading.Lock()
_workspaces: OrderedDict[tuple, tuple[Workspace, threading.Lock]] = OrderedDict()
_target_cache: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()


def _take_workspace(key: tuple, sizes, m: int, dtype, activation: str,
                    pair: OutputLoss) -> tuple[Workspace, threading.Lock | None]:
    """A workspace for this network lent to this call alone: the cached one with its lock, now held (release it when
    done), where there is one and no other call holds it; else a new one and None (offer it to
    :func:`_keep_workspace` when done: its buffers are made by its first call)."""
    with _cache_lock:
        found = _workspaces.get(key)
        if found is not None:
            _workspaces.move_to_end(key)
    if found is not None and found[1].acquire(blocking=False):
        return found
    return Workspace(sizes, m, dtype, activation=activation, output=pair.output, loss=pair.loss), None


def _keep_workspace(key: tuple, workspace: Workspace) -> None:
    """Keep a new workspace for the next calls, unless one is kept for this key already or it is large."""
    if workspace.nbytes > _MAX_CACHED_BYTES:
        return
    with _cache_lock:
        if key not in _workspaces:
            _workspaces[key] = (workspace, threading.Lock())
            while len(_workspaces) > _CACHE_SIZE:
                _workspaces.popitem(last=False)  # a call that holds it keeps using it; then it is gone


def _targets(pair: OutputLoss, y, K: int, m: int, dtype) -> np.ndarray:
    """``pair.targets(y, K, m, dtype)``, reused while y is the same array with the same contents."""
    if not isinstance(y, np.ndarray) or y.dtype.kind not in "biuf":
        return pair.targets(y, K, m, dtype=dtype)
    key = (id(y), y.shape, y.strides, y.dtype.str, pair.output, pair.loss, K, m, dtype.char)
    with _cache_lock:
        hit = _target_cache.get(key)
    if hit is not None and _fused.same_contents(hit[0], y):  # byte for byte (a changed y is encoded again)
        return hit[1]
    Y = pair.targets(y, K, m, dtype=dtype)
    if Y is y:  # already the target matrix: nothing to keep
        return Y
    Y.flags.writeable = False  # shared by later calls: read only
    with _cache_lock:
        _target_cache[key] = (np.array(y, copy=True), Y)
        while len(_target_cache) > _CACHE_SIZE:
            _target_cache.popitem(last=False)
    return Y
