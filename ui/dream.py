"""Dream: DeepDream a picture (an upload or one of your works) with a layer, octaves and
strength of your choosing; compare before and after; save the result as your artwork.

Dreams report progress and can be cancelled.
"""

from __future__ import annotations

import functools

import gradio as gr
from PIL import Image

from marketplace.artworks import MAX_TITLE_LENGTH
from ui.auth import require_viewer
from ui.common import (
    Services,
    bind,
    derivable_choices,
    escape,
    image_file,
    number_in,
    quiet_for_guests,
    read_upload,
    run,
    save_made,
    session_hash,
    source_artwork_bytes,
    whole,
)
from ui.shell import Page
from ui.style import CONTENT_MODES

TASK = "dream"


@functools.cache
def _limits():
    from generation import dream

    return dream


def layer_choices() -> list[tuple[str, str]]:
    """The layers, early to late, with a word on what each grows."""
    layers = _limits().DREAM_LAYERS

    def words(index: int) -> str:
        if index < 4:
            return "strokes and textures"
        if index < 10:
            return "eyes, scales, fur"
        return "shapes and parts"

    return [(f"{name} · {words(i)}", name) for i, name in enumerate(layers)]


def refresh(services: Services, request: gr.Request):
    """The works you may dream on."""
    who = require_viewer(services, request)
    choices = run(derivable_choices, services, who.id)
    return gr.update(choices=choices, value=choices[0][1] if choices else None)


def dream(
    services: Services,
    content_mode,
    content_upload,
    content_artwork,
    layer,
    octaves,
    steps,
    strength,
    size,
    seed,
    request: gr.Request,
    progress=gr.Progress(),  # noqa: B008 (Gradio's idiom)
):
    """Dream on a picture. Returns (before/after pair, status, what Save keeps)."""
    limits = _limits()
    who = require_viewer(services, request)
    if layer not in limits.DREAM_LAYERS:
        raise gr.Error(
            f"Choose a layer from the list ({limits.DREAM_LAYERS[0]} to {limits.DREAM_LAYERS[-1]})."
        )
    settings = {
        "layer": layer,
        "octaves": whole(octaves, "the octaves"),
        "steps": whole(steps, "the steps per octave"),
        "strength": number_in(strength, "the strength", 0.0, limits.MAX_STRENGTH),
        "size": whole(size, "the output size"),
        "seed": whole(seed, "the seed"),
    }
    for key, low, high in (
        ("octaves", limits.MIN_OCTAVES, limits.MAX_OCTAVES),
        ("steps", limits.MIN_STEPS, limits.MAX_STEPS),
        ("size", limits.MIN_SIZE, limits.MAX_SIZE),
        ("seed", 0, limits.MAX_SEED),
    ):
        if not low <= settings[key] <= high:
            raise gr.Error(f"The {key} must be {low} to {high}, got {settings[key]}.")
    parents: list[list] = []
    sources: list[bytes] = []
    if content_mode == CONTENT_MODES[1]:
        content_id = whole(content_artwork, "the work to dream on")
        content = run(source_artwork_bytes, services, who.id, content_id, "content_source")
        parents.append([content_id, "content_source"])
    else:
        content_id = None
        content = read_upload(content_upload, "a picture to dream on")
        sources.append(content)
    flag = services.cancels.start(session_hash(request), TASK)
    try:
        out = run(
            limits.dream,
            content,
            progress=lambda fraction, message: progress(fraction, desc=message),
            should_cancel=flag.is_set,
            **settings,
        )
    finally:
        services.cancels.finish(session_hash(request), TASK, flag)
    recipe = dict(out.recipe)
    recipe["content_artwork_id"] = content_id
    after = services.new_file("dream.png")
    after.write_bytes(out.png())
    before = after.with_name("before.png")
    from provenance.images import decode_image

    decode_image(content).rgb.resize(out.image.size, Image.LANCZOS).save(before)
    source_files = []
    for i, data in enumerate(sources):
        path = after.with_name(f"source-{i}.bin")
        path.write_bytes(data)
        source_files.append(str(path))
    result = {"file": str(after), "recipe": recipe, "parents": parents, "sources": source_files}
    width, height = out.image.size
    status = (
        f"Dreamed at {width}×{height} with {escape(layer)}: {settings['octaves']} octaves of "
        f"{settings['steps']} steps, strength {settings['strength']:g}, seed {settings['seed']}. "
        "Drag the slider to compare; save it below."
    )
    return (str(before), str(after)), status, result


def cancel(services: Services, request: gr.Request) -> str:
    """Stop this browser's running dream."""
    stopped = services.cancels.cancel(session_hash(request), TASK)
    return "Stopping…" if stopped else "Nothing is running."


def save(services: Services, title, tags, result, request: gr.Request):
    """Save your last dream as your artwork. Returns (message, artwork number)."""
    who = require_viewer(services, request)
    if not result:
        raise gr.Error("Dream something first.")
    artwork_id = save_made(services, who.id, result, title, tags)
    return f"✓ Saved as artwork #{artwork_id} (AI-modified).", artwork_id


def build(services: Services, page: Page) -> None:
    """Lay out the Dream page and wire its handlers."""
    limits = _limits()
    with (
        page.member_section("Dreaming needs an account: results are saved as your works."),
        gr.Row(),
    ):
        with gr.Column(scale=2, min_width=400):
            gr.Markdown("### 1. The picture")
            content_mode = gr.Radio(CONTENT_MODES, value=CONTENT_MODES[0], show_label=False)
            content_upload = image_file("Picture to dream on", "dream-upload", height=160)
            content_artwork = gr.Dropdown(
                [],
                allow_custom_value=True,
                label="One of your works",
                visible=False,
                elem_id="dream-artwork",
            )
            gr.Markdown("### 2. The dream")
            layer = gr.Dropdown(
                layer_choices(),
                value=limits.DEFAULT_LAYER,
                label="Layer (early layers paint strokes, late ones shapes)",
                elem_id="dream-layer",
            )
            with gr.Row():
                octaves = gr.Slider(
                    limits.MIN_OCTAVES,
                    limits.MAX_OCTAVES,
                    value=limits.DEFAULT_OCTAVES,
                    step=1,
                    label="Octaves",
                    info="scales, each 1.4× the last",
                )
                steps = gr.Slider(
                    limits.MIN_STEPS,
                    limits.MAX_STEPS,
                    value=limits.DEFAULT_STEPS,
                    step=1,
                    label="Steps per octave",
                )
            with gr.Row():
                strength = gr.Slider(
                    0,
                    limits.MAX_STRENGTH,
                    value=limits.DEFAULT_STRENGTH,
                    step=0.1,
                    label="Strength",
                    elem_id="dream-strength",
                )
                size = gr.Slider(
                    limits.MIN_SIZE,
                    limits.MAX_SIZE,
                    value=limits.DEFAULT_SIZE,
                    step=64,
                    label="Output size (longer side, px)",
                )
                seed = gr.Number(value=0, precision=0, minimum=0, label="Seed")
        with gr.Column(scale=3):
            with gr.Row():
                go = gr.Button("Dream", variant="primary", elem_id="dream-go")
                stop = gr.Button("Cancel", variant="stop", elem_id="dream-cancel")
            compare = gr.ImageSlider(
                label="Before / after", type="filepath", height=420, elem_id="dream-compare"
            )
            status = gr.Markdown(elem_id="dream-status")
            with gr.Row(elem_classes="atelier-controls"):
                title = gr.Textbox(
                    label="Title", max_length=MAX_TITLE_LENGTH, scale=3, elem_id="dream-title"
                )
                tags = gr.Textbox(label="Tags", scale=2)
                save_button = gr.Button("Save", variant="primary", scale=1, elem_id="dream-save")
            saved = gr.Markdown(elem_id="dream-saved")
            saved_id = gr.Number(visible=False, precision=0)
    result = gr.State(None)

    content_mode.change(
        lambda mode: (
            gr.update(visible=mode == CONTENT_MODES[0]),
            gr.update(visible=mode == CONTENT_MODES[1]),
        ),
        content_mode,
        [content_upload, content_artwork],
        queue=False,
    )
    go.click(
        bind(services, dream),
        [
            content_mode,
            content_upload,
            content_artwork,
            layer,
            octaves,
            steps,
            strength,
            size,
            seed,
        ],
        [compare, status, result],
        api_name="dream",
        concurrency_limit=1,
        concurrency_id="dream",
    )
    stop.click(bind(services, cancel), None, status, api_name="cancel_dream", queue=False)
    save_button.click(
        bind(services, save), [title, tags, result], [saved, saved_id], api_name="save_dream"
    ).success(bind(services, refresh), None, content_artwork, show_progress="hidden")
    page.when_shown(quiet_for_guests(bind(services, refresh), 1), [content_artwork])
