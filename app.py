"""The Atelier web app (Gradio). It only translates: each handler calls a library service and
turns a domain refusal into `gr.Error`. Who is signed in lives in per-browser `gr.State`,
never in a module global (Gradio shares globals between all users).

Run it with `atelier serve` (or `make run`).
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import uuid
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
from fastapi import FastAPI, Response

from atelier.config import Settings
from db.blobs import BlobNotFound, LocalBlobStore
from db.migrate import upgrade
from db.session import make_engine, make_sessionmaker
from marketplace import (
    accounts,
    artworks,
    browse,
    identification,
    ledger,
    listings,
    purchases,
    transparency,
    views,
)
from marketplace.errors import MarketplaceError
from marketplace.media import thumbnail_path
from marketplace.money import MAX_ROYALTY_BPS, format_cents, parse_percent_bps, parse_price
from provenance.c2pa import load_signing_material
from provenance.errors import InvalidImage
from provenance.images import MAX_IMAGE_BYTES
from provenance.tiles import TileError

LICENCE_CHOICES = ["personal", "commercial", "exclusive"]
AI_CHOICES = [
    ("any", ""),
    ("AI-generated", "ai_generated"),
    ("AI-modified", "ai_modified"),
    ("Uploaded", "human_upload"),
]
SORT_CHOICES = [
    ("Newest", "newest"),
    ("Oldest", "oldest"),
    ("Price: low to high", "price_asc"),
    ("Price: high to low", "price_desc"),
]


@dataclass
class Services:
    """What the handlers need; built once at start from the settings."""

    settings: Settings

    def __post_init__(self) -> None:
        self.engine = make_engine(self.settings.database_url)
        upgrade(self.engine)
        self.sessions = make_sessionmaker(self.engine)
        self.readers = make_sessionmaker(self.engine, read_only=True)
        self.blobs = LocalBlobStore(self.settings.blob_dir)
        self.thumbs = self.settings.data_dir / "thumbs"
        self.log_signer = transparency.load_signer(self.settings.data_dir, self.settings.log_origin)
        self.c2pa = load_signing_material(self.settings.data_dir / "keys")


# one pass: HTML's special characters and every character Markdown gives a meaning
_ESCAPES = str.maketrans({c: f"&#{ord(c)};" for c in "&<>\"'\\`*_{}[]()#+-.!|~"})


def _e(value: object) -> str:
    """Escape user-entered text for Markdown output: HTML is escaped, and every character
    Markdown gives a meaning (emphasis, links, headings, code, tables) becomes an entity."""
    return str(value).translate(_ESCAPES)


def _whole(value: object, what: str) -> int:
    """A whole number from a form field, or a clear message."""
    if value in (None, ""):
        raise gr.Error(f"Enter {what}.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise gr.Error(f"{what.capitalize()} must be a whole number.") from None
    if not number.is_integer() or abs(number) > 2**53:
        raise gr.Error(f"{what.capitalize()} must be a whole number.")
    return int(number)


def _thumbnail(services: Services, key: str, size: int = 256) -> str | None:
    """A display copy of a stored image, or None if it cannot be read (the page still loads)."""
    try:
        return str(thumbnail_path(services.blobs, key, services.thumbs, size=size))
    except (BlobNotFound, InvalidImage, OSError):
        return None


def _require_user(user: dict | None) -> dict:
    if not user:
        raise gr.Error("Sign in first (Account tab).")
    return user


def build_demo(services: Services) -> gr.Blocks:
    rules = services.settings.rules

    def run(fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (MarketplaceError, ValueError) as exc:
            raise gr.Error(str(exc)) from None

    # --- gallery ----------------------------------------------------------------------------
    def search(text, min_price, max_price, licence, ai_label, sort, page):
        def query():
            q = browse.BrowseQuery(
                text=text or None,
                min_price_cents=None
                if min_price in (None, "")
                else parse_price(min_price, max_cents=rules.max_price_cents),
                max_price_cents=None
                if max_price in (None, "")
                else parse_price(max_price, max_cents=rules.max_price_cents),
                licence_tier=licence or None,
                ai_label=ai_label or None,
                sort=sort,
                page=int(page or 1),
                per_page=24,
            )
            with services.readers() as s:
                return browse.browse_listings(s, q)

        result = run(query)
        tiles = [
            (thumb, f"#{c.artwork_id} {c.title} — {format_cents(c.price_cents)} ({c.licence_tier})")
            for c in result.items
            if (thumb := _thumbnail(services, c.blob_key)) is not None
        ]
        rows = [
            [
                c.artwork_id,
                c.listing_id,
                c.title,
                c.creator,
                c.owner,
                format_cents(c.price_cents),
                c.licence_tier,
                f"{c.sold_count}/{c.edition_size}",
                views.AI_LABEL_TEXT[c.ai_label],
            ]
            for c in result.items
        ]
        summary = f"Page {result.page} of {result.pages} · {result.total_text} listings"
        return tiles, rows, summary

    # --- artwork page ----------------------------------------------------------------------
    def show_artwork(artwork_id):
        def load():
            with services.readers() as s:
                return views.artwork_detail(s, number)

        number = _whole(artwork_id, "the artwork number")
        d = run(load)
        image = _thumbnail(services, d["blob_key"], size=768)
        lines = [
            f"## {_e(d['title'])}",
            f"**{_e(d['ai_label_text'])}** · by **{_e(d['creator'])}** · owned by "
            f"**{_e(d['owner'])}** · {d['width']}×{d['height']} {d['format']}",
            f"Royalty: {d['royalty_percent'] if d['royalty_percent'] is not None else '—'}%",
            f"Tags: {_e(', '.join(d['tags'])) or '—'}",
            f"SHA-256 `{d['content_sha256']}` · PDQ `{d['perceptual_hash']}`",
        ]
        if d["parents"]:
            lines.append(
                "Made from: "
                + ", ".join(
                    f"#{p['artwork_id']} {_e(p['title'])} ({p['role']})" for p in d["parents"]
                )
            )
        if d["children"]:
            lines.append(
                "Used in: "
                + ", ".join(
                    f"#{c['artwork_id']} {_e(c['title'])} ({c['role']})" for c in d["children"]
                )
            )
        offers = [
            [
                x["id"],
                x["licence_tier"],
                x["price"],
                x["status"],
                f"{x['sold_count']}/{x['edition_size']}",
                x["version"],
            ]
            for x in d["listings"]
        ]
        history = [
            [e["id"], e["created_at"][:19], e["kind"], e["actor"] or ""] for e in d["events"]
        ]
        return image, "\n\n".join(lines), offers, history

    def buy(user, listing_id, version):
        user = _require_user(user)
        if listing_id in (None, ""):
            raise gr.Error("Enter the number of the listing to buy.")

        def do():
            with services.sessions() as s, s.begin():
                result = purchases.purchase(
                    s,
                    _whole(listing_id, "the listing number"),
                    user["id"],
                    str(uuid.uuid4()),
                    expected_version=None
                    if version in (None, "")
                    else _whole(version, "the version"),
                    rules=rules,
                )
                return views.purchase_summary(result)

        r = run(do)
        return (
            f"Bought listing #{r['listing_id']} ({r['licence_tier']}) for "
            f"{format_cents(r['price_cents'])} credits. Sale #{r['sale_id']}."
        )

    # --- account -----------------------------------------------------------------------------
    def sign_up(username, password):
        def do():
            with services.sessions() as s, s.begin():
                u = accounts.sign_up(s, username, password, rules=rules)
                return {"id": u.id, "username": u.username}

        user = run(do)
        return user, f"Welcome, {_e(user['username'])}! You are signed in."

    def sign_in(username, password):
        def do():
            with services.readers() as s:  # no write lock while argon2 runs
                u = accounts.authenticate(s, username, password)
                return {"id": u.id, "username": u.username}

        user = run(do)
        return user, f"Signed in as {_e(user['username'])}."

    def sign_out(_user):
        return None, "Signed out."

    # --- selling ----------------------------------------------------------------------------
    def register(user, image_path, title, tags):
        user = _require_user(user)
        if not image_path:
            raise gr.Error("Choose an image to upload.")
        data = Path(image_path).read_bytes()

        def do():
            with services.sessions() as s, s.begin():
                a = artworks.register_artwork(
                    s, services.blobs, data, owner_id=user["id"], title=title, tags=tags
                )
                return a.id

        artwork_id = run(do)
        return f"Registered as artwork #{artwork_id}.", artwork_id

    def list_for_sale(user, artwork_id, price, licence, edition, royalty):
        user = _require_user(user)

        def do():
            royalty_bps = (
                None
                if royalty in (None, "")
                else parse_percent_bps(royalty, name="royalty", upper_bps=MAX_ROYALTY_BPS)
            )
            with services.sessions() as s, s.begin():
                listing = listings.create_listing(
                    s,
                    _whole(artwork_id, "the artwork number"),
                    user["id"],
                    price_cents=parse_price(price, max_cents=rules.max_price_cents),
                    licence_tier=licence,
                    edition_size=_whole(edition, "the edition size"),
                    royalty_bps=royalty_bps,
                    rules=rules,
                )
                return views.listing_summary(listing)

        x = run(do)
        return f"Listed artwork #{x['artwork_id']} as listing #{x['id']} for {x['price']} credits."

    # --- wallet -----------------------------------------------------------------------------
    def wallet(user):
        user = _require_user(user)

        def do():
            with services.readers() as s:
                u = accounts.get_user(s, user["id"])
                return u.balance_cents, ledger.account_history(s, u.id)

        balance, history = run(do)
        rows = [
            [
                h["created_at"][:19],
                h["role"],
                format_cents(h["amount_cents"]),
                format_cents(h["balance_after_cents"]),
                h["memo"],
            ]
            for h in history
        ]
        return f"### Balance: {format_cents(balance)} credits", rows

    # --- verify -----------------------------------------------------------------------------
    def verify(image_path):
        if not image_path:
            raise gr.Error("Choose an image to check.")
        data = Path(image_path).read_bytes()

        def do():
            with services.sessions() as s, s.begin():
                result = identification.identify(
                    s,
                    data,
                    anchor_pem=services.c2pa.anchor_pem,
                    signer=services.log_signer,
                    blobs=services.blobs,
                )
                head = transparency.sign_head(s, services.log_signer).note
                return result.as_dict(), head

        found, head = run(do)
        badge = {
            "registered_original": "🟢",
            "copy_of": "🟠",
            "manifest_valid": "🟢",
            "similar_to": "🟡",
            "tampered": "🔴",
            "unknown": "⚪",
        }[found["verdict"]]
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
            "verdict": found["verdict"],
            **found["evidence"],
            "histories": [
                {
                    "artwork_id": m["artwork_id"],
                    "events": m["events"],
                    "parents": m["parents"],
                    "children": m["children"],
                }
                for m in found["matches"]
            ],
        }
        # the headline is built from fixed words and an id, never from user text
        return f"## {badge} {found['headline']}", rows, evidence, head

    with gr.Blocks(title="Atelier", analytics_enabled=False) as demo:
        user = gr.State(None)
        gr.Markdown("# Atelier\nMake, sell, buy and verify AI-made art.")
        with gr.Tab("Gallery"):
            with gr.Row():
                q_text = gr.Textbox(label="Search title, tags, artist", scale=3)
                q_min = gr.Textbox(label="Min price", scale=1)
                q_max = gr.Textbox(label="Max price", scale=1)
            with gr.Row():
                q_licence = gr.Dropdown(
                    [("any", "")] + [(c, c) for c in LICENCE_CHOICES], value="", label="Licence"
                )
                q_ai = gr.Dropdown(AI_CHOICES, value="", label="Made with")
                q_sort = gr.Dropdown(SORT_CHOICES, value="newest", label="Sort")
                q_page = gr.Number(value=1, precision=0, minimum=1, label="Page")
                q_go = gr.Button("Search", variant="primary")
            g_summary = gr.Markdown()
            g_tiles = gr.Gallery(label="Listings", columns=6, height="auto")
            g_table = gr.Dataframe(
                headers=[
                    "artwork",
                    "listing",
                    "title",
                    "creator",
                    "owner",
                    "price",
                    "licence",
                    "sold",
                    "label",
                ],
                interactive=False,
            )
            q_inputs = [q_text, q_min, q_max, q_licence, q_ai, q_sort, q_page]
            q_go.click(search, q_inputs, [g_tiles, g_table, g_summary], api_name="search")
            demo.load(search, q_inputs, [g_tiles, g_table, g_summary])
        with gr.Tab("Artwork"):
            with gr.Row():
                a_id = gr.Number(label="Artwork #", precision=0)
                a_go = gr.Button("Open")
            with gr.Row():
                a_image = gr.Image(label="Artwork", type="filepath", interactive=False)
                a_info = gr.Markdown()
            a_offers = gr.Dataframe(
                headers=["listing", "licence", "price", "status", "sold", "version"],
                interactive=False,
                label="Offers",
            )
            a_history = gr.Dataframe(
                headers=["event", "time", "what", "by"], interactive=False, label="Provenance"
            )
            with gr.Row():
                b_listing = gr.Number(label="Listing # to buy", precision=0)
                b_version = gr.Number(label="Version you saw (optional)", precision=0)
                b_go = gr.Button("Buy", variant="primary")
            b_result = gr.Markdown()
            a_go.click(
                show_artwork, [a_id], [a_image, a_info, a_offers, a_history], api_name="artwork"
            )
            b_go.click(buy, [user, b_listing, b_version], [b_result], api_name="buy")
        with gr.Tab("Account"):
            u_name = gr.Textbox(label="Username")
            u_pass = gr.Textbox(label="Password", type="password")
            with gr.Row():
                u_up = gr.Button("Sign up")
                u_in = gr.Button("Sign in", variant="primary")
                u_out = gr.Button("Sign out")
            u_status = gr.Markdown()
            u_up.click(sign_up, [u_name, u_pass], [user, u_status], api_name="sign_up")
            u_in.click(sign_in, [u_name, u_pass], [user, u_status], api_name="sign_in")
            u_out.click(sign_out, [user], [user, u_status], api_name="sign_out")
        with gr.Tab("Sell"):
            with gr.Row():
                s_image = gr.Image(label="Image", type="filepath", sources=["upload"])
                with gr.Column():
                    s_title = gr.Textbox(label="Title")
                    s_tags = gr.Textbox(label="Tags (space or comma separated)")
                    s_register = gr.Button("Register artwork", variant="primary")
                    s_reg_status = gr.Markdown()
            with gr.Row():
                l_artwork = gr.Number(label="Artwork #", precision=0)
                l_price = gr.Textbox(label="Price (credits)", value="10.00")
                l_licence = gr.Dropdown(LICENCE_CHOICES, value="exclusive", label="Licence")
                l_edition = gr.Number(label="Edition size", value=1, precision=0, minimum=1)
                l_royalty = gr.Textbox(label="Royalty % (first listing; default 10)")
                l_go = gr.Button("List for sale", variant="primary")
            l_status = gr.Markdown()
            s_register.click(
                register,
                [user, s_image, s_title, s_tags],
                [s_reg_status, l_artwork],
                api_name="register",
            )
            l_go.click(
                list_for_sale,
                [user, l_artwork, l_price, l_licence, l_edition, l_royalty],
                [l_status],
                api_name="list",
            )
        with gr.Tab("Wallet"):
            w_go = gr.Button("Refresh")
            w_balance = gr.Markdown()
            w_table = gr.Dataframe(
                headers=["time", "entry", "amount", "balance after", "memo"], interactive=False
            )
            w_go.click(wallet, [user], [w_balance, w_table], api_name="wallet")
        with gr.Tab("Verify"):
            gr.Markdown(
                "Upload any image to see whose it is, what it was made from, and its "
                "history, each event with a proof from the transparency log."
            )
            with gr.Row():
                v_image = gr.Image(
                    label="Image to check",
                    type="filepath",
                    sources=["upload"],
                    elem_id="verify-image",
                )
                with gr.Column():
                    v_verdict = gr.Markdown()
                    v_go = gr.Button("Verify", variant="primary")
            v_matches = gr.Dataframe(
                headers=["artwork", "title", "creator", "owner", "signal", "distance", "events"],
                interactive=False,
                label="Matches",
            )
            v_evidence = gr.JSON(label="Evidence")
            v_head = gr.Textbox(label="Signed tree head (C2SP checkpoint)", lines=5)
            v_go.click(
                verify, [v_image], [v_verdict, v_matches, v_evidence, v_head], api_name="verify"
            )
    demo.queue(default_concurrency_limit=4)
    return demo


def add_log_routes(api: FastAPI, services: Services) -> None:
    """Serve the transparency log read-only as C2SP tlog-tiles under /log/."""

    @api.get("/log/checkpoint")
    def checkpoint() -> Response:
        with services.sessions() as s, s.begin():
            note = transparency.sign_head(s, services.log_signer).note
        return Response(
            note,
            media_type="text/plain; charset=utf-8",
            headers={"Cache-Control": "no-cache, max-age=5"},
        )

    @api.get("/log/verifier-key")
    def verifier_key() -> Response:
        return Response(
            services.log_signer.verifier.vkey + "\n", media_type="text/plain; charset=utf-8"
        )

    @api.get("/log/tile/{rest:path}")
    def tile(rest: str) -> Response:
        try:
            with services.readers() as s:
                data = transparency.log_tile(s, f"tile/{rest}")
        except TileError as exc:
            return Response(str(exc) + "\n", status_code=404, media_type="text/plain")
        return Response(
            data,
            media_type="application/octet-stream",
            headers={"Cache-Control": "public, max-age=31536000, immutable"},
        )


def create_app(services: Services) -> FastAPI:
    """The whole web app: the log's static resources under /log/, the Gradio UI at /."""
    api = FastAPI(title="Atelier", docs_url=None, redoc_url=None, openapi_url=None)
    add_log_routes(api, services)
    return gr.mount_gradio_app(
        api,
        build_demo(services),
        path="",
        footer_links=[],
        allowed_paths=[str(services.thumbs)],
        show_error=True,
        max_file_size=MAX_IMAGE_BYTES,
    )


def launch(settings: Settings | None = None, *, host: str = "127.0.0.1", port: int = 7860):
    """Start the app on `host:port` with the given (or environment) settings."""
    import uvicorn

    services = Services(settings or Settings.from_env())
    app = create_app(services)
    print(f"Atelier is running at http://{host}:{port}/", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


if __name__ == "__main__":
    launch()
