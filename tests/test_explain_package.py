"""glassnet.explain is both the function and the package; a Trace shows itself briefly, and as a diagram in Jupyter."""

import importlib
import inspect
import pydoc
import re
import subprocess
import sys

import numpy as np
import pytest

import glassnet
from conftest import random_problem
from explain_helpers import hand_worked_2_2_1
from glassnet.explain import Trace, text


def test_calling_the_package_is_calling_explain():
    thetas, X, y = random_problem([4, 6, 3], m=5, seed=1)
    from glassnet.explain.trace import explain

    a, b = glassnet.explain(thetas, X[2], y[2], 0.5), explain(thetas, X[2], y[2], 0.5)
    assert isinstance(a, Trace) and a.to_dict() == b.to_dict()
    assert glassnet.explain(thetas, X, y, lam=1.0, rows=3).to_dict() == explain(thetas, X, y, lam=1.0, rows=3).to_dict()
    assert len(glassnet.explain(thetas, X, y)) == 5
    with pytest.raises(ValueError, match="lam"):
        glassnet.explain(thetas, X[0], 1, lam=-1)
    assert "explain" in glassnet.__all__


def test_the_submodules_are_reachable_every_way():
    import glassnet.explain.text as t
    from glassnet.explain import diagram

    assert t is text and glassnet.explain.text is t and glassnet.explain.diagram is diagram
    assert importlib.import_module("glassnet.explain.report") is glassnet.explain.report
    assert glassnet.explain.diagram.diagram_svg(hand_worked_2_2_1()).startswith("<svg")
    assert sys.modules["glassnet.explain"] is glassnet.explain
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("glassnet.explain.render")  # split into text, diagram, figures and report


def test_help_shows_the_functions_arguments():
    sig = inspect.signature(glassnet.explain)
    assert list(sig.parameters) == ["thetas", "x", "y", "lam", "top_k", "rows", "m", "activation", "output", "loss"]
    assert sig.parameters["lam"].default == 0.0
    doc = glassnet.explain.__doc__
    assert doc.startswith("See backpropagation: ``glassnet.explain(thetas, x, y, lam=0.0")
    for name in ("``thetas``", "``x``", "``y``", "``lam``", "``top_k``", "``rows``", "``m``"):
        assert name in doc
    page = pydoc.render_doc(glassnet.explain, renderer=pydoc.plaintext)
    assert "thetas" in page and "Trace" in page


def test_importing_the_explainer_does_not_import_matplotlib():
    code = ("import sys, glassnet, glassnet.explain.figures, glassnet.explain.report; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_repr_and_str_are_a_short_summary_not_the_dataclass_dump(ex4_thetas):
    tr = glassnet.explain(ex4_thetas, np.full(400, 0.1), 3)
    assert repr(tr) == str(tr) == text.summary(tr)
    lines = str(tr).splitlines()
    assert 3 <= len(lines) <= 8 and len(str(tr)) < 600
    assert "network 400-25-10" in lines[0] and "λ = 0" in lines[0]
    assert lines[2].startswith("target: output unit 4 (y₄ = 1)")
    assert f"predicted class {tr.prediction}" in lines[1] and "cost(t) = " in lines[1]
    assert "network 2-2-1" in repr(hand_worked_2_2_1())
    assert f"{[hand_worked_2_2_1()]}".startswith("[Trace · Example: label 1")


def test_repr_html_shows_the_backward_diagram_and_the_delta_equations():
    thetas, X, y = random_problem([4, 6, 3], m=5, seed=1)
    tr = glassnet.explain(thetas, X, y, rows=2)
    page = tr._repr_html_()
    assert page.startswith('<div class="glassnet-trace">') and page.count("<svg") == 1
    assert 'data-view="backward"' in page
    for j in (1, 2, 3):  # every output unit's δ = a − y
        assert text.unit_equation(tr, 3, j) in page
    hidden = int(np.argmax(np.abs(np.asarray(tr.delta[2])))) + 1
    assert text.unit_equation(tr, 2, hidden) in page
    ids, again = re.findall(r' id="([^"]+)"', page), re.findall(r' id="([^"]+)"', tr._repr_html_())
    assert len(ids) == len(set(ids)) > 20 and not set(ids) & set(again)  # two blocks on one page: their own ids
    assert not hasattr(tr, "_repr_svg_")  # the SVG is inside the HTML; a second copy would double every output
