"""Sell: your collection, with controls to list (price, licence, edition, royalty), change a
price, delist, and register an image made elsewhere."""

from __future__ import annotations

import gradio as gr

from marketplace import artworks, collection, listings, read_models
from marketplace.money import MAX_ROYALTY_BPS, parse_percent_bps, parse_price
from ui.auth import require_viewer
from ui.common import (
    Services,
    bind,
    image_file,
    picked_id,
    quiet_for_guests,
    read_upload,
    run,
    thumbnail,
    tile_gallery,
    whole,
)
from ui.shell import Page

LICENCE_CHOICES = [
    ("exclusive: sell the work itself", "exclusive"),
    ("commercial licence: you keep it; buyers may make derivatives", "commercial"),
    ("personal licence: you keep it", "personal"),
]
COLLECTION_HEADERS = ["artwork", "title", "made", "royalty", "open listings"]


def my_collection(services: Services, request: gr.Request):
    """Your artworks. Returns (thumbnails, table, artwork choices, open-listing choices)."""
    who = require_viewer(services, request)

    def work():
        with services.readers() as s:
            return collection.owned_artworks(s, who.id)

    cards = run(work)
    tiles, rows, ids, artwork_choices, listing_choices = [], [], [], [], []
    for c in cards:
        offers = ", ".join(
            f"#{x['id']} {x['licence_tier']} {x['price']}"
            + (
                f" ({x['sold_count']}/{x['edition_size']} sold)"
                if x["licence_tier"] != "exclusive"
                else ""
            )
            for x in c["listings"]
        )
        rows.append(
            [
                c["id"],
                c["title"],
                read_models.AI_LABEL_TEXT[c["ai_label"]],
                "—" if c["royalty_bps"] is None else f"{c['royalty_bps'] / 100:g}%",
                offers or "not listed",
            ]
        )
        artwork_choices.append((f"#{c['id']} {c['title']}", c["id"]))
        for x in c["listings"]:
            listing_choices.append(
                (
                    f"Listing #{x['id']}: #{c['id']} {c['title']}, {x['licence_tier']}, "
                    f"{x['price']} credits",
                    x["id"],
                )
            )
        thumb = thumbnail(services, c["blob_key"])
        if thumb is not None:
            caption = f"#{c['id']} {c['title']}" + (" · for sale" if c["listings"] else "")
            tiles.append((thumb, caption))
            ids.append(c["id"])
    summary = (
        f"You own {len(cards)} artwork{'s' if len(cards) != 1 else ''}."
        if cards
        else "You own no artworks yet: make some in the Studio, or register an image below."
    )
    return (
        tiles,
        rows,
        summary,
        gr.update(
            choices=artwork_choices, value=artwork_choices[0][1] if artwork_choices else None
        ),
        gr.update(
            choices=listing_choices, value=listing_choices[0][1] if listing_choices else None
        ),
        ids,
    )


def list_for_sale(
    services: Services, artwork_id, price, licence, edition, royalty, request: gr.Request
) -> str:
    """Offer one of your artworks: price in credits, licence tier, edition size (licences
    only; exclusive is 1) and royalty % (set at the first listing, 0-50)."""
    who = require_viewer(services, request)
    number = whole(artwork_id, "the artwork to list")
    size = whole(edition, "the edition size", required=False) or 1

    def work():
        royalty_bps = (
            None
            if royalty in (None, "")
            else parse_percent_bps(royalty, name="royalty", upper_bps=MAX_ROYALTY_BPS)
        )
        with services.sessions() as s, s.begin():
            listing = listings.create_listing(
                s,
                number,
                who.id,
                price_cents=parse_price(price, max_cents=services.settings.rules.max_price_cents),
                licence_tier=licence,
                edition_size=1 if licence == "exclusive" else size,
                royalty_bps=royalty_bps,
                rules=services.settings.rules,
            )
            return read_models.listing_summary(listing)

    x = run(work)
    return (
        f"✓ Listed artwork #{x['artwork_id']} as listing #{x['id']} for {x['price']} credits "
        f"({x['licence_tier']})."
    )


def change_price(services: Services, listing_id, price, request: gr.Request) -> str:
    """Change the price of one of your open listings."""
    who = require_viewer(services, request)
    number = whole(listing_id, "the listing")

    def work():
        with services.sessions() as s, s.begin():
            listing = listings.change_price(
                s,
                number,
                who.id,
                parse_price(price, max_cents=services.settings.rules.max_price_cents),
                rules=services.settings.rules,
            )
            return read_models.listing_summary(listing)

    x = run(work)
    return f"✓ Listing #{x['id']} now asks {x['price']} credits."


def delist(services: Services, listing_id, request: gr.Request) -> str:
    """Withdraw one of your open listings (licences already sold stay valid)."""
    who = require_viewer(services, request)
    number = whole(listing_id, "the listing")

    def work():
        with services.sessions() as s, s.begin():
            return listings.delist(s, number, who.id).id

    return f"✓ Listing #{run(work)} is withdrawn."


def register(services: Services, image_path, title, tags, request: gr.Request):
    """Register an image you made elsewhere (labelled 'Uploaded'). Returns (message,
    artwork number)."""
    who = require_viewer(services, request)
    data = read_upload(image_path, "an image to register")

    def work():
        with services.sessions() as s, s.begin():
            return artworks.register_artwork(
                s, services.blobs, data, owner_id=who.id, title=title, tags=tags
            ).id

    artwork_id = run(work)
    return f"✓ Registered as artwork #{artwork_id}.", artwork_id


def build(services: Services, page: Page) -> None:
    """Lay out the Sell page and wire its handlers."""
    with page.member_section("Selling needs an account."):
        with gr.Row():
            with gr.Column(scale=3):
                gr.Markdown("### Your collection")
                summary = gr.Markdown(elem_id="sell-summary")
                tiles = tile_gallery("sell-tiles", columns=4, height=330)
                with gr.Accordion("As a table", open=False):
                    table = gr.Dataframe(headers=COLLECTION_HEADERS, interactive=False, wrap=True)
                refresh = gr.Button("Refresh", size="sm")
            with gr.Column(scale=2):
                gr.Markdown("### List an artwork for sale")
                artwork = gr.Dropdown(
                    [],
                    allow_custom_value=True,
                    label="Artwork (or click one on the left)",
                    elem_id="sell-artwork",
                )
                with gr.Row():
                    price = gr.Textbox(label="Price (credits)", value="10.00", elem_id="sell-price")
                    # an exclusive sale is one sale: the field shows for licence tiers only
                    edition = gr.Number(
                        label="Edition size (licences)",
                        value=1,
                        precision=0,
                        minimum=1,
                        visible=False,
                        elem_id="sell-edition",
                    )
                licence = gr.Dropdown(
                    LICENCE_CHOICES,
                    value="exclusive",
                    label="What the buyer gets",
                    elem_id="sell-licence",
                )
                royalty = gr.Textbox(
                    label="Royalty % on resales (set once, at the first listing; default 10)",
                    placeholder="10",
                )
                list_button = gr.Button("List for sale", variant="primary", elem_id="sell-list")
                list_status = gr.Markdown(elem_id="sell-status")
                gr.Markdown("### Change or withdraw a listing")
                listing = gr.Dropdown(
                    [], allow_custom_value=True, label="Your open listing", elem_id="sell-listing"
                )
                new_price = gr.Textbox(label="New price (credits)", elem_id="sell-new-price")
                with gr.Row():
                    reprice = gr.Button("Change price", elem_id="sell-reprice")
                    withdraw = gr.Button("Delist", variant="stop", elem_id="sell-delist")
                manage_status = gr.Markdown()
        with gr.Accordion("Register an image you made elsewhere", open=False), gr.Row():
            upload = image_file("Image", "sell-upload", height=160)
            with gr.Column():
                title = gr.Textbox(label="Title", max_length=artworks.MAX_TITLE_LENGTH)
                tags = gr.Textbox(label="Tags (space or comma separated)")
                register_button = gr.Button("Register", variant="primary")
                register_status = gr.Markdown()
                registered = gr.Number(visible=False, precision=0)
    ids = gr.State([])
    shown = [tiles, table, summary, artwork, listing, ids]

    def then_refresh(event):
        event.success(bind(services, my_collection), None, shown, show_progress="hidden")

    refresh.click(bind(services, my_collection), None, shown, api_name="collection")
    tiles.select(picked_id, [ids], [artwork], queue=False)
    licence.change(
        lambda tier: gr.update(visible=tier != "exclusive"),
        licence,
        edition,
        queue=False,
        show_progress="hidden",
    )
    then_refresh(
        list_button.click(
            bind(services, list_for_sale),
            [artwork, price, licence, edition, royalty],
            [list_status],
            api_name="list",
        )
    )
    then_refresh(
        reprice.click(
            bind(services, change_price),
            [listing, new_price],
            [manage_status],
            api_name="change_price",
        )
    )
    then_refresh(
        withdraw.click(bind(services, delist), [listing], [manage_status], api_name="delist")
    )
    then_refresh(
        register_button.click(
            bind(services, register),
            [upload, title, tags],
            [register_status, registered],
            api_name="register",
        )
    )
    page.when_shown(quiet_for_guests(bind(services, my_collection), len(shown)), shown)
