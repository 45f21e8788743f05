"""Exact resume: a checkpointed mini-batch run, killed and resumed, ends with the weights of an uninterrupted one.

The library-level test continues a run from the ``solver_state`` a callback saw (through a checkpoint file); the kill
test runs ``glassnet train`` as a child process, SIGKILLs it at random moments (sometimes inside a checkpoint write),
resumes it from its checkpoint each time and compares Θ and the cost history with a run that was never interrupted.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

import glassnet
from glassnet import io as gio
from glassnet.train.optimize import SolverState


def _digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16.0, y[:600]


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_fit_resumes_exactly_from_a_checkpoint(tmp_path, solver):
    X, y = _digits()
    params = dict(hidden_layer_sizes=(8,), solver=solver, batch_size=64, random_state=4, early_stopping=True,
                  n_iter_no_change=30, max_iter=9)
    seen = {}

    def keep(state):
        seen[state.epoch] = ([t.copy() for t in state.thetas], state.solver_state, state.history.to_dict())

    full = glassnet.Classifier(**params).fit(X, y, callbacks=keep)
    thetas, state, _ = seen[4]
    assert isinstance(state, SolverState) and state.epoch == 4 and state.solver == solver
    part = glassnet.Classifier.from_weights(thetas, full.classes_, history=glassnet.History.from_dict(seen[4][2]),
                                            **params)
    path = gio.save_checkpoint(part, tmp_path / "c.npz", state)
    assert glassnet.load(path).n_iter_ == 4  # a checkpoint is also a model file
    model, restored = gio.load_checkpoint(path)
    assert restored.rng == state.rng and restored.epoch == 4 and restored.bad_epochs == state.bad_epochs
    for key, value in state.optimizer.items():
        if isinstance(value, list):
            assert all(np.array_equal(a, b) for a, b in zip(value, restored.optimizer[key]))
        else:
            assert restored.optimizer[key] == value
    model.set_params(max_iter=5).fit(X, y, resume=restored)
    assert all(np.array_equal(a, b) for a, b in zip(model.thetas_, full.thetas_))
    assert model.history_.cost == full.history_.cost and model.n_iter_ == full.n_iter_ == 9
    assert model.history_.best_epoch == full.history_.best_epoch


def test_resume_is_refused_where_it_cannot_be_exact(tmp_path):
    X, y = _digits()
    clf = glassnet.Classifier(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="resume: only for a fitted model with a mini-batch solver"):
        clf.fit(X, y, resume=SolverState("adam", 1, {}, None))
    adam = glassnet.Classifier(hidden_layer_sizes=(4,), solver="adam", max_iter=1, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="the state is of optimizer 'sgd'"):
        adam.fit(X, y, resume=SolverState("sgd", 1, {"velocity": [np.zeros_like(t) for t in adam.thetas_]}, None))
    path = gio.save_checkpoint(clf, tmp_path / "l.npz")  # full batch: no state to carry
    assert gio.load_checkpoint(path)[1] is None


def _train(args, cwd):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(glassnet.__file__).parents[1]), env.get("PYTHONPATH", "")])
    return subprocess.Popen([sys.executable, "-m", "glassnet", "train", *args], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _mtime(path: Path):
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


@pytest.mark.parametrize("solver, extra", [("sgd", []), ("adam", ["--early-stopping", "--patience", "200"])])
def test_killed_runs_resume_to_the_uninterrupted_weights(tmp_path, solver, extra):
    common = ["--data", "digits", "--solver", solver, "--hidden", "12", "--batch-size", "32", "--epochs", "120",
              "--threads", "1", "--seed", "3", "--checkpoint-every", "1", *extra]
    ref = _train([*common, "--save", "ref.npz"], tmp_path)
    assert ref.wait(timeout=300) == 0, ref.stderr.read().decode()
    ref.stderr.close()
    model, ckpt = tmp_path / "m.npz", tmp_path / "m.npz.ckpt"
    rnd = random.Random(16)
    kills, launches = 0, 0
    while True:
        launches += 1
        assert launches <= 40, "the run made no progress between kills"
        before = _mtime(ckpt)
        proc = _train([*common, "--save", "m.npz", *(["--resume", "m.npz.ckpt"] if before is not None else [])],
                      tmp_path)
        if kills >= 8:  # enough: let this one finish
            code = proc.wait(timeout=300)
            err = proc.stderr.read().decode()
            proc.stderr.close()
            assert code == 0, err
            break
        deadline = time.monotonic() + 120
        while _mtime(ckpt) == before and proc.poll() is None:  # wait for at least one new checkpoint
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.005)
        time.sleep(rnd.uniform(0.0, 0.06))  # a random moment: during an epoch or inside a checkpoint write
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
        proc.stderr.close()
        assert not model.exists() or proc.returncode == 0  # --save is written only by a run that ended well
        if proc.returncode == 0:
            break
    assert kills >= 8 and not ckpt.exists()
    got, want = glassnet.load(model), glassnet.load(tmp_path / "ref.npz")
    assert all(np.array_equal(a, b) for a, b in zip(got.thetas_, want.thetas_))
    assert got.history_.cost == want.history_.cost and got.n_iter_ == want.n_iter_
    assert got.history_.val_cost == want.history_.val_cost
