"""The network over training and its gradient: ``/api/timeline`` (every hidden unit's g′(z), |δ| and saturation per
snapshot) and ``/api/gradcheck`` (backprop's D against central differences, per weight, for the diagram).

Both read one consistent snapshot of the session and change nothing, and both grow with the network and the data: they
run on the explorer's heavy-view threads (bounded, never delaying ``/api/state``). The numbers are the library's
(:mod:`glassnet.explain.timeline`, :func:`glassnet.gradcheck.gradient_check`) through :mod:`glassnet.server.bridge`.
"""

from __future__ import annotations

from fastapi import APIRouter

from glassnet.server import bridge
from glassnet.server.routes._shared import ExplorerDep, SafeJSONResponse
from glassnet.server.session import Session

router = APIRouter(default_response_class=SafeJSONResponse)


@router.get("/api/timeline")
async def timeline(ex: ExplorerDep) -> dict:
    """Per hidden unit and snapshot: mean g′(z), mean |δ|, the share of examples where the unit saturates."""
    return await ex.heavy.run(_timeline, ex.session)


def _timeline(session: Session) -> dict:
    version, snapshots, cursor, cfg, parts = session.timeline_view()
    if len(snapshots[0][1]) < 2:
        return {"version": version, "available": False, "cursor": cursor}
    return {"version": version, "available": True, "cursor": cursor,
            **bridge.timeline(snapshots, parts, **bridge.kinds(cfg))}


@router.get("/api/gradcheck")
async def gradcheck(ex: ExplorerDep) -> dict:
    """Each weight's analytic D, its central difference and their relative error, at the current Θ and λ."""
    return await ex.heavy.run(_gradcheck, ex.session)


def _gradcheck(session: Session) -> dict:
    version, thetas, cfg, _data, parts = session.snapshot_view()
    return {"version": version, **bridge.edge_gradcheck(thetas, parts, cfg.lam, **bridge.kinds(cfg))}
