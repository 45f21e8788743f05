"""One training entry and one home per fit rule: partial_fit's epoch is glassnet.train.fitting.fit's epoch, the
mini-batch share of λ is batch_lam, and the estimators and their Dask input start a fit from the same set-up."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

import glassnet
from glassnet.train import fitting


def data(m=90, n=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, n)), rng.choice([2, 5, 9], size=m)


def test_batch_lam_is_the_batch_share_of_lambda():
    # 0.3 · 40 / 157: the batch of 40 rows carries 40/157 of λ; an epoch's batches add up to λ
    assert fitting.batch_lam(0.3, 40, 157) == 0.3 * 40 / 157
    assert sum(fitting.batch_lam(1.5, b, 10) for b in (4, 4, 2)) == pytest.approx(1.5)


def test_partial_fit_trains_through_the_one_training_entry(monkeypatch):
    calls = []
    real = fitting.fit

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(fitting, "fit", spy)
    X, y = data()
    clf = glassnet.Classifier(hidden_layer_sizes=(5,), solver="adam", random_state=0)
    clf.partial_fit(X, y, classes=[2, 5, 9]).partial_fit(X, y)
    assert [c["max_iter"] for c in calls] == [1, 1]
    assert clf.n_iter_ == 2 and clf.history_.message == "partial_fit: one epoch"


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_epochs_are_the_epochs_of_fit(solver):
    """Unshuffled, n partial_fit calls are bit for bit the first n epochs of fit: the same entry, state carried."""
    X, y = data()
    kw = dict(hidden_layer_sizes=(5,), solver=solver, shuffle=False, batch_size=32, alpha=0.2, random_state=3)
    ref = glassnet.Classifier(max_iter=3, n_iter_no_change=50, **kw).fit(X, y)
    clf = glassnet.Classifier(**kw)
    for i in range(3):
        clf.partial_fit(X, y, classes=[2, 5, 9] if i == 0 else None)
    assert clf.history_.cost == ref.history_.cost
    for t, r in zip(clf.thetas_, ref.thetas_, strict=True):
        np.testing.assert_array_equal(t, r)


# --------------------------------------------------------------------------------------------------------------------
# Structure: Dask stays outside the estimator, and its package uses public functions only
# --------------------------------------------------------------------------------------------------------------------

SRC = Path(glassnet.__file__).parent


def _tree(relative: str) -> ast.Module:
    return ast.parse((SRC / relative).read_text(encoding="utf-8"))


def test_each_estimator_method_hands_dask_input_over_in_one_statement():
    for node in ast.walk(_tree("estimator.py")):
        if not isinstance(node, ast.FunctionDef):
            continue
        lines = {stmt.lineno for stmt in node.body for sub in ast.walk(stmt)
                 if isinstance(sub, ast.Name) and sub.id == "dask_fit"}
        assert len(lines) <= 1, f"estimator.{node.name}: Dask calls on lines {sorted(lines)}, expected one statement"


def test_the_dask_package_uses_no_private_name_of_the_estimator_or_of_the_training_modules():
    tree = _tree("scale/dask_fit.py")
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("glassnet"):
            assert not [a.name for a in node.names if a.name.startswith("_")], f"private import from {node.module}"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "model":
            assert not node.attr.startswith("_"), f"dask_fit reads model.{node.attr} (line {node.lineno})"
    assert "glassnet.estimator" not in (SRC / "scale/dask_fit.py").read_text(encoding="utf-8").split('"""', 2)[2]


def test_the_mini_batch_share_of_lambda_is_written_once():
    """λ·|b|/m has one home (batch_lam): no other training module writes ``lam * <rows> / m``."""
    pattern = re.compile(r"lam \* [\w().]+ / m\b")
    for relative in ("estimator.py", "train/fitting.py", "train/optimize.py", "scale/distributed.py",
                     "scale/dask_fit.py"):
        hits = pattern.findall((SRC / relative).read_text(encoding="utf-8"))
        assert hits == (["lam * rows / m"] if relative == "train/fitting.py" else []), (relative, hits)
