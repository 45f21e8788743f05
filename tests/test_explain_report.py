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


def test_a_cut_misclassified_gallery_says_how_much_it_shows(small_digits):  # noqa: F811 (the fixture above)
    X, y, Xv, yv = small_digits
    thetas = glassnet.random_init([64, 6, 10], rng=0)
    tr = glassnet.explain(thetas, Xv, yv, rows=0)
    wrong = int(np.sum(glassnet.forward(thetas, Xv).output.argmax(axis=1) != yv))
    assert wrong > text.GALLERY_LIMIT == 48
    page = report.html_report(tr, X=Xv, y=yv)
    assert f"{wrong} of 100 examples misclassified" in page and f"; 48 of {wrong} shown." in page
    # the same rule in a report without images (a 5-feature input is no picture): the list is cut at 48 too
    flat = glassnet.random_init([5, 3], rng=0)
    Xf = np.random.default_rng(0).normal(size=(200, 5))
    yf = (glassnet.forward(flat, Xf).output.argmax(axis=1) + 1) % 3  # every example wrong
    page = report.html_report(glassnet.explain(flat, Xf, yf, rows=0), X=Xf, y=yf)
    assert "200 of 200 examples misclassified" in page and "; 48 of 200 shown." in page
    listed = re.findall(r"#(\d+): \d → \d", page.split("Misclassified examples")[1])
    assert len(listed) == 48
    few = report.html_report(glassnet.explain(flat, Xf[:5], yf[:5], rows=0), X=Xf[:5], y=yf[:5])
    assert "5 of 5 examples misclassified" in few and " shown." not in few


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
