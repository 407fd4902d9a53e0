"""Verify: anyone uploads an image and sees whose it is: a verdict badge, the matches with
their creators and owners, each match's history with inclusion proofs, the evidence, the
log's signed tree head, and a signed certificate of the work named."""

from __future__ import annotations

import gradio as gr

from marketplace import certificates, identification, transparency
from ui.common import Services, badge, escape, image_file, read_upload, run
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
VERDICT_NOTES = {
    "registered_original": "These exact bytes are a registered artwork.",
    "copy_of": "The pixels, or a close copy of them, belong to a registered artwork.",
    "manifest_valid": "The file carries Atelier's signed Content Credentials, intact.",
    "similar_to": "It looks like registered work, but not closely enough to name one owner.",
    "tampered": "The file's Content Credentials do not match its pixels: it was altered.",
    "damaged": "This file is cut short or corrupted, so it cannot be checked. Ask for the "
    "original file and verify that.",
    "unknown": "Nothing registered here matches this image.",
}
MATCH_HEADERS = ["artwork", "title", "creator", "owner", "signal", "distance", "events"]


def _match_html(match: dict) -> str:
    proofs = sum(1 for e in match["events"] if "inclusion_proof" in e)
    regen = match.get("regeneration") or {}
    regen_text = ""
    if regen.get("status") == "verified":
        regen_text = " · " + badge(
            "recipe re-run: identical" if regen.get("identical") else "recipe re-run: verified",
            "green",
        )
    elif regen.get("status") == "mismatch":
        regen_text = " · " + badge("recipe re-run: does not match", "red")
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
    return (
        f'<div class="atelier-match"><b>#{match["artwork_id"]} {escape(match["title"])}</b>: '
        f"created by <b>{escape(match['creator'])}</b>, owned by <b>{escape(match['owner'])}</b>"
        f" · {escape(match.get('signal', 'pdq'))} distance {match['distance']}{regen_text}"
        f'<ol class="atelier-timeline">{history}</ol>'
        f'<div class="atelier-muted">{proofs} of {len(match["events"])} events proven in the log'
        "</div></div>"
    )


EMPTY_RESULT = '<div class="atelier-muted">The verdict appears here.</div>'


def clear_result():
    """The Verify page's outputs as before any request: no verdict, no matches, no head."""
    return EMPTY_RESULT, None, None, "", None


def build(services: Services, page: Page) -> None:
    def verify(image_path):
        """Identify an image. Returns (verdict HTML, matches, evidence, signed tree head,
        certificate of the work named or None)."""
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
                return result.as_dict(), head, note

        found, head, note = run(work)
        verdict = found["verdict"]
        # the headline is built from fixed words and an id, never from user text
        parts = [
            f'<div class="atelier-verdict" id="verify-verdict">'
            f"{badge(found['headline'], VERDICT_TONES[verdict])}</div>",
            f'<p class="atelier-muted">{VERDICT_NOTES[verdict]}</p>',
        ]
        parts += [_match_html(m) for m in found["matches"][:3]]
        rows = [
            [
                m["artwork_id"],
                m["title"],
                m["creator"],
                m["owner"],
                m.get("signal", "pdq"),
                m["distance"],
                len(m["events"]),
            ]
            for m in found["matches"]
        ]
        evidence = {
            "verdict": verdict,
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
        return "\n".join(parts), rows, evidence, head, certificate_path

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
    shown = [verdict, matches, evidence, head, certificate]
    # every new request starts from an empty result: an error must never sit beside the
    # previous file's verdict, where a junk file would look verified
    go.click(clear_result, None, shown, queue=False, show_progress="hidden").then(
        verify,
        [image],
        shown,
        api_name="verify",
        concurrency_limit=2,
        concurrency_id="verify",
    )
    image.change(clear_result, None, shown, queue=False, show_progress="hidden")
