"""Dream: DeepDream a picture (an upload or one of your works) with a layer, octaves and
strength of your choosing; compare before and after; save the result as your artwork.

Dreams report progress and can be cancelled.
"""

from __future__ import annotations

import gradio as gr

from generation import dream as deepdream
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
    run,
    save_made,
    session_hash,
    show_source_box,
    whole,
)
from ui.shell import Page

TASK = "dream"


def layer_choices() -> list[tuple[str, str]]:
    """The layers, early to late, with a word on what each grows."""
    layers = deepdream.DREAM_LAYERS

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
    who = require_viewer(services, request)
    layers = deepdream.DREAM_LAYERS
    if layer not in layers:
        raise gr.Error(f"Choose a layer from the list ({layers[0]} to {layers[-1]}).")
    settings = {
        "layer": layer,
        "octaves": whole(octaves, "the octaves"),
        "steps": whole(steps, "the steps per octave"),
        "strength": number_in(strength, "the strength", 0.0, deepdream.MAX_STRENGTH),
        "size": whole(size, "the output size"),
        "seed": whole(seed, "the seed"),
    }
    for key, low, high in (
        ("octaves", deepdream.MIN_OCTAVES, deepdream.MAX_OCTAVES),
        ("steps", deepdream.MIN_STEPS, deepdream.MAX_STEPS),
        ("size", deepdream.MIN_SIZE, deepdream.MAX_SIZE),
        ("seed", 0, deepdream.MAX_SEED),
    ):
        if not low <= settings[key] <= high:
            raise gr.Error(f"The {key} must be {low} to {high}, got {settings[key]}.")
    content, content_id = picked_source(
        services, who.id, content_mode, content_upload, content_artwork, "dream on"
    )
    with cancellable(services, request, TASK) as flag:
        out = run(
            deepdream.dream,
            content,
            progress=gradio_progress(progress),
            should_cancel=flag.is_set,
            **settings,
        )
    recipe = dict(out.recipe)
    recipe["content_artwork_id"] = content_id
    pair, result = keep_before_after(
        services,
        "dream.png",
        out.png(),
        out.image.size,
        content,
        {
            "recipe": recipe,
            "parents": [] if content_id is None else [[content_id, "content_source"]],
        },
        [content] if content_id is None else [],
    )
    width, height = out.image.size
    status = (
        f"Dreamed at {width}×{height} with {escape(layer)}: {settings['octaves']} octaves of "
        f"{settings['steps']} steps, strength {settings['strength']:g}, seed {settings['seed']}. "
        "Drag the slider to compare; save it below."
    )
    return pair, status, result


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
    with (
        page.member_section("Dreaming needs an account: results are saved as your works."),
        gr.Row(),
    ):
        with gr.Column(scale=2, min_width=400):
            gr.Markdown("### 1. The picture")
            content_mode = gr.Radio(SOURCE_MODES, value=SOURCE_MODES[0], show_label=False)
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
                value=deepdream.DEFAULT_LAYER,
                label="Layer (early layers paint strokes, late ones shapes)",
                elem_id="dream-layer",
            )
            with gr.Row():
                octaves = gr.Slider(
                    deepdream.MIN_OCTAVES,
                    deepdream.MAX_OCTAVES,
                    value=deepdream.DEFAULT_OCTAVES,
                    step=1,
                    label="Octaves",
                    info="scales, each 1.4× the last",
                )
                steps = gr.Slider(
                    deepdream.MIN_STEPS,
                    deepdream.MAX_STEPS,
                    value=deepdream.DEFAULT_STEPS,
                    step=1,
                    label="Steps per octave",
                )
            with gr.Row():
                strength = gr.Slider(
                    0,
                    deepdream.MAX_STRENGTH,
                    value=deepdream.DEFAULT_STRENGTH,
                    step=0.1,
                    label="Strength",
                    elem_id="dream-strength",
                )
                size = gr.Slider(
                    deepdream.MIN_SIZE,
                    deepdream.MAX_SIZE,
                    value=deepdream.DEFAULT_SIZE,
                    step=64,
                    label="Output size (longer side, px)",
                )
                seed = gr.Number(value=0, precision=0, minimum=0, label="Seed")
        with gr.Column(scale=3):
            with gr.Row():
                go = gr.Button("Dream", variant="primary", elem_id="dream-go")
                stop = gr.Button("Cancel", variant="stop", elem_id="dream-cancel")
            compare, status, title, tags, save_button, saved, saved_id = before_after_column(
                "dream"
            )
    result = gr.State(None)

    show_source_box(content_mode, content_upload, content_artwork)
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
