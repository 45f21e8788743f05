"""The tutorial notebooks run top to bottom against the current glassnet, and are stored without outputs.

Each notebook is executed with nbclient in a fresh kernel from its own folder; any exception in any cell fails the
test (the notebooks also ``assert`` the numbers they explain), and so does anything written to stderr (warnings
included). The documentation build executes them again for the site (see mkdocs.yml).
"""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="notebook tests need nbformat, nbclient and ipykernel ('dev' extra)")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "docs" / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("*.ipynb"))
CELL_TIMEOUT_S = 600  # generous: a loaded 2-core machine; the notebooks take about a minute together

# What each notebook must show besides running cleanly: (text in its stdout, number of pictures at least).
EXPECTED = {
    "01-forward-propagation": (["glassnet.forward agrees with the hand computation", "h_Θ(x) = a₁⁽⁴⁾ = 0.6382"], 1),
    "02-what-delta-means": (["glassnet's δ₂⁽²⁾ = -0.012220", "δ₂⁽²⁾ = Θ₁₂⁽²⁾·δ₁⁽³⁾ + Θ₂₂⁽²⁾·δ₂⁽³⁾",
                             "Trace · Example: label 1 · network 2-2-2-1"], 2),
    "03-gradient-checking": (["PASS", "regularize bias  λ = 3", "FAIL"], 1),
    "04-digit-classifier": (["misclassified", "best λ ="], 6),
    "05-scikit-learn": (["identical predictions on 450 test digits: True", "(scikit-learn's loss_)"], 0),
    "06-grade-your-own-backprop": (["diagnosis: δ^(L) has a g′(z^(L)) factor", "6 of 6 parts pass"], 0),
    "07-explorer-in-your-notebook": (["layers [400, 25, 10]", "δ₃⁽²⁾ = ", "the widget shows clf's weights",
                                      "changes heard by the callback: True"], 0),
}


def test_the_tutorials_are_there():
    assert [p.stem for p in NOTEBOOKS] == sorted(EXPECTED)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            cleared = cell.outputs == [] and cell.execution_count is None
            assert cleared, f"{path.name}: clear the outputs before committing"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


def _run(path: Path):
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return nb


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # silences jupyter_core's path-migration DeprecationWarning
    nb = _run(path)
    stdout, stderr, pictures = [], [], 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                (stdout if out.name == "stdout" else stderr).append(out.text)
            elif out.output_type in ("display_data", "execute_result"):
                pictures += any(k in out.data for k in ("image/png", "image/svg+xml"))
    assert not stderr, f"{path.name} wrote to stderr:\n{''.join(stderr)[:3000]}"
    texts, min_pictures = EXPECTED[path.stem]
    printed = "".join(stdout)
    for text in texts:
        assert text in printed, f"{path.name}: expected {text!r} in its output"
    assert pictures >= min_pictures, f"{path.name}: {pictures} pictures, expected at least {min_pictures}"


def test_kernel_runs_the_project_python(monkeypatch):
    """The kernel must import this checkout's glassnet (jupyter_client maps the kernelspec's "python" to
    sys.executable), otherwise the notebooks would test some other installation."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import sys, glassnet; print(sys.executable); print(glassnet.__file__)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    exe, module = nb.cells[0].outputs[0].text.split()
    assert Path(module).resolve().is_relative_to(ROOT / "src")
