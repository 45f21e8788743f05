"""The explorer's "check my hand calculation" form: /api/check against the library's trace of the same example."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")

from glassnet.explain import explain
from glassnet.server import TrainConfig
from server_helpers import api_client, detail, open_session


@pytest.fixture()
def xor_session():
    with open_session(TrainConfig(dataset="xor", hidden=(2,), lam=0.5, delay_ms=0)) as s:
        yield s


def _example_trace(session, split: str, index: int):
    _, thetas, cfg, _, parts = session.snapshot_view()
    X, y = (parts[0], parts[1]) if split == "train" else (parts[2], parts[3])
    return explain(thetas, X[index : index + 1], y[index : index + 1], cfg.lam, rows=0), thetas


def test_check_says_right_and_names_the_slip(xor_session, tmp_path):
    tr, thetas = _example_trace(xor_session, "train", 3)
    L = tr.L
    z = tr.z[2][1]
    d_out = tr.delta[L][1]
    d_hidden = tr.delta[2][2]
    g = tr.a[2][2] * (1 - tr.a[2][2])
    answers = (f"z_1^(2), {z:.6f}\n"
               f"δ₁⁽{L}⁾, {-d_out:.6f}\n"  # the sign slip: y − a
               f"delta_2^(2), {d_hidden / g:.6f}\n")  # g′ forgotten
    with api_client(xor_session, tmp_path) as client:
        r = client.post("/api/check", json={"split": "train", "index": 3, "answers": answers})
        assert r.status_code == 200, r.text
        out = r.json()
    rows = {row["quantity"]: row for row in out["rows"]}
    assert rows["z_1^(2)"]["right"] and rows["z_1^(2)"]["expected"] == pytest.approx(z)
    assert not rows[f"delta_1^({L})"]["right"] and rows[f"delta_1^({L})"]["slip"] == "wrong-sign"
    assert not rows["delta_2^(2)"]["right"] and rows["delta_2^(2)"]["slip"] is not None
    assert "g′" in out["lines"][[r["quantity"] for r in out["rows"]].index("delta_2^(2)")]
    assert out["summary"].startswith("Your values: 1 of 3 right")


def test_check_refuses_what_the_network_does_not_have(xor_session, tmp_path):
    with api_client(xor_session, tmp_path) as client:
        r = client.post("/api/check", json={"split": "train", "index": 0, "answers": "delta_5^(2), 0.1"})
        assert r.status_code == 422 and "has no δ₅⁽²⁾" in detail(r)
        r = client.post("/api/check", json={"split": "train", "index": 0, "answers": "delta_1^(2) 0.1"})
        assert r.status_code == 422 and "answers line 1" in detail(r)
        r = client.post("/api/check", json={"split": "train", "index": 0, "answers": ""})
        assert r.status_code == 422 and "at least one line" in detail(r)
