"""Identify an image: is it a registered work, a copy of one, signed by us, or unknown?

Signals, strongest first:
1. the file's SHA-256 equals a registered artwork's ("registered original");
2. the decoded pixels' SHA-256 equals one (a re-saved or signed copy of it);
3. an Atelier C2PA manifest: trusted, valid or tampered, and which artwork it claims;
4. PDQ near matches over all 8 rotations and mirrors (distance <= 31, both hashes strong);
5. when PDQ finds nothing (crops, borders, captions): the PDQ of the image with its uniform
   margins trimmed (which can name the work), then ORB keypoints verified by one RANSAC
   similarity transform against the 10 nearest hashes (provenance.keypoints), which only
   ever says "similar to": measured, it named wrong works too often to name owners.

A near match is reported as "copy of #id" only when no other work is almost as close: when
another strong hash lies within AMBIGUITY_MARGIN bits of the nearest (an emoji's skin-tone
variants differ in colour, which PDQ does not see), colour histograms must pick one work
clearly (COLOUR_RATIO, COLOUR_MAX), or the verdict is "similar to" with the evidence, never a
named owner. A hash too weak to match on also gives "similar to" at most.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.blobs import BlobStore
from db.models import Artwork, LogLeaf, ProvenanceEvent
from marketplace.artworks import find_near_copies, synced_index
from marketplace.errors import InvalidInput
from marketplace.local_matching import local_verdict
from marketplace.read_models import artwork_detail
from marketplace.regeneration import check_artwork_recipe
from marketplace.transparency import log_for, sign_head
from provenance.c2pa import MIME_TYPES, read_manifest
from provenance.checkpoint import NoteSigner
from provenance.errors import InvalidImage
from provenance.fingerprint import (
    PDQ_MATCH_DISTANCE,
    PDQ_MIN_QUALITY,
    colour_distance,
    colour_histogram,
    content_hash,
    hamming_distance,
    perceptual_hash,
    pixel_hash,
)
from provenance.images import decode_image, trim_borders

VERDICTS = {
    "registered_original": "Registered original",
    "copy_of": "Copy of",
    "similar_to": "Similar to",
    "manifest_valid": "Manifest valid",
    "tampered": "Tampered",
    "damaged": "Damaged or unreadable",
    "unknown": "Unknown",
}


@dataclass
class Identification:
    """The verdict on an image and the evidence for it."""

    verdict: str
    artwork_id: int | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    matches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def headline(self) -> str:
        text = VERDICTS[self.verdict]
        return f"{text} #{self.artwork_id}" if self.artwork_id else text

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "headline": self.headline,
            "artwork_id": self.artwork_id,
            "evidence": self.evidence,
            "matches": self.matches,
        }


def sniff_mime(data: bytes) -> str | None:
    """The C2PA-capable image type of a file, from its first bytes."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def history_with_proofs(session: Session, artwork_id: int, signer: NoteSigner) -> dict:
    """An artwork's record and events, each event with its inclusion proof against one
    signed checkpoint."""
    detail = artwork_detail(session, artwork_id)
    checkpoint = sign_head(session, signer)
    log = log_for(session, checkpoint.size)
    leaves = dict(
        session.execute(
            select(LogLeaf.event_id, LogLeaf.leaf_index)
            .join(ProvenanceEvent, ProvenanceEvent.id == LogLeaf.event_id)
            .where(ProvenanceEvent.artwork_id == artwork_id)
        ).all()
    )
    for event in detail["events"]:
        index = leaves.get(event["id"])
        if index is not None and index < checkpoint.size:
            event["leaf_index"] = index
            event["inclusion_proof"] = [
                base64.b64encode(p).decode() for p in log.inclusion_proof(index, checkpoint.size)
            ]
    detail["checkpoint"] = checkpoint.note
    return detail


@dataclass(frozen=True)
class SecondSignalMatch:
    artwork_id: int
    owner_id: int
    distance: int  # PDQ distance of the best hash (trimmed or whole)
    signal: str  # "trimmed" or "keypoints"
    strong: bool  # enough to name the work
    inliers: int = 0
    alignment: dict | None = None  # keypoints: the placement and pixel agreement found


LOCAL_PDQ_CANDIDATES = 5  # PDQ's nearest, checked by local features beside the word index's
PDQ_BITS = 256
# Chosen on 3,579 copies of the first 240 Noto emoji (bench/identify_bench.py's 15 kinds of
# copy) matched against all 3,916 emoji (scripts/tune_disambiguation.py): naming the
# PDQ-nearest work named a wrong one 58 times; with these values, 0 times, naming 1,820
# correctly instead of 1,879. bench/identify_bench.py checks them on other emoji.
AMBIGUITY_MARGIN = 16  # bits: a rival this close to the nearest makes PDQ alone unsure
COLOUR_RATIO = 0.8  # the chosen work's colour distance must be below this share of the next
COLOUR_MAX = 0.3  # ... and at most this, on the 0-2 scale of `colour_distance`


def _name_nearest(session, rgb, hexes, near, evidence, blobs) -> int | None:
    """The one work that `near` (PDQ matches, nearest first) shows `rgb` copies, or None
    when another strong hash is almost as close and colours cannot tell them apart."""
    best = near[0]
    ranked = synced_index(session).nearest(list(hexes), k=8)
    close = {i: d for i, d in ranked if d <= best.distance + AMBIGUITY_MARGIN}
    close[best.artwork_id] = best.distance
    rows = session.execute(
        select(Artwork.id, Artwork.blob_key).where(
            Artwork.id.in_(list(close)), Artwork.perceptual_quality >= PDQ_MIN_QUALITY
        )
    ).all()
    if len(rows) <= 1:
        return best.artwork_id
    if blobs is None:
        evidence["ambiguous"] = sorted(close)
        return None
    query = colour_histogram(rgb)
    scored = []
    for row in rows:
        try:
            reference = decode_image(blobs.get(row.blob_key)).rgb
        except (InvalidImage, KeyError, OSError):
            continue
        scored.append((colour_distance(query, colour_histogram(reference)), row.id))
    scored.sort()
    evidence["disambiguation"] = [
        {"artwork_id": aid, "pdq_distance": close[aid], "colour_distance": round(c, 4)}
        for c, aid in scored
    ]
    if len(scored) < 2:
        return None
    (first, pick), (second, _) = scored[0], scored[1]
    if first < COLOUR_RATIO * second and first <= COLOUR_MAX:
        return pick
    return None


def _second_signal(session, blobs, rgb, dihedral, evidence):
    """Matches PDQ alone misses: the PDQ of the image without its margins, then local
    features (`marketplace.local_matching`), which name a work when its keypoints agree on
    one placement and its pixels, aligned by it, agree with the copy's.

    Returns:
        (matches, the image they were found for, its dihedral hashes).
    """
    trimmed = trim_borders(rgb)
    if trimmed is not rgb:
        trimmed_hash = perceptual_hash(trimmed)
        evidence["trimmed_pdq"] = trimmed_hash.hex
        if trimmed_hash.strong:
            found = find_near_copies(session, trimmed_hash.dihedral)
            if found:
                matches = [
                    SecondSignalMatch(m.artwork_id, m.owner_id, m.distance, "trimmed", True)
                    for m in found
                ]
                return matches, trimmed, trimmed_hash.dihedral
    nearest = synced_index(session).nearest(list(dihedral), k=LOCAL_PDQ_CANDIDATES)
    distances = dict(nearest)
    verdict = local_verdict(session, blobs, rgb, extra_candidates=[i for i, _ in nearest])
    evidence["keypoint_checks"] = verdict.checked
    evidence["keypoint_reason"] = verdict.reason
    found = []
    if verdict.named is not None:
        found.append(verdict.named)
    found += [m for m in verdict.similar if m is not verdict.named]
    missing = [m.artwork_id for m in found if m.artwork_id not in distances]
    if missing:
        rows = session.execute(
            select(Artwork.id, Artwork.perceptual_hash).where(Artwork.id.in_(missing))
        ).all()
        for row in rows:
            distances[row.id] = min(hamming_distance(h, row.perceptual_hash) for h in dihedral)
    matches = [
        SecondSignalMatch(
            m.artwork_id,
            m.owner_id,
            distances.get(m.artwork_id, PDQ_BITS),
            "keypoints",
            m is verdict.named,
            m.verification.inliers,
            m.evidence(),
        )
        for m in found
    ]
    return matches, rgb, dihedral


def identify(
    session: Session,
    data: bytes,
    *,
    anchor_pem: str | None,
    signer: NoteSigner,
    blobs: BlobStore | None = None,
    model_cache: str | Path | None = None,
    rerun_recipe: bool = True,
) -> Identification:
    """Identify an image file (see the module docstring). With `blobs`, copies PDQ misses
    are looked for with the second signal (trimmed margins, then keypoints), and the
    recipe of the work named (or the nearest match) is re-run and compared with its stored
    image (`marketplace.regeneration`; GAN models are unpacked into `model_cache`).

    Raises:
        InvalidInput: the bytes are not a usable image.
    """
    result = _identify(session, data, anchor_pem=anchor_pem, signer=signer, blobs=blobs)
    if blobs is not None and result.matches and rerun_recipe:
        top = next(
            (m for m in result.matches if m["artwork_id"] == result.artwork_id),
            result.matches[0],
        )
        artwork = session.get(Artwork, top["artwork_id"])
        top["regeneration"] = check_artwork_recipe(session, blobs, artwork, model_cache=model_cache)
    return result


def _identify(
    session: Session,
    data: bytes,
    *,
    anchor_pem: str | None,
    signer: NoteSigner,
    blobs: BlobStore | None,
) -> Identification:
    try:
        decoded = decode_image(data)
    except InvalidImage as exc:
        # a damaged file can still carry a manifest, and say who signed it
        mime = sniff_mime(data)
        report = read_manifest(data, mime, anchor_pem) if mime else None
        if report is None or report.state == "unsigned":
            raise InvalidInput(
                f"not a usable image: {exc}", plain=f"This file can't be used as an image: {exc}."
            ) from None
        return Identification(
            verdict="tampered" if report.binding_broken else "damaged",
            artwork_id=(report.atelier or {}).get("artwork_id"),
            evidence={
                "decode_error": str(exc),
                "manifest": {"state": report.state, "failures": report.failures},
            },
        )
    sha, pixels = content_hash(data), pixel_hash(decoded.rgb)
    phash = perceptual_hash(decoded.rgb)
    evidence: dict[str, Any] = {
        "sha256": sha,
        "pixel_sha256": pixels,
        "pdq": phash.hex,
        "pdq_quality": phash.quality,
    }

    manifest = None
    if decoded.format in MIME_TYPES:
        manifest = read_manifest(data, MIME_TYPES[decoded.format], anchor_pem)
        evidence["manifest"] = {
            "state": manifest.state,
            "failures": manifest.failures,
            "claim_generator": manifest.claim_generator,
            "claimed_artwork_id": (manifest.atelier or {}).get("artwork_id"),
            "soft_binding": manifest.soft_binding,
        }

    exact = session.scalar(select(Artwork).where(Artwork.content_sha256 == sha))
    same_pixels = exact or session.scalar(select(Artwork).where(Artwork.pixel_sha256 == pixels))
    near = [] if not phash.strong else find_near_copies(session, phash.dihedral)
    candidates = {m.artwork_id: m.distance for m in near}
    if same_pixels is not None:
        candidates[same_pixels.id] = 0
    signals = {m.artwork_id: "pdq" for m in near}
    if same_pixels is not None:
        signals[same_pixels.id] = "file" if exact is not None else "pixels"
    matches = [
        {
            "artwork_id": aid,
            "distance": dist,
            "signal": signals[aid],
            **history_with_proofs(session, aid, signer),
        }
        for aid, dist in sorted(candidates.items(), key=lambda kv: (kv[1], kv[0]))[:10]
    ]
    result = Identification(verdict="unknown", evidence=evidence, matches=matches)

    if manifest is not None and manifest.binding_broken:
        result.verdict = "tampered"
        result.artwork_id = evidence["manifest"]["claimed_artwork_id"]
        return result
    if exact is not None:
        result.verdict, result.artwork_id = "registered_original", exact.id
        return result
    claimed = evidence.get("manifest", {}).get("claimed_artwork_id")
    if same_pixels is not None:
        signed_by_us = manifest is not None and manifest.state in ("trusted", "valid_untrusted")
        if signed_by_us and claimed == same_pixels.id:
            result.verdict = "manifest_valid"
        else:
            result.verdict = "copy_of"
        result.artwork_id = same_pixels.id
        return result
    strong = [m for m in near if getattr(m, "strong", True)]
    if strong:
        pick = _name_nearest(session, decoded.rgb, phash.dihedral, strong, evidence, blobs)
        if pick is not None:
            result.verdict, result.artwork_id = "copy_of", pick
            return result
    if blobs is not None:
        second, query_rgb, query_hexes = _second_signal(
            session, blobs, decoded.rgb, phash.dihedral, evidence
        )
        shown = {m["artwork_id"] for m in result.matches}
        result.matches += [
            {
                "artwork_id": m.artwork_id,
                "distance": m.distance,
                "signal": m.signal,
                **(
                    {"inliers": m.inliers, "alignment": m.alignment}
                    if m.signal == "keypoints"
                    else {}
                ),
                **history_with_proofs(session, m.artwork_id, signer),
            }
            for m in second[:10]
            if m.artwork_id not in shown
        ]
        named = [m for m in second if m.strong]
        if named and named[0].signal == "keypoints":
            # local features name one work only when no alike work lines up as well
            result.matches.sort(key=lambda m: m["artwork_id"] != named[0].artwork_id)
            result.verdict, result.artwork_id = "copy_of", named[0].artwork_id
            return result
        if named:
            pick = _name_nearest(session, query_rgb, query_hexes, named, evidence, blobs)
            if pick is not None:
                result.verdict, result.artwork_id = "copy_of", pick
                return result
        near = near or second
    if near:
        result.verdict = "similar_to"
        return result
    if manifest is not None and manifest.state in ("trusted", "valid_untrusted"):
        result.verdict = "manifest_valid"
        result.artwork_id = claimed
    evidence["match_distance"] = PDQ_MATCH_DISTANCE
    return result
