"""Recipe commitments: what the public learns about how a work was made, and what its owner
may disclose.

Atelier sells licences to works, as a stock library does; it does not publish generative
code for anyone to run. A recipe (model, seed, truncation, sources) remakes its picture byte
for byte, so a public recipe would hand the file to anyone. The public record therefore
carries only a **commitment**:

    commitment = SHA-256( canonical JSON of {"recipe": <recipe>, "salt": <salt hex>} )

(keys sorted at every level, separators "," and ":", UTF-8), with the recipe's kind and model
id beside it. The salt is 32 random bytes kept per artwork, so the commitment cannot be
searched by trying seeds. The owner, the creator and licence holders see the recipe and the
salt and may disclose both to anyone, who can then check them against the commitment in the
certificate or the log (`check_disclosure`) and re-run the recipe. "Recipe verified" stays
the platform's own signed attestation: it re-runs the recipe it holds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from sqlalchemy.orm import Session

from db.models import Artwork
from marketplace.errors import NotOwner

SCHEME = "sha256(canonical {recipe, salt})"


def recipe_commitment(recipe: dict[str, Any] | None, salt: str) -> str:
    """The hex SHA-256 commitment to `recipe` under `salt` (see the module docstring)."""
    body = json.dumps(
        {"recipe": recipe or {}, "salt": salt},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def check_disclosure(recipe: object, salt: object, commitment: object) -> bool:
    """Whether a disclosed recipe and salt are the ones a commitment was made to."""
    if not isinstance(recipe, dict) or not isinstance(salt, str) or not isinstance(commitment, str):
        return False
    try:
        expected = recipe_commitment(recipe, salt)
    except (TypeError, ValueError):
        return False
    return hmac.compare_digest(expected, commitment.lower())


def recipe_model(recipe: dict[str, Any] | None) -> str | None:
    """The id of the model a recipe ran (a GAN's or a diffusion model's SHA-256, or the style
    network's files), or None for an upload."""
    recipe = recipe or {}
    if isinstance(recipe.get("model_sha256"), str):
        return recipe["model_sha256"]
    models = recipe.get("models")
    if isinstance(models, dict) and models:
        return ",".join(f"{name}:{sha}" for name, sha in sorted(models.items()))
    return None


def public_recipe(artwork: Artwork) -> dict[str, Any]:
    """What anyone may know of an artwork's recipe: its kind, its model and the commitment."""
    recipe = artwork.recipe or {}
    return {
        "kind": recipe.get("kind"),
        "model": recipe_model(recipe),
        "commitment": recipe_commitment(recipe, artwork.recipe_salt),
        "scheme": SCHEME,
    }


def may_see_recipe(session: Session, user_id: int | None, artwork_id: int) -> bool:
    """The owner, the creator and licence holders may see (and disclose) the recipe."""
    from marketplace.collection import may_download_original  # collection imports artworks

    return may_download_original(session, user_id, artwork_id)


def disclose_recipe(session: Session, artwork_id: int, user_id: int | None) -> dict[str, Any]:
    """The full recipe, its salt and the commitment, for someone entitled to them.

    Raises:
        NotFound: no such artwork.
        NotOwner: `user_id` is not the owner, the creator or a licence holder.
    """
    if not may_see_recipe(session, user_id, artwork_id):
        raise NotOwner(
            f"only the owner, the creator and licensees of artwork #{artwork_id} may see its "
            "recipe; its public record has the commitment"
        )
    artwork = session.get(Artwork, artwork_id)
    return {
        "artwork_id": artwork.id,
        "recipe": artwork.recipe or {},
        "salt": artwork.recipe_salt,
        **public_recipe(artwork),
    }
