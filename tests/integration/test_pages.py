"""The pages' handlers called as plain functions (issue 13: each page's handlers are module
functions over the services and plain values, testable without a browser): the Artwork page's
open, quote, buy and the refusal that stays on the page; Sell's sentences; the Wallet's step
chart and fees; Verify on a re-encoded copy; the Gallery's search."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
import pytest

from atelier.bootstrap import Services
from atelier.config import Settings
from marketplace.web_sessions import COOKIE_NAME, sign_up
from tests.factories import FAST_HASHER
from tests.integration.helpers import new_artwork, new_listing
from ui import artwork, gallery, sell, verify, wallet


@pytest.fixture
def services(engine, tmp_path, blob_url):
    return Services.from_settings(
        Settings(
            data_dir=tmp_path / "data",
            database_url=engine.url.render_as_string(hide_password=False),
            blob_url=blob_url,
        )
    )


def browser_of(services, name: str):
    """A request as Gradio hands it to a handler: the person's session cookie."""
    with services.sessions() as s, s.begin():
        signed = sign_up(s, name, "a long password", hasher=FAST_HASHER)
    return signed.user_id, SimpleNamespace(cookies={COOKIE_NAME: signed.token}, headers={})


def test_a_buyer_opens_quotes_and_buys_and_then_sees_the_recipe(services):
    ada, _ = browser_of(services, "ada")
    _, bob_browser = browser_of(services, "bob")
    work = new_artwork(
        services.sessions, services.blobs, ada, 1, title="Harbour", recipe={"kind": "gan"}
    )
    offer = new_listing(services.sessions, work, ada, 1250)

    page = artwork.show(services, work)
    assert "Harbour" in page[1] and "<b>ada</b>" in page[1]
    assert page[7]["choices"] == [(f"Listing #{offer} · exclusive · 12.50 credits", offer)]
    text, listing, version, key, _box, _result = artwork.quote(services, offer, bob_browser)
    assert "12.50 credits" in text and "100.00 → <b>87.50</b>" in text
    assert artwork.reveal(services, work, bob_browser)[0]["visible"] is False
    done, _box = artwork.confirm(services, listing, version, key, bob_browser)
    assert done.startswith(f"✓ Bought listing #{offer} (exclusive) for 12.50 credits")
    # a second click on the same confirmation (or its retry) is the same purchase
    again, _box = artwork.confirm(services, listing, version, key, bob_browser)
    assert again == done
    assert wallet.wallet(services, bob_browser)[0].count("87.50") >= 1
    assert "<b>bob</b>" in artwork.show(services, work)[1]
    shown, recipe = artwork.reveal(services, work, bob_browser)
    assert shown["visible"] is True and recipe["recipe"] == {"kind": "gan"}


def test_a_stranger_is_told_on_the_page_why_the_file_is_not_theirs(services):
    ada, _ = browser_of(services, "ada")
    _cyd, cyd_browser = browser_of(services, "cyd")
    work = new_artwork(services.sessions, services.blobs, ada, 2)
    file, words = artwork.download_here(services, work, cyd_browser)
    assert file is None
    assert words == (
        f"⚠ Only the owner, the creator and licensees of artwork #{work} may download its "
        "file; buy a licence first."
    )
    path, nothing = artwork.certificate_here(services, work)
    assert nothing == "" and path.endswith(f"atelier-{work}.cert.txt")


def test_selling_refuses_in_sentences_and_lists_then_the_wallets_show_the_sale(services):
    ada, ada_browser = browser_of(services, "ada")
    _, bob_browser = browser_of(services, "bob")
    work = new_artwork(services.sessions, services.blobs, ada, 3, title="Tide")
    with pytest.raises(gr.Error) as refused:
        sell.list_for_sale(services, work, "-5", "exclusive", 1, "", ada_browser)
    assert refused.value.message == "Enter a price above 0.00."
    listed = sell.list_for_sale(services, work, "12.50", "exclusive", 1, "", ada_browser)
    assert listed.startswith(f"✓ Listed artwork #{work} as listing")
    tiles, _table, summary, _ids = gallery.search(services, "", "", "", "", "", "newest", 1)
    assert "1 listings" in summary and len(tiles) == 1
    offer = int(listed.split("listing #")[1].split()[0])
    artwork.buy(services, offer, None, "", bob_browser)
    _text, rows, chart = wallet.wallet(services, ada_browser)
    sale = next(row for row in rows if row[1] == "sale proceeds")
    assert sale[5:7] == ["12.50", "0.31"]
    balances = list(chart["balance"])
    assert balances[0] == 0 and balances[-1] == balances[-2]  # held until now


def test_verify_names_a_re_encoded_copy_with_its_evidence(services, tmp_path):
    import io

    from PIL import Image

    from tests.factories import png_bytes

    ada, _ = browser_of(services, "ada")
    work = new_artwork(services.sessions, services.blobs, ada, 4, title="Quay")
    copy = tmp_path / "copy.jpg"
    buffer = io.BytesIO()
    Image.open(io.BytesIO(png_bytes(4))).convert("RGB").save(buffer, "JPEG", quality=85)
    copy.write_bytes(buffer.getvalue())
    html, rows, evidence, head, certificate, lined_up = verify.verify(services, str(copy))
    assert f"Copy of &#35;{work}" in html and 'id="verify-confidence">High:' in html
    assert rows[0][0] == work and rows[0][4].startswith("perceptual hash (PDQ)")
    assert evidence["verdict"] == "copy_of" and head.startswith("atelier.local/log")
    assert certificate.endswith(f"atelier-{work}.cert.txt")
    assert lined_up is None  # a PDQ match: no keypoint placement to draw


def test_the_verify_page_draws_how_a_turned_crop_lines_up(services, tmp_path):
    import numpy as np
    from PIL import Image

    from marketplace.artworks import register_artwork
    from tests.factories import detailed, encode

    ada, _ = browser_of(services, "ada")
    picture = detailed(11)
    with services.sessions() as s, s.begin():
        register_artwork(s, services.blobs, encode(picture), owner_id=ada, title="Quay")
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(encode(picture.crop((40, 0, 320, 280)).rotate(8, expand=True), "JPEG"))
    html, _rows, evidence, _head, _cert, lined_up = verify.verify(services, str(copy))
    assert "Copy of &#35;1" in html and evidence["verdict"] == "copy_of"
    drawn = np.asarray(Image.open(lined_up).convert("RGB")).astype(int)
    outline = (np.abs(drawn - [230, 40, 90]).sum(axis=2) < 30).sum()
    assert outline > 500  # both outlines are drawn
    # the copy carries no credentials: the work's are recovered, and resolve
    from marketplace.resolution import artwork_of_manifest

    assert "Content Credentials recovered" in html
    recovered = html.split("/sbr/v1/manifests/")[1].split('"')[0]
    with services.readers() as s:
        assert artwork_of_manifest(s, recovered) == 1
