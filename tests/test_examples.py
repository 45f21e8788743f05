"""Every script of the examples gallery runs, quickly, and writes real figures into the folder given by ``--out``."""

from __future__ import annotations

import ast
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib", reason="the examples draw with matplotlib: pip install -e '.[plot]'")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _children_cpu_seconds() -> float:
    """User + system CPU seconds of this process's finished children (the example scripts run as children)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def test_there_are_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_and_writes_figures(script, tmp_path):
    out = tmp_path / "figures" / "nested"  # --out is created when missing
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONWARNINGS="error")
    before = _children_cpu_seconds()
    proc = subprocess.run([sys.executable, str(script), "--out", str(out)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    seconds = _children_cpu_seconds() - before
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert proc.stderr == "", proc.stderr[-4000:]  # no warnings, no noise
    figures = sorted(out.iterdir())
    assert figures, "no figure written"
    for fig in figures:
        assert fig.suffix == ".png", fig
        data = fig.read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 5_000, fig
        assert f"wrote {fig}" in proc.stdout
    assert not list(tmp_path.glob("*.png")), "figures must go to --out, not the working folder"
    # "runs in seconds", in CPU time: a loaded machine stretches the wall clock, not the work; still catches an example
    # that trains for minutes
    assert seconds < 120, f"{script.name} took {seconds:.0f} s of CPU time"


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_has_a_gallery_docstring(script):
    doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")))
    assert doc, f"{script.name}: the gallery shows the module docstring; it has none"
    title, _, body = doc.partition("\n")
    assert 10 < len(title) < 80 and body.strip(), f"{script.name}: expected a one-line title and a paragraph"


def test_example_rejects_a_bad_argument(tmp_path):
    proc = subprocess.run([sys.executable, str(EXAMPLES[0]), "--no-such-option"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--no-such-option" in proc.stderr
