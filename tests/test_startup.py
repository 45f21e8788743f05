"""Start-up stays light: ``import glassnet`` and ``glassnet --help`` import none of the heavy libraries.

Every command line call and every grading run pays for what ``import glassnet`` imports, so scikit-learn, SciPy's
optimizers and statistics, plotting, the web framework, Dask, pandas and the array libraries are imported only where
they are used. A fresh interpreter runs each start-up; the check lists modules, never times (machines are busy).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

#: Top-level packages (and SciPy submodules) that must not be imported by starting glassnet.
HEAVY = ("sklearn", "matplotlib", "fastapi", "starlette", "uvicorn", "dask", "pandas", "torch", "jax",
         "scipy.optimize", "scipy.stats", "anywidget", "traitlets", "ipywidgets")

_IMPORTTIME = re.compile(r"^import time:\s*\d+\s*\|\s*\d+\s*\|\s*(\S+)\s*$")

# Prints every module the process holds when it ends, whatever ran before (also modules that ``-X importtime`` does
# not list, such as those loaded through importlib.import_module).
_AT_EXIT = "import atexit, sys; atexit.register(lambda: print('MODULES', *sorted(sys.modules)))"


def _start(*args: str) -> set[str]:
    """The modules a fresh ``python -X importtime ARGS`` imports: those -X importtime lists and those in sys.modules."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    listed = {m.group(1) for line in proc.stderr.splitlines() if (m := _IMPORTTIME.match(line))}
    held = {name for line in proc.stdout.splitlines() if line.startswith("MODULES ") for name in line.split()[1:]}
    return listed | held


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_the_checker_sees_heavy_imports():
    modules = _start("-c", f"{_AT_EXIT}; import importlib; importlib.import_module('scipy.optimize')")
    assert "scipy.optimize" in _heavy(modules)


def test_import_glassnet_imports_nothing_heavy():
    modules = _start("-c", f"{_AT_EXIT}; import glassnet")
    assert "glassnet" in modules and "glassnet.api" in modules
    assert _heavy(modules) == []
    # the explainer, the estimators, model files and the grader wait until first use
    lazy = {"glassnet.estimator", "glassnet.explain", "glassnet.io", "glassnet.grading", "glassnet.widget"}
    assert not lazy & modules
    # scipy.special too: it loads SciPy's array-API layer, and only computing J or g(z) needs it
    assert "scipy.special" not in modules


@pytest.mark.parametrize("how", ["-m", "main"])
def test_help_imports_nothing_heavy(how):
    if how == "-m":
        modules = _start("-m", "glassnet", "--help")
    else:  # in-process, as tests call the CLI; also shows what importlib.import_module loaded
        modules = _start("-c", f"{_AT_EXIT}; from glassnet.cli import main; assert main(['--help']) == 0")
        assert {"glassnet.cli.train", "glassnet.cli.grade", "glassnet.cli.serve"} <= modules
    assert _heavy(modules) == []
    assert not {"glassnet.estimator", "glassnet.explain", "glassnet.server"} & modules


def test_the_lazy_public_names_resolve():
    code = (f"{_AT_EXIT}\n"
            "import glassnet, types\n"
            "from glassnet import Classifier, load\n"
            "assert glassnet.Classifier is Classifier and glassnet.load is load\n"
            "assert glassnet.Regressor.__name__ == 'Regressor' and callable(glassnet.save)\n"
            "assert callable(glassnet.grade) and callable(glassnet.explain)\n"
            "assert isinstance(glassnet.explain, types.ModuleType) and glassnet.explain.text is not None\n"
            "assert glassnet.io.load is load and glassnet.interop.__name__ == 'glassnet.io.interop'\n"
            "assert glassnet.datasets.make_xor(4).X.shape == (4, 2)\n"
            "assert all(hasattr(glassnet, n) for n in glassnet.__all__)\n"
            "assert set(glassnet.__all__) <= set(dir(glassnet))\n")
    modules = _start("-c", code)
    assert "sklearn" in modules  # the estimators do import scikit-learn, once they are asked for


def test_an_unknown_name_is_still_an_attribute_error():
    import glassnet

    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        glassnet.nonexistent  # noqa: B018
    assert not hasattr(glassnet, "Estimator")


def test_special_functions_are_scipys_own():
    """The lecture's numerics stay scipy.special's ufuncs, bit for bit: only their import waits for first use."""
    import numpy as np
    import scipy.special

    from glassnet._support import special

    for name in special.__all__:
        assert getattr(special, name) is getattr(scipy.special, name)
    assert set(special.__all__) <= set(dir(special))
    with pytest.raises(AttributeError):
        special.erf  # noqa: B018  (not one glassnet uses)
    from glassnet.activations import log_sigmoid, sigmoid

    z = np.array([-1000.0, -3.5, 0.0, 1e-9, 2.0, 40.0])
    assert sigmoid(z).tobytes() == scipy.special.expit(z).tobytes()
    assert log_sigmoid(z).tobytes() == scipy.special.log_expit(z).tobytes()
