"""The studio's newer tools in a real browser: move pictures along genes, project a picture
into the model, DeepDream a photograph, compare, save. Screenshots along the way."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.browser.test_walkthrough import TIMEOUT, Visitor

PHOTO = Path(__file__).resolve().parents[2] / "docs" / "style" / "flower.jpg"
EMOJI = Path(__file__).resolve().parents[2] / "docs" / "model_card" / "projection-source.png"


def set_gene(visitor: Visitor, gene: str, amount: str) -> None:
    """Type an amount in a gene's number box and wait until its slider shows it, as a
    person sees it move. A box typed into while the accordion is still opening can drop the
    value (seen once here), so it is typed again, as anyone would."""
    box = visitor.page.locator(f"#studio-gene-{gene} input[type=number]")
    slider = visitor.page.locator(f"#studio-gene-{gene} input[type=range]")
    for _attempt in range(3):
        box.fill(amount)
        box.press("Enter")
        try:
            expect(slider).to_have_value(amount, timeout=5_000)
            return
        except AssertionError:
            continue
    expect(slider).to_have_value(amount, timeout=TIMEOUT)


def test_genes_and_a_dream_in_the_browser(browser, app_url, screenshots):
    dialogs: list[str] = []
    ada = Visitor(browser, app_url, screenshots, dialogs)
    ada.sign_up("ada")
    # genes: open the accordion, move two sliders, generate
    ada.wait_text("studio-model", "")
    ada.fill("studio-seed", "40")
    ada.page.locator("#studio-genes").get_by_text("Genes (the bundled model)").click()
    for gene, amount in (("person", "2"), ("warm", "-1.5")):
        set_gene(ada, gene, amount)
    ada.click("studio-generate")
    ada.wait_text("studio-status", "genes person +2, warm -1.5")
    ada.shot("studio-genes")
    ada.thumbnails("studio-grid").nth(0).click()
    expect(ada.page.locator("#studio-pick input")).to_have_value("1", timeout=15_000)
    ada.fill("studio-title", "Warm person")
    ada.click("studio-save")
    ada.wait_text("studio-saved", "Saved as artwork #1")
    # her own picture in the model, with the genes back at 0
    for gene in ("person", "warm"):
        set_gene(ada, gene, "0")
    ada.upload("studio-project-upload", EMOJI)
    ada.click("studio-project")
    status = ada.wait_text("studio-status", "Projected into the bundled model in 150 steps")
    assert "(genes" not in status
    expect(ada.page.locator("#studio-grid img")).to_have_count(2, timeout=TIMEOUT)
    ada.shot("studio-projection")

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
