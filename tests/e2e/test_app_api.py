"""The running web app's marketplace, driven through gradio_client as any script would."""

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from gradio_client import handle_file

from marketplace.certificates import read_certificate
from provenance.checkpoint import NoteVerifier, verify_checkpoint
from provenance.tiles import check_entries, read_entry_bundle, root_from_tiles
from tests.e2e.conftest import client, sign_up, text_of
from tests.factories import png_bytes

XSS = "<img src=x onerror=alert(1)>"


def register(user, tmp_path, seed: int, title: str, tags: str = "") -> int:
    image = tmp_path / f"art{seed}.png"
    image.write_bytes(png_bytes(seed))
    message, artwork_id = user.predict(handle_file(str(image)), title, tags, api_name="/register")
    assert f"Registered as artwork #{int(artwork_id)}" in message
    return int(artwork_id)


def test_a_seller_and_a_buyer_trade_through_the_app_api(app_url, tmp_path):
    seller, buyer = sign_up(app_url, "ada"), sign_up(app_url, "bob")
    assert register(seller, tmp_path, 3, XSS, "sea") == 1
    listed = seller.predict(1, "12.50", "exclusive", 1, "10", api_name="/list")
    assert "listing #1 for 12.50 credits" in listed

    tiles, table, summary = buyer.predict("", "", "", "", "", "newest", 1, api_name="/search")
    assert "1 listings" in summary and len(tiles) == 1
    assert table["data"][0][2] == XSS
    quoted = buyer.predict(1, api_name="/buy_quote")
    assert "12.50 credits" in quoted[0] and "100.00 → <b>87.50</b>" in quoted[0]
    assert "<img" not in quoted[0]

    bought = buyer.predict(1, None, "buy-1", api_name="/buy")
    assert "Bought listing #1" in bought
    # the answer was lost, say: the same request again is the same purchase, charged once
    assert buyer.predict(1, None, "buy-1", api_name="/buy") == bought
    page = buyer.predict(1, api_name="/artwork")
    _image, info, _offers, history, timeline = page[:5]
    assert "Owner</td><td><b>bob</b>" in info and "Creator</td><td><b>ada</b>" in info
    assert "<img" not in info and "&#60;img src=x onerror=alert&#40;1&#41;&#62;" in info
    assert [row[2] for row in history["data"]][-1] == "ownership_transferred"
    assert "Ownership passed</b> from ada to bob" in timeline
    balance, _rows, chart = buyer.predict(api_name="/wallet")
    assert '<span id="wallet-balance">87.50</span> credits' in balance
    # a step function: the grant, the purchase, and the balance held until now
    assert [point[1] for point in chart["data"]] == [0.0, 100.0, 100.0, 87.5, 87.5]
    assert buyer.predict(api_name="/whoami") == ["bob", 8750]


def test_buying_without_signing_in_is_refused_with_a_clear_message(app_url):
    with pytest.raises(Exception, match="Sign in first"):
        client(app_url).predict(1, None, api_name="/buy")


def test_a_forged_or_revoked_session_cookie_signs_nobody_in(app_url):
    message, token, _name = client(app_url).predict("ada", "a long password", api_name="/sign_up")
    assert "Welcome, ada" in message
    assert client(app_url, token).predict(api_name="/whoami")[0] == "ada"
    assert client(app_url, token[:-2] + "xx").predict(api_name="/whoami") == ["", 0]
    assert client(app_url, token).predict(api_name="/sign_out") == "Signed out."
    assert client(app_url, token).predict(api_name="/whoami") == ["", 0]
    with pytest.raises(Exception, match="Sign in first"):
        client(app_url, token).predict(api_name="/wallet")


def test_sign_in_returns_a_fresh_token_and_wrong_passwords_are_rate_limited(app_url):
    client(app_url).predict("ada", "a long password", api_name="/sign_up")
    _msg, token, name = client(app_url).predict("ADA", "a long password", api_name="/sign_in")
    assert name == "ada" and client(app_url, token).predict(api_name="/whoami")[0] == "ada"
    for _ in range(5):
        with pytest.raises(Exception, match="Wrong username or password"):
            client(app_url).predict("ada", "not the password", api_name="/sign_in")
    with pytest.raises(Exception, match="Too many failed sign-ins; try again in 15 minutes"):
        client(app_url).predict("ada", "a long password", api_name="/sign_in")


def test_the_browser_sign_in_routes_set_an_httponly_cookie_and_sign_out_clears_it(app_url):
    def post(path, body, cookie=None, content_type="application/json"):
        request = urllib.request.Request(
            app_url + path, data=json.dumps(body).encode(), method="POST"
        )
        request.add_header("Content-Type", content_type)
        if cookie:
            request.add_header("Cookie", cookie)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.headers, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, error.headers, json.loads(error.read())

    status, headers, body = post("auth/sign-up", {"username": "ada", "password": "long enough"})
    assert status == 200 and body["username"] == "ada"
    cookie = headers["set-cookie"]
    assert cookie.startswith("atelier_session=") and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie and "Max-Age=1209600" in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    assert client(app_url, token).predict(api_name="/whoami")[0] == "ada"

    status, _h, body = post("auth/sign-in", {"username": "ada", "password": "wrong one!"})
    assert status == 401 and body["error"] == "wrong username or password"
    for _ in range(4):
        post("auth/sign-in", {"username": "ada", "password": "wrong one!"})
    status, headers, body = post("auth/sign-in", {"username": "ada", "password": "long enough"})
    assert status == 429 and body["error"].startswith("too many failed sign-ins")
    assert 800 < int(headers["Retry-After"]) <= 900
    status, _h, body = post("auth/sign-up", {"username": XSS, "password": "long enough"})
    # the page shows a sentence that does not echo the name; scripts get the precise message
    assert status == 400 and "<img" not in body["message_md"]
    assert body["message_md"].startswith("⚠ Choose a username of 3 to 32 letters")
    assert "`username` must be" in body["error"]
    # a cross-site form cannot send JSON, so form posts are refused
    status, _h, _b = post("auth/sign-in", {"username": "ada"}, content_type="text/plain")
    assert status == 415

    status, headers, _b = post("auth/sign-out", {}, cookie=f"atelier_session={token}")
    assert status == 200 and 'atelier_session=""' in headers["set-cookie"]
    assert client(app_url, token).predict(api_name="/whoami") == ["", 0]


def test_sellers_manage_their_collection_and_listings(app_url, tmp_path):
    ada = sign_up(app_url, "ada")
    first, second = register(ada, tmp_path, 1, "Harbour"), register(ada, tmp_path, 2, "Hill")
    ada.predict(first, "5.00", "personal", 3, "", api_name="/list")
    tiles, table, summary, *_ = ada.predict(api_name="/collection")
    assert "You own 2 artworks" in summary and len(tiles) == 2
    assert [row[:2] for row in table["data"]] == [[second, "Hill"], [first, "Harbour"]]
    assert "#1 personal 5.00 (0/3 sold)" in table["data"][1][4]
    assert "now asks 7.25 credits" in ada.predict(1, "7.25", api_name="/change_price")
    assert "Listing #1 is withdrawn" in ada.predict(1, api_name="/delist")
    with pytest.raises(Exception, match="Listing #1 is delisted"):
        ada.predict(1, "8.00", api_name="/change_price")
    bob = sign_up(app_url, "bob")
    with pytest.raises(Exception, match="You do not own artwork #2"):
        bob.predict(second, "1.00", "exclusive", 1, "", api_name="/list")


def test_only_owners_creators_and_licensees_download_the_signed_file(app_url, tmp_path):
    from provenance.c2pa import read_manifest

    ada, bob = sign_up(app_url, "ada"), sign_up(app_url, "bob")
    artwork_id = register(ada, tmp_path, 4, "Dunes")
    with pytest.raises(Exception, match="Only the owner, the creator and licensees"):
        bob.predict(artwork_id, api_name="/download")
    ada.predict(artwork_id, "3.00", "personal", 5, "", api_name="/list")
    bob.predict(1, None, api_name="/buy")
    signed = bob.predict(artwork_id, api_name="/download")
    data = Path(signed).read_bytes()
    report = read_manifest(data, "image/png", None)
    assert report.atelier["artwork_id"] == artwork_id and report.atelier["owner"] == "ada"
    certificate = client(app_url).predict(artwork_id, api_name="/certificate")
    text = Path(certificate).read_text(encoding="utf-8")
    assert '"type":"atelier.certificate.v1"' in text and "\n— atelier.local/log " in text


def test_the_log_is_served_as_tiles_a_spec_only_client_can_check(app_url, tmp_path):
    seller = sign_up(app_url, "ada")
    for seed in range(3):
        register(seller, tmp_path, seed, f"Piece {seed}")

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
    with pytest.raises(urllib.error.HTTPError, match="404"):  # was a 500: int's digit limit
        get("tile/0/" + "x000/" * 1440 + "001")


def test_anyone_can_verify_a_copy_and_see_its_owner_and_the_signed_head(app_url, tmp_path):
    from PIL import ImageOps

    from tests.factories import art_image, encode

    seller = sign_up(app_url, "ada")
    register(seller, tmp_path, 8, "Original")

    copy = tmp_path / "copy.jpg"
    copy.write_bytes(encode(ImageOps.mirror(art_image(8)).resize((64, 64)), "JPEG", quality=70))
    verdict, matches, evidence, head, certificate, _lined_up = client(app_url).predict(
        handle_file(str(copy)), api_name="/verify"
    )
    assert "Copy of #1" in text_of(verdict)
    assert "#1 Original: created by ada, owned by ada" in text_of(verdict)
    assert matches["data"][0][:4] == [1, "Original", "ada", "ada"]
    assert evidence["verdict"] == "copy_of"
    assert head.startswith("atelier.local/log\n")
    with urllib.request.urlopen(app_url + "log/verifier-key", timeout=30) as response:
        verifier = NoteVerifier.from_vkey(response.read().decode())
    signed = read_certificate(Path(certificate).read_text(encoding="utf-8"), verifier)
    assert signed["id"] == 1 and signed["owner"] == "ada" and len(signed["events"]) == 1


def _post_json(url, body, headers=()):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    for name, value in headers:
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_forwarded_for_header_from_an_untrusted_peer_does_not_lift_a_lock(app_url):
    for i in range(20):  # the per-address budget of 127.0.0.1
        status, _b = _post_json(
            app_url + "auth/sign-in", {"username": f"guess{i}", "password": "wrong one!"}
        )
        assert status == 401
    spoofed = [("X-Forwarded-For", "203.0.113.77"), ("X-Real-IP", "203.0.113.77")]
    status, body = _post_json(
        app_url + "auth/sign-in", {"username": "guess99", "password": "wrong one!"}, spoofed
    )
    assert status == 429 and body["error"].startswith("too many failed sign-ins")


def test_sign_ups_from_one_address_are_limited_over_http(app_url):
    for i in range(5):
        status, _b = _post_json(
            app_url + "auth/sign-up", {"username": f"maker{i}", "password": "long enough"}
        )
        assert status == 200
    status, body = _post_json(
        app_url + "auth/sign-up", {"username": "maker5", "password": "long enough"}
    )
    assert status == 429 and "too many new accounts" in body["error"]
    with pytest.raises(Exception, match="Too many new accounts"):
        client(app_url).predict("maker6", "long enough", api_name="/sign_up")


def test_a_huge_password_or_username_is_refused_without_being_echoed(app_url):
    client(app_url).predict("ada", "a long password", api_name="/sign_up")
    # refused before argon2 (tests/integration/test_accounts.py counts the hashing)
    with pytest.raises(Exception, match="Wrong username or password"):
        client(app_url).predict("ada", "p" * 4_000_000, api_name="/sign_in")
    with pytest.raises(Exception) as refused:
        client(app_url).predict("u" * 100_000, "a long password", api_name="/sign_up")
    assert len(str(refused.value)) < 1000


def test_an_empty_market_says_so_and_only_mentions_filters_when_there_are_some(app_url):
    guest = client(app_url)
    *_tiles, summary = guest.predict("", "", "", "", "", "newest", 1, api_name="/search")
    assert "Nothing is for sale yet" in summary and "filters" not in summary
    *_tiles, summary = guest.predict("harbour", "", "", "", "", "newest", 1, api_name="/search")
    assert "No listings match. Clear the search or the filters" in summary
