"""Every script of the examples gallery runs, quickly, and writes real figures into the folder given by ``--out``."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("matplotlib", reason="the examples draw with matplotlib: pip install -e '.[plot]'")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_there_are_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_and_writes_figures(script, tmp_path):
    out = tmp_path / "figures" / "nested"  # --out is created when missing
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONWARNINGS="error")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(script), "--out", str(out)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - t0
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
    # "runs in seconds": generous for a loaded 2-core machine, still catches an example that trains for minutes
    assert seconds < 120, f"{script.name} took {seconds:.0f} s"


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
