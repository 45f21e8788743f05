"""Shared fixtures: reference data paths and small deterministic problems."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

# CI runs the property tests on a fixed, reproducible sample; local runs explore new examples each time.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# Students' nnCostFunction files that tests/test_grade.py grades: not tests, not doctests (one of them hangs).
collect_ignore = ["grade_gallery"]

# The lanes: `make test` runs everything, `make test-fast` deselects these markers (registered in pyproject.toml).
# A file name marks the whole file; "file::test" one test (all its parameter cases).
LANES = {
    "browser": ["test_server_browser.py", "test_server_browser_2d.py", "test_docs.py::test_pages_in_a_real_browser",
                "test_walk.py::test_slide_deck_in_a_real_browser", "test_check_browser.py", "test_one_screen.py",
                "test_docs.py::test_trace_block_keeps_readable_text_and_whole_numbers_in_a_narrow_column",
                "test_course_explorer.py::test_the_course_network_in_a_real_browser", "test_widget_browser.py",
                "test_setup_link_browser.py"],
    "docs": ["test_docs.py", "test_notebooks.py",
             "test_widget.py::test_nbconvert_html_export_shows_the_static_picture"],
    "slow": [
        "test_examples.py",  # every gallery script in its own Python process
        "test_resume.py",  # training processes killed at random moments and resumed
        "test_distributed.py",  # a Dask cluster of worker processes, worker kills
        "test_estimator_dask.py",  # the same, through the estimators
        "test_io.py::test_save_killed_at_random_moments_leaves_old_or_new_file",
        "test_bench.py::test_quick_training_benchmark_reports_every_row",
        "test_memory.py::test_model_file_bombs_cost_nothing_when_refused",
        "test_course_flow.py::test_serve_opens_the_course_network",
        "test_explorer_bounded.py::test_a_storm_of_heavy_views_leaves_state_answering",  # a real server under load
        "test_budgets.py::test_the_red_team_script_runs_and_finds_no_traceback",  # a Python process per bomb
    ],
}

# The estimators warn (scikit-learn's ConvergenceWarning) when a fit stops at max_iter. Most tests fit with a small
# max_iter on purpose and assert other things, so the warning is ignored there; the files or tests named here assert
# on it (or on its absence) and keep the "error" filter of pyproject.toml.
CONVERGENCE_WARNING_CHECKED = ["test_engineer_paper_cuts.py"]


def pytest_collection_modifyitems(config, items):
    """Mark the tests that LANES names (tests in this folder only; doctests of src/ and README.md are fast), and
    ignore ConvergenceWarning outside :data:`CONVERGENCE_WARNING_CHECKED`."""
    here = Path(__file__).parent
    ignore_convergence = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
    for item in items:
        if item.path.parent != here:
            continue
        names = {item.path.name, f"{item.path.name}::{getattr(item, 'originalname', item.name)}"}
        for marker, entries in LANES.items():
            if names & set(entries):
                item.add_marker(marker)
        if not names & set(CONVERGENCE_WARNING_CHECKED):
            item.add_marker(ignore_convergence)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
EX4_WEIGHTS = SHARED / "data" / "ex4weights.mat"


@pytest.fixture
def ex4_thetas():
    """The course's trained 400-25-10 weights (Theta1 25×401, Theta2 10×26)."""
    if not EX4_WEIGHTS.exists():
        pytest.skip(f"reference weights not found at {EX4_WEIGHTS}")
    from scipy.io import loadmat

    d = loadmat(EX4_WEIGHTS)
    return [np.asarray(d["Theta1"], dtype=np.float64), np.asarray(d["Theta2"], dtype=np.float64)]


def random_problem(sizes, m, seed=0, scale=1.0, features="normal", epsilon=None):
    """Random Θ (uniform ±scale·ε, ε = ε_init or ``epsilon``), X ~ N(0, 1) (or uniform in [-1, 1]) and valid labels."""
    import glassnet

    rng = np.random.default_rng(seed)
    thetas = [t * scale for t in glassnet.random_init(sizes, rng, epsilon=epsilon)]
    X = rng.standard_normal((m, sizes[0])) if features == "normal" else rng.uniform(-1, 1, (m, sizes[0]))
    K = sizes[-1]
    y = rng.integers(0, 2, size=m) if K == 1 else rng.integers(0, K, size=m)
    return thetas, X, y


def kernel_problem(dtype, sizes=(20, 7, 5, 3), m=103, output="sigmoid", seed=0):
    """Θ ~ 0.5·N(0, 1), X uniform in [0, 1) and labels (real targets for an identity output), all in ``dtype``: what
    the compiled code (epoch, full-batch sums) is compared with the NumPy code on."""
    rng = np.random.default_rng(seed)
    X = rng.random((m, sizes[0])).astype(dtype)
    thetas = [(0.5 * rng.standard_normal((sizes[i + 1], sizes[i] + 1))).astype(dtype) for i in range(len(sizes) - 1)]
    K = sizes[-1]
    y = rng.standard_normal((m, K)).astype(dtype) if output == "identity" else rng.integers(0, K, m)
    return thetas, X, y


@contextlib.contextmanager
def dask_client(allowed_failures=None):
    """A fresh 2-process LocalCluster (1 thread each) and its client, closed afterwards.

    Each test module that needs Dask makes its own, so one module's worker kills never reach another's cluster.
    ``allowed_failures`` sets Dask's retry budget for tasks whose worker died (``None``: Dask's default).
    """
    import dask
    import distributed

    config = {} if allowed_failures is None else {"distributed.scheduler.allowed-failures": allowed_failures}
    with dask.config.set(config), distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", memory_limit="2GiB"
    ) as cluster, distributed.Client(cluster, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=60)
        yield client
