"""The regeneration check: re-run an artwork's recipe and compare with its stored pixels.

A GAN recipe (sample, child, morph) needs its model, which is the bundled one or a trained
model kept as blobs; a style recipe needs its content and style pictures, which the studio
keeps in the blob store under the hashes the recipe names (and a dream its source picture).
Identical pixels, or a PSNR of at least 50 dB (generation.gan_pipeline.VERIFY_PSNR_DB), mean
"recipe verified": the image is what the recipe makes, so the claimed model, seed and sources
really made it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from db.blobs import BlobNotFound, BlobStore
from db.models import Artwork
from generation.errors import GenerationError
from generation.recipe_kinds import kind_of
from marketplace.errors import NotFound
from marketplace.gan_models import resolve_model_dir


def default_model_cache() -> Path:
    return Path(tempfile.gettempdir()) / "atelier-model-cache"


def check_artwork_recipe(
    session: Session,
    blobs: BlobStore,
    artwork: Artwork,
    *,
    model_cache: str | Path | None = None,
) -> dict[str, Any]:
    """Re-run `artwork`'s recipe and compare the result with its stored image.

    Returns:
        {"status": ..., "kind": recipe kind, "identical": bool, "psnr_db": float | None,
        "reason": str}, where status is "verified" (identical or PSNR >= 50 dB),
        "mismatch" (the recipe makes another picture), "unavailable" (a model or source
        picture is missing here, or the recipe is from another code version) or
        "not_applicable" (an upload, or no recipe that can be re-run).
    """
    from generation.gan_pipeline import compare_pixels

    recipe = dict(artwork.recipe or {})
    kind = recipe.get("kind")
    report: dict[str, Any] = {"kind": kind, "identical": False, "psnr_db": None}
    known = kind_of(recipe)
    if known is None:
        return {**report, "status": "not_applicable", "reason": "no recipe that can be re-run"}
    if not known.reruns_anywhere:
        return {
            **report,
            "status": "unavailable",
            "reason": "text-to-image recipes are re-run only where their model is installed",
        }
    try:
        stored = blobs.get(artwork.blob_key)
        if known.family == "style":
            from generation.style import render_style_recipe

            image = render_style_recipe(recipe, blobs.get).image
        elif known.family == "dream":
            from generation.dream import render_dream_recipe

            image = render_dream_recipe(recipe, blobs.get).image
        else:
            from generation.gan_pipeline import render_recipe

            cache = Path(model_cache) if model_cache else default_model_cache()
            image = render_recipe(recipe, lambda sha: resolve_model_dir(session, blobs, sha, cache))
    except (BlobNotFound, KeyError, NotFound) as exc:
        reason = exc.args[0] if exc.args else "a source picture is missing"
        return {**report, "status": "unavailable", "reason": f"cannot re-run it here: {reason}"}
    except GenerationError as exc:
        return {**report, "status": "unavailable", "reason": f"cannot re-run it here: {exc}"}
    compared = compare_pixels(image, stored)
    report.update(identical=compared["identical"], psnr_db=compared["psnr_db"])
    if compared["verified"]:
        how = "identical pixels" if compared["identical"] else f"PSNR {compared['psnr_db']} dB"
        return {**report, "status": "verified", "reason": f"recipe verified: {how}"}
    return {
        **report,
        "status": "mismatch",
        "reason": "the recipe makes a different picture"
        + (f" (PSNR {compared['psnr_db']} dB)" if compared["psnr_db"] is not None else ""),
    }
