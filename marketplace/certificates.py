"""Provenance certificates and signed downloads.

A certificate is a C2SP signed note whose text is the canonical JSON of an artwork's
record, derivation edges and event history with inclusion proofs, followed by a newline. It
verifies with the log's published verifier key, so no extra key is needed to check it.
"""

from __future__ import annotations

import io
import json
from typing import Any

from PIL import Image
from sqlalchemy.orm import Session

from db.blobs import BlobStore
from marketplace.artworks import get_artwork, parents_of
from marketplace.identification import history_with_proofs
from marketplace.recipe_commitments import recipe_commitment
from provenance.c2pa import (
    COMPOSITE,
    MIME_TYPES,
    TRAINED,
    Ingredient,
    ManifestSpec,
    SigningMaterial,
    sign_image,
)
from provenance.checkpoint import NoteSigner, NoteVerifier, open_note
from provenance.fingerprint import iscc_image_code
from provenance.images import DecodedImage, decode_image

SOURCE_TYPES = {"ai_generated": TRAINED, "ai_modified": COMPOSITE}


def certificate(session: Session, artwork_id: int, signer: NoteSigner) -> str:
    """A signed provenance certificate for an artwork."""
    body = {"type": "atelier.certificate.v1", **history_with_proofs(session, artwork_id, signer)}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n"
    return signer.sign(text)


def read_certificate(note: str, verifier: NoteVerifier) -> dict[str, Any]:
    """Verify a certificate and return its contents.

    Raises:
        NoteError: forged, changed, or signed by another key.
    """
    return json.loads(open_note(note, [verifier]))


def signed_download(
    session: Session, blobs: BlobStore, artwork_id: int, material: SigningMaterial
) -> tuple[bytes, str, str]:
    """The artwork's image with Content Credentials embedded: (bytes, mime type, file name).

    Formats C2PA cannot carry (GIF, BMP, TIFF) are converted to PNG first.
    """
    artwork = get_artwork(session, artwork_id)
    data, fmt, decoded = signable_file(blobs, artwork)
    if fmt == "PNG" and artwork.recipe:
        data = _with_parameters_chunk(data, artwork.recipe)
    ingredients = []
    for parent, role in parents_of(session, artwork.id):
        parent_data = blobs.get(parent.blob_key)
        parent_fmt = parent.format if parent.format in MIME_TYPES else None
        if parent_fmt is None:
            buf = io.BytesIO()
            Image.open(io.BytesIO(parent_data)).convert("RGB").save(buf, "PNG")
            parent_data, parent_fmt = buf.getvalue(), "PNG"
        ingredients.append(
            Ingredient(f"#{parent.id} {parent.title} ({role})", parent_data, MIME_TYPES[parent_fmt])
        )
    spec = artwork_manifest(
        artwork,
        data,
        fmt,
        decoded,
        {
            "artwork_id": artwork.id,
            "creator": artwork.creator.username,
            "owner": artwork.owner.username,
            "content_sha256": artwork.content_sha256,
            "pdq": artwork.perceptual_hash,
            # the file goes to the owner and licensees only: its credentials disclose the
            # recipe and the salt, so anyone they give it to can check the commitment
            "recipe": artwork.recipe,
            "recipe_salt": artwork.recipe_salt,
            "recipe_commitment": recipe_commitment(artwork.recipe, artwork.recipe_salt),
        },
        tuple(ingredients),
    )
    signed = sign_image(data, MIME_TYPES[fmt], spec, material)
    extension = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}[fmt]
    return signed, MIME_TYPES[fmt], f"atelier-{artwork.id}.{extension}"


def artwork_manifest(
    artwork, data: bytes, fmt: str, decoded: DecodedImage, atelier: dict, ingredients=()
) -> ManifestSpec:
    """What an artwork's Content Credentials say: its title, how it was made (the AI
    label's IPTC source type, or "opened" from the upload itself), the ISCC soft binding,
    the Atelier assertion given, and its source works as ingredients."""
    source_type = SOURCE_TYPES.get(artwork.ai_label)
    return ManifestSpec(
        title=artwork.title,
        digital_source_type=source_type,
        opened_from=None
        if source_type
        else Ingredient(f"upload of #{artwork.id}", data, MIME_TYPES[fmt]),
        soft_binding=iscc_image_code(decoded.rgb),
        atelier=atelier,
        ingredients=tuple(ingredients),
    )


def signable_file(blobs: BlobStore, artwork) -> tuple[bytes, str, DecodedImage]:
    """The artwork's file in a format C2PA can carry (GIF, BMP and TIFF become PNG): (bytes,
    format, the decoded image)."""
    data = blobs.get(artwork.blob_key)
    decoded = decode_image(data)
    fmt = artwork.format if artwork.format in MIME_TYPES else "PNG"
    if fmt != artwork.format:
        buf = io.BytesIO()
        decoded.rgb.save(buf, "PNG")
        data = buf.getvalue()
    return data, fmt, decoded


def _with_parameters_chunk(png: bytes, recipe: dict[str, Any]) -> bytes:
    """The PNG with a `parameters` chunk describing its recipe, unless it has one already."""
    from generation.parameters import png_with_parameters, read_parameters
    from generation.recipe_kinds import parameters_text

    if read_parameters(png) is not None:
        return png
    text = parameters_text(recipe)
    if text is None:
        return png
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        return png_with_parameters(image, text)
