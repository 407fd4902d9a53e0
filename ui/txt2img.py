"""Text to image: a prompt, a seed and a diffusers model give a picture to save as your work.

Shown when the operator configured a model (`ATELIER_DIFFUSION_MODEL`); otherwise the page
says how to configure one. The model is loaded on first use and shared by all requests,
which run one at a time.
"""

from __future__ import annotations

import threading

import gradio as gr

from generation import diffusion
from generation.recipe_kinds import png_with_recipe
from marketplace.artworks import MAX_TITLE_LENGTH
from ui.auth import require_viewer
from ui.common import (
    Services,
    bind,
    cancellable,
    escape,
    gradio_progress,
    number_in,
    random_seed,
    run,
    save_made,
    session_hash,
    whole,
)
from ui.shell import Page

NOT_INSTALLED = (
    '<div class="atelier-notice">Text to image is not available here: this site\'s operator '
    "has not installed a text-to-image model. Make pictures in the Studio instead.</div>"
)


_LOADED: dict[str, diffusion.DiffusionImagePipeline] = {}
_LOADING = threading.Lock()


def _pipeline(model: str) -> diffusion.DiffusionImagePipeline:
    """The operator's model, loaded once per process (a cache of weights, not state)."""
    with _LOADING:
        if model not in _LOADED:
            _LOADED[model] = diffusion.DiffusionImagePipeline.from_pretrained(model)
        return _LOADED[model]


def generate(
    services: Services,
    prompt,
    negative,
    seed,
    steps,
    guidance,
    size,
    request: gr.Request,
    progress=gr.Progress(),  # noqa: B008 (Gradio's idiom)
):
    """A picture from a prompt. Returns (image file, status)."""
    require_viewer(services, request)
    model = services.settings.diffusion_model
    if model is None:
        raise gr.Error(
            "No text-to-image model is configured here: "
            + escape(diffusion.how_to_provide_a_model(), markdown=False)
        )
    first = whole(seed, "the seed")
    count = whole(steps, "the number of steps")
    scale = number_in(guidance, "the guidance", diffusion.MIN_GUIDANCE, diffusion.MAX_GUIDANCE)
    side = whole(size, "the size")
    asked = {
        "seed": first,
        "steps": count,
        "guidance": scale,
        "width": side,
        "height": side,
        "negative_prompt": negative or "",
    }
    run(diffusion.check_request, prompt, **asked)
    progress(0, desc="loading the model")
    with cancellable(services, request, "txt2img") as flag:
        out = run(
            lambda: _pipeline(model)(
                prompt,
                **asked,
                progress=gradio_progress(progress),
                should_cancel=flag.is_set,
            )
        )
    path = services.new_file("txt2img.png")
    path.write_bytes(png_with_recipe(out.image, out.recipe))
    note = ""
    if out.nsfw_content_detected and out.nsfw_content_detected[0]:
        note = " The model's safety checker blacked it out."
    result = {"file": str(path), "recipe": out.recipe}
    return (
        str(path),
        f"Seed {first}, {count} steps, guidance {scale:g}.{note} Save it below.",
        result,
    )


def cancel(services: Services, request: gr.Request) -> str:
    stopped = services.cancels.cancel(session_hash(request), "txt2img")
    return "Stopping…" if stopped else "Nothing is running."


def save(services: Services, title, tags, result, request: gr.Request):
    """Save your last text-to-image picture as your artwork. Returns (message, number)."""
    who = require_viewer(services, request)
    if not result:
        raise gr.Error("Make a picture first.")
    artwork_id = save_made(services, who.id, result, title, tags)
    return f"✓ Saved as artwork #{artwork_id} (AI-generated).", artwork_id


def build(services: Services, page: Page) -> None:
    """Lay out the Text to image page and wire its handlers."""
    model = services.settings.diffusion_model
    if model is None:
        # one line for people using the site; how to install a model is operator
        # documentation (docs/DIFFUSION.md), not something to show them
        gr.HTML(NOT_INSTALLED, elem_id="txt2img-missing")
        return

    with (
        page.member_section("Text to image needs an account: pictures are saved as yours."),
        gr.Row(),
    ):
        with gr.Column(scale=1, min_width=320):
            gr.HTML(f'<div class="atelier-muted">Model: <code>{escape(model)}</code></div>')
            prompt = gr.Textbox(label="Prompt", lines=3, max_length=diffusion.MAX_PROMPT_CHARS)
            negative = gr.Textbox(
                label="Negative prompt (optional)", max_length=diffusion.MAX_PROMPT_CHARS
            )
            with gr.Row(elem_classes="atelier-controls"):
                seed = gr.Number(
                    value=lambda: random_seed(diffusion.MAX_SEED),
                    precision=0,
                    minimum=0,
                    label="Seed",
                    scale=3,
                )
                dice = gr.Button("Random", scale=1, min_width=80)
            with gr.Row():
                steps = gr.Slider(1, 50, value=20, step=1, label="Steps")
                guidance = gr.Slider(0, 15, value=7.5, step=0.5, label="Guidance")
            size = gr.Dropdown([64, 128, 256, 512, 768], value=512, label="Size (px)")
            with gr.Row():
                go = gr.Button("Generate", variant="primary")
                stop = gr.Button("Cancel", variant="stop")
        with gr.Column(scale=2):
            image = gr.Image(label="Result", type="filepath", interactive=False, height=460)
            status = gr.Markdown()
            with gr.Row(elem_classes="atelier-controls"):
                title = gr.Textbox(label="Title", max_length=MAX_TITLE_LENGTH, scale=3)
                tags = gr.Textbox(label="Tags", scale=2)
                save_button = gr.Button("Save", variant="primary", scale=1)
            saved = gr.Markdown()
            saved_id = gr.Number(visible=False, precision=0)
    result = gr.State(None)
    dice.click(lambda: random_seed(diffusion.MAX_SEED), None, seed, queue=False)
    go.click(
        bind(services, generate),
        [prompt, negative, seed, steps, guidance, size],
        [image, status, result],
        api_name="txt2img",
        concurrency_limit=1,
        concurrency_id="txt2img",
    )
    stop.click(bind(services, cancel), None, status, api_name="cancel_txt2img", queue=False)
    save_button.click(
        bind(services, save), [title, tags, result], [saved, saved_id], api_name="save_txt2img"
    )
