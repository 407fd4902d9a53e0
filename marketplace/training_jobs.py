"""Training a GAN on a person's own images, as a job (see marketplace.jobs).

`submit_training` checks the upload and the person's right to train on it, stores the
images as blobs and queues a `train_gan` job; `run_training` is that job's handler: it
trains in the job's work folder (resuming from its checkpoint when a worker restarts it),
reports progress (step, ETA, losses, the latest sample grid) into the job row, honours
cancellation, and records the finished model as the person's own.

Data rights: training on an image that is a registered artwork of another owner (the same
bytes or pixels, or a near copy by PDQ over all rotations and mirrors) is refused unless
that owner granted a licence that allows derivative works (`may_derive_from`).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from db.blobs import BlobStore
from db.models import Job
from marketplace.artworks import may_derive_from, registered_matches
from marketplace.errors import InvalidInput, NotOwner
from marketplace.gan_models import clean_model_name, save_trained_model
from marketplace.jobs import JobCancelled, JobContext, submit_job
from provenance.errors import InvalidImage
from provenance.fingerprint import content_hash, perceptual_hash, pixel_hash
from provenance.images import decode_image

KIND = "train_gan"
MIN_IMAGES = 20
MAX_IMAGES = 5000
MAX_UPLOAD_BYTES = 500 * 1024 * 1024  # all images together, after unzipping
MAX_STEPS = 200_000
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff")


def expand_uploads(files: Iterable[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """Named image files from an upload: images as they are, zip archives unpacked (images
    inside them only, folders flattened, hidden files and `__MACOSX` skipped).

    Raises:
        InvalidInput: a broken zip, or more than MAX_UPLOAD_BYTES or MAX_IMAGES in all.
    """
    out: list[tuple[str, bytes]] = []
    total = 0

    def take(name: str, data: bytes) -> None:
        nonlocal total
        total += len(data)
        if total > MAX_UPLOAD_BYTES:
            raise InvalidInput(f"the upload holds more than {MAX_UPLOAD_BYTES >> 20} MB of images")
        out.append((name, data))
        if len(out) > MAX_IMAGES:
            raise InvalidInput(f"train on at most {MAX_IMAGES} images, got more")

    for name, data in files:
        if name.lower().endswith(".zip"):
            try:
                archive = zipfile.ZipFile(io.BytesIO(data))
                members = [m for m in archive.infolist() if not m.is_dir()]
                for member in sorted(members, key=lambda m: m.filename):
                    base = Path(member.filename).name
                    if (
                        "__MACOSX" in member.filename
                        or base.startswith(".")
                        or not base.lower().endswith(IMAGE_SUFFIXES)
                    ):
                        continue
                    if total + member.file_size > MAX_UPLOAD_BYTES:
                        raise InvalidInput(
                            f"the upload holds more than {MAX_UPLOAD_BYTES >> 20} MB of images"
                        )
                    take(f"{Path(name).name}/{member.filename}", archive.read(member))
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as exc:
                raise InvalidInput(
                    f"{Path(name).name} is not a readable zip archive: {exc}",
                    plain=f"“{Path(name).name}” is not a zip archive that can be opened.",
                ) from None
        else:
            take(Path(name).name, data)
    return out


def check_training_rights(
    session: Session,
    user_id: int,
    images: Sequence[tuple[str, bytes]],
    *,
    blobs: BlobStore | None = None,
) -> list[int]:
    """The registered artworks among `images` that `user_id` may train on (their own, or
    licensed); raises if any image is someone else's work without a licence.

    Raises:
        NotOwner: naming the first few files and the artworks they copy.
        InvalidInput: a file that is not an image.
    """
    refused: list[str] = []
    used: set[int] = set()
    for name, data in images:
        try:
            decoded = decode_image(data)
        except InvalidImage as exc:
            raise InvalidInput(
                f"{name} is not a usable image: {exc}",
                plain=f"“{name}” can't be used as an image: {exc}.",
            ) from None
        matches = registered_matches(
            session,
            content_hash(data),
            pixel_hash(decoded.rgb),
            perceptual_hash(decoded.rgb),
            exclude_owner=user_id,
            blobs=blobs,
            rgb=decoded.rgb,
        )
        for artwork in (m.artwork for m in matches):
            if may_derive_from(session, user_id, artwork):
                used.add(artwork.id)
            else:
                refused.append(
                    f"{name} is artwork #{artwork.id} ({artwork.title!r}) of "
                    f"{artwork.owner.username}"
                )
                break
    if refused:
        more = f" and {len(refused) - 3} more" if len(refused) > 3 else ""
        raise NotOwner(
            "you may not train on other people's registered artworks without a licence that "
            f"allows derivative works: {'; '.join(refused[:3])}{more}"
        )
    return sorted(used)


def submit_training(
    session: Session,
    blobs: BlobStore,
    user_id: int,
    name: str,
    files: Iterable[tuple[str, bytes]],
    *,
    steps: int = 2000,
    image_size: int = 64,
    seed: int = 0,
) -> int:
    """Check an upload and queue a job that trains a GAN on it; returns the job id.

    Args:
        session: the unit of work.
        blobs: where the training images are kept for the worker.
        user_id: who trains (and will own the model).
        name: the model's name.
        files: (file name, bytes) pairs: images, or zip archives of images.
        steps: optimisation steps, 10 to MAX_STEPS.
        image_size: 64 or 128.
        seed: the run's seed.

    Raises:
        InvalidInput: a bad name, count, size, step count or image.
        NotOwner: images that are other people's registered works (see the module doc).
    """
    name = clean_model_name(name)
    if not isinstance(steps, int) or not 10 <= steps <= MAX_STEPS:
        raise InvalidInput(
            f"`steps` must be 10 to {MAX_STEPS}, got {steps!r}",
            plain=f"Choose from 10 to {MAX_STEPS:,} training steps.",
        )
    if image_size not in (64, 128):
        raise InvalidInput(
            f"`image_size` must be 64 or 128, got {image_size!r}",
            plain="Choose an image size of 64 or 128 pixels.",
        )
    if not isinstance(seed, int) or seed < 0:
        raise InvalidInput(f"`seed` must be a whole number >= 0, got {seed!r}")
    images = expand_uploads(files)
    if len(images) < MIN_IMAGES:
        raise InvalidInput(
            f"training needs at least {MIN_IMAGES} images (a zip or several files), "
            f"got {len(images)}",
            plain=f"Upload at least {MIN_IMAGES} images, or a zip of them "
            f"(these files hold {len(images)}).",
        )
    licensed = check_training_rights(session, user_id, images, blobs=blobs)
    keys = [blobs.put(data) for _, data in images]
    job = submit_job(
        session,
        KIND,
        user_id,
        {
            "name": name,
            "image_keys": keys,
            "file_names": [n for n, _ in images],
            "steps": steps,
            "image_size": image_size,
            "seed": seed,
            "licensed_artworks": licensed,
        },
    )
    return job.id


def run_training(ctx: JobContext) -> dict[str, Any]:
    """The `train_gan` job handler (services: `blobs`, `data_dir`)."""
    from generation.training import CHECKPOINT_NAME, TrainConfig, train

    blobs: BlobStore = ctx.services["blobs"]
    work = Path(ctx.services["data_dir"]) / "jobs" / str(ctx.job_id)
    images_dir, run_dir = work / "images", work / "run"
    images_dir.mkdir(parents=True, exist_ok=True)
    for i, key in enumerate(ctx.params["image_keys"]):
        target = images_dir / f"{i:05d}.img"
        if not target.exists():
            target.write_bytes(blobs.get(key))
    count = len(ctx.params["image_keys"])
    steps = int(ctx.params["steps"])
    config = TrainConfig(
        image_size=int(ctx.params["image_size"]),
        batch_size=min(32, count),
        total_steps=steps,
        seed=int(ctx.params.get("seed", 0)),
        min_images=MIN_IMAGES,
        checkpoint_every_steps=max(50, steps // 20),
        checkpoint_every_seconds=120.0,
        sample_every_steps=max(10, steps // 20),
        log_every_steps=max(1, min(100, steps // 100)),
        num_samples=16,
    )
    # what an earlier run of this job (a worker that died, on this machine or another) left:
    # its losses, its last sample and its last checkpoint, which lives in the blob store
    with ctx.sessions() as s:
        earlier = dict(s.get(Job, ctx.job_id).progress or {})
    state: dict[str, Any] = {
        name: earlier[name]
        for name in ("losses", "sample_key", "checkpoint_key")
        if name in earlier
    }
    state.setdefault("losses", [])
    checkpoint = run_dir / CHECKPOINT_NAME
    if not checkpoint.exists() and state.get("checkpoint_key"):
        run_dir.mkdir(parents=True, exist_ok=True)
        partial = checkpoint.with_suffix(".part")
        partial.write_bytes(blobs.get(state["checkpoint_key"]))
        partial.replace(checkpoint)

    def progress(p) -> None:
        if p.d_loss is not None and p.event == "step":
            state["losses"] = [*state["losses"][-299:], [p.step, p.d_loss, p.g_loss]]
        if p.event == "sample" and p.path:
            state["sample_key"] = blobs.put(Path(p.path).read_bytes())
        superseded = None
        if p.event == "checkpoint" and p.path:
            # into the shared store first, then named on the row: a worker that takes the
            # job over after this one dies resumes from here, wherever it runs
            key = blobs.put(Path(p.path).read_bytes())
            if state.get("checkpoint_key") != key:
                superseded = state.get("checkpoint_key")
            state["checkpoint_key"] = key
        ctx.report(
            {
                "step": p.step,
                "total_steps": p.total_steps,
                "images_seen": p.images_seen,
                "eta_seconds": p.eta_seconds,
                "images_per_second": p.images_per_second,
                **state,
            },
            force=p.event in ("sample", "checkpoint"),
        )
        if superseded:  # the older checkpoint goes once the row names the newer one
            blobs.delete(superseded)

    ctx.report({"step": 0, "total_steps": steps, "message": "loading images", **state}, force=True)
    result = train(
        config,
        images_dir,
        run_dir,
        resume=checkpoint.exists(),
        on_report=progress,
        should_cancel=ctx.cancelled,
        device="auto",  # a worker with a GPU uses it; the checkpoint resumes on any device
    )
    if result.stopped:
        raise JobCancelled(f"training stopped at step {result.step}")
    with ctx.sessions() as s, s.begin():
        model = save_trained_model(
            s,
            blobs,
            ctx.owner_id,
            ctx.params["name"],
            result.model_dir,
            {"job_id": ctx.job_id, "steps": result.step, "images": count},
        )
        return {"model_sha256": model.sha256, "model_id": model.id, "steps": result.step}
