"""glassnet.explain.report: the self-contained HTML report, and the block a trace shows in Jupyter."""

import base64
import re

import numpy as np
import pytest

import glassnet
from explain_helpers import parse, read_png, small_digits  # noqa: F401 (a fixture)
from glassnet.explain import report, text


def test_html_report_is_self_contained_and_complete(small_digits):  # noqa: F811 (the fixture imported above)
    X, y, Xv, yv = small_digits
    thetas = glassnet.random_init([64, 6, 10], rng=0)
    tr = glassnet.explain(thetas, Xv, yv, lam=1.0, rows=7)
    page = report.html_report(tr, X=Xv, y=yv, history={"train": [2.0, 1.0], "validation": [2.1, 1.4]})
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    # no network: the only URL is the SVG namespace, nothing is fetched
    assert set(re.findall(r"https?://[^\s\"']+", page)) == {"http://www.w3.org/2000/svg"}
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert 'id="bw-unit-2-6"' in page and 'id="fw-unit-2-6"' in page
    assert text.unit_equation(tr, 2, 3, top_k=4) in page.replace("&#x27;", "'")
    wrong = int(np.sum(glassnet.forward(thetas, Xv).output.argmax(axis=1) != yv))
    assert f"{wrong} of 100 examples misclassified" in page
    pngs = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(pngs) == 3  # misclassified examples, hidden units, cost curve
    for b64 in pngs:
        read_png(base64.b64decode(b64))
    for svg in re.findall(r"<svg.*?</svg>", page, flags=re.S):
        parse(svg)
    with pytest.raises(ValueError, match=r"X, y: expected X of shape \(m, 64\)"):
        report.html_report(tr, X=Xv[:, :10], y=yv)


def test_notebook_block_of_a_big_output_layer_and_of_a_net_without_hidden_layer():
    thetas = glassnet.random_init([5, 4, 12], rng=1)
    tr = glassnet.explain(thetas, np.linspace(-1, 1, 5), 7)
    page = report.notebook_html(tr)
    shown = sorted({7 + 1, tr.prediction + 1})  # 12 output units: only the target's and the prediction's equations
    for j in range(1, 13):
        assert (text.unit_equation(tr, 3, j) in page) == (j in shown)
    flat = glassnet.explain(glassnet.random_init([3, 2], rng=0), np.ones(3), 1)
    eqs = re.search(r"<pre[^>]*>(.*)</pre>", report.notebook_html(flat), flags=re.S).group(1).splitlines()
    assert eqs == [text.unit_equation(flat, 2, 1), text.unit_equation(flat, 2, 2)]
