"""Studio (GAN): seeded pictures from the bundled model or your own trained ones, a grid to
pick from, saving with title and tags, breeding two of your works, and morphing between two
into an animation.

What was generated is kept per browser session as recipes (server-side `gr.State`); saving
re-renders the chosen recipe, so the saved file is exactly what its recipe makes.
"""

from __future__ import annotations

import functools
from pathlib import Path

import gradio as gr

from generation.recipe_kinds import BREEDABLE_KINDS
from generation.recipes import (
    DEFAULT_TRUNCATION,
    MAX_CHILDREN,
    MAX_FRAMES,
    MAX_MUTATION,
    MAX_SEED,
    MIN_FRAMES,
)
from marketplace import creations, gan_models
from marketplace.artworks import MAX_TITLE_LENGTH
from ui.auth import Viewer, require_viewer
from ui.common import (
    SOURCE_MODES,
    Services,
    bind,
    cancellable,
    derivable_choices,
    escape,
    gradio_progress,
    image_file,
    number_in,
    picked_source,
    quiet_for_guests,
    random_seed,
    run,
    seed_value,
    session_hash,
    show_source_box,
    whole,
)
from ui.shell import Page

SIZES = [64, 128, 256, 512]
MAX_COUNT = 16


@functools.cache
def _bundled_genes():
    from generation.bundled import bundled_genes

    return bundled_genes()


def gene_names() -> tuple[str, ...]:
    """The bundled model's genes, one slider each (other models have none)."""
    genes = _bundled_genes()
    return genes.names if genes is not None else ()


def gene_edits(amounts) -> dict[str, float]:
    """The sliders' values as gene edits {name: amount}, untouched sliders left out."""
    from generation.genes import MAX_AMOUNT

    names = gene_names()
    if len(amounts) > len(names):
        raise gr.Error(f"There are {len(names)} genes, got {len(amounts)} amounts.")
    edits = {}
    for name, amount in zip(names, amounts, strict=False):
        value = number_in(amount, f"the gene {name}", -MAX_AMOUNT, MAX_AMOUNT)
        if value:
            edits[name] = value
    return edits


def _pipeline_for(services: Services, sha256: str):
    """The GAN pipeline of a model id (bundled, or a trained one unpacked from blobs)."""
    from generation.gan_pipeline import load_model

    with services.readers() as s:
        folder = gan_models.resolve_model_dir(s, services.blobs, sha256, services.model_cache)
    return load_model(folder)


def _render_png(services: Services, recipe: dict) -> bytes:
    from generation.recipe_kinds import png_with_recipe

    pipeline = _pipeline_for(services, recipe["model_sha256"])
    return png_with_recipe(pipeline.render([recipe])[0], recipe)


def _model_choices(services: Services, who: Viewer | None) -> list[tuple[str, str]]:
    with services.readers() as s:
        models = gan_models.available_models(s, None if who is None else who.id)
    return [(m.label, m.sha256) for m in models]


def refresh(services: Services, request: gr.Request):
    """Your model choices, the artworks you may breed or morph, and those you may project."""
    who = require_viewer(services, request)
    models = run(_model_choices, services, who)
    parents = run(derivable_choices, services, who.id, BREEDABLE_KINDS)
    sources = run(derivable_choices, services, who.id)
    first, second = [*parents, (None, None), (None, None)][:2]
    return (
        gr.update(choices=models, value=models[0][1]),
        gr.update(choices=parents, value=first[1]),
        gr.update(choices=parents, value=second[1]),
        gr.update(choices=parents, value=first[1]),
        gr.update(choices=parents, value=second[1]),
        gr.update(choices=sources, value=sources[0][1] if sources else None),
    )


def genes_moved(edits: dict) -> str:
    """The gene edits in words for a status line ("person +2, warm -1.5"); "" for none."""
    return ", ".join(f"{name} {amount:+g}" for name, amount in edits.items())


def generate(services: Services, model, seed, count, truncation, size, request: gr.Request, *genes):
    """Pictures from seeds seed, seed+1, ..., with the genes' sliders applied (Gradio puts
    the request before the sliders' values, so their number may follow the genes file).
    Returns (grid, status)."""
    who = require_viewer(services, request)
    edits = gene_edits(genes)
    first = seed_value(seed, "the seed", MAX_SEED)
    n = whole(count, "the number of pictures")
    if not 1 <= n <= MAX_COUNT:
        raise gr.Error(f"Make 1 to {MAX_COUNT} pictures at a time, got {n}.")
    psi = number_in(truncation, "the truncation", 0.0, 1.0)
    side = whole(size, "the size")

    def work():
        with services.readers() as s:
            gan_models.owned_model(s, model, who.id)
        pipeline = _pipeline_for(services, model)
        out = pipeline(num_images=n, seed=first, truncation=psi, size=side, genes=edits)
        return pipeline.generator.image_size, out

    native, out = run(work)
    batch = {"kind": "sample", "recipes": out.recipes, "parents": [], "file": None}
    tiles = [
        (image, f"{i + 1} · seed {s}")
        for i, (image, s) in enumerate(zip(out.images, out.seeds, strict=True))
    ]
    moved = genes_moved(edits)
    # Never pass an enlargement off as the model's own detail (issue 15).
    scale = f"; drawn at {native} px, enlarged to {side} px" if side > native else ""
    status = (
        f"{n} picture{'s' if n != 1 else ''} from seed {first} (truncation {psi:g}"
        f"{'; genes ' + moved if moved else ''}{scale}). "
        "Click one to choose it, then save it below."
    )
    return tiles, status, batch, 1 if n == 1 else None


def breed(services: Services, parent_a, parent_b, children, mutation, seed, request: gr.Request):
    """Children of two of your GAN artworks (latent crossover + mutation).
    Returns (grid, status)."""
    who = require_viewer(services, request)
    a, b = whole(parent_a, "the first parent"), whole(parent_b, "the second parent")
    if a == b:
        raise gr.Error("Pick two different artworks to breed.")
    n = whole(children, "the number of children")
    if not 1 <= n <= MAX_COUNT:
        raise gr.Error(f"Make 1 to {MAX_COUNT} children at a time, got {n}.")
    rate = number_in(mutation, "the mutation", 0.0, MAX_MUTATION)
    crossover = seed_value(seed, "the crossover seed", MAX_SEED)

    def work():
        with services.readers() as s:
            recipe_a = creations.breeding_parent_recipe(s, who.id, a)
            recipe_b = creations.breeding_parent_recipe(s, who.id, b)
        pipeline = _pipeline_for(services, recipe_a["model_sha256"])
        return pipeline.breed(recipe_a, recipe_b, n, rate, crossover)

    out = run(work)
    batch = {
        "kind": "breed",
        "recipes": out.recipes,
        "parents": [[a, "breeding_parent"], [b, "breeding_parent"]],
        "file": None,
    }
    tiles = [(image, f"{i + 1} · child of #{a} × #{b}") for i, image in enumerate(out.images)]
    return tiles, f"{n} children of #{a} and #{b}. Click one, then save it below.", batch, None


def project(
    services: Services,
    mode,
    upload,
    artwork,
    steps,
    request: gr.Request,
    *genes,
    progress=gr.Progress(),  # noqa: B008 (Gradio's idiom)
):
    """Your picture projected into the bundled model (with the genes' sliders applied).
    Returns (grid, status, batch, picture number)."""
    from generation.projection import MAX_STEPS, MIN_STEPS, project

    who = require_viewer(services, request)
    edits = gene_edits(genes)
    count = whole(steps, "the steps")
    if not MIN_STEPS <= count <= MAX_STEPS:
        raise gr.Error(f"The steps must be {MIN_STEPS} to {MAX_STEPS}, got {count}.")
    data, source_id = picked_source(services, who.id, mode, upload, artwork, "project")
    parents: list[list] = [] if source_id is None else [[source_id, "content_source"]]
    sources: list[str] = []
    if source_id is None:  # an upload: kept for Save, which stores it beside the work
        path = services.new_file("projection-source.bin")
        path.write_bytes(data)
        sources.append(str(path))

    def work():
        from generation.gan_pipeline import load_model

        return project(
            load_model(),
            data,
            steps=count,
            size=256,
            genes=edits,
            progress=gradio_progress(progress),
            should_cancel=flag.is_set,
        )

    with cancellable(services, request, "project") as flag:
        out = run(work)
    batch = {
        "kind": "projection",
        "recipes": [out.recipe],
        "parents": parents,
        "file": None,
        "sources": sources,
    }
    tiles = [(out.image, "1 · the model's"), (out.target, "yours, as the model sees it")]
    moved = genes_moved(edits)
    status = (
        f"Projected into the bundled model in {count} steps"
        f"{' (genes ' + moved + ')' if moved else ''}. The model can only draw what it "
        "learned: save it below to breed, morph or move it along genes."
    )
    return tiles, status, batch, 1


def cancel_project(services: Services, request: gr.Request) -> str:
    """Stop this browser's running projection."""
    stopped = services.cancels.cancel(session_hash(request), "project")
    return "Stopping…" if stopped else "Nothing is running."


def morph(
    services: Services,
    start,
    end,
    frames,
    fmt,
    request: gr.Request,
    progress=gr.Progress(),  # noqa: B008 (Gradio's idiom)
):
    """An animation along the path between two of your GAN artworks.
    Returns (animation file, status)."""
    who = require_viewer(services, request)
    a, b = whole(start, "the first artwork"), whole(end, "the last artwork")
    n = whole(frames, "the number of frames")
    if not MIN_FRAMES <= n <= MAX_FRAMES:
        raise gr.Error(f"A morph has {MIN_FRAMES} to {MAX_FRAMES} frames, got {n}.")
    if fmt not in ("gif", "webp"):
        raise gr.Error(f"The format must be gif or webp, got {escape(fmt, markdown=False)}.")

    def work():
        with services.readers() as s:
            recipe_a = creations.breeding_parent_recipe(s, who.id, a)
            recipe_b = creations.breeding_parent_recipe(s, who.id, b)
        pipeline = _pipeline_for(services, recipe_a["model_sha256"])
        return pipeline.morph(
            recipe_a,
            recipe_b,
            n,
            fmt,
            progress=gradio_progress(progress),
            should_cancel=flag.is_set,
        )

    with cancellable(services, request, "morph") as flag:
        out = run(work)
    path = services.new_file(f"morph-{a}-{b}.{fmt}")
    path.write_bytes(out.data)
    batch = {
        "kind": "morph",
        "recipes": [out.recipe],
        "parents": [[a, "breeding_parent"], [b, "breeding_parent"]],
        "file": str(path),
    }
    return str(path), f"A {n}-frame morph from #{a} to #{b}. Save it below.", batch, 1


def cancel_morph(services: Services, request: gr.Request) -> str:
    """Stop this browser's running morph. Returns a status line."""
    stopped = services.cancels.cancel(session_hash(request), "morph")
    return "Stopping the morph…" if stopped else "No morph is running."


def save(services: Services, number, title, tags, batch, request: gr.Request):
    """Save picture `number` (1-based, of your last grid or morph) as your artwork.
    Returns (message, artwork number)."""
    who = require_viewer(services, request)
    if not batch or not batch.get("recipes"):
        raise gr.Error("Generate, breed or morph something first.")
    index = whole(number, "the picture to save (click one in the grid)")
    if not 1 <= index <= len(batch["recipes"]):
        raise gr.Error(f"Pick a picture from 1 to {len(batch['recipes'])}, got {index}.")
    recipe = batch["recipes"][index - 1]

    sources = [Path(p).read_bytes() for p in batch.get("sources", [])]

    def work():
        if batch["kind"] == "morph":
            data = Path(batch["file"]).read_bytes()
        else:
            data = _render_png(services, recipe)
        with services.sessions() as s, s.begin():
            artwork = creations.save_creation(
                s,
                services.blobs,
                who.id,
                data,
                recipe,
                title=title,
                tags=tags,
                parents=[tuple(p) for p in batch["parents"]],
                sources=sources,
            )
            return artwork.id

    artwork_id = run(work)
    return (
        f"✓ Saved as artwork #{artwork_id}. List it on the Sell page, or restyle it on the "
        "Style page.",
        artwork_id,
    )


def pick(event: gr.SelectData):
    index = event.index if isinstance(event.index, int) else event.index[0]
    return index + 1


def _generate_controls():
    """The Generate column. Returns (model, seed, dice, count, truncation, size, button)."""
    with gr.Column(scale=2, min_width=320):
        gr.Markdown("### Generate")
        model = gr.Dropdown([], allow_custom_value=True, label="Model", elem_id="studio-model")
        with gr.Row(elem_classes="atelier-controls"):
            # text, not a number field: a 63-bit seed is exact only as digits; a
            # fresh random one on every visit, so works are not found by trying 0, 1..
            seed = gr.Textbox(
                value=lambda: str(random_seed(MAX_SEED)),
                label="Seed",
                max_lines=1,
                scale=3,
                elem_id="studio-seed",
            )
            dice = gr.Button("Random", scale=1, min_width=80, elem_id="studio-dice")
        count = gr.Slider(1, MAX_COUNT, value=8, step=1, label="How many")
        truncation = gr.Slider(
            0.0,
            1.0,
            value=DEFAULT_TRUNCATION,
            step=0.05,
            label="Truncation",
            info="lower: more typical pictures; higher: more varied",
        )
        size = gr.Dropdown(
            SIZES,
            value=256,
            label="Display size (px)",
            info="The model draws at its own size (the bundled one at 64 px); "
            "a larger size enlarges its pictures.",
        )
        go = gr.Button("Generate", variant="primary", elem_id="studio-generate")
        genes = _gene_sliders()
    return model, seed, dice, count, truncation, size, go, genes


def _gene_sliders() -> list:
    """One slider per gene of the bundled model, in an accordion."""
    from generation.genes import MAX_AMOUNT

    sliders = []
    with gr.Accordion("Genes (the bundled model)", open=False, elem_id="studio-genes"):
        gr.Markdown(
            "Move a picture along a direction the model learned: 0 leaves it as it is.",
            elem_classes="atelier-muted",
        )
        for name in gene_names():
            sliders.append(
                gr.Slider(
                    -MAX_AMOUNT,
                    MAX_AMOUNT,
                    value=0,
                    step=0.1,
                    label=name,
                    info=_bundled_genes().notes.get(name) or None,
                    elem_id=f"studio-gene-{name.replace(' ', '-')}",
                )
            )
    return sliders


def _breed_and_morph_controls():
    """The Breed and Morph columns. Returns ((parent A, parent B, children, mutation,
    crossover seed, button), (from, to, frames, format, button, cancel))."""
    with gr.Row():
        with gr.Column():
            gr.Markdown("### Breed two of your works")
            with gr.Row():
                parent_a = gr.Dropdown(
                    [], allow_custom_value=True, label="Parent A", elem_id="studio-parent-a"
                )
                parent_b = gr.Dropdown(
                    [], allow_custom_value=True, label="Parent B", elem_id="studio-parent-b"
                )
            with gr.Row():
                children = gr.Slider(1, MAX_CHILDREN // 4, value=4, step=1, label="Children")
                mutation = gr.Slider(0.0, MAX_MUTATION, value=0.2, step=0.05, label="Mutation")
                breed_seed = gr.Textbox(
                    value=lambda: str(random_seed(MAX_SEED)),
                    label="Crossover seed",
                    max_lines=1,
                    elem_id="studio-breed-seed",
                )
            breed_button = gr.Button("Breed")
        with gr.Column():
            gr.Markdown("### Morph between two")
            with gr.Row():
                morph_a = gr.Dropdown([], allow_custom_value=True, label="From")
                morph_b = gr.Dropdown([], allow_custom_value=True, label="To")
            with gr.Row():
                frames = gr.Slider(MIN_FRAMES, 60, value=24, step=1, label="Frames")
                fmt = gr.Radio(["gif", "webp"], value="gif", label="Format")
            with gr.Row():
                morph_button = gr.Button("Render morph")
                stop = gr.Button("Cancel", variant="stop")
    return (
        (parent_a, parent_b, children, mutation, breed_seed, breed_button),
        (morph_a, morph_b, frames, fmt, morph_button, stop),
    )


def _project_controls():
    """The "your picture in the model" row. Returns (mode, upload, artwork, steps, button,
    cancel)."""
    from generation.projection import DEFAULT_STEPS, MAX_STEPS, MIN_STEPS

    gr.Markdown(
        "### Your picture in the model\nThe bundled model searches for the picture of its own "
        "that looks most like yours (about 5 seconds); save it to breed, morph or move it "
        "along genes (the sliders above apply)."
    )
    with gr.Row():
        mode = gr.Radio(SOURCE_MODES, value=SOURCE_MODES[0], show_label=False, scale=1)
        upload = image_file("Picture to project", "studio-project-upload", height=120)
        artwork = gr.Dropdown(
            [],
            allow_custom_value=True,
            label="One of your works",
            visible=False,
            elem_id="studio-project-artwork",
        )
        steps = gr.Slider(MIN_STEPS, MAX_STEPS, value=DEFAULT_STEPS, step=10, label="Steps")
        with gr.Column(min_width=160):
            button = gr.Button("Project", elem_id="studio-project")
            stop = gr.Button("Cancel", variant="stop", elem_id="studio-project-cancel")
    return mode, upload, artwork, steps, button, stop


def build(services: Services, page: Page) -> None:
    """Lay out the Studio page and wire its handlers."""
    with page.member_section("The studio needs an account: what you make is saved as yours."):
        with gr.Row():
            model, seed, dice, count, truncation, size, go, genes = _generate_controls()
            with gr.Column(scale=5):
                grid = gr.Gallery(
                    label="Results",
                    columns=4,
                    height="auto",
                    object_fit="contain",
                    allow_preview=False,
                    fit_columns=False,
                    interactive=False,
                    buttons=["download", "fullscreen"],
                    elem_id="studio-grid",
                    format="png",
                )
                animation = gr.Image(
                    label="Morph", type="filepath", interactive=False, visible=False, height=300
                )
                status = gr.Markdown(elem_id="studio-status")
                with gr.Row(elem_classes="atelier-controls"):
                    chosen = gr.Number(
                        label="Picture to save",
                        precision=0,
                        minimum=1,
                        scale=1,
                        elem_id="studio-pick",
                    )
                    title = gr.Textbox(
                        label="Title", max_length=MAX_TITLE_LENGTH, scale=3, elem_id="studio-title"
                    )
                    tags = gr.Textbox(label="Tags", scale=2, elem_id="studio-tags")
                    save_button = gr.Button(
                        "Save", variant="primary", scale=1, elem_id="studio-save"
                    )
                saved = gr.Markdown(elem_id="studio-saved")
                saved_id = gr.Number(visible=False, precision=0)
        breeding, morphing_controls = _breed_and_morph_controls()
        p_mode, p_upload, p_artwork, p_steps, p_button, p_stop = _project_controls()
        parent_a, parent_b, children, mutation, breed_seed, breed_button = breeding
        morph_a, morph_b, frames, fmt, morph_button, stop = morphing_controls
    batch = gr.State(None)
    choosers = [model, parent_a, parent_b, morph_a, morph_b, p_artwork]

    dice.click(lambda: str(random_seed(MAX_SEED)), None, seed, queue=False)
    generated = go.click(
        bind(services, generate),
        [model, seed, count, truncation, size, *genes],
        [grid, status, batch, chosen],
        api_name="generate",
        concurrency_limit=2,
        concurrency_id="gan",
    )
    for event in (generated,):
        event.then(
            lambda: (gr.update(visible=True), gr.update(visible=False)), None, [grid, animation]
        )
    grid.select(pick, None, chosen, queue=False)
    bred = breed_button.click(
        bind(services, breed),
        [parent_a, parent_b, children, mutation, breed_seed],
        [grid, status, batch, chosen],
        api_name="breed",
        concurrency_limit=2,
        concurrency_id="gan",
    )
    bred.then(lambda: (gr.update(visible=True), gr.update(visible=False)), None, [grid, animation])
    morphing = morph_button.click(
        bind(services, morph),
        [morph_a, morph_b, frames, fmt],
        [animation, status, batch, chosen],
        api_name="morph",
        concurrency_limit=2,
        concurrency_id="gan",
    )
    morphing.then(
        lambda: (gr.update(visible=False), gr.update(visible=True)), None, [grid, animation]
    )
    stop.click(bind(services, cancel_morph), None, status, api_name="cancel_morph", queue=False)
    show_source_box(p_mode, p_upload, p_artwork)
    projecting = p_button.click(
        bind(services, project),
        [p_mode, p_upload, p_artwork, p_steps, *genes],
        [grid, status, batch, chosen],
        api_name="project",
        concurrency_limit=1,
        concurrency_id="project",
    )
    projecting.then(
        lambda: (gr.update(visible=True), gr.update(visible=False)), None, [grid, animation]
    )
    p_stop.click(
        bind(services, cancel_project), None, status, api_name="cancel_project", queue=False
    )
    saving = save_button.click(
        bind(services, save),
        [chosen, title, tags, batch],
        [saved, saved_id],
        api_name="save_generated",
    )
    choices = bind(services, refresh)
    saving.success(choices, None, choosers, show_progress="hidden")
    gr.Button(visible=False).click(choices, None, choosers, api_name="studio_choices")
    page.when_shown(quiet_for_guests(choices, len(choosers)), choosers)
