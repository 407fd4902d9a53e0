"""Verify: anyone uploads an image and sees whose it is: a verdict badge, the matches with
their creators and owners, each match's history with inclusion proofs, the evidence, the
log's signed tree head, and a signed certificate of the work named."""

from __future__ import annotations

from urllib.parse import quote

import gradio as gr
import numpy as np
from PIL import Image, ImageDraw

from marketplace import certificates, identification, resolution, transparency
from marketplace.read_models import artwork_blob_key
from provenance.images import decode_image
from ui.common import Services, badge, bind, escape, image_file, read_upload, run, thumbnail
from ui.shell import Page

VERDICT_TONES = {
    "registered_original": "green",
    "copy_of": "amber",
    "manifest_valid": "green",
    "similar_to": "amber",
    "tampered": "red",
    "damaged": "grey",
    "unknown": "grey",
}
MATCH_HEADERS = ["artwork", "title", "creator", "owner", "evidence", "events"]
PDQ_BITS = 256


def evidence_text(match: dict) -> str:
    """What ties a match to the image, named by the signal that found it."""
    signal, distance = match.get("signal", "pdq"), match["distance"]
    if signal == "file":
        return "the same file, byte for byte (SHA-256)"
    if signal == "pixels":
        return "the same pixels (SHA-256 of the decoded pixels); only the file around them differs"
    if signal == "trimmed":
        return (
            f"perceptual hash (PDQ) of the picture without its margins: {distance} of "
            f"{PDQ_BITS} bits differ"
        )
    if signal == "keypoints":
        aligned = match.get("alignment") or {}
        agree = aligned.get("edge_agreement")
        pixels = f"; aligned, {agree:.0%} of the work's detail matches" if agree else ""
        core = aligned.get("edge_core_agreement") or 0.0
        if agree and core > agree:  # letters or a sticker hide the work in one place
            pixels += f" ({core:.0%} outside the part the copy hides)"
        coverage = aligned.get("coverage")
        if agree and coverage is not None and coverage < 0.95:
            pixels += f", over {coverage:.0%} of the picture checked"
        return (
            f"{match.get('inliers', 0)} keypoints line up under one placement (ORB, RANSAC)"
            f"{pixels}; the whole pictures' perceptual hashes differ by {distance} of "
            f"{PDQ_BITS} bits"
        )
    return f"perceptual hash (PDQ): {distance} of {PDQ_BITS} bits differ"


def confidence_line(found: dict) -> str:
    """One plain sentence: how sure the verdict is, and why."""
    verdict, named = found["verdict"], found.get("artwork_id")
    matches, evidence = found.get("matches") or [], found.get("evidence") or {}
    top = next((m for m in matches if m["artwork_id"] == named), matches[0] if matches else None)
    signal = top.get("signal", "pdq") if top else None
    if verdict == "registered_original":
        return f"Certain: this is the registered file of #{named} itself."
    if verdict == "tampered":
        return (
            "Certain: the signed credentials were made for other pixels, so the picture was "
            "changed after it was signed."
        )
    if verdict == "damaged":
        return "None: the file is cut short or corrupted, so its contents cannot be checked."
    if verdict == "manifest_valid":
        if signal in ("file", "pixels"):
            return (
                f"Certain: the pixels are those of #{named}, and its signed credentials are intact."
            )
        return (
            f"The signed credentials are intact and name #{named}, but no registered picture "
            "has these pixels: the signature, not a match, names the work."
        )
    if verdict == "copy_of":
        if signal in ("file", "pixels"):
            return f"Certain: the pixels are identical to #{named}'s; only the file differs."
        if signal == "keypoints":
            return (
                f"High: {evidence.get('keypoint_reason', '')} No other registered work "
                "explains the picture as well."
            )
        rivals = len(evidence.get("disambiguation") or []) - 1
        also = (
            f" {rivals} other work{'s were' if rivals > 1 else ' was'} nearly as close, and "
            "colours tell them apart clearly."
            if rivals > 0
            else " No other registered work is that close."
        )
        return (
            f"High: its perceptual hash is {top['distance'] if top else '?'} of {PDQ_BITS} bits "
            f"from #{named}'s, within the {identification.PDQ_MATCH_DISTANCE} bits Atelier "
            f"counts as a copy.{also}"
        )
    if verdict == "similar_to":
        if evidence.get("ambiguous") or len(evidence.get("disambiguation") or []) > 1:
            return (
                "Low: several registered works are about equally close and their colours do "
                "not tell them apart, so no owner is named."
            )
        if signal == "keypoints" and top:
            return (
                f"Low: parts of this picture line up with #{top['artwork_id']}, as crops and "
                "edits do, but so can different works in one style. It resembles that work; "
                "it is not confirmed as a copy, so no owner is named."
            )
        return (
            "Low: the picture resembles registered work, but the evidence is too weak to name "
            "an owner."
        )
    return "No registered work matches this file, its pixels, its perceptual hash or its keypoints."


def _regeneration_text(match: dict) -> str:
    regen = match.get("regeneration") or {}
    if regen.get("status") == "verified":
        how = "exactly" if regen.get("identical") else "within tolerance"
        return f"#{match['artwork_id']}'s recipe, re-run now, gives its registered image {how}."
    if regen.get("status") == "mismatch":
        return f"#{match['artwork_id']}'s recipe, re-run now, does not give its registered image."
    return ""


def _match_html(match: dict, named: int | None) -> str:
    """One match: the work named by the verdict, or a work the image resembles."""
    proofs = sum(1 for e in match["events"] if "inclusion_proof" in e)
    history = "".join(
        f'<li><span class="atelier-muted">{e["created_at"][:16].replace("T", " ")}</span> · '
        f"<b>{escape(e['kind'].replace('_', ' '))}</b>"
        + (f" by {escape(e['actor'])}" if e.get("actor") else "")
        + (
            f' · <span class="atelier-muted">log leaf {e["leaf_index"]}, proof of '
            f"{len(e['inclusion_proof'])} hashes</span>"
            if "inclusion_proof" in e
            else ""
        )
        + "</li>"
        for e in match["events"]
    )
    work = f"#{match['artwork_id']} {escape(match['title'])}"
    people = f"created by {escape(match['creator'])}, owned by {escape(match['owner'])}"
    if match["artwork_id"] == named:
        title = f"<b>{work}</b>: {people}"
    else:
        # a resemblance names a work, never the owner of the file being checked
        title = f'Resembles <b>{work}</b> <span class="atelier-muted">({people})</span>'
    regen = _regeneration_text(match)
    return (
        f'<div class="atelier-match">{title}'
        f'<div class="atelier-muted">Evidence: {escape(evidence_text(match), markdown=False)}'
        + (f"<br>{regen}" if regen else "")
        + f'</div><ol class="atelier-timeline">{history}</ol>'
        f'<div class="atelier-muted">{proofs} of {len(match["events"])} events proven in the log'
        "</div></div>"
    )


def result_html(found: dict) -> str:
    """The verdict as the page shows it: one headline, one confidence line, the matches."""
    verdict = found["verdict"]
    # the headline is built from fixed words and an id, never from user text
    parts = [
        f'<div class="atelier-verdict" id="verify-verdict">'
        f"{badge(found['headline'], VERDICT_TONES[verdict])}</div>",
        f'<p id="verify-confidence">{escape(confidence_line(found), markdown=False)}</p>',
    ]
    recovered = found.get("recovered_manifest")
    if recovered:
        link = f"/sbr/v1/manifests/{quote(recovered, safe=':')}"
        parts.append(
            '<p id="verify-recovered"><b>Content Credentials recovered</b>: this file carries '
            f'none, but the work it copies has them: <a href="{link}">{escape(recovered)}</a> '
            '<span class="atelier-muted">(C2PA soft-binding resolution API)</span></p>'
        )
    parts += [_match_html(m, found.get("artwork_id")) for m in found["matches"][:3]]
    return "\n".join(parts)


EMPTY_RESULT = '<div class="atelier-muted">The verdict appears here.</div>'
ALIGN_SIDE = 320  # px: each half of the "how it lines up" picture


def clear_result():
    """The Verify page's outputs as before any request: no verdict, no matches, no head."""
    return EMPTY_RESULT, None, None, "", None, None


def _corners(width: float, height: float) -> np.ndarray:
    return np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float64)


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def alignment_picture(copy: Image.Image, work: Image.Image, alignment: dict) -> Image.Image:
    """The copy beside the work it copies, each with the other's outline drawn where the
    placement found puts it: on the copy, where the work lies; on the work, which part of it
    the copy shows.

    Args:
        copy: the uploaded picture.
        work: the work's public preview (never its original).
        alignment: the match's `alignment` evidence (transform, sizes, mirrored).
    """
    transform = np.vstack([np.asarray(alignment["transform"], np.float64), [0, 0, 1]])
    (ww, wh), (cw, ch) = alignment["work_size"], alignment["copy_size"]
    if alignment.get("mirrored"):  # the fit maps into the mirrored copy: flip x back
        transform = np.array([[-1.0, 0, cw - 1.0], [0, 1, 0], [0, 0, 1]]) @ transform
    left, right = copy.convert("RGB").copy(), work.convert("RGB").copy()
    left.thumbnail((ALIGN_SIDE, ALIGN_SIDE))
    right.thumbnail((ALIGN_SIDE, ALIGN_SIDE))
    to_left = np.diag([left.width / cw, left.height / ch, 1.0])
    to_right = np.diag([right.width / ww, right.height / wh, 1.0])
    work_in_copy = _apply((to_left @ transform)[:2], _corners(ww, wh))
    copy_in_work = _apply((to_right @ np.linalg.inv(transform))[:2], _corners(cw, ch))
    gap = 16
    out = Image.new(
        "RGB", (left.width + right.width + gap, max(left.height, right.height)), "white"
    )
    out.paste(left, (0, 0))
    out.paste(right, (left.width + gap, 0))
    draw = ImageDraw.Draw(out)
    draw.polygon([tuple(p) for p in work_in_copy], outline=(230, 40, 90), width=3)
    shifted = copy_in_work + np.array([left.width + gap, 0.0])
    draw.polygon([tuple(p) for p in shifted], outline=(230, 40, 90), width=3)
    return out


def verify(services: Services, image_path):
    """Identify an image. Returns (verdict HTML, matches, evidence, signed tree head,
    certificate of the work named or None, the "how it lines up" picture or None)."""
    data = read_upload(image_path, "an image to check")

    def work():
        with services.sessions() as s, s.begin():
            result = identification.identify(
                s,
                data,
                anchor_pem=services.c2pa.anchor_pem,
                signer=services.log_signer,
                blobs=services.blobs,
                model_cache=services.model_cache,
            )
            head = transparency.sign_head(s, services.log_signer).note
            note = (
                certificates.certificate(s, result.artwork_id, services.log_signer)
                if result.artwork_id is not None and result.verdict != "tampered"
                else None
            )
            found = result.as_dict()
            manifest = (result.evidence.get("manifest") or {}).get("state", "unsigned")
            if note is not None and manifest == "unsigned":
                # the copy lost its credentials: recover the work's from the resolution API
                found["recovered_manifest"] = resolution.public_manifest(
                    s, services.blobs, result.artwork_id, services.c2pa
                ).manifest_id
            top = _lined_up(found)
            key = artwork_blob_key(s, top["artwork_id"]) if top else None
            return found, head, note, top, key

    found, head, note, top, preview_key = run(work)
    rows = [
        [
            m["artwork_id"],
            m["title"],
            m["creator"],
            m["owner"],
            evidence_text(m),
            len(m["events"]),
        ]
        for m in found["matches"]
    ]
    evidence = {
        "verdict": found["verdict"],
        **found["evidence"],
        "histories": [
            {
                "artwork_id": m["artwork_id"],
                "events": m["events"],
                "parents": m["parents"],
                "children": m["children"],
                "regeneration": m.get("regeneration"),
            }
            for m in found["matches"]
        ],
    }
    certificate_path = None
    if note is not None:
        path = services.new_file(f"atelier-{found['artwork_id']}.cert.txt")
        path.write_text(note, encoding="utf-8")
        certificate_path = str(path)
    aligned_path = None
    preview = thumbnail(services, preview_key, 2 * ALIGN_SIDE) if preview_key else None
    if top is not None and preview is not None:
        # the picture identification placed: decoded the one way (EXIF turn, alpha on white)
        copy = decode_image(data).rgb
        picture = alignment_picture(copy, Image.open(preview), top["alignment"])
        aligned_path = services.new_file(f"atelier-{top['artwork_id']}-lined-up.png")
        picture.save(aligned_path)
        aligned_path = str(aligned_path)
    return result_html(found), rows, evidence, head, certificate_path, aligned_path


def _lined_up(found: dict) -> dict | None:
    """The match whose keypoint placement the page draws: the work named, or the closest
    resemblance, when keypoints found it."""
    named = found.get("artwork_id")
    for match in found.get("matches") or []:
        placed = match.get("signal") == "keypoints" and (match.get("alignment") or {}).get(
            "transform"
        )
        if placed and (named is None or match["artwork_id"] == named):
            return match
    return None


def build(services: Services, page: Page) -> None:
    """Lay out the Verify page and wire its handlers."""
    gr.Markdown(
        "Upload any image to see whose it is, what it was made from, and its history, each "
        "event with a proof from the transparency log. No account needed."
    )
    with gr.Row():
        with gr.Column(scale=2):
            image = image_file("Image to check", "verify-image", height=160)
            go = gr.Button("Verify", variant="primary", elem_id="verify-go")
        with gr.Column(scale=3):
            verdict = gr.HTML(EMPTY_RESULT, elem_id="verify-result")
            certificate = gr.File(label="Signed certificate of the work named", height=80)
    matches = gr.Dataframe(
        headers=MATCH_HEADERS, interactive=False, label="Matches", elem_id="verify-matches"
    )
    with gr.Accordion("Evidence (hashes, manifest, proofs)", open=False):
        evidence = gr.JSON(label="Evidence")
    head = gr.Textbox(
        label="The log's signed tree head (C2SP checkpoint; check it with /log/verifier-key)",
        lines=5,
        elem_id="verify-head",
    )
    lined_up = gr.Image(
        label="How the copy lines up with the work (outlined: where each shows the other)",
        type="filepath",
        interactive=False,
        elem_id="verify-lined-up",
        height=340,
    )
    shown = [verdict, matches, evidence, head, certificate, lined_up]
    # every new request starts from an empty result: an error must never sit beside the
    # previous file's verdict, where a junk file would look verified
    go.click(clear_result, None, shown, queue=False, show_progress="hidden").then(
        bind(services, verify),
        [image],
        shown,
        api_name="verify",
        concurrency_limit=2,
        concurrency_id="verify",
    )
    image.change(clear_result, None, shown, queue=False, show_progress="hidden")
