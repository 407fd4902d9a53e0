"""The studio's newer tools in a real browser: DeepDream a photograph, compare, save it.
Screenshots along the way."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.browser.test_walkthrough import TIMEOUT, Visitor

PHOTO = Path(__file__).resolve().parents[2] / "docs" / "style" / "flower.jpg"


def test_dream_a_photograph_and_save_it(browser, app_url, screenshots):
    dialogs: list[str] = []
    ada = Visitor(browser, app_url, screenshots, dialogs)
    ada.sign_up("ada")
    ada.tab("Dream")
    ada.upload("dream-upload", PHOTO)
    ada.choose("dream-layer", "block8 · eyes, scales, fur")
    ada.click("dream-go")
    status = ada.wait_text("dream-status", "Dreamed at 512×342 with block8")
    assert "4 octaves of 10 steps, strength 1" in status
    expect(ada.page.locator("#dream-compare img")).to_have_count(2, timeout=TIMEOUT)
    ada.fill("dream-title", "Dahlia dreaming")
    ada.click("dream-save")
    ada.wait_text("dream-saved", "Saved as artwork #1 (AI-modified)")
    ada.shot("dream")
    assert dialogs == []
