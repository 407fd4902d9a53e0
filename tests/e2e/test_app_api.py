"""The running web app, driven through gradio_client as any script would drive it."""

import json
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest
from gradio_client import Client, handle_file

from atelier.config import Settings
from provenance.checkpoint import NoteVerifier, verify_checkpoint
from provenance.tiles import check_entries, read_entry_bundle, root_from_tiles
from tests.factories import PASSWORD, png_bytes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_url(tmp_path, engine):
    import uvicorn

    from app import Services, create_app

    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=engine.url.render_as_string(hide_password=False),
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(Services(settings)), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the app did not start in 30 s")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=10)


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
    assert "<img" not in info and "&#60;img src=x onerror=alert&#40;1&#41;&#62;" in info
    assert [row[2] for row in history["data"]][-1] == "ownership_transferred"
    balance, _rows = buyer.predict(api_name="/wallet")
    assert "87.50 credits" in balance


def test_buying_without_signing_in_is_refused_with_a_clear_message(app_url):
    client = Client(app_url, verbose=False)
    with pytest.raises(Exception, match="Sign in first"):
        client.predict(1, None, api_name="/buy")


def test_the_log_is_served_as_tiles_a_spec_only_client_can_check(app_url, tmp_path):
    seller = Client(app_url, verbose=False)
    seller.predict("ada", PASSWORD, api_name="/sign_up")
    for seed in range(3):
        image = tmp_path / f"art{seed}.png"
        image.write_bytes(png_bytes(seed))
        seller.predict(handle_file(str(image)), f"Piece {seed}", "", api_name="/register")

    def get(path: str) -> bytes:
        with urllib.request.urlopen(app_url + "log/" + path, timeout=30) as response:
            return response.read()

    verifier = NoteVerifier.from_vkey(get("verifier-key").decode())
    checkpoint = verify_checkpoint(get("checkpoint").decode(), verifier, "atelier.local/log")
    assert checkpoint.size == 3
    assert root_from_tiles(checkpoint.size, get) == checkpoint.root_hash
    entries = read_entry_bundle(get("tile/entries/000.p/3"))
    assert [json.loads(e)["kind"] for e in entries] == ["registered"] * 3
    assert check_entries(entries, get("tile/0/000.p/3"))
    with pytest.raises(urllib.error.HTTPError, match="404"):
        get("tile/0/000.p/4")
    with pytest.raises(urllib.error.HTTPError, match="404"):
        get("tile/0/../../etc/passwd")


def test_anyone_can_verify_a_copy_and_see_its_owner_and_the_signed_head(app_url, tmp_path):
    from PIL import ImageOps

    from tests.factories import art_image, encode

    seller = Client(app_url, verbose=False)
    seller.predict("ada", PASSWORD, api_name="/sign_up")
    original = tmp_path / "art.png"
    original.write_bytes(png_bytes(8))
    seller.predict(handle_file(str(original)), "Original", "", api_name="/register")

    copy = tmp_path / "copy.jpg"
    copy.write_bytes(encode(ImageOps.mirror(art_image(8)).resize((64, 64)), "JPEG", quality=70))
    visitor = Client(app_url, verbose=False)
    verdict, matches, evidence, head = visitor.predict(handle_file(str(copy)), api_name="/verify")
    assert "Copy of #1" in verdict
    assert matches["data"][0][:4] == [1, "Original", "ada", "ada"]
    assert evidence["verdict"] == "copy_of"
    assert head.startswith("atelier.local/log\n")
