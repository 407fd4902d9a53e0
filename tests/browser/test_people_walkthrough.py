"""Taste, people and the feedback loop in a real browser: a collector favourites and rates a
work and sees more like it, follows its artist and hears of her next auction in the header
and on the People page; the artist reads her insight panel, then tunes her model on what was
liked and sees the before and after on the Train page. Screenshots along the way."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from tests.browser.test_market_walkthrough import books_hold, market_url, register_as  # noqa: F401
from tests.browser.test_walkthrough import TIMEOUT, Visitor
from tests.factories import detailed, png_bytes


def trained_model(settings, username: str) -> str:
    """A model `username` trained on 20 images for 20 steps, through the services (as the
    Train page would, but without waiting for the page); returns its id."""
    from atelier.bootstrap import Services
    from db.models import GanModel, Job
    from marketplace.accounts import find_user
    from marketplace.training_jobs import submit_training

    services = Services.from_settings(settings)
    with services.sessions() as s, s.begin():
        owner = find_user(s, username).id
        files = [(f"study{i}.png", png_bytes(700 + i, 64)) for i in range(20)]
        job_id = submit_training(s, services.blobs, owner, "studies", files, steps=20)
    deadline = time.monotonic() + 120
    while True:  # the app's worker thread trains it
        with services.sessions() as s:
            job = s.get(Job, job_id)
            if job.status == "done":
                return s.get(GanModel, job.result["model_id"]).sha256
            assert job.status in ("queued", "running"), job.error
        assert time.monotonic() < deadline, "training did not finish within 120 s"
        time.sleep(1)


def made_with(settings, username: str, sha: str, seed: int, title: str) -> int:
    """A work `username` saved from their model (registered with its recipe)."""
    from atelier.bootstrap import Services
    from marketplace.accounts import find_user
    from marketplace.artworks import register_artwork

    services = Services.from_settings(settings)
    recipe = {"kind": "gan_sample", "model_sha256": sha, "model_name": "studies", "seed": seed}
    with services.sessions() as s, s.begin():
        owner = find_user(s, username).id
        return register_artwork(
            s, services.blobs, png_bytes(seed, 64), owner_id=owner, title=title, recipe=recipe
        ).id


def test_taste_people_and_tuning_in_the_browser(
    browser,
    market_url,  # noqa: F811 (the fixture, imported)
    screenshots,
    monkeypatch,
    capsys,
):
    url, settings = market_url
    dialogs: list[str] = []
    ada, bob = (Visitor(browser, url, screenshots, dialogs) for _ in range(2))
    ada.sign_up("ada")
    bob.sign_up("bob")
    harbour = register_as(settings, "ada", detailed(5), "Harbour")
    register_as(settings, "ada", detailed(11), "Dunes")
    night = register_as(settings, "ada", detailed(23), "Night harbour")

    # bob favourites and rates Harbour; more like this fills in once the sweep embedded them
    bob.open(f"?artwork={harbour}")
    bob.wait_text("artwork-appraisal", "♥ 0 favourites")
    bob.click("artwork-favourite")
    bob.wait_text("artwork-appraisal", "in your favourites")
    bob.choose("artwork-stars", "★★★★★")
    bob.wait_text("artwork-appraisal", "★ 5.0 from 1 rating")
    deadline = time.monotonic() + 30
    while bob.thumbnails("artwork-similar").count() < 2:
        assert time.monotonic() < deadline, "more like this stayed empty for 30 s"
        bob.page.wait_for_timeout(1000)
        bob.open(f"?artwork={harbour}")
    bob.shot("artwork-taste")

    # bob opens ada's storefront and follows her; her next auction reaches him
    bob.open("?tab=people")
    bob.fill("people-artist", "ada")
    bob.click("people-open")
    bob.wait_text("people-storefront", "Works made")
    expect(bob.thumbnails("people-works")).to_have_count(3, timeout=TIMEOUT)
    bob.click("people-follow")
    bob.wait_text("people-follow-status", "You follow ada")
    bob.wait_text("people-storefront", "you follow them")
    bob.shot("people-storefront")
    ada.tab("Market")
    ada.page.locator("#market-artwork input").fill(str(night))
    ada.fill("market-reserve", "20")
    ada.click("market-start-auction")
    ada.wait_text("market-auction-status", "is open with a reserve of 20.00")
    bob.tab("Gallery")  # the header follows on a page change
    bob.wait_text("atelier-who", "🔔 1 new")
    bob.page.click("#atelier-unread")
    bob.wait_text("people-notifications", "New work")
    assert "Night harbour" in bob.wait_text("people-notifications", "1 unread")
    bob.shot("people-notifications")
    bob.click("people-read")
    bob.wait_text("people-notifications", "All read.")
    expect(bob.page.locator("#atelier-unread")).to_have_count(0, timeout=TIMEOUT)

    # ada's insight panel: bob's view, favourite and rating of Harbour
    ada.open("?tab=people")
    panel = ada.wait_text("people-insights", "favourite")
    assert "<b>" not in panel and "1 favourite ·" in panel.replace("\n", " ")
    expect(ada.page.locator("#people-styles")).to_contain_text("Upload", timeout=TIMEOUT)
    ada.shot("people-insights")
    books_hold(settings, monkeypatch, capsys)

    # the loop: ada's model, two works she made with it, bob favourites one; ada tunes
    sha = trained_model(settings, "ada")
    liked = made_with(settings, "ada", sha, 801, "Study in green")
    made_with(settings, "ada", sha, 802, "Study in grey")
    bob.open(f"?artwork={liked}")
    bob.click("artwork-favourite")
    bob.wait_text("artwork-appraisal", "in your favourites")
    ada.open("?tab=train")
    ada.wait_text("tune-liked", "1 liked works")
    ada.page.locator("#tune-steps input[type=number]").fill("20")
    ada.page.locator("#tune-steps input[type=number]").press("Enter")
    ada.click("tune-go")
    ada.wait_text("tune-summary", "Tuning job")
    ada.page.locator("#tune-summary").filter(has_text="New model").first.wait_for(timeout=120_000)
    summary = ada.wait_text("tune-summary", "studies-liked")
    assert "distance to the nearest liked work" in summary
    ada.shot("train-tune")
    books_hold(settings, monkeypatch, capsys)
    assert dialogs == []
