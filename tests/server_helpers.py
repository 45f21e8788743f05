"""What the explorer's API tests share: the access token, a test client that sends it, and sessions closed after use.

Import it after ``pytest.importorskip("fastapi")`` (it imports FastAPI's test client).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

with warnings.catch_warnings():
    # Starlette deprecates running its test client on httpx (it points to a fork, httpx2); the client still works.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from glassnet.server import Session, TrainConfig, create_app

TOKEN = "test-token-0123456789abcdef"


@contextlib.contextmanager
def open_session(config: TrainConfig) -> Iterator[Session]:
    """A training session on ``config``, closed (its trainer thread stopped) when the block ends."""
    s = Session(config)
    try:
        yield s
    finally:
        s.close()


@contextlib.contextmanager
def api_client(session: Session, upload_dir, **options) -> Iterator[TestClient]:
    """A client of ``create_app(session)`` that sends the token with every request; ``options`` go to create_app."""
    app = create_app(session, token=TOKEN, allowed_hosts={"testserver"}, upload_dir=upload_dir, **options)
    with TestClient(app, headers={"X-Glassnet-Token": TOKEN}) as c:
        yield c


def detail(r) -> str:
    """The error message of a refused request."""
    return r.json()["detail"]
