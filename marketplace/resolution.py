"""The C2PA Soft Binding Resolution API: finding a work's Content Credentials again after a
copy lost them (stripped metadata, a re-encode, a crop).

The API (C2PA's "Soft Binding Resolution API", OpenAPI 1.1.0; routes in `app.py` under
`/sbr/v1`) answers three questions:
- `matches/byBinding`: which manifests carry this soft-binding value? Atelier supports
  `io.iscc.v0` (the ISCC Image-Code in every manifest it signs: exact codes, and codes
  within ISCC_NEAR_BITS of 64 bits as near matches);
- `matches/byContent`: which manifests belong to the work this file copies? With
  `io.iscc.v0` the file's ISCC code is looked up as above; with Atelier's own matcher
  (`MATCHER_ALG`, the default) the file goes through `marketplace.identification`: exact
  bytes and pixels, PDQ, trimmed margins and local features, so a cropped, captioned or
  re-encoded copy finds its work;
- `manifests/{manifestId}`: the manifest store itself.

Every work's manifest here is its *public* manifest store (`PublicManifest`), signed on first
request and kept: the claim a certificate makes (creator, content and pixel hashes, PDQ,
the recipe's commitment, the ISCC soft binding, the AI-disclosure source type), never the
recipe or its salt, which only the owner's signed download carries.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.blobs import BlobStore
from db.models import ArtworkFeatures, PublicManifest
from marketplace.artworks import get_artwork
from marketplace.certificates import artwork_manifest, signable_file
from marketplace.errors import InvalidInput, NotFound
from marketplace.recipe_commitments import recipe_commitment
from provenance.c2pa import MIME_TYPES, SigningMaterial, sign_manifest_store

ISCC_ALG = "io.iscc.v0"
MATCHER_ALG = "org.atelier.identify.1"  # private: not in the C2PA algorithm list
SUPPORTED = {"fingerprints": [{"alg": ISCC_ALG}, {"alg": MATCHER_ALG}], "watermarks": []}
ISCC_NEAR_BITS = 6  # of the Image-Code's 64: a near match, not another picture
MAX_RESULTS = 100
MAX_BINDING_CHARS = 512
# similarity scores (0-100) by how the work was found
SCORES = {"file": 100, "pixels": 99, "pdq": 90, "trimmed": 88, "keypoints": 85}
SIMILAR_SCORE = 40  # a resemblance shown, not a work named


@dataclass(frozen=True)
class Match:
    artwork_id: int
    score: int


def check_max_results(value: Any) -> int:
    """`maxResults` as an integer in [1, MAX_RESULTS] (default 10)."""
    if value is None:
        return 10
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"maxResults must be a whole number, got {value!r}") from None
    if not 1 <= number <= MAX_RESULTS:
        raise InvalidInput(f"maxResults must be between 1 and {MAX_RESULTS}, got {number}")
    return number


def _iscc_bits(code: str) -> int:
    import iscc_core

    try:
        maintype, _subtype, _version, _length, digest = iscc_core.iscc_decode(code)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise InvalidInput(f"not an ISCC code: {exc}") from None
    if maintype != 2 or len(digest) != 8:  # a Content-Code of 64 bits
        raise InvalidInput("not a 64-bit ISCC Image-Code")
    return int.from_bytes(digest, "big")


def decode_binding(alg: Any, value: Any) -> str:
    """The ISCC code a (alg, base64 value) soft binding names.

    Raises:
        InvalidInput: an unsupported algorithm, or a value that is not base64 of an ISCC
            Image-Code.
    """
    if alg != ISCC_ALG:
        raise InvalidInput(
            f"unsupported soft binding algorithm {str(alg)[:60]!r}; lookups by value support "
            f"{ISCC_ALG}"
        )
    if not isinstance(value, str) or not 0 < len(value) <= MAX_BINDING_CHARS:
        raise InvalidInput(f"value must be base64 text of at most {MAX_BINDING_CHARS} characters")
    try:
        code = base64.b64decode(value, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("value must be base64 of an ISCC code such as ISCC:EEA...") from None
    code = code.strip()
    if not code.startswith("ISCC:"):
        code = "ISCC:" + code
    _iscc_bits(code)
    return code


def _stored_bits(code: str) -> int:
    """The 64 bits of an ISCC Image-Code this service computed (header: 2 bytes)."""
    body = code.removeprefix("ISCC:")
    raw = base64.b32decode(body + "=" * (-len(body) % 8))
    return int.from_bytes(raw[2:10], "big")


def matches_by_iscc(session: Session, code: str, max_results: int) -> list[Match]:
    """Works whose ISCC Image-Code is `code` or within ISCC_NEAR_BITS of it."""
    wanted = _iscc_bits(code)
    found = []
    for artwork_id, iscc in session.execute(
        select(ArtworkFeatures.artwork_id, ArtworkFeatures.iscc)
    ):
        distance = (wanted ^ _stored_bits(iscc)).bit_count()
        if distance <= ISCC_NEAR_BITS:
            found.append((distance, artwork_id))
    found.sort()
    return [Match(aid, round(100 * (1 - d / 64))) for d, aid in found[:max_results]]


def matches_by_content(
    session: Session,
    blobs: BlobStore,
    data: bytes,
    *,
    alg: str | None,
    max_results: int,
    signer,
    anchor_pem: str | None,
) -> list[Match]:
    """The works a file copies, best first.

    Raises:
        InvalidInput: an unsupported algorithm or a file that is not a usable image.
    """
    from marketplace.identification import identify
    from provenance.fingerprint import iscc_image_code
    from provenance.images import decode_image

    if alg not in (None, "", MATCHER_ALG, ISCC_ALG):
        raise InvalidInput(
            f"unsupported soft binding algorithm {str(alg)[:60]!r}; use {MATCHER_ALG} or {ISCC_ALG}"
        )
    if alg == ISCC_ALG:
        from provenance.errors import InvalidImage

        try:
            rgb = decode_image(data).rgb
        except InvalidImage as exc:
            raise InvalidInput(f"not a usable image: {exc}") from None
        return matches_by_iscc(session, iscc_image_code(rgb), max_results)
    result = identify(
        session, data, anchor_pem=anchor_pem, signer=signer, blobs=blobs, rerun_recipe=False
    )
    named = result.artwork_id if result.verdict in ("copy_of", "registered_original") else None
    if result.verdict == "manifest_valid" and result.matches:
        named = result.artwork_id
    out: list[Match] = []
    for match in result.matches:
        if match["artwork_id"] == named:
            out.insert(0, Match(named, SCORES.get(match.get("signal", "pdq"), 85)))
        else:
            out.append(Match(match["artwork_id"], SIMILAR_SCORE))
    if named is not None and all(m.artwork_id != named for m in out):
        out.insert(0, Match(named, 95))  # named by its intact manifest
    return out[:max_results]


def public_manifest(
    session: Session, blobs: BlobStore, artwork_id: int, material: SigningMaterial
) -> PublicManifest:
    """The artwork's public manifest store, signed on first request and kept."""
    row = session.get(PublicManifest, artwork_id)
    if row is not None:
        return row
    artwork = get_artwork(session, artwork_id)
    data, fmt, decoded = signable_file(blobs, artwork)
    spec = artwork_manifest(
        artwork,
        data,
        fmt,
        decoded,
        {
            "artwork_id": artwork.id,
            "creator": artwork.creator.username,
            "content_sha256": artwork.content_sha256,
            "pixel_sha256": artwork.pixel_sha256,
            "pdq": artwork.perceptual_hash,
            "recipe_commitment": recipe_commitment(artwork.recipe, artwork.recipe_salt),
            "public": True,  # the recipe and its salt are in the owner's download only
        },
    )
    manifest_id, store = sign_manifest_store(data, MIME_TYPES[fmt], spec, material)
    row = PublicManifest(artwork_id=artwork.id, manifest_id=manifest_id, blob_key=blobs.put(store))
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # signed at the same moment by another request: keep theirs
        row = session.get(PublicManifest, artwork_id)
        if row is None:
            raise
    return row


def manifest_ids(
    session: Session, blobs: BlobStore, matches: list[Match], material: SigningMaterial
) -> list[dict[str, Any]]:
    """The API's `matches` array: each work's public manifest identifier and score."""
    return [
        {
            "manifestId": public_manifest(session, blobs, m.artwork_id, material).manifest_id,
            "similarityScore": m.score,
        }
        for m in matches
    ]


def manifest_store(session: Session, blobs: BlobStore, manifest_id: str) -> bytes:
    """A public manifest store by its identifier.

    Raises:
        NotFound: no manifest has this identifier.
    """
    if not isinstance(manifest_id, str) or len(manifest_id) > 100:
        raise NotFound("no manifest has this identifier")
    row = session.scalar(select(PublicManifest).where(PublicManifest.manifest_id == manifest_id))
    if row is None:
        raise NotFound("no manifest has this identifier")
    return blobs.get(row.blob_key)


def artwork_of_manifest(session: Session, manifest_id: str) -> int | None:
    row = session.scalar(select(PublicManifest).where(PublicManifest.manifest_id == manifest_id))
    return None if row is None else row.artwork_id
