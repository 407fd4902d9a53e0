"""What every page shares: the services (`atelier.bootstrap`), one escaping function, error
translation, form parsing, display copies, and the look (theme and CSS).

Escaping: every user-entered string (titles, tags, usernames, search text, error messages
that quote them) goes through `escape` before it is put into Markdown or HTML. Nothing else
in `ui/` builds markup from user text.
"""

from __future__ import annotations

import functools
import inspect
import re
import secrets
import threading
from collections.abc import Callable, Container, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr

from atelier.bootstrap import Services
from db.blobs import BlobNotFound, BlobStoreUnavailable
from marketplace import collection, creations
from marketplace.artworks import MAX_TITLE_LENGTH
from marketplace.errors import MarketplaceError
from marketplace.media import preview_path
from provenance.errors import InvalidImage

T = TypeVar("T")


# one pass: HTML's special characters and every character Markdown gives a meaning
_ESCAPES = str.maketrans({c: f"&#{ord(c)};" for c in "&<>\"'\\`*_{}[]()#+-.!|~$"})
_HTML_TEXT_ESCAPES = str.maketrans({c: f"&#{ord(c)};" for c in "&<>"})


def escape(value: object, *, markdown: bool = True) -> str:
    """User text made safe for Markdown and HTML output: HTML's special characters and
    every character Markdown gives a meaning (emphasis, links, headings, code, tables, maths)
    become numeric character references, which both render as the characters themselves.

    Args:
        value: the text (anything; it is converted with `str`).
        markdown: False for places that render HTML but not Markdown (Gradio's error
            toasts): only `&`, `<` and `>` are replaced, so API clients get readable text.
    """
    return str(value).translate(_ESCAPES if markdown else _HTML_TEXT_ESCAPES)


# argument names as people call the fields they filled in
FIELD_WORDS = {
    "price_cents": "price",
    "royalty_bps": "royalty",
    "edition_size": "edition size",
    "licence_tier": "licence",
    "ai_label": "AI label",
    "per_page": "page size",
    "min_price_cents": "lowest price",
    "max_price_cents": "highest price",
    "image_size": "image size",
    "artwork_id": "artwork number",
    "listing_id": "listing number",
    "job_id": "job number",
}
_QUOTED_NAME = re.compile(r"`([A-Za-z_]+)`")
_GOT_TAIL = re.compile(r"[,;]? got .*$", re.DOTALL)
_INT_RANGE = re.compile(r"an integer in \[(-?\d+), (-?\d+)\]")


def sentence(message: str) -> str:
    """A precise refusal (`` `edition_size` must be an integer in [1, 1000], got 0 ``) as a
    sentence for a web page ("Edition size must be a whole number from 1 to 1000."): names
    in words, no quoted value, a capital letter and a full stop."""
    text = _GOT_TAIL.sub("", message.strip())
    text = _INT_RANGE.sub(r"a whole number from \1 to \2", text)
    text = _QUOTED_NAME.sub(
        lambda m: FIELD_WORDS.get(m.group(1), m.group(1).replace("_", " ")), text
    )
    text = text.strip().rstrip(".;,:")
    if not text:
        return "That could not be done."
    if re.match(r"[a-z]+[ ,]", text):  # a word, not a file name or a username
        text = text[0].upper() + text[1:]
    return text + "."


def in_words(exc: BaseException) -> str:
    """What a web page says for a refusal: its `plain` wording where the service gave one,
    else its message as a sentence (the CLI and scripts keep the precise message)."""
    return getattr(exc, "plain", None) or sentence(str(exc))


def fail(exc: BaseException) -> gr.Error:
    """A refusal as the message the person sees. Error toasts render HTML, and messages may
    quote input (a username, a title), so the text is escaped."""
    return gr.Error(escape(in_words(exc), markdown=False), title="Not done")


def run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a service; a refusal (a named marketplace or generation error, or a bad value) or
    an object store that cannot be reached becomes a `gr.Error` with its message."""
    try:
        return fn(*args, **kwargs)
    except (
        MarketplaceError,
        ValueError,
        LookupError,
        PermissionError,
        BlobStoreUnavailable,
    ) as exc:
        raise fail(exc) from None


def whole(value: object, what: str, *, required: bool = True) -> int | None:
    """A whole number from a form field, or a clear message naming the field."""
    if value in (None, ""):
        if required:
            raise gr.Error(f"Enter {what}.")
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise gr.Error(
            f"{what.capitalize()} must be a whole number, got {escape(value, markdown=False)}."
        ) from None
    if not number.is_integer() or abs(number) > 2**53:
        raise gr.Error(
            f"{what.capitalize()} must be a whole number, got {escape(value, markdown=False)}."
        )
    return int(number)


def seed_value(value: object, what: str, maximum: int) -> int:
    """A seed from a text field (digits: a 63-bit seed does not fit a browser's number field
    exactly) or an API client's int, within [0, maximum]."""
    if isinstance(value, bool):
        value = None
    text = str(value).strip().replace(",", "").replace("_", "") if value is not None else ""
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if not text:
        raise gr.Error(f"Enter {what}.")
    if not text.isdigit() or len(text) > 20 or int(text) > maximum:
        raise gr.Error(
            f"{what.capitalize()} must be a whole number from 0 to {maximum}, "
            f"got {escape(text[:40], markdown=False)}."
        )
    return int(text)


def random_seed(maximum: int) -> int:
    """A fresh random seed in [0, maximum]: the studio's default, so a work cannot be found by
    trying small seeds."""
    return secrets.randbelow(maximum + 1)


def number_in(value: object, what: str, low: float, high: float) -> float:
    """A number from a slider or field, within [low, high]."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise gr.Error(
            f"{what.capitalize()} must be a number, got {escape(value, markdown=False)}."
        ) from None
    if not low <= number <= high:
        raise gr.Error(f"{what.capitalize()} must be between {low:g} and {high:g}, got {number:g}.")
    return number


def image_file(label: str, elem_id: str | None = None, **kwargs: Any) -> gr.File:
    """An image upload taken as the file itself. `gr.Image` decodes and re-encodes uploads
    (dropping alpha, changing the bytes, and refusing some files with its own message and a
    server path); Atelier needs the exact bytes, decoded only by `provenance.images`."""
    return gr.File(label=label, type="filepath", file_count="single", elem_id=elem_id, **kwargs)


def read_upload(path: object, what: str) -> bytes:
    """The bytes of an uploaded file (Gradio hands handlers a path in its own cache)."""
    if not path:
        raise gr.Error(f"Choose {what}.")
    try:
        return Path(str(path)).read_bytes()
    except OSError:
        raise gr.Error(f"The upload of {what} could not be read; try again.") from None


def save_made(services: Services, owner_id: int, made: dict, title: object, tags: object) -> int:
    """Register a picture a page made as `owner_id`'s artwork; returns its number.

    `made` is what the page kept of its last result: the PNG's path (`file`) and its
    `recipe`, and for a restyle the works it came from (`parents`: [id, role] pairs) and
    the paths of its uploaded sources (`sources`), which the blob store keeps for re-runs.
    """

    def work() -> int:
        data = Path(made["file"]).read_bytes()
        sources = [Path(p).read_bytes() for p in made.get("sources", [])]
        with services.sessions() as s, s.begin():
            return creations.save_creation(
                s,
                services.blobs,
                owner_id,
                data,
                made["recipe"],
                title=title,
                tags=tags,
                parents=[tuple(p) for p in made.get("parents", [])],
                sources=sources,
            ).id

    return run(work)


def source_artwork_bytes(services: Services, user_id: int, artwork_id: int, role: str) -> bytes:
    """The file of a registered work `user_id` builds on in `role` (checked with
    `creations.check_source`: theirs, or licensed for derivatives)."""
    with services.readers() as s:
        artwork = creations.check_source(s, user_id, artwork_id, role)
        return services.blobs.get(artwork.blob_key)


# how a page that works on one picture (restyle, dream, project) is given it
SOURCE_MODES = ["Upload a picture", "One of my works"]


def picked_source(
    services: Services, user_id: int, mode: object, upload: object, artwork: object, verb: str
) -> tuple[bytes, int | None]:
    """The picture a page works on and, when it is one of the user's (or licensed) works,
    its number; `verb` names the work in messages ("restyle", "dream on", "project")."""
    if mode == SOURCE_MODES[1]:
        artwork_id = whole(artwork, f"the work to {verb}")
        return run(source_artwork_bytes, services, user_id, artwork_id, "content_source"), (
            artwork_id
        )
    return read_upload(upload, f"a picture to {verb}"), None


def show_source_box(mode: gr.Radio, upload: gr.File, artwork: gr.Dropdown) -> None:
    """Show the upload box or the works list, as the source mode says."""
    mode.change(
        lambda chosen: (
            gr.update(visible=chosen == SOURCE_MODES[0]),
            gr.update(visible=chosen == SOURCE_MODES[1]),
        ),
        mode,
        [upload, artwork],
        queue=False,
    )


def keep_before_after(
    services: Services,
    name: str,
    png: bytes,
    size: tuple[int, int],
    before_of: bytes,
    made: dict[str, Any],
    sources: list[bytes],
) -> tuple[tuple[str, str], dict[str, Any]]:
    """Write a page's result, the picture it started from at the same size, and its
    uploaded sources; returns the (before, after) pair for a slider and what Save keeps
    (`save_made`'s `made`: the file, the recipe and parents given, the sources' paths)."""
    from PIL import Image

    from provenance.images import decode_image

    after = services.new_file(name)
    after.write_bytes(png)
    before = after.with_name("before.png")
    decode_image(before_of).rgb.resize(size, Image.LANCZOS).save(before)
    kept = []
    for i, data in enumerate(sources):
        path = after.with_name(f"source-{i}.bin")
        path.write_bytes(data)
        kept.append(str(path))
    return (str(before), str(after)), {**made, "file": str(after), "sources": kept}


def before_after_column(prefix: str) -> tuple:
    """A page's result and Save controls: the before/after slider, the status line, title,
    tags, Save, the saved message and the saved work's number (hidden).
    Returns (compare, status, title, tags, save button, saved, saved id)."""
    compare = gr.ImageSlider(
        label="Before / after", type="filepath", height=420, elem_id=f"{prefix}-compare"
    )
    status = gr.Markdown(elem_id=f"{prefix}-status")
    with gr.Row(elem_classes="atelier-controls"):
        title = gr.Textbox(
            label="Title", max_length=MAX_TITLE_LENGTH, scale=3, elem_id=f"{prefix}-title"
        )
        tags = gr.Textbox(label="Tags", scale=2)
        save_button = gr.Button("Save", variant="primary", scale=1, elem_id=f"{prefix}-save")
    saved = gr.Markdown(elem_id=f"{prefix}-saved")
    saved_id = gr.Number(visible=False, precision=0)
    return compare, status, title, tags, save_button, saved, saved_id


def thumbnail(services: Services, key: str, size: int = 256) -> str | None:
    """A preview of a stored image (marketplace.media: at most half its size, marked when
    large), or None if it cannot be read (the page still loads)."""
    try:
        return str(
            preview_path(services.blobs, key, services.previews, services.preview_secret, size)
        )
    except (BlobNotFound, InvalidImage, OSError):
        return None


def tile_gallery(elem_id: str, **kwargs: Any) -> gr.Gallery:
    """A grid of clickable thumbnails (no preview pop-up, no download buttons, cropped to
    fill): the gallery, collection, derivation and preset grids all look alike this way.
    `kwargs` (columns, height, label, value, visible, ...) go to `gr.Gallery`."""
    kwargs.setdefault("show_label", False)
    return gr.Gallery(
        allow_preview=False,
        fit_columns=False,
        interactive=False,
        buttons=[],
        object_fit="cover",
        elem_id=elem_id,
        **kwargs,
    )


def derivable_choices(
    services: Services, user_id: int, kinds: Container[str] | None = None
) -> list[tuple[str, int]]:
    """Dropdown choices ("#id title", id) of the artworks `user_id` may derive from (owned,
    or licensed: marked so), optionally only those whose recipe kind is in `kinds`."""
    with services.readers() as s:
        cards = collection.derivable_artworks(s, user_id)
    return [
        (f"#{c['id']} {c['title']}" + (" (licensed)" if c["access"] == "licence" else ""), c["id"])
        for c in cards
        if kinds is None or c["recipe_kind"] in kinds
    ]


def session_hash(request: gr.Request | None) -> str:
    return (getattr(request, "session_hash", None) or "") if request is not None else ""


@contextmanager
def cancellable(
    services: Services, request: gr.Request | None, kind: str
) -> Iterator[threading.Event]:
    """This browser's fresh cancel flag for its `kind` of work (the page's Cancel button
    raises it; pass its `is_set` as the work's `should_cancel`), dropped when the work ends,
    however it ends."""
    key = session_hash(request)
    flag = services.cancels.start(key, kind)
    try:
        yield flag
    finally:
        services.cancels.finish(key, kind, flag)


def gradio_progress(progress: gr.Progress) -> Callable[[float, str], None]:
    """`generation`'s `progress(fraction, message)` shown on a Gradio progress bar."""
    return lambda fraction, message: progress(fraction, desc=message)


def badge(text: str, tone: str) -> str:
    """A coloured label (tone: green, amber, red, blue, grey) with escaped text."""
    return f'<span class="atelier-badge atelier-{tone}">{escape(text)}</span>'


AI_BADGE_TONES = {"ai_generated": "blue", "ai_modified": "amber", "human_upload": "grey"}

# system font stacks: a theme's default Google font would be fetched from the internet
FONT = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"]
MONO = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]


def theme() -> gr.themes.Base:
    """The app's look: Gradio's Soft theme with system fonts (nothing fetched)."""
    return gr.themes.Soft(primary_hue="indigo", neutral_hue="slate", font=FONT, font_mono=MONO)


CSS = """
.gradio-container { max-width: 1280px !important; width: 100% !important;
  margin: 0 auto !important; }
.atelier-controls { align-items: flex-end; }
#artwork-open-row { align-items: center; }
#atelier-header { align-items: center; border-bottom: 1px solid var(--border-color-primary);
  padding-bottom: 6px; margin-bottom: 4px; }
#atelier-header .atelier-brand { font-size: 1.6rem; font-weight: 700; letter-spacing: -0.01em; }
#atelier-header .atelier-tagline { color: var(--body-text-color-subdued); margin-left: 10px; }
#atelier-who { text-align: right; }
.atelier-badge { display: inline-block; padding: 2px 10px; border-radius: 999px;
  font-size: 0.85rem; font-weight: 600; line-height: 1.5; white-space: nowrap; }
.atelier-green { background: #dcfce7; color: #166534; }
.atelier-amber { background: #fef3c7; color: #92400e; }
.atelier-red { background: #fee2e2; color: #991b1b; }
.atelier-blue { background: #dbeafe; color: #1e40af; }
.atelier-grey { background: #e5e7eb; color: #374151; }
.atelier-verdict { font-size: 1.35rem; font-weight: 700; }
.atelier-verdict .atelier-badge { font-size: 1.1rem; padding: 4px 14px; }
.atelier-facts { border-collapse: collapse; margin: 6px 0; width: auto !important; }
.atelier-facts, .atelier-facts tr, .atelier-facts td { border: none !important;
  background: transparent !important; }
.atelier-facts td { padding: 3px 16px 3px 0 !important; vertical-align: top; }
.atelier-facts td:first-child { color: var(--body-text-color-subdued); white-space: nowrap; }
.atelier-muted { color: var(--body-text-color-subdued); }
.atelier-notice { padding: 10px 14px; border-radius: 8px;
  background: var(--background-fill-secondary); border: 1px solid var(--border-color-primary); }
.atelier-timeline { list-style: none; padding-left: 0; margin: 4px 0; }
.atelier-timeline li { padding: 4px 0 4px 14px; border-left: 3px solid var(--color-accent-soft);
  margin-left: 4px; }
.atelier-confirm { border: 2px solid var(--color-accent); border-radius: 10px; padding: 8px 12px; }
footer { display: none !important; }
/* before and after fit the slider the same way, whole, on one neutral ground (Gradio's
   default showed them 500 px tall in a 420 px frame, cropped) */
#style-compare img.preview { width: 100% !important; height: 100% !important;
  max-height: 100% !important; object-fit: contain !important;
  background: var(--background-fill-secondary) !important; }
/* preset names in full, on up to two lines */
#style-presets .caption-label { white-space: normal; line-height: 1.25;
  max-width: calc(100% - 2 * var(--block-label-margin)); }
"""


def bind(services: Services, fn: Callable) -> Callable:
    """A page handler `fn(services, ...)` as a Gradio event function `(...)`.

    Pages keep their handlers at module level, taking the services and plain values, so a
    test calls them without a browser; `build()` wires `bind(services, handler)`. The bound
    function keeps the handler's name, docstring and parameters (without `services`), which
    Gradio reads for the API documentation and to pass `gr.Request` and `gr.SelectData`.
    """

    @functools.wraps(fn)
    def handler(*args: Any, **kwargs: Any) -> Any:
        return fn(services, *args, **kwargs)

    signature = inspect.signature(fn)
    handler.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=list(signature.parameters.values())[1:]
    )
    return handler


def picked_id(ids, event: gr.SelectData):
    """The id of the thumbnail clicked in a gallery whose ids are `ids` (a state beside it),
    or no change for a click outside them."""
    index = event.index if isinstance(event.index, int) else event.index[0]
    if not ids or not 0 <= index < len(ids):
        return gr.update()
    return ids[index]


def api_endpoint(fn: Callable, inputs: list, outputs: list, api_name: str, **kwargs: Any):
    """An endpoint for API clients whose browser counterpart takes its inputs from page state
    (a hidden trigger; the API takes plain values, e.g. an artwork number)."""
    return gr.Button(visible=False).click(fn, inputs, outputs, api_name=api_name, **kwargs)


def quiet_for_guests(fn: Callable, count: int) -> Callable:
    """A page-load version of a member-only handler `fn(request)`: a guest's load shows no
    error (the page's sign-in notice says what to do), it just changes nothing."""

    def load(request: gr.Request):
        try:
            return fn(request)
        except gr.Error:
            return [gr.update()] * count if count > 1 else gr.update()

    return load
