""" "Tune my model on what collectors liked": the loop from people's feedback back into a
person's own GAN, as a job (see marketplace.jobs).

The data: the images the model was first trained on, each weighing 1, and the works its
owner made with it that other people liked, each weighing 1 + LIKED_WEIGHT x its liking,
where a work's liking is its favourites plus (stars - 3) / 2 for each rating (a five-star
rating adds one, a one-star rating takes one away). Works nobody liked, or that people
disliked on balance, are left out. Batches are drawn in proportion to the weights
(`generation.training.train(sample_weights=...)`), so a favourite work is seen about
LIKED_WEIGHT times as often as a training image.

The run continues the model (its generator's weights; a fresh discriminator) for a few
hundred steps at half the usual learning rate, and saves the result as a new model of the
owner's, "<name>-liked", beside the old one. The job's result holds a before/after grid (the
same 16 latents through both models) and the quality figures of the GAN protocol
(`generation.quality.compare_generators`): Fréchet distance to the training images, and the
mean distance of each sample to its nearest liked work.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.blobs import BlobStore
from db.models import Artwork, Favourite, GanModel, Job, Rating
from marketplace.errors import InvalidInput, NotFound, NotOwner
from marketplace.gan_models import clean_model_name, resolve_model_dir, save_trained_model
from marketplace.jobs import JobCancelled, JobContext, submit_job
from marketplace.training_jobs import KIND as TRAIN_KIND
from marketplace.training_jobs import MIN_IMAGES

KIND = "tune_gan"
LIKED_WEIGHT = 4.0  # a liked work's weight per unit of liking, against 1 for a training image
DEFAULT_STEPS = 300
MAX_STEPS = 5000
LEARNING_RATE = 1e-4  # half the training rate: a nudge, not a new model
QUALITY_SAMPLES = 64


def liking(favourites: int, stars: list[int]) -> float:
    """A work's liking: its favourites plus (stars - 3) / 2 for each rating."""
    return favourites + sum((s - 3) / 2 for s in stars)


def liked_works(session: Session, model: GanModel) -> list[dict[str, Any]]:
    """The works `model`'s owner made with it that other people liked, best liked first:
    {artwork_id, title, blob_key, favourites, ratings, liking, weight}."""
    works = [
        w
        for w in session.scalars(
            select(Artwork).where(Artwork.creator_id == model.owner_id).order_by(Artwork.id)
        )
        if (w.recipe or {}).get("model_sha256") == model.sha256 and w.sales_blocked != "removed"
    ]
    if not works:
        return []
    ids = [w.id for w in works]
    favourites = dict(
        session.execute(
            select(Favourite.artwork_id, func.count())
            .where(Favourite.artwork_id.in_(ids))
            .group_by(Favourite.artwork_id)
        ).all()
    )
    stars: dict[int, list[int]] = {}
    for artwork_id, value in session.execute(
        select(Rating.artwork_id, Rating.stars).where(Rating.artwork_id.in_(ids))
    ):
        stars.setdefault(artwork_id, []).append(value)
    out = []
    for work in works:
        score = liking(favourites.get(work.id, 0), stars.get(work.id, []))
        if score > 0:
            out.append(
                {
                    "artwork_id": work.id,
                    "title": work.title,
                    "blob_key": work.blob_key,
                    "favourites": favourites.get(work.id, 0),
                    "ratings": len(stars.get(work.id, [])),
                    "liking": round(score, 2),
                    "weight": round(1 + LIKED_WEIGHT * score, 2),
                }
            )
    return sorted(out, key=lambda w: (-w["liking"], w["artwork_id"]))


def _own_model(session: Session, user_id: int, model_sha256: object) -> GanModel:
    model = (
        session.scalar(select(GanModel).where(GanModel.sha256 == model_sha256))
        if isinstance(model_sha256, str)
        else None
    )
    if model is None:
        raise NotFound(
            f"no trained model has id {model_sha256!r}",
            plain="Choose one of your own trained models.",
        )
    if model.owner_id != user_id:
        raise NotOwner(
            f"model {model.name!r} is {model.owner.username}'s; you can tune only your own",
            plain="You can tune only a model you trained.",
        )
    return model


def _training_image_keys(session: Session, model: GanModel) -> list[str]:
    """The blob keys of the images the model was trained on (its training job's upload)."""
    job_id = (model.training or {}).get("job_id")
    job = session.get(Job, job_id) if isinstance(job_id, int) else None
    if job is None or job.kind not in (TRAIN_KIND, KIND):
        return []
    return list(job.params.get("image_keys", []))


def submit_tuning(
    session: Session,
    user_id: int,
    model_sha256: str,
    *,
    steps: int = DEFAULT_STEPS,
    seed: int = 0,
) -> int:
    """Queue a job that tunes `user_id`'s model on what people liked; returns the job id.

    Raises:
        NotFound: no such model; NotOwner: another person's model.
        InvalidInput: a bad step count, or nothing liked yet, or too few images.
    """
    model = _own_model(session, user_id, model_sha256)
    if isinstance(steps, bool) or not isinstance(steps, int) or not 10 <= steps <= MAX_STEPS:
        raise InvalidInput(
            f"`steps` must be 10 to {MAX_STEPS}, got {steps!r}",
            plain=f"Choose from 10 to {MAX_STEPS:,} tuning steps.",
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInput(f"`seed` must be a whole number >= 0, got {seed!r}")
    liked = liked_works(session, model)
    if not liked:
        raise InvalidInput(
            f"nobody has favourited or rated well a work you made with {model.name!r} yet",
            plain="Nobody has favourited or rated well a work you made with this model yet: "
            "save and share some pictures first.",
        )
    keys = _training_image_keys(session, model)
    if len(keys) + len(liked) < MIN_IMAGES:
        raise InvalidInput(
            f"tuning needs at least {MIN_IMAGES} images; {model.name!r} has "
            f"{len(keys)} training images left and {len(liked)} liked works",
            plain=f"Tuning needs at least {MIN_IMAGES} images (training images and liked "
            f"works together); this model has {len(keys) + len(liked)}.",
        )
    job = submit_job(
        session,
        KIND,
        user_id,
        {
            "name": clean_model_name(f"{model.name[:94]}-liked"),
            "base_model": model.sha256,
            "base_name": model.name,
            "image_keys": keys,
            "liked": liked,
            "steps": steps,
            "seed": seed,
        },
    )
    return job.id


def run_tuning(ctx: JobContext) -> dict[str, Any]:
    """The `tune_gan` job handler (services: `blobs`, `data_dir`)."""
    from generation.fastgan import FastGenerator, load_generator
    from generation.quality import compare_generators
    from generation.training import CHECKPOINT_NAME, TrainConfig, train
    from provenance.images import decode_image

    blobs: BlobStore = ctx.services["blobs"]
    work = Path(ctx.services["data_dir"]) / "jobs" / str(ctx.job_id)
    images_dir, run_dir = work / "images", work / "run"
    images_dir.mkdir(parents=True, exist_ok=True)
    weights: dict[str, float] = {}
    files: dict[str, bytes] = {}
    for i, key in enumerate(ctx.params["image_keys"]):
        files[f"t{i:05d}.img"] = blobs.get(key)
    for item in ctx.params["liked"]:
        name = f"liked{item['artwork_id']:09d}.img"
        files[name] = blobs.get(item["blob_key"])
        weights[name] = float(item["weight"])
    for name, data in files.items():
        target = images_dir / name
        if not target.exists():
            target.write_bytes(data)
    with ctx.sessions() as s:
        base_dir = resolve_model_dir(s, blobs, ctx.params["base_model"], work / "base")
    base_generator = load_generator(base_dir)
    base = base_generator.config
    fast = isinstance(base_generator, FastGenerator)
    steps = int(ctx.params["steps"])
    config = TrainConfig(
        image_size=base["image_size"],
        latent_dim=base["latent_dim"],
        g_channels=base["base_channels"],
        max_channels=base.get("max_channels", TrainConfig.max_channels),
        architecture="fastgan" if fast else "dcgan",
        **({"d_channels": base["base_channels"]} if fast else {}),
        batch_size=min(32, len(files)),
        total_steps=steps,
        g_lr=LEARNING_RATE,
        d_lr=LEARNING_RATE,
        seed=int(ctx.params.get("seed", 0)),
        min_images=1,
        checkpoint_every_steps=max(50, steps // 10),
        checkpoint_every_seconds=120.0,
        sample_every_steps=0,
        log_every_steps=max(1, min(50, steps // 20)),
        num_samples=16,
    )

    def progress(p) -> None:
        ctx.report(
            {"step": p.step, "total_steps": p.total_steps, "eta_seconds": p.eta_seconds},
            force=p.event in ("checkpoint", "done"),
        )

    ctx.report({"step": 0, "total_steps": steps, "message": "loading images"}, force=True)
    result = train(
        config,
        images_dir,
        run_dir,
        resume=(run_dir / CHECKPOINT_NAME).exists(),
        on_report=progress,
        should_cancel=ctx.cancelled,
        init_model=base_dir,
        sample_weights=weights,
    )
    if result.stopped:
        raise JobCancelled(f"tuning stopped at step {result.step}")
    ctx.report({"step": steps, "total_steps": steps, "message": "measuring"}, force=True)
    liked = [decode_image(files[n]).rgb for n in weights]
    training = [decode_image(files[n]).rgb for n in files if n not in weights] or liked
    figures = compare_generators(
        base_dir, result.model_dir, liked, training, samples=QUALITY_SAMPLES, seed=config.seed
    )
    grids = figures.pop("grids")
    grid_keys = []
    for grid in grids:
        buffer = io.BytesIO()
        grid.save(buffer, format="PNG")
        grid_keys.append(blobs.put(buffer.getvalue()))
    with ctx.sessions() as s, s.begin():
        model = save_trained_model(
            s,
            blobs,
            ctx.owner_id,
            ctx.params["name"],
            result.model_dir,
            {
                "job_id": ctx.job_id,
                "steps": result.step,
                "images": len(files),
                "tuned_from": ctx.params["base_model"],
                "liked_artworks": [item["artwork_id"] for item in ctx.params["liked"]],
                "figures": figures,
            },
        )
        return {
            "model_sha256": model.sha256,
            "model_id": model.id,
            "model_name": model.name,
            "base_model": ctx.params["base_model"],
            "steps": result.step,
            "before_grid_key": grid_keys[0],
            "after_grid_key": grid_keys[1],
            "figures": figures,
        }


def liked_of(session: Session, user_id: int, model_sha256: object) -> list[dict[str, Any]] | None:
    """The liked works of `user_id`'s model `model_sha256` (`liked_works`), or None when it
    is not one of their trained models."""
    model = (
        session.scalar(
            select(GanModel).where(GanModel.sha256 == model_sha256, GanModel.owner_id == user_id)
        )
        if isinstance(model_sha256, str)
        else None
    )
    return None if model is None else liked_works(session, model)
