"""The explorer's API for the network over training (/api/timeline, /api/gradcheck), the walk over several examples
and the 2-D feature toggles, through FastAPI's test client, against the library."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("fastapi")

from glassnet.explain import walk
from glassnet.gradcheck import gradient_check
from glassnet.server import TrainConfig
from glassnet.server.session import wait_for
from server_helpers import api_client, detail, open_session

MOONS = TrainConfig(dataset="moons", hidden=(4,), lam=0.1, max_iter=5, delay_ms=0)


def test_gradcheck_rows_are_the_librarys(tmp_path):
    with open_session(MOONS) as s, api_client(s, tmp_path) as c:
        g = c.get("/api/gradcheck").json()
        _, thetas, cfg, _, parts = s.snapshot_view()
        ours = gradient_check(thetas, parts[0][:100], parts[1][:100], cfg.lam)
        assert g["checked"] == g["total"] == 17 and g["m"] == 100 and g["passed"]
        assert g["relative_difference"] == pytest.approx(ours.relative_difference, rel=1e-6)
        for row, r in zip(g["rows"], ours.rows):
            assert (row["l"], row["i"], row["j"]) == (r.layer, r.i + 1, r.j)
            assert row["analytic"] == r.analytic and row["numeric"] == r.numeric


def test_timeline_follows_the_snapshots(tmp_path):
    with open_session(MOONS) as s, api_client(s, tmp_path) as c:
        c.post("/api/play")
        assert wait_for(lambda: s.status == "done", timeout=30)
        t = c.get("/api/timeline").json()
        assert t["available"] and t["iterations"][0] == 0 and t["iterations"][-1] == s.iteration
        assert len(t["layers"]) == 1 and len(t["layers"][0]["gprime"][0]) == 4


def test_steps_over_several_examples_are_the_librarys_walk(tmp_path):
    with open_session(MOONS) as s, api_client(s, tmp_path) as c:
        r = c.get("/api/steps?split=train&index=2&examples=3").json()
        _, thetas, cfg, _, parts = s.snapshot_view()
        w = walk(thetas, parts[0][2:5], parts[1][2:5], cfg.lam)
        assert len(r["steps"]) == len(w.frames) and r["steps"][-1]["values"] == w.frames[-1].values
        bad = c.get(f"/api/steps?split=train&index={parts[0].shape[0] - 2}&examples=3")
        assert bad.status_code == 422 and "index: expected an example" in detail(bad)


def test_features_reset_and_what_refuses_them(tmp_path):
    with open_session(MOONS) as s, api_client(s, tmp_path) as c:
        st = c.post("/api/reset", json={"features": ["x1^2", "x1x2"]}).json()
        assert st["config"]["features"] == ["x1^2", "x1x2"] and st["sizes"] == [2, 4, 1]
        assert not np.array_equal(s.snapshot_view()[4][0], s.points_view()[0])
        p = c.get("/api/plane?resolution=10").json()
        assert p["features"] == ["x₁²", "x₁x₂"] and p["train"][0][:2] == [round(float(v), 4)
                                                                           for v in s.points_view()[0][0]]
        r = c.get("/api/model")
        assert r.status_code == 422 and "export: this network takes the features" in detail(r)
        r = c.post("/api/reset", json={"features": ["x3"]})
        assert r.status_code == 422 and "features: expected one or more different features" in detail(r)
        st = c.post("/api/reset", json={"dataset": "iris"}).json()  # another dataset: its own columns
        assert st["config"]["features"] is None
        r = c.post("/api/reset", json={"features": ["x1"]})
        assert r.status_code == 422 and "are for datasets of 2 features" in detail(r)
