"""The studio's newer tools in a real browser: move pictures along genes, DeepDream a
photograph, compare, save. Screenshots along the way."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.browser.test_walkthrough import TIMEOUT, Visitor

PHOTO = Path(__file__).resolve().parents[2] / "docs" / "style" / "flower.jpg"


def test_genes_and_a_dream_in_the_browser(browser, app_url, screenshots):
    dialogs: list[str] = []
    ada = Visitor(browser, app_url, screenshots, dialogs)
    ada.sign_up("ada")
    # genes: open the accordion, move two sliders, generate
    ada.wait_text("studio-model", "")
    ada.fill("studio-seed", "40")
    ada.page.locator("#studio-genes").get_by_text("Genes (the bundled model)").click()
    for gene, amount in (("person", "2"), ("warm", "-1.5")):
        box = ada.page.locator(f"#studio-gene-{gene} input[type=number]")
        box.fill(amount)
        box.press("Enter")
    ada.click("studio-generate")
    ada.wait_text("studio-status", "genes person +2, warm -1.5")
    ada.shot("studio-genes")
    ada.thumbnails("studio-grid").nth(0).click()
    expect(ada.page.locator("#studio-pick input")).to_have_value("1", timeout=15_000)
    ada.fill("studio-title", "Warm person")
    ada.click("studio-save")
    ada.wait_text("studio-saved", "Saved as artwork #1")

    ada.tab("Dream")
    ada.upload("dream-upload", PHOTO)
    ada.choose("dream-layer", "block8 · eyes, scales, fur")
    ada.click("dream-go")
    status = ada.wait_text("dream-status", "Dreamed at 512×342 with block8")
    assert "4 octaves of 10 steps, strength 1" in status
    expect(ada.page.locator("#dream-compare img")).to_have_count(2, timeout=TIMEOUT)
    ada.fill("dream-title", "Dahlia dreaming")
    ada.click("dream-save")
    ada.wait_text("dream-saved", "Saved as artwork #2 (AI-modified)")
    ada.shot("dream")
    assert dialogs == []
