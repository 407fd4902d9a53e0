"""Style: restyle a picture (an upload or one of your works) after a preset, a picture, or a
gallery artwork whose licence allows it; blend two styles, set the strength, keep the
colours, choose the size; compare before and after; save the result as your artwork.

Long runs (large sizes are painted tile by tile) report progress and can be cancelled.
"""

from __future__ import annotations

import functools
from pathlib import Path

import gradio as gr
from PIL import Image

from generation.recipe_kinds import png_with_recipe
from ui.auth import require_viewer
from ui.common import (
    SOURCE_MODES,
    Services,
    before_after_column,
    bind,
    cancellable,
    derivable_choices,
    escape,
    gradio_progress,
    image_file,
    keep_before_after,
    number_in,
    picked_source,
    quiet_for_guests,
    read_upload,
    run,
    save_made,
    session_hash,
    show_source_box,
    source_artwork_bytes,
    tile_gallery,
    whole,
)
from ui.shell import Page

SHEET = Path(__file__).resolve().parents[1] / "docs" / "style_presets.png"
SHEET_COLUMNS, SHEET_LABEL, SHEET_PAD = 7, 24, 6  # as scripts/make_style_sheet.py draws it
STYLE_MODES = ["Preset", "Picture or gallery artwork"]
MIN_SIZE, MAX_SIZE, DEFAULT_SIZE = 128, 2048, 512
DEFAULT_PRESET = 19  # starry blues


@functools.cache
def preset_tiles() -> list[tuple[Image.Image, str]]:
    """The 26 presets as (thumbnail, "N name"), cut from the preset sheet; [] without it."""
    from generation.style_presets import PRESET_COUNT, PRESET_NAMES

    try:
        sheet = Image.open(SHEET).convert("RGB")
    except OSError:
        return []
    rows = -(-(PRESET_COUNT + 1) // SHEET_COLUMNS)
    width = (sheet.width - SHEET_PAD) // SHEET_COLUMNS - SHEET_PAD
    height = (sheet.height - SHEET_PAD) // rows - SHEET_LABEL - SHEET_PAD
    tiles = []
    for number in range(PRESET_COUNT):
        row, column = divmod(number + 1, SHEET_COLUMNS)  # cell 0 is the original
        x = SHEET_PAD + column * (width + SHEET_PAD)
        y = SHEET_PAD + row * (height + SHEET_LABEL + SHEET_PAD)
        tiles.append(
            (sheet.crop((x, y, x + width, y + height)), f"{number} {PRESET_NAMES[number]}")
        )
    return tiles


def blend_shown(style_mode, preset_b, style_upload, style_artwork) -> dict:
    """The blend slider, shown only when there is a second style to blend with."""
    if style_mode == STYLE_MODES[0]:
        two = preset_b not in (None, "")
    else:
        two = bool(style_upload) and style_artwork not in (None, "")
    return gr.update(visible=two)


@functools.cache
def _pipeline():
    from generation.style import StylePipeline

    return StylePipeline(threads=1)


def refresh(services: Services, request: gr.Request):
    """The works you may restyle or use as a style."""
    who = require_viewer(services, request)
    choices = run(derivable_choices, services, who.id)
    return gr.update(choices=choices, value=choices[0][1] if choices else None)


def stylise(
    services: Services,
    content_mode,
    content_upload,
    content_artwork,
    style_mode,
    preset_a,
    preset_b,
    style_upload,
    style_artwork,
    blend,
    strength,
    preserve,
    size,
    request: gr.Request,
    progress=gr.Progress(),  # noqa: B008 (Gradio's idiom)
):
    """Restyle a picture. Returns (before/after pair, status)."""
    from generation.style_presets import PRESET_COUNT, PRESET_NAMES

    who = require_viewer(services, request)
    mix = number_in(blend, "the blend", 0.0, 1.0)
    power = number_in(strength, "the strength", 0.0, 1.0)
    side = whole(size, "the output size")
    if not MIN_SIZE <= side <= MAX_SIZE:
        raise gr.Error(f"The output size must be {MIN_SIZE} to {MAX_SIZE} px, got {side}.")
    content, content_id = picked_source(
        services, who.id, content_mode, content_upload, content_artwork, "restyle"
    )
    parents: list[list] = [] if content_id is None else [[content_id, "content_source"]]
    sources: list[bytes] = [content] if content_id is None else []
    kwargs: dict = {}
    style_ids: list[int] = []
    if style_mode == STYLE_MODES[0]:
        first = whole(preset_a, "a preset (click one)")
        second = whole(preset_b, "the second preset", required=False)
        for number in (first, second):
            if number is not None and not 0 <= number < PRESET_COUNT:
                raise gr.Error(f"Presets are numbered 0 to {PRESET_COUNT - 1}, got {number}.")
        if second is None or second == first or mix == 0:
            kwargs["presets"], names = first, [PRESET_NAMES[first]]
        else:
            kwargs["presets"] = {first: 1.0 - mix, second: mix}
            names = [PRESET_NAMES[first], PRESET_NAMES[second]]
    else:
        styles, names = [], []
        if style_upload:
            data = read_upload(style_upload, "a style picture")
            styles.append(data)
            sources.append(data)
            names.append("uploaded picture")
        if style_artwork not in (None, ""):
            number = whole(style_artwork, "the gallery artwork to use as a style")
            styles.append(run(source_artwork_bytes, services, who.id, number, "style_source"))
            style_ids.append(number)
            parents.append([number, "style_source"])
            names.append(f"artwork #{number}")
        if not styles:
            raise gr.Error("Upload a style picture, or give a gallery artwork's number.")
        kwargs["style"] = styles
        if len(styles) == 2:
            kwargs["blend"] = [1.0 - mix, mix] if 0 < mix < 1 else [0.5, 0.5]
    with cancellable(services, request, "style") as flag:
        out = run(
            _pipeline(),
            content,
            strength=power,
            preserve_colour=bool(preserve),
            size=side,
            progress=gradio_progress(progress),
            should_cancel=flag.is_set,
            **kwargs,
        )
    recipe = dict(out.recipe)
    recipe["content_artwork_id"] = content_id
    recipe["style_artwork_ids"] = style_ids or None
    pair, result = keep_before_after(
        services,
        "styled.png",
        png_with_recipe(out.image, recipe),
        out.image.size,
        content,
        {"recipe": recipe, "parents": parents},
        sources,
    )
    width, height = out.image.size
    status = (
        f"Restyled at {width}×{height} with {escape(' + '.join(names))} "
        f"(strength {power:g}{', content colours kept' if preserve else ''}). "
        "Drag the slider to compare; save it below."
    )
    return pair, status, result


def cancel(services: Services, request: gr.Request) -> str:
    """Stop this browser's running style transfer."""
    stopped = services.cancels.cancel(session_hash(request), "style")
    return "Stopping…" if stopped else "Nothing is running."


def save(services: Services, title, tags, result, request: gr.Request):
    """Save your last restyled picture as your artwork. Returns (message, artwork number)."""
    who = require_viewer(services, request)
    if not result:
        raise gr.Error("Restyle something first.")
    artwork_id = save_made(services, who.id, result, title, tags)
    return f"✓ Saved as artwork #{artwork_id} (AI-modified).", artwork_id


def highlight_preset(number):
    try:
        index = int(number)
    except (TypeError, ValueError):
        return gr.update()
    return gr.update(selected_index=index if 0 <= index < len(preset_tiles()) else None)


def pick_preset(event: gr.SelectData):
    index = event.index if isinstance(event.index, int) else event.index[0]
    return index


def _preset_picker():
    """The preset tiles (the one in the number field highlighted) and the optional second
    preset to blend with. Returns (box, tiles, preset number, second preset)."""
    from generation.style_presets import PRESET_NAMES

    with gr.Column(visible=True) as preset_box:
        presets = tile_gallery(
            "style-presets",
            value=preset_tiles() or None,
            label="Click a preset",
            show_label=True,
            columns=3,
            height=380,
            # the preset in the number field below is the one highlighted
            selected_index=DEFAULT_PRESET,
        )
        with gr.Row():
            preset_a = gr.Number(
                value=DEFAULT_PRESET,
                precision=0,
                minimum=0,
                maximum=len(PRESET_NAMES) - 1,
                label="Preset",
                elem_id="style-preset",
            )
            preset_b = gr.Dropdown(
                [("none", None)] + [(f"{i} {n}", i) for i, n in enumerate(PRESET_NAMES)],
                value=None,
                label="Blend with (optional)",
                elem_id="style-preset-b",
            )
    return preset_box, presets, preset_a, preset_b


def _settings():
    """Blend (shown only with a second style), strength, output size and colour keeping.
    Returns (blend, strength, size, keep colours)."""
    with gr.Row():
        # only with a second style to blend with
        blend = gr.Slider(
            0,
            1,
            value=0.5,
            step=0.05,
            label="Blend",
            info="share of the second style",
            visible=False,
            elem_id="style-blend",
        )
        strength = gr.Slider(0, 1, value=1.0, step=0.05, label="Strength")
    with gr.Row():
        size = gr.Slider(
            MIN_SIZE,
            MAX_SIZE,
            value=DEFAULT_SIZE,
            step=64,
            label="Output size (longer side, px)",
            elem_id="style-size",
        )
        preserve = gr.Checkbox(label="Keep the picture's colours", value=False)
    return blend, strength, size, preserve


def build(services: Services, page: Page) -> None:
    """Lay out the Style page and wire its handlers."""
    with (
        page.member_section("Restyling needs an account: results are saved as your works."),
        gr.Row(),
    ):
        with gr.Column(scale=2, min_width=400):
            gr.Markdown("### 1. The picture")
            content_mode = gr.Radio(SOURCE_MODES, value=SOURCE_MODES[0], show_label=False)
            content_upload = image_file("Picture to restyle", "style-content-upload", height=120)
            content_artwork = gr.Dropdown(
                [],
                allow_custom_value=True,
                label="One of your works",
                visible=False,
                elem_id="style-content-artwork",
            )
            gr.Markdown("### 2. The style")
            style_mode = gr.Radio(STYLE_MODES, value=STYLE_MODES[0], show_label=False)
            preset_box, presets, preset_a, preset_b = _preset_picker()
            with gr.Column(visible=False) as picture_box:
                style_upload = image_file("Style picture", "style-upload", height=120)
                style_artwork = gr.Number(
                    label="…and/or a gallery artwork # (yours, or one you hold a commercial "
                    "licence for)",
                    precision=0,
                    minimum=1,
                )
        with gr.Column(scale=3):
            gr.Markdown("### 3. Settings")
            blend, strength, size, preserve = _settings()
            with gr.Row():
                go = gr.Button("Restyle", variant="primary", elem_id="style-go")
                stop = gr.Button("Cancel", variant="stop", elem_id="style-cancel")
            compare, status, title, tags, save_button, saved, saved_id = before_after_column(
                "style"
            )
    result = gr.State(None)

    show_source_box(content_mode, content_upload, content_artwork)
    style_mode.change(
        lambda mode: (
            gr.update(visible=mode == STYLE_MODES[0]),
            gr.update(visible=mode != STYLE_MODES[0]),
        ),
        style_mode,
        [preset_box, picture_box],
        queue=False,
    )
    presets.select(pick_preset, None, preset_a, queue=False)
    preset_a.input(highlight_preset, [preset_a], [presets], queue=False, show_progress="hidden")
    second_style = [style_mode, preset_b, style_upload, style_artwork]
    for component in second_style:
        component.change(blend_shown, second_style, [blend], queue=False, show_progress="hidden")
    inputs = [
        content_mode,
        content_upload,
        content_artwork,
        style_mode,
        preset_a,
        preset_b,
        style_upload,
        style_artwork,
        blend,
        strength,
        preserve,
        size,
    ]
    go.click(
        bind(services, stylise),
        inputs,
        [compare, status, result],
        api_name="stylise",
        concurrency_limit=1,
        concurrency_id="style",
    )
    stop.click(bind(services, cancel), None, status, api_name="cancel_stylise", queue=False)
    save_button.click(
        bind(services, save), [title, tags, result], [saved, saved_id], api_name="save_style"
    ).success(bind(services, refresh), None, content_artwork, show_progress="hidden")
    page.when_shown(quiet_for_guests(bind(services, refresh), 1), [content_artwork])
