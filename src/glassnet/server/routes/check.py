"""``/api/check``: check a student's hand calculation for the current network and example, as a worksheet does.

The student writes ``quantity,value`` lines (``delta_2^(2),0.1534`` or ``δ₂⁽²⁾,0.1534``); the answer says which are
right and, for a wrong one, the slip that gives exactly that number (:func:`glassnet.grading.worksheet.check_example`).
Reads one snapshot of the session; changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import Field

from glassnet.grading.worksheet import check_example, read_answers_csv
from glassnet.outputs import is_lecture_network
from glassnet.server.routes._shared import ExplorerDep, SafeJSONResponse, StrictBody, example

router = APIRouter(default_response_class=SafeJSONResponse)

#: A hand calculation is a few dozen lines; this bounds what one request may ask the server to parse.
MAX_ANSWER_CHARS = 20_000


class CheckBody(StrictBody):
    split: Literal["train", "val"] = "train"
    index: Annotated[int, Field(ge=0)]
    answers: Annotated[str, Field(max_length=MAX_ANSWER_CHARS)]


@router.post("/api/check")
def check(body: CheckBody, ex: ExplorerDep) -> dict:
    """Which of the given values are right for this example, and the slip behind each wrong one."""
    _version, thetas, cfg, _data, parts = ex.session.snapshot_view()
    if not is_lecture_network(cfg.activation, cfg.output, cfg.loss):
        raise ValueError("answers: the check follows the lecture's network (sigmoid units, sigmoid outputs, the "
                         f"logistic cost); this one has activation={cfg.activation!r}, output={cfg.output!r}, "
                         f"loss={cfg.loss!r}")
    x, label = example(parts, body.split, body.index)
    report = check_example(thetas, x, label, cfg.lam, read_answers_csv(body.answers, "answers"))
    out = report.to_dict()
    out["lines"] = [row.text() for row in report.rows]
    out["summary"] = report.text().split("\n", 1)[0]
    return out
