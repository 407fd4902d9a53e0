"""The running app for end-to-end tests: uvicorn in a thread on a free port, with a fresh
data folder and the test database, and gradio_client helpers that sign in as a user."""

from __future__ import annotations

import html
import re
import socket
import threading
import time

import pytest
from gradio_client import Client

from atelier.config import Settings
from tests.factories import PASSWORD


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(settings: Settings):
    """Start the app in a thread; returns (url, server, thread)."""
    import uvicorn

    from app import Services, create_app, proxy_options

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(Services.from_settings(settings)),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=1,  # clients' event streams would hold it open
            **proxy_options(settings),
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the app did not start in 60 s")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}/", server, thread


@pytest.fixture
def app_settings(tmp_path, engine, blob_url) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=engine.url.render_as_string(hide_password=False),
        blob_url=blob_url,
    )


@pytest.fixture
def app_url(app_settings):
    url, server, thread = serve(app_settings)
    yield url
    server.should_exit = True
    thread.join(timeout=15)


def text_of(markup: str) -> str:
    """What a person reads in a piece of HTML: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def client(url: str, token: str | None = None) -> Client:
    """A gradio_client for the app; with a token, signed in (the session cookie as a header)."""
    headers = {"Cookie": f"atelier_session={token}"} if token else None
    return Client(url, verbose=False, headers=headers)


def sign_up(url: str, name: str, password: str = PASSWORD) -> Client:
    """Create an account through the API and return a client signed in as it."""
    _message, token, username = client(url).predict(name, password, api_name="/sign_up")
    assert username == name
    return client(url, token)
