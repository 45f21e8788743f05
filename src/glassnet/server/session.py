"""One explorer session: the data, the current Θ, the training history, snapshots, and the training worker.

A :class:`Session` is the only mutable state of a running explorer. Training runs in one background thread at a time
(the *job*); the optimizer calls back after every iteration, and the callback is where the job records the new Θ, a
snapshot and a history row, sleeps for the chosen pace, and waits while paused. Pausing inside the callback keeps an
L-BFGS run's memory, so play / pause / step continue the same run. Anything that changes Θ from outside (a weight edit,
stepping back in time, loading a model, reset) first cancels the job; the next play starts a fresh run from there.

Locks: ``_control`` serializes commands (held while a job is cancelled and joined); ``_lock`` guards the fields and is
held only briefly by both the commands and the worker, so readers never wait for a cost evaluation. Θ lists are never
modified in place once published: an edit makes a new list.

This module knows nothing about HTTP (see :mod:`.app`); all numbers come from :mod:`.bridge`.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from glassnet.server import bridge
from glassnet.server.bridge import Dataset

__all__ = ["TrainConfig", "Session", "SessionClosed", "LIMITS", "wait_for"]

log = logging.getLogger("glassnet.server")

# Upper bounds that keep one request or one job from exhausting the machine (checked by the API and here).
#: How an uploaded data file is named among the datasets (and in the page's setup link): "upload:" + its file name.
UPLOAD_PREFIX = "upload:"

LIMITS = {
    "hidden_layers": 4,
    "units": 1024,
    "params": 2_000_000,
    "max_iter": 100_000,
    "learning_rate": 100.0,
    "lam": 1e6,
    "delay_ms": 2000,
    "batch_size": 100_000,
    "weight": 1e6,
    "uploads": 4,
    "noise": 5.0,
    "upload_bytes": 1 << 30,  # kept uploads in all (X and y as loaded); the oldest are forgotten beyond this
}


class SessionClosed(RuntimeError):
    """A command reached a session that has been closed (the server is shutting down)."""


@dataclass(frozen=True)
class TrainConfig:
    """What the page can choose. ``hidden`` are the hidden layer sizes s_2..s_{L-1}; ``lam`` is λ.

    ``activation`` (the hidden units' g) and ``output`` / ``loss`` (the output layer and its cost) default to the
    lecture's sigmoid + log; like ``hidden`` they change what the network is, so they change only with a reset.
    """

    dataset: str = "digits"
    hidden: tuple[int, ...] = (25,)
    lam: float = 1.0
    optimizer: str = "lbfgs"
    learning_rate: float = 0.5
    batch_size: int = 64
    max_iter: int = 400
    seed: int = 0
    delay_ms: int = 20
    validation_fraction: float = 0.2
    noise: float | None = None  # a generated 2-D set's noise; None = the registry's default
    activation: str = "sigmoid"
    output: str = "sigmoid"
    loss: str = "log"
    # a 2-D dataset's network inputs (glassnet.datasets.features keys, e.g. ("x1", "x2", "x1x2")); None: x1, x2
    features: tuple[str, ...] | None = None

    def training_key(self) -> tuple:
        """The settings an optimizer run is built from: changing one restarts the run."""
        return (self.lam, self.optimizer, self.learning_rate, self.batch_size, self.max_iter)


@dataclass(frozen=True)
class Snapshot:
    """Θ at one moment, for time travel. ``history_len`` is how many history rows existed then."""

    iteration: int
    thetas: list[np.ndarray]
    history_len: int
    label: str


@dataclass
class _Job:
    cfg: TrainConfig
    mode: str  # "run", "step" or "pause"
    steps_left: int = 0
    cancel: bool = False
    thread: threading.Thread | None = field(default=None, repr=False)


def check_config(cfg: TrainConfig, n: int | None = None, K: int | None = None,
                 regression: bool | None = None) -> None:
    """Raise ``ValueError`` naming the field when a setting is out of range (the API also checks types).

    ``regression``: whether the dataset holds real targets (its one pair is :data:`bridge.REGRESSION_PAIR`);
    None: as cfg's pair says (a config installed once was matched to its data)."""
    if regression is None:
        regression = (cfg.output, cfg.loss) == bridge.REGRESSION_PAIR
    if cfg.optimizer not in bridge.OPTIMIZERS:
        raise ValueError(f"optimizer: expected one of {list(bridge.OPTIMIZERS)}, got {cfg.optimizer!r}")
    if len(cfg.hidden) > LIMITS["hidden_layers"]:
        raise ValueError(f"hidden: expected at most {LIMITS['hidden_layers']} hidden layers, got {len(cfg.hidden)}")
    for s in cfg.hidden:
        if not 1 <= int(s) <= LIMITS["units"]:
            raise ValueError(f"hidden: expected layer sizes in 1..{LIMITS['units']}, got {list(cfg.hidden)}")
    if not (np.isfinite(cfg.lam) and 0 <= cfg.lam <= LIMITS["lam"]):
        raise ValueError(f"lam: expected a finite λ with 0 ≤ λ ≤ {LIMITS['lam']:g}, got {cfg.lam!r}")
    if not (np.isfinite(cfg.learning_rate) and 0 < cfg.learning_rate <= LIMITS["learning_rate"]):
        raise ValueError(f"learning_rate: expected 0 < α ≤ {LIMITS['learning_rate']:g}, got {cfg.learning_rate!r}")
    if not 1 <= cfg.max_iter <= LIMITS["max_iter"]:
        raise ValueError(f"max_iter: expected 1..{LIMITS['max_iter']}, got {cfg.max_iter!r}")
    if not 1 <= cfg.batch_size <= LIMITS["batch_size"]:
        raise ValueError(f"batch_size: expected 1..{LIMITS['batch_size']}, got {cfg.batch_size!r}")
    if not 0 <= cfg.delay_ms <= LIMITS["delay_ms"]:
        raise ValueError(f"delay_ms: expected 0..{LIMITS['delay_ms']}, got {cfg.delay_ms!r}")
    if not 0 <= cfg.validation_fraction <= 0.5:
        raise ValueError(f"validation_fraction: expected 0..0.5, got {cfg.validation_fraction!r}")
    if cfg.noise is not None and not (np.isfinite(cfg.noise) and 0 <= cfg.noise <= LIMITS["noise"]):
        raise ValueError(f"noise: expected 0..{LIMITS['noise']:g}, got {cfg.noise!r}")
    bridge.check_kinds(cfg.activation, cfg.output, cfg.loss, K, regression)
    if cfg.features is not None:
        bridge.check_features(cfg.features)
    if n is not None and K is not None:
        sizes = [n, *cfg.hidden, K]
        params = sum((sizes[i] + 1) * sizes[i + 1] for i in range(len(sizes) - 1))
        if params > LIMITS["params"]:
            raise ValueError(f"hidden: the network {'-'.join(map(str, sizes))} has {params} weights; "
                             f"the explorer allows at most {LIMITS['params']}")


class Session:
    """The explorer's state and its training worker (thread-safe; see the module docstring).

    Parameters
    ----------
    config : TrainConfig
        The starting settings; the dataset is loaded and Θ initialised from ``config.seed`` at once.
    thetas : list of arrays, optional
        Start from these weights instead (e.g. ``glassnet serve --model m.npz``).
    extra_datasets : dict, optional
        Datasets by name in addition to the built-in ones (``glassnet serve --data FILE``).
    snapshot_bytes : int
        Memory budget for time-travel snapshots; older snapshots are thinned out to stay within it.
    """

    def __init__(self, config: TrainConfig = TrainConfig(), thetas=None, extra_datasets=None,
                 snapshot_bytes: int = 64 * 2**20, model_name: str | None = None):
        self._lock = threading.Condition(threading.RLock())
        self._control = threading.Lock()
        self._datasets: dict[str, Dataset] = dict(extra_datasets or {})
        self._uploads: list[str] = []
        self._snapshot_bytes = int(snapshot_bytes)
        self._job: _Job | None = None
        self.closed = threading.Event()
        self.version = 0
        self.history_gen = 0
        self.status = "idle"
        self.error: str | None = None
        self.message = ""
        self._install(config, thetas, label=f"loaded {model_name}" if model_name else "initial weights")

    # ---------------------------------------------------------------- datasets
    def dataset_names(self) -> dict[str, str]:
        """Dataset names the page may choose, with descriptions."""
        out = dict(bridge.available_datasets())
        with self._lock:
            out.update({name: d.description for name, d in self._datasets.items()})
        return out

    def _dataset(self, name: str, noise: float | None = None) -> Dataset:
        name = bridge.canonical(name)
        with self._lock:
            if name in self._datasets:
                return self._datasets[name]
        if name.startswith(UPLOAD_PREFIX):  # e.g. a setup link made where the file was uploaded
            raise ValueError(f"dataset: {name!r} is an uploaded data file that this explorer does not hold (any "
                             f"more): upload {name[len(UPLOAD_PREFIX):]} with \"Upload a data file\" first")
        if name not in bridge.available_datasets():
            raise ValueError(f"dataset: expected one of {sorted(self.dataset_names())}, got {name!r}")
        if noise is not None and bridge.default_noise(name) is not None and noise != bridge.default_noise(name):
            return bridge.load_builtin(name, noise)  # another noise level: generated anew (small), not cached
        data = bridge.load_builtin(name)
        with self._lock:
            self._datasets[name] = data
        return data

    def add_upload(self, data: Dataset) -> str:
        """Register an uploaded dataset; the oldest are forgotten beyond ``LIMITS['uploads']`` files or
        ``LIMITS['upload_bytes']`` bytes of kept arrays (one larger than that alone is refused)."""
        size = int(data.X.nbytes + data.y.nbytes)
        if size > LIMITS["upload_bytes"]:
            raise ValueError(f"file: the dataset takes {size} bytes in memory, more than the explorer keeps for "
                             f"uploads ({LIMITS['upload_bytes']} bytes)")
        with self._lock:
            name = data.name
            self._datasets[name] = data  # a file of the same name replaces its earlier upload
            if name in self._uploads:
                self._uploads.remove(name)
            self._uploads.append(name)
            self._evict_uploads(keep={name})
            self._bump()
        return name

    def _evict_uploads(self, keep: set[str]) -> None:
        """Forget the oldest uploads beyond ``LIMITS`` (count, then bytes), except the current dataset and ``keep``.

        A current dataset stays counted while it is current, and is forgotten by the next call once it is no longer
        (:meth:`_install` calls this after every change of dataset), so an upload that is replaced or evicted is never
        held without being counted. The caller holds the lock.
        """

        def kept() -> int:
            return sum(int(self._datasets[n].X.nbytes + self._datasets[n].y.nbytes) for n in self._uploads)

        while len(self._uploads) > LIMITS["uploads"] or (len(self._uploads) > 1 and kept() > LIMITS["upload_bytes"]):
            current = getattr(self, "config", None)
            old = next((n for n in self._uploads if n not in keep and (current is None or n != current.dataset)), None)
            if old is None:  # only the current dataset and the new upload are left: the next change frees one
                return
            self._uploads.remove(old)
            self._datasets.pop(old, None)

    # ---------------------------------------------------------------- state changes (commands)
    def _install(self, cfg: TrainConfig, thetas, label: str, data: Dataset | None = None) -> None:
        """Load cfg's dataset, split it and install Θ (given or fresh from cfg.seed); clears history. No job runs."""
        check_config(cfg)
        if data is not None:  # the dataset cfg names, its classes numbered anew (bridge.in_unit_order)
            with self._lock:
                self._datasets[data.name] = data
        data = self._dataset(cfg.dataset, cfg.noise)
        cfg = replace(cfg, dataset=data.name, features=bridge.model_features(cfg.features, data))
        if data.regression:  # real targets: the one pair that fits them, whatever the classifier's menu says
            cfg = replace(cfg, output=bridge.REGRESSION_PAIR[0], loss=bridge.REGRESSION_PAIR[1])
        X = bridge.model_inputs(data, cfg.features)  # the network's inputs: the chosen features of a 2-D set
        n = X.shape[1]
        if thetas is not None:
            sizes = bridge.sizes_of(thetas)
            if sizes[0] != n or sizes[-1] != data.K:
                raise ValueError(
                    f"model: its layers {'-'.join(map(str, sizes))} need {sizes[0]} inputs and {sizes[-1]} classes, "
                    f"but dataset {data.name!r} has {n} features and {data.K} classes")
            cfg = replace(cfg, hidden=tuple(sizes[1:-1]))
        check_config(cfg, n, data.K, data.regression)
        tr, va = bridge.split(data, cfg.validation_fraction, cfg.seed)
        if thetas is None:
            thetas = bridge.init_thetas([n, *cfg.hidden, data.K], cfg.seed)
        thetas = [np.array(t, dtype=np.float64, order="C", copy=True) for t in thetas]
        parts = (X[tr], data.y[tr], X[va], data.y[va])
        current = self._metrics(thetas, parts, cfg)
        with self._lock:
            self.config = cfg
            self.data = data
            self._evict_uploads(keep=set())  # the upload this dataset replaces may be forgotten now
            self.train_idx, self.val_idx = tr, va
            self._parts = parts
            self._points = (data.X[tr], data.y[tr], data.X[va], data.y[va])  # (x1, x2) for pictures of the plane
            self.thetas = thetas
            self.iteration = 0
            self.history: list[dict] = []
            self.initial = {"iteration": 0, **current}
            self.history_gen += 1
            self.snapshots = [Snapshot(0, thetas, 0, label)]
            self.cursor = 0
            self.current = {"iteration": 0, **current}
            self.status, self.error, self.message = "idle", None, ""
            self._bump()

    def reset(self, cfg: TrainConfig, thetas=None, label: str = "initial weights",
              data: Dataset | None = None) -> None:
        """Stop training and start over with ``cfg`` (new dataset / architecture / seed), or with given Θ.

        ``data``: the examples of cfg's dataset with their classes numbered as Θ's output units
        (:func:`bridge.in_unit_order`), held in its place from now on.
        """
        with self._control:
            self._check_open()
            self._cancel_job()
            self._install(cfg, thetas, label, data)

    def update_training(self, **changes) -> None:
        """Change training settings (λ, optimizer, α, batch size, iterations, pace) without resetting Θ."""
        allowed = {"lam", "optimizer", "learning_rate", "batch_size", "max_iter", "delay_ms"}
        bad = set(changes) - allowed
        if bad:
            raise ValueError(f"settings: {sorted(bad)} can only change with a reset; training settings are "
                             f"{sorted(allowed)}")
        with self._lock:
            cfg = replace(self.config, **changes)
            check_config(cfg)
            self.config = cfg
            if "lam" in changes:
                self.current = {"iteration": self.iteration, **self._metrics(self.thetas, self._parts, cfg)}
            self._bump()

    def apply_settings(self, validation_fraction: float | None = None, **changes) -> None:
        """Apply λ (and the other training settings) and the validation share now, to the current Θ, without training.

        J, D and every view are recomputed for the new λ (a run in progress goes on with the new settings); a new
        validation share splits the examples anew, keeping Θ (history and snapshots start over from it).
        """
        with self._lock:
            running = self.status == "running"
        if changes and running:
            self.play(**changes)
        elif changes:
            with self._control:
                self._check_open()
                self.update_training(**changes)
        if validation_fraction is not None and validation_fraction != self.config.validation_fraction:
            with self._control:
                self._check_open()
                self._cancel_job()
                with self._lock:
                    cfg, thetas = replace(self.config, validation_fraction=validation_fraction), self.thetas
                self._install(cfg, thetas, f"validation share {validation_fraction:g}, the same weights")

    def play(self, **changes) -> None:
        """Train continuously (continuing the current run, or starting one with the current settings)."""
        self._go("run", changes)

    def step(self, **changes) -> None:
        """Train exactly one more iteration, then pause."""
        self._go("step", changes)

    def _go(self, mode: str, changes: dict) -> None:
        with self._control:
            self._check_open()
            if changes:
                self.update_training(**changes)
            with self._lock:
                job = self._job
                if job is not None and not job.cancel and job.cfg.training_key() == self.config.training_key():
                    job.mode = mode
                    job.steps_left = 1 if mode == "step" else 0
                    self.status, self.error = "running", None
                    self._lock.notify_all()
                    self._bump()
                    return
            self._cancel_job()
            self._start_job(mode)

    def pause(self) -> None:
        """Pause after the iteration in progress (the run can continue with play or step).

        The status turns to "paused" when the worker has recorded that iteration and stopped.
        """
        with self._lock:
            if self._job is not None and not self._job.cancel:
                self._job.mode = "pause"
                self._lock.notify_all()

    def set_weight(self, l: int, i: int, j: int, value: float) -> dict:
        """Set Θ_ij^(l) (lecture numbering; j = 0 is the bias weight); stops training. Returns the new metrics."""
        if not (np.isfinite(value) and abs(value) <= LIMITS["weight"]):
            raise ValueError(f"value: expected a finite weight with |Θ| ≤ {LIMITS['weight']:g}, got {value!r}")
        with self._control:
            self._check_open()
            self._cancel_job()
            with self._lock:
                thetas = self.thetas
                L = len(thetas) + 1
                if not 1 <= l <= L - 1:
                    raise ValueError(f"l: expected a layer 1..{L - 1} (Θ^(l) maps layer l to l+1), got {l}")
                rows, cols = thetas[l - 1].shape
                if not 1 <= i <= rows:
                    raise ValueError(f"i: expected a unit 1..{rows} of layer {l + 1}, got {i}")
                if not 0 <= j <= cols - 1:
                    raise ValueError(f"j: expected a unit 0..{cols - 1} of layer {l} (0 = bias), got {j}")
                new = list(thetas)
                new[l - 1] = thetas[l - 1].copy()
                old = float(new[l - 1][i - 1, j])
                new[l - 1][i - 1, j] = value
            current = self._metrics(new, self._parts, self.config)
            with self._lock:
                self._truncate_future()
                self.thetas = new
                self._add_snapshot(f"edit {bridge.theta_name(l, i, j)}: {bridge.format_number(old)} → "
                                   f"{bridge.format_number(value)}")
                self.current = {"iteration": self.iteration, **current}
                self.status = "paused" if self.iteration else "idle"
                self._bump()
                return dict(self.current)

    def apply_thetas(self, thetas, label: str) -> dict:
        """Replace Θ (same shapes) as a new point in time, e.g. after a what-if step; stops training."""
        with self._control:
            self._check_open()
            self._cancel_job()
            current = self._metrics(thetas, self._parts, self.config)
            with self._lock:
                if [t.shape for t in thetas] != [t.shape for t in self.thetas]:
                    raise ValueError("thetas: expected the current layer shapes")
                self._truncate_future()
                self.thetas = [np.array(t, dtype=np.float64, order="C") for t in thetas]
                self._add_snapshot(label)
                self.current = {"iteration": self.iteration, **current}
                self.status = "paused" if self.iteration else "idle"
                self._bump()
                return dict(self.current)

    def rewind(self, index: int | None = None, offset: int | None = None) -> None:
        """Go to snapshot ``index`` (0 = oldest), or ``offset`` snapshots from the current one (-1 = one back).

        The later snapshots stay reachable until Θ changes again. ``offset`` is resolved under the command lock, so
        quick repeated "step back" clicks each go one further.
        """
        if (index is None) == (offset is None):
            raise ValueError("rewind: give exactly one of index (a snapshot number) or offset (e.g. -1)")
        with self._control:
            self._check_open()
            self._cancel_job()
            with self._lock:
                target = index if index is not None else self.cursor + (offset or 0)  # offset is given here
                if not 0 <= target < len(self.snapshots):
                    where = f"index: expected a snapshot 0..{len(self.snapshots) - 1}, got {target}"
                    if offset is not None:
                        where = (f"offset: no snapshot {abs(offset)} {'before' if offset < 0 else 'after'} the "
                                 f"current one (snapshot {self.cursor} of 0..{len(self.snapshots) - 1})")
                    raise ValueError(where)
                snap = self.snapshots[target]
            current = self._metrics(snap.thetas, self._parts, self.config)
            with self._lock:
                self.cursor = target
                self.thetas = snap.thetas
                self.iteration = snap.iteration
                self.current = {"iteration": snap.iteration, **current}
                self.status = "paused" if target else "idle"
                self._bump()

    def close(self, timeout: float = 30.0) -> None:
        """Stop the worker and end event streams; the session refuses commands afterwards."""
        self.closed.set()
        with self._lock:
            job = self._job
            if job is not None:
                job.cancel = True
                self._lock.notify_all()
        if job is not None and job.thread is not None and job.thread is not threading.current_thread():
            job.thread.join(timeout)

    # ---------------------------------------------------------------- the worker
    def _check_open(self) -> None:
        if self.closed.is_set():
            raise SessionClosed("the explorer is shutting down")

    def _cancel_job(self) -> None:
        """Cancel and join the running job, if any (call with ``_control`` held, ``_lock`` not held)."""
        with self._lock:
            job = self._job
            if job is None:
                return
            job.cancel = True
            self._lock.notify_all()
        if job.thread is not None:
            job.thread.join(60.0)
        with self._lock:
            if self._job is job:
                self._job = None
            if self.status == "running":
                self.status = "paused"
            self._bump()

    def _start_job(self, mode: str) -> None:
        with self._lock:
            self._truncate_future()
            job = _Job(cfg=self.config, mode=mode, steps_left=1 if mode == "step" else 0)
            thetas, parts = self.thetas, self._parts
            self._job = job
            self.status, self.error, self.message = "running", None, ""
            self._bump()
        job.thread = threading.Thread(target=self._run, args=(job, thetas, parts), name="glassnet-train", daemon=True)
        job.thread.start()

    def _run(self, job: _Job, thetas, parts) -> None:
        Xtr, ytr = parts[0], parts[1]
        try:
            message = bridge.train(thetas, Xtr, ytr, job.cfg,
                                   lambda th: self._after_iteration(job, th, parts),
                                   should_stop=lambda: job.cancel)
            with self._lock:
                if self._job is job and not job.cancel:
                    self.status, self.message = "done", message
        except Exception as exc:  # a crashed job is reported on the page; the server stays up
            log.error("training job failed:\n%s", traceback.format_exc())
            with self._lock:
                if self._job is job and not job.cancel:
                    self.status = "error"
                    self.error = f"training failed: {type(exc).__name__}: {exc}"
        finally:
            with self._lock:
                if self._job is job:
                    self._job = None
                self._bump()
                self._lock.notify_all()

    def _after_iteration(self, job: _Job, thetas, parts) -> bool:
        """Record one finished iteration, then pace / pause as asked. Returns True to stop the optimizer."""
        if job.cancel:
            return True
        thetas = [np.array(t, dtype=np.float64, order="C", copy=True) for t in thetas]
        # J after the iteration on the whole training set (a mini-batch optimizer only knows its batches' mean).
        row = self._metrics(thetas, parts, job.cfg)
        with self._lock:
            if job.cancel or self._job is not job:
                return True
            self.iteration += 1
            row = {"iteration": self.iteration, **row}
            self.history.append(row)
            self.thetas = thetas
            self._add_snapshot("training")
            self.current = dict(row)
            if job.mode == "step":
                job.steps_left -= 1
                if job.steps_left <= 0:
                    job.mode = "pause"
            self._bump()
            self._lock.notify_all()
            deadline = time.monotonic() + self.config.delay_ms / 1000.0
            while not job.cancel:
                if job.mode == "pause":
                    if self.status != "paused":
                        self.status = "paused"
                        self._bump()
                    self._lock.wait()
                    continue
                if job.mode == "step":
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._lock.wait(remaining)
            if job.cancel:
                return True
            if self.status != "running":
                self.status = "running"
                self._bump()
        return False

    # ---------------------------------------------------------------- snapshots
    def _truncate_future(self) -> None:
        """Drop snapshots (and history) after the cursor: Θ is about to change from the rewound point."""
        if self.cursor < len(self.snapshots) - 1:
            snap = self.snapshots[self.cursor]
            del self.snapshots[self.cursor + 1:]
            if len(self.history) > snap.history_len:
                del self.history[snap.history_len:]
                self.history_gen += 1

    def _add_snapshot(self, label: str) -> None:
        self.snapshots.append(Snapshot(self.iteration, self.thetas, len(self.history), label))
        per = sum(t.nbytes for t in self.thetas)
        cap = int(min(2000, max(16, self._snapshot_bytes // max(per, 1))))
        if len(self.snapshots) > cap:
            # Thin the older three quarters (keep the first), so recent history stays fine-grained.
            cut = (3 * len(self.snapshots)) // 4
            old = self.snapshots[:cut]
            self.snapshots = [old[0]] + old[2::2] + self.snapshots[cut:]
        self.cursor = len(self.snapshots) - 1

    # ---------------------------------------------------------------- reading
    def _bump(self) -> None:
        self.version += 1

    @staticmethod
    def _metrics(thetas, parts, cfg: TrainConfig) -> dict:
        """J (regularized, the objective) and accuracy on the training part; cost (λ = 0) and accuracy on validation."""
        kinds = bridge.kinds(cfg)
        J, acc = bridge.metrics(thetas, parts[0], parts[1], cfg.lam, **kinds)
        J_val, acc_val = bridge.metrics(thetas, parts[2], parts[3], 0.0, **kinds)
        return {"J": J, "acc": acc, "J_val": J_val, "acc_val": acc_val}

    def snapshot_view(self):
        """(version, Θ, config, data, train/val indices) read together, for computing outside the lock."""
        with self._lock:
            return self.version, self.thetas, self.config, self.data, self._parts

    def points_view(self):
        """The examples as the data holds them, split like ``snapshot_view``'s parts (with chosen features, the parts
        hold the network's inputs and these the (x1, x2) points the pictures of the plane are drawn over)."""
        with self._lock:
            return self._points

    def timeline_view(self):
        """(version, [(iteration, Θ) of every snapshot], cursor, config, train/val parts), read together."""
        with self._lock:
            return (self.version, [(s.iteration, s.thetas) for s in self.snapshots], self.cursor, self.config,
                    self._parts)

    def export_view(self):
        """(Θ, config, data, history rows up to the current point) for saving a model file."""
        with self._lock:
            n = self.snapshots[self.cursor].history_len
            return self.thetas, self.config, self.data, [dict(r) for r in self.history[:n]]

    @property
    def running(self) -> bool:
        with self._lock:
            return self._job is not None and not self._job.cancel and self._job.mode != "pause"

    def state(self, history_from: int = 0, history_gen: int | None = None) -> dict:
        """Everything the page's header, controls and curves need, as JSON-ready values.

        History rows start at ``history_from`` when ``history_gen`` is the current generation (an event stream sends
        only new rows); otherwise all rows are sent and ``history.start`` is 0.
        """
        with self._lock:
            start = history_from if history_gen == self.history_gen else 0
            start = min(start, len(self.history))
            cfg = asdict(self.config)
            cfg["hidden"] = list(self.config.hidden)
            cfg["features"] = None if self.config.features is None else list(self.config.features)
            data = self.data
            return {
                "version": self.version,
                "status": self.status,
                "error": self.error,
                "message": self.message,
                "iteration": self.iteration,
                "current": dict(self.current),
                "config": cfg,
                # the units and cost in use, in the library's words (g, g′, the cost and δ^(L) of the pair)
                "kinds": bridge.kinds_text(self.config.activation, self.config.output, self.config.loss),
                "sizes": bridge.sizes_of(self.thetas),
                "dataset": {
                    "name": data.name, "description": data.description, "m": data.m, "n": data.n, "K": data.K,
                    "m_train": int(self.train_idx.size), "m_val": int(self.val_idx.size),
                    "image_shape": list(data.image_shape) if data.image_shape else None,
                    # real targets (identity output, squared cost) or classes; "score" names the rows' "acc" values
                    "task": "regression" if data.regression else "classification",
                    "score": bridge.SCORE_NAMES["regression" if data.regression else "classification"],
                    # the file name of an uploaded dataset (the setup link names it), None for a built-in
                    "upload": data.name[len(UPLOAD_PREFIX):] if data.name.startswith(UPLOAD_PREFIX) else None,
                    "noise": (None if bridge.default_noise(data.name) is None else self.config.noise
                              if self.config.noise is not None else bridge.default_noise(data.name)),
                    # sent once per history generation (a dataset is installed with a new one): an event stream's
                    # later events stay small however long the class names are; the client has them already
                    "classes": data.classes if history_gen != self.history_gen else None,
                },
                "history": {"gen": self.history_gen, "start": start, "rows": self.history[start:],
                            "total": len(self.history), "initial": dict(self.initial)},
                "snapshots": {"cursor": self.cursor, "count": len(self.snapshots),
                              "iteration": self.snapshots[self.cursor].iteration,
                              "label": self.snapshots[self.cursor].label},
            }


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.01) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass (for tests and the CLI)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
