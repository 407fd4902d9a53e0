"""The running web app, driven through gradio_client as any script would drive it."""

import socket

import pytest
from gradio_client import Client, handle_file

from atelier.config import Settings
from tests.factories import PASSWORD, png_bytes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_url(tmp_path, engine):
    from app import Services, build_demo

    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=engine.url.render_as_string(hide_password=False),
    )
    services = Services(settings)
    demo = build_demo(services)
    port = free_port()
    demo.launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
        allowed_paths=[str(services.thumbs)],
    )
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def test_a_seller_and_a_buyer_trade_through_the_app_api(app_url, tmp_path):
    seller, buyer = Client(app_url, verbose=False), Client(app_url, verbose=False)
    status = seller.predict("ada", PASSWORD, api_name="/sign_up")
    assert "Welcome, ada" in status
    buyer.predict("bob", PASSWORD, api_name="/sign_up")

    image = tmp_path / "art.png"
    image.write_bytes(png_bytes(3))
    message, artwork_id = seller.predict(
        handle_file(str(image)), "<img src=x onerror=alert(1)>", "sea", api_name="/register"
    )
    assert "Registered as artwork #1" in message and artwork_id == 1
    listed = seller.predict(1, "12.50", "exclusive", 1, "10", api_name="/list")
    assert "listing #1 for 12.50 credits" in listed

    tiles, table, summary = buyer.predict("", "", "", "", "", "newest", 1, api_name="/search")
    assert "1 listings" in summary and len(tiles) == 1
    assert table["data"][0][2] == "<img src=x onerror=alert(1)>"

    bought = buyer.predict(1, None, api_name="/buy")
    assert "Bought listing #1" in bought
    _image, info, _offers, history = buyer.predict(1, api_name="/artwork")
    assert "owned by **bob**" in info
    assert "<img" not in info and "&lt;img src=x onerror=alert(1)&gt;" in info
    assert [row[2] for row in history["data"]][-1] == "ownership_transferred"
    balance, _rows = buyer.predict(api_name="/wallet")
    assert "87.50 credits" in balance


def test_buying_without_signing_in_is_refused_with_a_clear_message(app_url):
    client = Client(app_url, verbose=False)
    with pytest.raises(Exception, match="Sign in first"):
        client.predict(1, None, api_name="/buy")
