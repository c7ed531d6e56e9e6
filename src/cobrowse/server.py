"""Running the app under uvicorn with the limits the configuration asks for."""

from __future__ import annotations

import uvicorn
from starlette.types import ASGIApp

from cobrowse.config import Settings


def uvicorn_config(app: ASGIApp, settings: Settings, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        ws_max_size=settings.max_message_bytes,
        log_config=None,
        access_log=False,
        lifespan="on",
        server_header=False,
    )
