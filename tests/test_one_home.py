"""Each rule has one home that every caller asks: the same fault gives the same message wherever it enters, and no
second copy of the rule is written elsewhere in the source."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import glassnet
from glassnet import io as gio
from glassnet._validation import check_thetas
from glassnet.io import interop

SRC = Path(glassnet.__file__).parent


def sources(pattern: str) -> list[str]:
    """The modules of src/glassnet (relative paths) whose text matches ``pattern``."""
    return sorted(str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if re.search(pattern, p.read_text("utf-8")))


# ------------------------------------------------------------------------------------------------------ Θ lists


def _entries(tmp_path):
    """Every way a Θ list enters glassnet: the math, the estimator, model files, interop, the explorer's bridge."""
    X = np.ones((2, 3))
    entries = {
        "forward": lambda t: glassnet.forward(t, X),
        "cost_and_gradient": lambda t: glassnet.cost_and_gradient(t, X, np.array([0, 1]), 0.0),
        "from_weights": lambda t: glassnet.Classifier.from_weights(t),
        "save_thetas": lambda t: gio.save_thetas(tmp_path / "m.npz", t),
        "interop": lambda t: interop.classifier_from_thetas(t),
    }
    try:
        from glassnet.server import bridge
    except ImportError:  # the explorer's extra is not installed
        return entries
    entries["explorer"] = bridge.sizes_of
    return entries


@pytest.mark.parametrize(("thetas", "message"), [
    (np.ones((2, 4)), "thetas: expected a list of 2-D arrays Θ^(1), Θ^(2), ..., got ndarray"),
    ([np.ones((2, 4)), np.ones((2, 4))], "thetas[1] (Θ^(2)): expected shape (2, 3) because layer 2 has 2 units"),
    ([np.ones((2, 4)), np.array([[1.0, np.inf, 0.0]])], "thetas[1] (Θ^(2)): expected finite weights, found NaN or inf"),
    ([np.ones((2, 4)), np.array([["a", "b", "c"]])], "thetas[1] (Θ^(2)): expected "),
])
def test_every_theta_entry_gives_the_one_rules_message(tmp_path, thetas, message):
    with pytest.raises(ValueError) as expected:
        check_thetas(thetas)
    assert message in str(expected.value)
    for where, enter in _entries(tmp_path).items():
        with pytest.raises(ValueError) as err:
            enter(thetas)
        assert message in str(err.value), where
    assert not (tmp_path / "m.npz").exists()


def test_check_thetas_options():
    ints = [np.ones((2, 4), dtype=np.int64), np.ones((1, 3), dtype=np.int64)]
    kept, sizes = check_thetas(ints)
    assert sizes == [3, 2, 1] and all(t.dtype == np.int64 for t in kept) and kept[0] is ints[0]
    cast, _ = check_thetas(ints, np.float32)
    assert all(t.dtype == np.float32 for t in cast)
    floats = [np.ones((2, 4)), np.ones((1, 3))]
    assert check_thetas(floats, np.float64)[0][0] is floats[0]  # no copy where the dtype is right
    assert check_thetas(floats, np.float64, copy=True)[0][0] is not floats[0]
    with pytest.raises(ValueError, match=r"^model\[0\] \(Θ\^\(1\)\): expected floats, got dtype int64$"):
        check_thetas(ints, name="model", floats_only=True)


def test_theta_rule_is_written_once():
    assert sources(r"expected finite weights|expected a list of 2-D arrays") == ["_validation.py"]


# --------------------------------------------------------------------------------------------- sub/superscripts


def test_notation_names_the_lectures_symbols():
    from glassnet import notation

    assert notation.sub(4, 3) == "₄₃" and notation.sub(12, 3) == "₁₂,₃" and notation.sub(10) == "₁₀"
    assert notation.sup(2) == "⁽²⁾" and notation.superscript(-16) == "⁻¹⁶"
    assert notation.theta_name(1) == "Θ⁽¹⁾" and notation.theta_name(2, 1, 0) == "Θ₁₀⁽²⁾"
    assert notation.delta_name(2, 2) == "δ₂⁽²⁾" and notation.a_name(1, 0) == "a₀⁽¹⁾" and notation.z_name(3) == "z⁽³⁾"
    bridge = pytest.importorskip("glassnet.server.bridge")
    assert bridge.theta_name is notation.theta_name  # the explorer's labels


def test_sub_and_superscript_digits_are_written_once():
    # Python: glassnet.notation, on the lecture's floor, so the output units' names (h₈) use it too
    assert sources("₀₁₂₃₄₅₆₇₈₉") == ["notation.py"]
    assert sources("⁰¹²³⁴⁵⁶⁷⁸⁹") == ["notation.py"]
    assert sources(r"def _?(sub|sup|superscript)\(") == ["notation.py"]
    # the page: one ES module for the indices it builds itself
    static = SRC / "server" / "static"
    spelled = sorted(p.name for p in static.glob("*.js") if "₀₁₂₃₄₅₆₇₈₉" in p.read_text("utf-8"))
    assert spelled == ["notation.js"]
    # every module of the page that writes an index takes it from there
    for path in static.glob("*.js"):
        text = path.read_text("utf-8")
        used = sorted(set(re.findall(r"\b(sub|sup|superscript|thetaName)\(", text)))
        if path.name != "notation.js" and used:
            imported = re.search(r'import \{ ([^}]*) \} from "\./notation\.js";', text)
            assert imported and set(used) <= set(imported.group(1).split(", ")), path.name
    assert '<script type="module" src="/static/page.js">' in (static / "index.html").read_text()


# --------------------------------------------------------------------------------------------------------- JSON


def test_history_to_dict_follows_the_json_rule():
    import json

    from glassnet._support.jsonsafe import plain
    from glassnet.train.optimize import History

    h = History(cost=[1.5, np.float64(np.nan), float("inf")], val_cost=[np.float32(0.5)], val_accuracy=[-np.inf],
                initial_cost=np.float64(np.inf))
    d = h.to_dict()
    assert d["cost"] == [1.5, None, None] == plain(h.cost) and d["val_cost"] == [0.5]
    assert d["val_accuracy"] == [None] and d["initial_cost"] is None
    assert all(type(v) is float for v in d["cost"] + d["val_cost"] if v is not None)
    json.dumps(d, allow_nan=False)
    # non-finite numbers become null in jsonsafe only: no second "x if isfinite(x) else None" rule
    assert sources(r"isfinite\([^)]*\) else None") == []


# ------------------------------------------------------------------------------------------------------ version


def test_the_version_is_written_once():
    import importlib.metadata
    import tomllib

    from glassnet._version import __version__

    pyproject = tomllib.loads((SRC.parent.parent / "pyproject.toml").read_text("utf-8"))
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "glassnet._version.__version__"}
    assert glassnet.__version__ == __version__ and re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    setuptools = pytest.importorskip("setuptools.config.pyprojecttoml")
    assert setuptools.read_configuration(SRC.parent.parent / "pyproject.toml")["project"]["version"] == __version__
    try:  # an installed glassnet's metadata says the same (setuptools read it from _version.py)
        assert importlib.metadata.version("glassnet") == __version__
    except importlib.metadata.PackageNotFoundError:
        pass
    assert sources(r"__version__ = ") == ["_version.py"]
