"""Two strangers use the app in a real browser: an artist makes, restyles and lists; a
collector buys; anyone verifies a re-encoded copy and sees both owners. A hostile title is
shown as text. Each page is saved as a screenshot along the way."""

from __future__ import annotations

import io
import re
from pathlib import Path

from PIL import Image, ImageDraw
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

XSS = "<img src=x onerror=alert(1)>"
PASSWORD = "a long password"
TIMEOUT = 60_000


class Visitor:
    """One person's browser window (own cookies), with the few moves the walk-through needs."""

    def __init__(self, browser, url: str, screenshots, dialogs: list) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT)
        self.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        self.url, self.screenshots = url, screenshots

    def open(self, query: str = "") -> None:
        self.page.goto(self.url + query)
        self.page.wait_for_selector("#atelier-who-text")
        # Gradio keeps an event stream open, so the network is never idle: let the load run
        self.page.wait_for_timeout(1500)

    def tab(self, name: str) -> None:
        self.page.get_by_role("tab", name=name, exact=True).click()

    def fill(self, elem_id: str, text: str) -> None:
        self.page.locator(f"#{elem_id} textarea, #{elem_id} input").first.fill(text)

    def click(self, elem_id: str) -> None:
        self.page.click(f"#{elem_id}")

    def choose(self, elem_id: str, option: str) -> None:
        self.page.click(f"#{elem_id} input[role=combobox]")
        self.page.get_by_role("option", name=option).first.click()

    def wait_text(self, elem_id: str, text: str) -> str:
        locator = self.page.locator(f"#{elem_id}")
        locator.filter(has_text=text).first.wait_for()
        return locator.inner_text()

    def upload(self, elem_id: str, path) -> None:
        """Put one file in a file box, replacing the one it shows. A box showing a file has no
        file input: Clear brings the upload area back, and a file set on it while it is still
        mounting can be dropped (CI saw the box stay empty once), so the file is set again if
        its name does not show. A dropped set is the harness racing the page, not something a
        person choosing a file in a dialog can do."""
        box = self.page.locator(f"#{elem_id}")
        clear = box.locator("button[aria-label='Clear']")
        if clear.count():
            clear.first.click()
            expect(clear).to_have_count(0, timeout=TIMEOUT)
        name = box.get_by_text(Path(str(path)).name).first
        for attempt in range(3):
            box.locator("input[type=file]").set_input_files(str(path))
            try:
                name.wait_for(timeout=30_000)
                return
            except PlaywrightTimeout:
                # a slow upload shows its name late and takes the input away: no second set
                if attempt == 2 or box.locator("input[type=file]").count() == 0:
                    name.wait_for()
                    return

    def thumbnails(self, elem_id: str):
        return self.page.locator(f"#{elem_id} button.thumbnail-item")

    def shot(self, name: str) -> None:
        self.page.wait_for_timeout(800)  # images decode, progress bars fade
        self.page.evaluate("window.scrollTo(0, 0)")
        png = self.page.screenshot(full_page=True)
        # 256 colours keep the documentation's screenshots small; text stays crisp
        image = Image.open(io.BytesIO(png)).convert("RGB").quantize(256, dither=Image.Dither.NONE)
        image.save(self.screenshots / f"{name}.png", optimize=True)

    def sign_up(self, username: str) -> None:
        self.open("?tab=account")
        self.fill("account-username", username)
        self.fill("account-password", PASSWORD)
        self.click("account-sign-up")
        self.page.wait_for_url(re.compile(r"tab=studio"))
        self.wait_text("atelier-who", f"Signed in as {username}")


def training_files(folder, count: int) -> list[str]:
    from tests.factories import png_bytes

    paths = []
    for number in range(count):
        path = folder / f"portfolio-{number}.png"
        path.write_bytes(png_bytes(700 + number, 64))
        paths.append(str(path))
    return paths


def seed_other_listings(url: str, count: int) -> None:
    """Another artist's listings, made through the API, so the gallery is not empty."""
    from tests.e2e.conftest import sign_up

    cyd = sign_up(url, "cyd")
    model = cyd.predict(api_name="/studio_choices")[0]["value"]
    cyd.predict(model, 100, count, 0.7, 128, api_name="/generate")
    names = ["Blue hour", "Ember", "Tidepool", "Marigold", "Quiet fox", "Lantern"]
    for number in range(1, count + 1):
        _message, artwork_id = cyd.predict(
            number, names[number - 1], "", api_name="/save_generated"
        )
        price = f"{3 + 2 * number}.00"
        cyd.predict(int(artwork_id), price, "personal", 10, "", api_name="/list")


def test_an_artist_and_a_collector_make_restyle_sell_buy_and_verify(
    browser, app_url, screenshots, tmp_path
):
    dialogs: list[str] = []
    guest = Visitor(browser, app_url, screenshots, dialogs)
    # an empty market says so, without pointing at filters nobody set
    guest.open()
    empty = guest.wait_text("gallery-summary", "Nothing is for sale yet")
    assert "filters" not in empty
    seed_other_listings(app_url, count=5)
    guest.open("?tab=account")
    expect(guest.page.locator("#tab-account")).to_contain_text("Create account", timeout=TIMEOUT)
    # the sign-in page is for people; scripts read docs/API.md
    expect(guest.page.locator("#tab-account")).not_to_contain_text("For scripts")
    guest.shot("account")

    # the artist signs up, generates, picks the second picture and saves it under a hostile title
    ada = Visitor(browser, app_url, screenshots, dialogs)
    ada.sign_up("ada")
    ada.wait_text("studio-model", "")
    ada.fill("studio-seed", "40")
    ada.click("studio-generate")
    ada.wait_text("studio-status", "8 pictures from seed 40")
    ada.thumbnails("studio-grid").nth(1).click()
    # the choice arrives through a server round trip: wait for it rather than race it
    expect(ada.page.locator("#studio-pick input")).to_have_value("2", timeout=15_000)
    ada.fill("studio-title", XSS)
    ada.fill("studio-tags", "emoji gan")
    ada.click("studio-save")
    ada.wait_text("studio-saved", "Saved as artwork #6")
    ada.shot("studio")

    # ...restyles it with a preset and saves that too
    ada.tab("Style")
    # the preset in the number field is the tile highlighted, and its name is not cut short
    selected = ada.page.locator("#style-presets button.thumbnail-item.selected")
    expect(selected).to_have_count(1)
    expect(selected).to_contain_text("19 starry blues")
    cut = ada.page.evaluate(
        """() => [...document.querySelectorAll('#style-presets .caption-label')]
        .filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.textContent)"""
    )
    assert cut == [], cut
    # no blend slider until there is a second style to blend with
    expect(ada.page.locator("#style-blend")).to_be_hidden()
    ada.choose("style-preset-b", "3 tangled ribbons")
    expect(ada.page.locator("#style-blend")).to_be_visible()
    ada.choose("style-preset-b", "none")
    expect(ada.page.locator("#style-blend")).to_be_hidden()
    ada.page.locator("#tab-style").get_by_label("One of my works").check()
    ada.choose("style-content-artwork", "#6")
    ada.thumbnails("style-presets").nth(19).click()
    ada.page.locator("#style-size input[type=number]").fill("256")
    ada.page.locator("#style-size input[type=number]").press("Enter")
    ada.click("style-go")
    ada.wait_text("style-status", "Restyled at 256×256 with starry blues")
    # before and after are drawn the same way, whole, inside the frame (the before was cropped)
    ada.page.wait_for_timeout(800)
    boxes = ada.page.evaluate(
        """() => {
          const frame = document.querySelector('#style-compare .slider-wrap')
            .getBoundingClientRect();
          return [...document.querySelectorAll('#style-compare img')].map(i => {
            const r = i.getBoundingClientRect();
            return [r.width, r.height, getComputedStyle(i).objectFit, frame.height];
          });
        }"""
    )
    assert len(boxes) == 2 and boxes[0] == boxes[1], boxes
    assert boxes[0][1] <= boxes[0][3] + 1 and boxes[0][2] == "contain", boxes
    ada.fill("style-title", "Starry emoji")
    ada.click("style-save")
    ada.wait_text("style-saved", "Saved as artwork #7")
    ada.shot("style")

    # ...and lists the original for sale, exclusively
    ada.tab("Sell")
    ada.page.get_by_role("button", name="Refresh").first.click()
    ada.wait_text("sell-summary", "You own 2 artworks")
    ada.choose("sell-artwork", XSS)
    # a refusal reads as a sentence, not as code
    ada.fill("sell-price", "-5")
    ada.click("sell-list")
    expect(ada.page.get_by_text("Enter a price above 0.00.")).to_be_visible(timeout=TIMEOUT)
    expect(ada.page.get_by_text("`price`")).to_have_count(0)
    ada.page.locator(".toast-close").first.click()
    expect(ada.page.locator(".toast-close")).to_have_count(0)
    ada.fill("sell-price", "12.50")
    # an exclusive sale is one sale: no edition size to fill in
    expect(ada.page.locator("#sell-edition")).to_be_hidden()
    ada.click("sell-list")
    ada.wait_text("sell-status", "Listed artwork #6 as listing #6 for 12.50 credits")
    ada.shot("sell")

    # the collector finds it in the gallery: the hostile title is plain text
    bob = Visitor(browser, app_url, screenshots, dialogs)
    bob.sign_up("bob")
    bob.open()
    bob.wait_text("gallery-summary", "6 listings")
    expect(bob.thumbnails("gallery-tiles").first).to_contain_text(XSS, timeout=15_000)
    bob.shot("gallery")
    bob.thumbnails("gallery-tiles").first.click()
    title = bob.wait_text("artwork-title", "#6")
    assert XSS in title
    assert bob.page.locator("img[src='x']").count() == 0

    # ...buys it after confirming, and the header's balance follows
    bob.click("artwork-buy")
    confirm = bob.wait_text("artwork-confirm-text", "12.50 credits")
    assert "100.00 → 87.50" in confirm
    bob.shot("artwork-buy")
    bob.click("artwork-confirm")
    bob.wait_text("artwork-result", "Bought listing #6")
    bob.wait_text("atelier-who", "87.50 credits")
    expect(bob.page.locator("#artwork-info")).to_contain_text(
        re.compile(r"Owner\s*bob"), timeout=15_000
    )
    bob.wait_text("artwork-timeline", "Ownership passed from ada to bob")
    # the new owner may see the recipe; the public record only commits to it
    expect(bob.page.locator("#artwork-recipe-box")).to_be_visible(timeout=TIMEOUT)
    bob.shot("artwork")

    # the seller's header follows the sale as soon as she changes page, and her wallet
    # shows what the buyer paid and the platform's fee on it
    ada.tab("Wallet")
    balance = ada.page.locator("#wallet-balance")
    expect(balance).not_to_have_text("100.00", timeout=TIMEOUT)
    ada.wait_text("atelier-who", f"{balance.inner_text()} credits")
    sale = ada.page.locator("#wallet-ledger").get_by_role("row", name=re.compile("sale proceeds"))
    expect(sale).to_contain_text("12.50")
    expect(sale).to_contain_text("0.31")  # 2.5% of 12.50, rounded down

    # ...downloads the signed file
    # one click saves the file (it used to need a second click on a link)
    with bob.page.expect_download(timeout=TIMEOUT) as saved:
        bob.page.get_by_role("button", name="Download signed file").click()
    with open(saved.value.path(), "rb") as f:
        signed = f.read()
    assert signed.startswith(b"\x89PNG")

    # anyone verifies a JPEG re-encoding of it and sees the creator and the current owner
    copy = tmp_path / "copy.jpg"
    buffer = io.BytesIO()
    Image.open(io.BytesIO(signed)).convert("RGB").save(buffer, "JPEG", quality=80)
    copy.write_bytes(buffer.getvalue())
    # a shared link opens the artwork page directly
    guest.open("?artwork=6")
    assert XSS in guest.wait_text("artwork-title", "#6")
    assert "Owner\tbob" in guest.wait_text("artwork-info", "Owner")
    # a visitor who may not download is told so on the page, and the words stay
    guest.page.get_by_role("button", name="Download signed file").click()
    assert "Sign in first" in guest.wait_text("artwork-result", "Sign in first")
    guest.page.wait_for_timeout(6_000)  # longer than a toast lives
    assert "Sign in first" in guest.page.locator("#artwork-result").inner_text()
    guest.open("?tab=verify")
    # the deep link switches tabs after the page loads: upload once the Verify page is shown
    expect(guest.page.locator("#verify-go")).to_be_visible(timeout=TIMEOUT)
    guest.page.wait_for_timeout(500)
    guest.upload("verify-image", copy)
    guest.click("verify-go")
    verdict = guest.wait_text("verify-result", "created by")
    assert "Copy of #6" in verdict
    assert "created by ada, owned by bob" in verdict
    assert XSS in verdict
    # one headline, one plain confidence line, evidence named by its real signal
    assert guest.page.locator("#verify-result .atelier-badge").count() == 1
    assert guest.page.locator("#verify-confidence").inner_text().startswith("High:")
    assert "Evidence: perceptual hash (PDQ)" in verdict and "keypoints distance" not in verdict
    # the re-encoded copy lost the download's credentials: the work's are recovered
    assert "Content Credentials recovered" in verdict
    guest.shot("verify")
    # a cropped, turned and captioned repost is named too, and the page shows how it lines up
    cropped = tmp_path / "repost.jpg"
    picture = Image.open(io.BytesIO(signed)).convert("RGB")
    w, h = picture.size
    turned = picture.crop((w // 8, 0, w, h * 7 // 8)).rotate(12, expand=True, fillcolor="white")
    reposted = Image.new("RGB", (turned.width, turned.height + 60), "white")
    reposted.paste(turned, (0, 60))
    ImageDraw.Draw(reposted).text((10, 20), "look what I found #art", fill="black")
    reposted.save(cropped, "JPEG", quality=85)
    guest.upload("verify-image", cropped)
    guest.click("verify-go")
    verdict = guest.wait_text("verify-result", "created by")
    assert "Copy of #6" in verdict and "keypoints line up" in verdict
    assert "turned 12°" in guest.page.locator("#verify-confidence").inner_text()
    expect(guest.page.locator("#verify-lined-up img")).to_be_visible(timeout=TIMEOUT)
    guest.shot("verify-repost")
    # a junk file next: the earlier verdict goes, so the junk is never shown as verified
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not a picture at all")
    guest.upload("verify-image", junk)
    guest.click("verify-go")
    expect(guest.page.locator("#verify-result")).not_to_contain_text("created by", timeout=TIMEOUT)

    # the other pages, as the collector sees them
    bob.tab("Wallet")
    bob.wait_text("wallet-summary", "87.50")
    bob.shot("wallet")
    bob.tab("Train")
    # a run too short to work is called so before it starts, with its time and the images'
    # count; the jobs table follows the job to "done"
    bob.page.locator("#train-files input[type=file]").set_input_files(training_files(tmp_path, 20))
    bob.fill("train-name", "pocket gan")
    bob.page.locator("#train-steps input[type=number]").fill("10")
    bob.page.locator("#train-steps input[type=number]").press("Enter")
    words = bob.wait_text("train-expectation", "10 steps cannot work")
    assert "20 images is few" in words and "Estimated time: about" in words
    bob.click("train-go")
    bob.wait_text("train-summary", "done")
    expect(bob.page.locator("#train-jobs").get_by_role("row").nth(1)).to_contain_text("done")
    expect(bob.page.locator("#train-jobs")).not_to_contain_text("running")
    bob.shot("train")
    bob.tab("Text to image")
    missing = bob.wait_text("txt2img-missing", "not available")
    assert "operator has not installed a text-to-image model" in missing
    assert "ATELIER_DIFFUSION_MODEL" not in missing and "`" not in missing
    assert "python" not in missing.lower()
    bob.shot("txt2img")

    assert dialogs == []
    assert guest.page.locator("img[src='x']").count() == 0
