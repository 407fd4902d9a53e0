"""Saving what the studio makes, and the rules on what it may be made from.

Generation itself is pure (`generation/`); here its inputs that are registered artworks
are checked (a person may build on their own works, or on works whose owner granted them a
licence that allows derivatives, `may_derive_from`), and its outputs are registered with
their recipe and derivation edges, so a sale pays the source works' owners their share.

Source images a recipe names by hash (a style recipe's content and style pictures) are kept
in the blob store, whose keys are those hashes, so any recipe can be re-run later to verify
it (`marketplace.regeneration`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from db.blobs import BlobStore
from db.models import Artwork
from generation.recipe_kinds import BREEDABLE_KINDS
from marketplace.artworks import get_artwork, may_derive_from, register_artwork
from marketplace.errors import InvalidInput, NotOwner

USES = {
    "style_source": "as a style",
    "content_source": "as the picture to restyle or dream on",
    "breeding_parent": "as a parent for breeding",
    "training_data": "to train a model",
}


def check_source(session: Session, user_id: int, artwork_id: int, role: str) -> Artwork:
    """The artwork `user_id` wants to build on in `role`, if they may.

    Raises:
        NotFound: no such artwork.
        NotOwner: someone else's work and no licence that allows derivatives; the message
            says how to get one.
    """
    if role not in USES:
        raise InvalidInput(f"`role` must be one of {sorted(USES)}, got {role!r}")
    artwork = get_artwork(session, artwork_id)
    if not may_derive_from(session, user_id, artwork):
        raise NotOwner(
            f"you may not use artwork #{artwork.id} ({artwork.title!r}) {USES[role]}: it "
            f"belongs to {artwork.owner.username}, whose licence does not allow derivative "
            "works. Buy its commercial licence, or use your own work."
        )
    return artwork


def breeding_parent_recipe(session: Session, user_id: int, artwork_id: int) -> dict[str, Any]:
    """The GAN recipe of an artwork used as a parent for breeding or a morph end.

    Raises:
        NotOwner: see `check_source`.
        InvalidInput: the artwork was not made by the studio's GAN from a latent (an upload,
            a restyle or a morph cannot be bred).
    """
    artwork = check_source(session, user_id, artwork_id, "breeding_parent")
    recipe = artwork.recipe or {}
    if recipe.get("kind") not in BREEDABLE_KINDS:
        raise InvalidInput(
            f"artwork #{artwork.id} ({artwork.title!r}) was not made with the studio's GAN, so "
            "it has no latent to breed or morph from; choose a generated artwork"
        )
    return dict(recipe)


def save_creation(
    session: Session,
    blobs: BlobStore,
    user_id: int,
    image_bytes: bytes,
    recipe: dict[str, Any],
    *,
    title: str,
    tags: Sequence[str] | str | None = None,
    parents: Sequence[tuple[int, str]] = (),
    sources: Sequence[bytes] = (),
) -> Artwork:
    """Register a studio result as `user_id`'s artwork.

    Args:
        session: the unit of work.
        blobs: the blob store.
        user_id: the maker, who owns the new artwork.
        image_bytes: the file as the studio wrote it (PNG with its parameters chunk).
        recipe: the generation recipe (its `kind` sets the AI-disclosure label).
        title: the artwork's title.
        tags: its tags.
        parents: (artwork id, role) of registered works it was made from; each is checked
            with `check_source` again here, in this transaction.
        sources: other input files the recipe names by hash (kept so it can be re-run).

    Raises:
        InvalidInput, NotOwner, CopyrightConflict, AlreadyRegistered: see
            `register_artwork`; nothing is stored then.
    """
    for artwork_id, role in parents:
        check_source(session, user_id, artwork_id, role)
    artwork = register_artwork(
        session,
        blobs,
        image_bytes,
        owner_id=user_id,
        title=title,
        tags=tags,
        recipe=recipe,
        parents=parents,
    )
    for data in sources:
        blobs.put(bytes(data))
    return artwork
