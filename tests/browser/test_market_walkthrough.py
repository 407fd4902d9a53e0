"""The market in a real browser: a reserve auction whose clock a late bid extends, settled
by the app's worker; an offer on an unlisted work, accepted; a copy reported, suspended,
answered and taken down by the operator. `atelier ledger check` and `atelier log verify`
pass after each. Screenshots along the way."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime, timedelta

import pytest
from PIL import ImageDraw
from playwright.sync_api import expect
from sqlalchemy import update

from atelier.cli import main
from db.models import Auction
from marketplace.rules import MarketRules
from tests.browser.test_walkthrough import TIMEOUT, Visitor
from tests.e2e.conftest import serve
from tests.factories import detailed, encode


@pytest.fixture
def market_url(app_settings):
    # a 5-minute anti-sniping window, so the second bid on a 1-minute clock extends it
    settings = dataclasses.replace(app_settings, rules=MarketRules(auction_extension_seconds=300))
    url, server, thread = serve(settings)
    yield url, settings
    server.should_exit = True
    thread.join(timeout=15)


def books_hold(settings, monkeypatch, capsys) -> None:
    """`atelier ledger check` and `atelier log verify` on the app's database."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ATELIER_DATA_DIR", str(settings.data_dir))
    if settings.blob_url:
        monkeypatch.setenv("ATELIER_BLOB_URL", settings.blob_url)
    for argv in (["ledger", "check"], ["log", "verify"]):
        assert main(argv) == 0, capsys.readouterr()
    capsys.readouterr()


def operator(settings, monkeypatch, capsys, *argv) -> str:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ATELIER_DATA_DIR", str(settings.data_dir))
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def register_as(settings, username: str, image, title: str, *, past_the_guard=False) -> int:
    """A work registered straight through the services (as a script would); with
    `past_the_guard`, a copy the registration guard missed, as some do."""
    import marketplace.artworks as artworks
    from atelier.bootstrap import Services
    from marketplace.accounts import find_user

    services = Services.from_settings(settings)
    saved = artworks.registered_matches
    if past_the_guard:
        artworks.registered_matches = lambda *a, **k: []
    try:
        with services.sessions() as s, s.begin():
            owner = find_user(s, username).id
            return artworks.register_artwork(
                s, services.blobs, encode(image), owner_id=owner, title=title
            ).id
    finally:
        artworks.registered_matches = saved


def test_an_auction_an_offer_and_a_takedown_in_the_browser(
    browser, market_url, screenshots, monkeypatch, capsys
):
    url, settings = market_url
    dialogs: list[str] = []
    ada, bob, cyd = (Visitor(browser, url, screenshots, dialogs) for _ in range(3))
    for visitor, name in ((ada, "ada"), (bob, "bob"), (cyd, "cyd")):
        visitor.sign_up(name)
    harbour = register_as(settings, "ada", detailed(5), "Harbour")
    dunes = register_as(settings, "ada", detailed(11), "Dunes")

    # ada auctions Harbour with a 1-minute clock
    ada.tab("Market")
    ada.page.locator("#market-artwork input").fill(str(harbour))
    ada.fill("market-reserve", "20")
    ada.fill("market-duration", "1m")
    ada.click("market-start-auction")
    ada.wait_text("market-auction-status", "Auction #1 is open with a reserve of 20.00")

    # bob bids at the reserve: the clock starts; cyd's late bid extends it
    for visitor, amount in ((bob, "20"), (cyd, "25")):
        visitor.tab("Market")
        visitor.page.locator("#market-auction input").fill("1")
        visitor.fill("market-amount", amount)
        visitor.click("market-bid")
    bob.wait_text("market-bid-status", "leads auction #1")
    extended = cyd.wait_text("market-bid-status", "leads auction #1")
    assert "The clock was extended." in extended
    cyd.wait_text("atelier-who", "75.00 credits")  # the bid is held from the balance
    assert "a bid in the last 5 minutes" in cyd.page.locator("#market-rules").inner_text()
    cyd.page.get_by_role("button", name="Refresh").first.click()
    expect(cyd.page.locator("#market-auctions")).to_contain_text("25.00 by cyd", timeout=TIMEOUT)
    cyd.shot("market-auction")
    bob.tab("Wallet")  # the header follows on a page change: outbid, refunded at once
    bob.wait_text("atelier-who", "100.00 credits")
    books_hold(settings, monkeypatch, capsys)

    # the clock runs out (moved back in the database); the app's worker settles it
    from atelier.bootstrap import Services

    with Services.from_settings(settings).sessions() as s, s.begin():
        s.execute(update(Auction).values(ends_at=datetime.now(UTC) - timedelta(seconds=1)))
    deadline = time.monotonic() + 30
    cyd.open(f"?artwork={harbour}")
    while "Owner\tcyd" not in cyd.wait_text("artwork-info", "Owner"):
        assert time.monotonic() < deadline, "the auction was not settled within 30 s"
        cyd.page.wait_for_timeout(1000)
        cyd.open(f"?artwork={harbour}")
    books_hold(settings, monkeypatch, capsys)

    # bob offers for Dunes, which is not for sale; ada accepts
    bob.tab("Market")
    bob.page.locator("#market-offer-artwork input").fill(str(dunes))
    bob.fill("market-offer-amount", "30")
    bob.click("market-offer")
    bob.wait_text("market-offer-status", "Offer #1: 30.00 credits")
    bob.wait_text("atelier-who", "70.00 credits")  # held in escrow
    ada.open("?tab=market")
    expect(ada.page.locator("#market-offers")).to_contain_text("bob", timeout=TIMEOUT)
    ada.wait_text("market-offers-summary", "1 open offer on your works")
    ada.shot("market-offers")
    ada.page.locator("#market-offer-id input").fill("1")
    ada.click("market-accept")
    ada.wait_text("market-offer-status", "Accepted offer #1")
    books_hold(settings, monkeypatch, capsys)

    # bob commissions a night harbour; ada answers with a work she made; bob chooses it
    bob.open("?tab=market")
    bob.fill("brief-title", "Harbour at night")
    bob.fill("brief-text", "Boats and lights on calm water, a deep blue night")
    bob.fill("brief-palette", "#0b1d3a #f2c14e")
    bob.fill("brief-refs", str(harbour))
    bob.fill("brief-budget", "15")
    bob.fill("brief-deadline", "2d")
    bob.click("brief-post")
    bob.wait_text("brief-status", "Brief #1 posted")
    night = register_as(settings, "ada", detailed(23), "Night harbour")
    ada.open("?tab=market")
    expect(ada.page.locator("#briefs")).to_contain_text("Harbour at night", timeout=TIMEOUT)
    ada.page.locator("#answer-brief input").fill("1")
    ada.page.locator("#answer-artwork input").fill(str(night))
    ada.fill("answer-note", "the blue you asked for")
    ada.click("answer-go")
    ada.wait_text("answer-status", f"Your work #{night} answers brief #1")
    ada.shot("market-commission")
    bob.open("?tab=market")
    expect(bob.page.locator("#brief-answers")).to_contain_text("ada", timeout=TIMEOUT)
    bob.page.locator("#brief-answer-id input").fill("1")
    bob.click("brief-choose")
    bob.wait_text("brief-choose-status", f"artwork #{night} is yours")
    bob.open(f"?artwork={night}")
    assert "Owner\tbob" in bob.wait_text("artwork-info", "Owner")
    expect(bob.page.locator("#artwork-timeline")).to_contain_text(
        "Commission #1 awarded", timeout=TIMEOUT
    )
    books_hold(settings, monkeypatch, capsys)

    # cyd registers a captioned crop of bob's Dunes; the guard misses it, bob reports it
    copy = detailed(11).crop((20, 20, 300, 300))
    ImageDraw.Draw(copy).rectangle((0, 230, 280, 280), fill=(255, 255, 255))
    ImageDraw.Draw(copy).text((10, 240), "NEW DROP", fill=(0, 0, 0))
    copied = register_as(settings, "cyd", copy, "Dunes remix", past_the_guard=True)
    bob.open("?tab=market")
    bob.page.locator("#report-copy input").fill(str(copied))
    bob.page.locator("#report-original input").fill(str(dunes))
    bob.fill("report-statement", "A cropped, captioned copy of my Dunes")
    bob.click("report-file")
    filed = bob.wait_text("report-status", "Report #1 filed")
    assert "are suspended until an operator decides" in filed
    bob.shot("market-report")
    cyd.open("?tab=market")
    expect(cyd.page.locator("#report-table")).to_contain_text("suspended", timeout=TIMEOUT)
    cyd.page.locator("#report-id input").fill("1")
    cyd.fill("report-answer", "It is a remix, and remixes are fair")
    cyd.click("report-counter")
    cyd.wait_text("report-answer-status", "answer to report #1 is filed")
    out = operator(
        settings,
        monkeypatch,
        capsys,
        "report",
        "decide",
        "1",
        "--remove",
        "--note",
        "a crop of Dunes with a caption: no licence",
    )
    assert "report #1: removed" in out
    cyd.open(f"?artwork={copied}")
    expect(cyd.page.locator("#artwork-timeline")).to_contain_text(
        "Copyright report #1: taken down by an operator", timeout=TIMEOUT
    )
    expect(cyd.page.locator("#artwork-info")).to_contain_text("Taken down: copyright report")
    cyd.shot("artwork-takedown")
    books_hold(settings, monkeypatch, capsys)
    assert dialogs == []
