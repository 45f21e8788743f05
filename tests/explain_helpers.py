"""Shared by the tests of glassnet.explain's renderers: a hand-worked trace, SVG and PNG readers, a small data set."""

import io
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import glassnet

SVG = "{http://www.w3.org/2000/svg}"


def hand_worked_2_2_1():
    """x = (1, 0), y = 1.

    Θ⁽¹⁾ = [[0, ln 3, 1], [0, −ln 3, 0.5]]  → z⁽²⁾ = (ln 3, −ln 3), a⁽²⁾ = (3/4, 1/4), g′ = a(1 − a) = 3/16 = 0.1875
    Θ⁽²⁾ = [[−0.5, 2, −4]]                  → z⁽³⁾ = −0.5 + 2·0.75 − 4·0.25 = 0, h = g(0) = 0.5, cost = ln 2
    δ⁽³⁾ = h − y = −0.5
    δ₁⁽²⁾ = Θ₁₁⁽²⁾δ₁⁽³⁾ · g′ = (2)(−0.5) · 0.1875 = −1 · 0.1875 = −0.1875
    δ₂⁽²⁾ = Θ₁₂⁽²⁾δ₁⁽³⁾ · g′ = (−4)(−0.5) · 0.1875 = 2 · 0.1875 = 0.375
    Δ⁽¹⁾ += δ⁽²⁾[1, 1, 0] = [[−0.1875, −0.1875, 0], [0.375, 0.375, 0]];  Δ⁽²⁾ += −0.5·[1, 0.75, 0.25]
    """
    th1 = np.array([[0.0, np.log(3), 1.0], [0.0, -np.log(3), 0.5]])
    th2 = np.array([[-0.5, 2.0, -4.0]])
    return glassnet.explain([th1, th2], np.array([1.0, 0.0]), 1)


def parse(svg: str):
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    return root


def read_png(data: bytes) -> np.ndarray:
    import matplotlib.image as mpimg

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return mpimg.imread(io.BytesIO(data), format="png")


@pytest.fixture(scope="module")
def small_digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X[:300] / 16.0
    return X[:200], y[:200], X[200:], y[:300][200:]
