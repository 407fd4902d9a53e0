"""Train: upload your images (or a zip), start a training job for your own GAN, watch its
progress (ETA, the latest sample grid, the losses), cancel it; the finished model appears in
the Studio's model choice, owned by you.

Training runs as a job (`marketplace.jobs`) in the app's worker thread, outside the request;
this page only submits, polls the job row every few seconds, and cancels.
"""

from __future__ import annotations

import io

import gradio as gr
import pandas as pd
from PIL import Image

from db.blobs import BlobNotFound
from marketplace import jobs, training_jobs, tuning
from marketplace.gan_models import available_models, clean_model_name
from ui.auth import require_viewer
from ui.common import Services, bind, escape, quiet_for_guests, run, thumbnail, whole
from ui.shell import Page

JOB_HEADERS = ["job", "model", "status", "progress", "started"]
POLL_SECONDS = 3.0
MAX_STEPS_UI = 20_000
DEFAULT_STEPS = 2_000


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "estimating…"
    seconds = int(seconds)
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


SHORT_RUN_STEPS = 2_000
LONG_RUN_STEPS = 10_000
NOISE_STEPS = 500  # below this no run here has drawn more than noise
FEW_IMAGES = 100  # few-shot GANs (FastGAN) start at 100 images; fewer are learned by heart
BATCH = 32  # training_jobs trains with batches of min(32, images)
# images per second on one CPU thread: 64 px measured for the bundled model's architecture
# (docs/MODEL_CARD.md, scripts/benchmark_gan.py: 112); 128 px has 4x the pixels per image
# and is taken as 4x slower, an estimate rather than a measurement
IMAGES_PER_SECOND = {64: 112.0, 128: 28.0}


def _file_count(files) -> int | None:
    """How many images the chosen files hold, or None when a zip hides the number."""
    if not files:
        return 0
    names = [str(getattr(f, "name", f)) for f in (files if isinstance(files, list) else [files])]
    if any(n.lower().endswith(".zip") for n in names):
        return None
    return len(names)


def training_expectation(steps: object, image_size: object = 64, files=None) -> str:
    """What a run will give and how long it takes, said before it starts: a short run draws
    noise, a long one on few images learns them by heart, and people should know both
    before they wait."""
    try:
        count = int(float(steps))
        side = int(float(image_size or 64))
    except (TypeError, ValueError):
        return ""
    rate = IMAGES_PER_SECOND.get(side, IMAGES_PER_SECOND[64])
    images = _file_count(files)
    batch = BATCH if images is None or images == 0 else min(BATCH, images)
    seconds = count * batch / rate
    lines = []
    if count < NOISE_STEPS:
        lines.append(
            f"⚠ {count:,} steps cannot work: a GAN draws only noise this early. Use at least "
            f"{SHORT_RUN_STEPS:,} steps for rough shapes."
        )
    elif count < SHORT_RUN_STEPS:
        lines.append(
            f"⚠ {count:,} steps is a short run: expect coloured noise and blurry blobs, not "
            f"pictures. A GAN learns shapes over thousands of steps; use {SHORT_RUN_STEPS:,} "
            "or more for recognisable forms (the bundled emoji model trained for tens of "
            "thousands)."
        )
    elif count < LONG_RUN_STEPS:
        lines.append(
            f"{count:,} steps: expect rough shapes and colours; fine detail needs tens of "
            "thousands of steps."
        )
    else:
        lines.append(
            f"{count:,} steps is a long run. The samples show how it is going, and you can "
            "cancel it at any time."
        )
    first = min(count, max(10, count // 20))  # training_jobs samples every 1/20 of the run
    early = ", well before a tenth of the run" if first * 10 <= count else ""
    lines.append(
        f"Estimated time: about {_duration(seconds)} on one CPU thread at {side} px "
        f"(batches of {batch}); the first sample shows after {first:,} steps{early}."
    )
    if images is not None and 0 < images < training_jobs.MIN_IMAGES:
        lines.append(f"⚠ {images} images: training needs at least {training_jobs.MIN_IMAGES}.")
    elif images is not None and 0 < images < FEW_IMAGES:
        lines.append(
            f"⚠ {images} images is few: the model will mostly learn them by heart and repeat "
            f"them. {FEW_IMAGES} or more of one kind give it room to vary"
            + (
                ", and a long run on few images makes that worse."
                if count >= LONG_RUN_STEPS
                else "."
            )
        )
    return "\n\n".join(lines)


def start(services: Services, files, name, steps, image_size, request: gr.Request):
    """Start training a GAN on your images (at least 20 images, or zips of them).
    Returns (status, job number)."""
    who = require_viewer(services, request)
    if not files:
        raise gr.Error(f"Upload at least {training_jobs.MIN_IMAGES} images, or a zip of them.")
    run(clean_model_name, name)
    count = whole(steps, "the number of steps")
    size = whole(image_size, "the image size")
    paths = files if isinstance(files, list) else [files]

    def work():
        uploads = []
        for path in paths:
            path = str(getattr(path, "name", path))
            with open(path, "rb") as f:
                uploads.append((path, f.read()))
        with services.sessions() as s, s.begin():
            return training_jobs.submit_training(
                s, services.blobs, who.id, name, uploads, steps=count, image_size=size
            )

    job_id = run(work)
    return (
        f"✓ Training job #{job_id} is queued. Progress shows below; you may leave this "
        "page and come back.",
        job_id,
    )


def job_rows(services: Services, request: gr.Request):
    """Your training jobs, newest first."""
    who = require_viewer(services, request)

    def work():
        with services.readers() as s:
            return [
                [
                    j.id,
                    j.params.get("name", ""),
                    j.status,
                    f"{(j.progress or {}).get('step', 0)}/{j.params.get('steps', '?')}",
                    j.created_at.isoformat()[:16].replace("T", " "),
                ]
                for j in jobs.list_jobs(s, who.id, kind=training_jobs.KIND)
            ]

    rows = run(work)
    latest = rows[0][0] if rows else None
    return rows, latest


def progress_of(services: Services, job_id, request: gr.Request):
    """(summary, sample grid, losses, whether the job is still active)."""
    who = require_viewer(services, request)
    number = whole(job_id, "the job number", required=False)
    if number is None:
        return "No training job yet.", None, None, False

    def work():
        with services.readers() as s:
            j = jobs.get_job(s, number, who.id)
            return (
                j.status,
                dict(j.params),
                dict(j.progress or {}),
                dict(j.result or {}),
                j.error,
            )

    state, params, progress, result, error = run(work)
    step, total = progress.get("step", 0), progress.get("total_steps", params.get("steps"))
    lines = [f"**Job #{number}** · model “{escape(params.get('name', ''))}” · **{state}**"]
    if state in jobs.ACTIVE:
        share = f" ({100 * step / total:.0f}%)" if total else ""
        lines.append(
            f"Step {step} of {total}{share} · about {_duration(progress.get('eta_seconds'))} left"
            if state == "running"
            else "Waiting for the worker (one training runs at a time)."
        )
        if progress.get("message"):
            lines.append(escape(progress["message"]))
    elif state == "done":
        lines.append(
            f"Finished after {result.get('steps')} steps. Your model is in the Studio's model "
            "choice."
        )
    elif state == "failed":
        lines.append(f"Failed: {escape(error or 'unknown error')}")
    elif state == "cancelled":
        lines.append("Cancelled.")
    sample = (
        thumbnail(services, progress["sample_key"], size=512)
        if progress.get("sample_key")
        else None
    )
    losses = progress.get("losses") or []
    chart = pd.DataFrame(
        {
            "step": [row[0] for row in losses] * 2,
            "loss": [row[1] for row in losses] + [row[2] for row in losses],
            "network": ["discriminator"] * len(losses) + ["generator"] * len(losses),
        }
    )
    if not losses:
        chart = None  # an empty chart would draw a meaningless legend
    return "\n\n".join(lines), sample, chart, state in jobs.ACTIVE


def status(services: Services, job_id, request: gr.Request):
    """A training job's progress. Returns (summary, latest sample grid, losses)."""
    return progress_of(services, job_id, request)[:3]


def watch_job(services: Services, job_id, request: gr.Request):
    # the page polls while the job runs, and stops when it ends; the jobs table follows,
    # so a finished job never reads "running" there
    *shown, active = progress_of(services, job_id, request)
    rows, _latest = job_rows(services, request)
    return (*shown, rows, gr.Timer(active=active))


def cancel(services: Services, job_id, request: gr.Request) -> str:
    """Cancel one of your training jobs (a running one stops at its next step)."""
    who = require_viewer(services, request)
    number = whole(job_id, "the job number")

    def work():
        with services.sessions() as s, s.begin():
            return jobs.request_cancel(s, number, who.id).status

    now = run(work)
    when = "is cancelled" if now == "cancelled" else "will stop at its next step"
    return f"Job #{number} {when}."


def pick(rows, event: gr.SelectData):
    row = event.index[0] if isinstance(event.index, list | tuple) else event.index
    try:
        return int(rows.iloc[row, 0]) if hasattr(rows, "iloc") else int(rows[row][0])
    except (IndexError, KeyError, TypeError, ValueError):
        return gr.update()


def on_load(services: Services, request: gr.Request):
    """Opening the page: the newest job, watched."""
    _rows, latest = job_rows(services, request)
    return (latest, *watch_job(services, latest, request))


def tune_choices(services: Services, request: gr.Request):
    """Your trained models for tuning, and what people liked of the first: (dropdown,
    liked works in words)."""
    who = require_viewer(services, request)

    def work():
        with services.readers() as s:
            mine = available_models(s, who.id)[1:]  # the bundled model comes first
            return mine, tuning.liked_of(s, who.id, mine[0].sha256) if mine else None

    mine, liked = run(work)
    choices = [(f"{m.name} ({m.image_size} px, {m.sha256[:10]})", m.sha256) for m in mine]
    first = mine[0].sha256 if mine else None
    return gr.update(choices=choices, value=first), _liked_words(liked)


def _liked_words(liked: list[dict] | None) -> str:
    if liked is None:
        return "Train a model first: tuning continues one of your own models."
    if not liked:
        return (
            "Nobody has favourited or rated well a work made with this model yet. Save "
            "pictures from it in the Studio and list them: what collectors like is what tuning "
            "learns from."
        )
    shown = ", ".join(
        f"#{w['artwork_id']} “{escape(w['title'])}” (♥ {w['favourites']}, "
        f"{w['ratings']} rating{'s' if w['ratings'] != 1 else ''}, weight {w['weight']:g})"
        for w in liked[:8]
    )
    more = f" and {len(liked) - 8} more" if len(liked) > 8 else ""
    return f"**{len(liked)} liked works** will weigh more than the training images: {shown}{more}."


def liked_for(services: Services, model, request: gr.Request) -> str:
    """What people liked of the works made with one of your models, in words."""
    who = require_viewer(services, request)

    def work():
        with services.readers() as s:
            return tuning.liked_of(s, who.id, model)

    return _liked_words(run(work))


def tune_model(services: Services, model, steps, request: gr.Request):
    """Start tuning one of your models on what collectors liked: (message, job number)."""
    who = require_viewer(services, request)
    if not model:
        raise gr.Error("Choose one of your trained models.")
    count = whole(steps, "the number of steps")

    def work():
        with services.sessions() as s, s.begin():
            return tuning.submit_tuning(s, who.id, model, steps=count)

    job_id = run(work)
    return f"✓ Tuning job #{job_id} is queued; its before and after appear below.", job_id


def _grid_file(services: Services, key: str | None, name: str) -> str | None:
    """A sample grid of your own model at twice its size (pixels kept sharp), unmarked: it
    is yours, not a work for sale. None when it cannot be read."""
    if not key:
        return None
    try:
        grid = Image.open(io.BytesIO(services.blobs.get(key))).convert("RGB")
    except (BlobNotFound, OSError):
        return None
    path = services.new_file(f"{name.removesuffix('_key')}.png")
    grid.resize((grid.width * 2, grid.height * 2), Image.Resampling.NEAREST).save(path)
    return str(path)


def tuning_status(services: Services, job_id, request: gr.Request):
    """A tuning job: (summary with the quality figures, before grid, after grid)."""
    return tuning_view(services, job_id, request)[:3]


def tuning_view(services: Services, job_id, request: gr.Request):
    """(summary, before grid, after grid, poll timer) of a tuning job, or of your newest."""
    who = require_viewer(services, request)
    number = whole(job_id, "the tuning job number", required=False)

    def work():
        with services.readers() as s:
            if number is None:
                latest = jobs.list_jobs(s, who.id, kind=tuning.KIND, limit=1)
                if not latest:
                    return None
                j = latest[0]
            else:
                j = jobs.get_job(s, number, who.id)
            if j.kind != tuning.KIND:
                raise LookupError(f"job #{j.id} is not a tuning job")
            return (
                j.id,
                j.status,
                dict(j.params),
                dict(j.progress or {}),
                dict(j.result or {}),
                j.error,
            )

    found = run(work)
    if found is None:
        return "No tuning yet.", None, None, gr.Timer(active=False)
    number, state, params, progress, result, error = found
    lines = [
        f"**Tuning job #{number}** · “{escape(params.get('base_name', ''))}” on "
        f"{len(params.get('liked', []))} liked works · **{state}**"
    ]
    if state in jobs.ACTIVE:
        lines.append(f"Step {progress.get('step', 0)} of {params.get('steps')}.")
    if state == "done":
        f = result.get("figures", {})
        before, after = f.get("before", {}), f.get("after", {})
        lines.append(
            f"New model **“{escape(result.get('model_name', ''))}”** is in the Studio's model "
            "choice. In the style-embedding space, over "
            f"{f.get('samples')} samples (lower is closer): distance to the nearest liked work "
            f"{before.get('nearest_liked')} → **{after.get('nearest_liked')}**; Fréchet "
            f"distance to the training images {before.get('frechet_to_training')} → "
            f"**{after.get('frechet_to_training')}**."
        )
    elif state == "failed":
        lines.append(f"Failed: {escape(error or 'unknown error')}")
    grids = [_grid_file(services, result.get(k), k) for k in ("before_grid_key", "after_grid_key")]
    return "\n\n".join(lines), grids[0], grids[1], gr.Timer(active=state in jobs.ACTIVE)


def build(services: Services, page: Page) -> None:
    """Lay out the Train page and wire its handlers."""
    with (
        page.member_section("Training a model needs an account: the model will be yours."),
        gr.Row(),
    ):
        with gr.Column(scale=1, min_width=320):
            gr.Markdown(
                "### Train your own GAN\n"
                f"Upload at least {training_jobs.MIN_IMAGES} images of one kind (or zips of "
                "them). They must be yours, or works you hold a commercial licence for. "
                "Training runs in the background; on this server's CPU a few hundred steps "
                "take minutes."
            )
            files = gr.File(
                label="Images or zip files",
                file_count="multiple",
                # no file_types: Gradio would refuse others in its own words; Atelier
                # decodes every file itself and names the one it cannot use
                height=150,
                elem_id="train-files",
            )
            name = gr.Textbox(
                label="Model name",
                placeholder="e.g. my watercolours",
                max_length=100,
                elem_id="train-name",
            )
            with gr.Row():
                steps = gr.Slider(
                    10,
                    MAX_STEPS_UI,
                    value=DEFAULT_STEPS,
                    step=10,
                    label="Steps",
                    elem_id="train-steps",
                )
                image_size = gr.Radio([64, 128], value=64, label="Image size")
            expectation = gr.Markdown(
                training_expectation(DEFAULT_STEPS), elem_id="train-expectation"
            )
            go = gr.Button("Start training", variant="primary", elem_id="train-go")
            started = gr.Markdown()
        with gr.Column(scale=2):
            with gr.Row(equal_height=True):
                job = gr.Number(
                    show_label=False,
                    placeholder="Job number",
                    precision=0,
                    minimum=1,
                    container=False,
                    scale=0,
                    min_width=160,
                    elem_id="train-job",
                )
                watch = gr.Button("Show job", scale=0, min_width=110, size="md")
                stop = gr.Button("Cancel job", variant="stop", scale=0, min_width=120, size="md")
            summary = gr.Markdown(elem_id="train-summary")
            with gr.Row():
                sample = gr.Image(
                    label="Latest samples", type="filepath", interactive=False, height=300
                )
                losses = gr.LinePlot(
                    x="step",
                    y="loss",
                    color="network",
                    title="Losses",
                    height=300,
                    elem_id="train-losses",
                )
            table = gr.Dataframe(
                headers=JOB_HEADERS,
                interactive=False,
                label="Your training jobs",
                elem_id="train-jobs",
            )
    timer = gr.Timer(POLL_SECONDS, active=False)
    watched = [summary, sample, losses, table, timer]
    watch_it = bind(services, watch_job)
    for component in (steps, image_size, files):
        component.change(
            training_expectation,
            [steps, image_size, files],
            [expectation],
            queue=False,
            show_progress="hidden",
        )

    go.click(
        bind(services, start), [files, name, steps, image_size], [started, job], api_name="train"
    ).success(watch_it, [job], watched).then(bind(services, job_rows), None, [table, job])
    watch.click(bind(services, status), [job], watched[:3], api_name="job_status").then(
        watch_it, [job], watched, show_progress="hidden"
    )
    job.submit(watch_it, [job], watched)
    timer.tick(watch_it, [job], watched, show_progress="hidden")
    stop.click(bind(services, cancel), [job], [summary], api_name="cancel_job").then(
        watch_it, [job], watched
    )
    table.select(pick, [table], [job], queue=False).then(watch_it, [job], watched)
    gr.Button(visible=False).click(bind(services, job_rows), None, [table, job], api_name="jobs")

    page.when_shown(quiet_for_guests(bind(services, on_load), 1 + len(watched)), [job, *watched])
    _build_tuning(services, page)


def _build_tuning(services: Services, page: Page) -> None:
    """The loop from collectors' taste back into your model."""
    with page.member_section("Tuning a model needs an account."):
        gr.Markdown(
            "### Tune your model on what collectors liked\n"
            "Continues one of your models on its training images plus the works you made with "
            "it that other people favourited or rated well, the liked ones drawn about "
            f"{tuning.LIKED_WEIGHT:g}× as often per favourite. The tuned model is saved beside "
            "the original, with the same 16 latents drawn by both."
        )
        with gr.Row():
            with gr.Column(scale=1, min_width=320):
                model = gr.Dropdown(
                    [], label="Your model", allow_custom_value=True, elem_id="tune-model"
                )
                liked = gr.Markdown(elem_id="tune-liked")
                steps = gr.Slider(
                    10,
                    tuning.MAX_STEPS,
                    value=tuning.DEFAULT_STEPS,
                    step=10,
                    label="Steps",
                    elem_id="tune-steps",
                )
                go = gr.Button("Start tuning", variant="primary", elem_id="tune-go")
                started = gr.Markdown()
                job = gr.Number(visible=False, precision=0)
            with gr.Column(scale=2):
                summary = gr.Markdown(elem_id="tune-summary")
                with gr.Row():
                    before = gr.Image(
                        label="Before (16 latents, 2×)",
                        type="filepath",
                        interactive=False,
                        height=280,
                    )
                    after = gr.Image(
                        label="After (the same latents, 2×)",
                        type="filepath",
                        interactive=False,
                        height=280,
                    )
    timer = gr.Timer(POLL_SECONDS, active=False)
    shown = [summary, before, after, timer]
    view = bind(services, tuning_view)
    model.input(bind(services, liked_for), [model], [liked], show_progress="hidden")
    go.click(
        bind(services, tune_model), [model, steps], [started, job], api_name="tune_model"
    ).success(view, [job], shown)
    timer.tick(view, [job], shown, show_progress="hidden")
    api_job = gr.Number(visible=False, precision=0)
    gr.Button(visible=False).click(
        bind(services, tuning_status), [api_job], shown[:3], api_name="tuning_status"
    )
    page.when_shown(quiet_for_guests(bind(services, tune_choices), 2), [model, liked])
    page.when_shown(quiet_for_guests(lambda request: view(None, request), 4), shown)
