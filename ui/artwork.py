"""The Artwork page: the picture and its record (creator, owner, price, licence, edition,
AI-disclosure badge), its derivation tree as thumbnails, the provenance timeline, Buy with a
confirmation step, and downloads (the signed file, the provenance certificate)."""

from __future__ import annotations

import uuid

import gradio as gr

from marketplace import (
    certificates,
    collection,
    purchases,
    read_models,
    recipe_commitments,
    style_index,
    taste,
)
from marketplace.artworks import get_artwork
from marketplace.errors import NotOwner
from marketplace.money import format_cents
from ui.auth import require_viewer, viewer
from ui.common import (
    AI_BADGE_TONES,
    Services,
    api_endpoint,
    badge,
    bind,
    escape,
    picked_id,
    run,
    thumbnail,
    tile_gallery,
    whole,
)
from ui.shell import Page

LICENCE_WORDS = {
    "personal": "personal licence (the seller keeps the work)",
    "commercial": "commercial licence (allows derivative works; the seller keeps the work)",
    "exclusive": "exclusive: buying transfers ownership of the work",
}
ROLE_WORDS = {
    "style_source": "style",
    "content_source": "content",
    "breeding_parent": "parent",
    "training_data": "training data",
}
OFFER_HEADERS = ["listing", "licence", "price", "status", "sold", "version"]
HISTORY_HEADERS = ["event", "time", "what", "by"]


def _when(iso: str) -> str:
    return iso[:16].replace("T", " ") + " UTC"


def describe_event(event: dict, names: dict[int, str]) -> str:
    """One provenance event in words (HTML, user text escaped)."""
    p, who = event["payload"] or {}, escape(event["actor"] or "the platform")

    def name(key: str) -> str:
        return escape(names.get(p.get(key), f"user #{p.get(key)}"))

    kind = event["kind"]
    if kind == "registered":
        return f"<b>Registered</b> by {who}"
    if kind == "derived":
        parents = ", ".join(
            f"#{q['artwork_id']} ({ROLE_WORDS.get(q['role'], escape(q['role']))})"
            for q in p.get("parents", [])
        )
        return f"<b>Made from</b> {parents}"
    if kind == "listed":
        return (
            f"<b>Listed</b> by {who}: {escape(p.get('licence_tier', ''))} for "
            f"{format_cents(p.get('price_cents', 0))} credits (listing #{p.get('listing_id')})"
        )
    if kind == "price_changed":
        return (
            f"<b>Price changed</b> by {who}: {format_cents(p.get('old_price_cents', 0))} → "
            f"{format_cents(p.get('price_cents', 0))} (listing #{p.get('listing_id')})"
        )
    if kind == "delisted":
        return f"<b>Delisted</b> by {who} (listing #{p.get('listing_id')})"
    if kind == "sold":
        return (
            f"<b>Sold</b> to {name('buyer_id')} by {name('seller_id')}: "
            f"{escape(p.get('licence_tier', ''))} for {format_cents(p.get('price_cents', 0))} "
            f"credits (sale #{p.get('sale_id')})"
        )
    if kind == "ownership_transferred":
        return f"<b>Ownership passed</b> from {name('from_user_id')} to {name('to_user_id')}"
    if kind == "licence_granted":
        return f"<b>Licence granted</b>: {escape(p.get('tier', ''))} to {name('holder_id')}"
    return _market_event(kind, p, who) or f"<b>{escape(kind)}</b> by {who}"


def _market_event(kind: str, p: dict, who: str) -> str | None:
    """Auctions, offers and copyright reports in words."""
    cents = format_cents
    if kind == "auction_opened":
        if p.get("kind") == "dutch":
            return (
                f"<b>Dutch auction</b> #{p.get('auction_id')} opened by {who}: from "
                f"{cents(p.get('start_price_cents') or 0)} down to "
                f"{cents(p.get('reserve_cents', 0))} credits"
            )
        return (
            f"<b>Auction</b> #{p.get('auction_id')} opened by {who}: reserve "
            f"{cents(p.get('reserve_cents', 0))} credits"
        )
    if kind == "bid_placed":
        extended = ", the clock extended" if p.get("extended") else ""
        return (
            f"<b>Bid</b> of {cents(p.get('amount_cents', 0))} credits by {who} "
            f"(auction #{p.get('auction_id')}{extended})"
        )
    if kind == "auction_closed":
        outcome = escape(str(p.get("outcome", "")))
        reason = f": {escape(str(p['reason']))}" if p.get("reason") else ""
        return f"<b>Auction</b> #{p.get('auction_id')} {outcome}{reason}"
    if kind == "offer_made":
        return (
            f"<b>Offer</b> of {cents(p.get('amount_cents', 0))} credits by {who} "
            f"({escape(str(p.get('licence_tier', '')))}, offer #{p.get('offer_id')})"
        )
    if kind == "offer_closed":
        return f"<b>Offer</b> #{p.get('offer_id')} {escape(str(p.get('outcome', '')))}"
    if kind == "candidate_submitted":
        return f"<b>Offered</b> by {who} for commission #{p.get('commission_id')}"
    if kind == "commission_closed":
        title = escape(str(p.get("title", "")))
        outcome = escape(str(p.get("outcome", "")))
        brief = f" (brief: {title})" if title else ""
        return f"<b>Commission</b> #{p.get('commission_id')} {outcome}{brief}"
    if kind == "takedown_filed":
        state = "sales suspended" if p.get("suspended") else "under review"
        return (
            f"<b>Copyright report</b> #{p.get('takedown_id')} by {who}: copies "
            f"#{p.get('original_id')}? ({state})"
        )
    if kind == "takedown_countered":
        return f"<b>Report answered</b> by {who} (report #{p.get('takedown_id')})"
    if kind == "takedown_decided":
        words = {"removed": "taken down", "restored": "restored", "rejected": "rejected"}
        decision = escape(words.get(p.get("decision"), str(p.get("decision"))))
        return f"<b>Copyright report</b> #{p.get('takedown_id')}: {decision} by an operator"
    return None


def _facts(d: dict) -> str:
    open_offers = [x for x in d["listings"] if x["status"] == "active"]
    if open_offers:
        cheapest = min(open_offers, key=lambda x: x["price_cents"])
        sale = badge("For sale", "green")
        price = f"{format_cents(cheapest['price_cents'])} credits"
        if len(open_offers) > 1:
            price = "from " + price
        licence = "<br>".join(escape(LICENCE_WORDS[x["licence_tier"]]) for x in open_offers)
        edition = "<br>".join(
            f"{x['licence_tier']}: {x['sold_count']} of {x['edition_size']} sold"
            for x in open_offers
        )
    else:
        sale = badge("Not for sale", "grey")
        price, licence, edition = "—", "—", "—"
    if d.get("sales_blocked") == "suspended":
        sale = badge("Suspended: copyright report", "amber")
    elif d.get("sales_blocked") == "removed":
        sale = badge("Taken down: copyright report", "red")
    royalty = (
        "set at the first listing"
        if d["royalty_percent"] is None
        else f"{d['royalty_percent']:g}% of every resale"
    )
    rows = [
        ("Creator", f"<b>{escape(d['creator'])}</b>"),
        ("Owner", f"<b>{escape(d['owner'])}</b>"),
        ("Price", price),
        ("Licence", licence),
        ("Edition", edition),
        ("Royalty", royalty),
        ("Tags", escape(", ".join(d["tags"])) or "—"),
        ("Picture", f"{d['width']}×{d['height']} {escape(d['format'])}"),
        ("Registered", _when(d["created_at"])),
        ("SHA-256", f"<code>{d['content_sha256'][:16]}…</code>"),
        ("Recipe", _recipe_words(d["recipe"])),
    ]
    if d["licences"]:
        held = ", ".join(f"{escape(x['holder'])} ({x['tier']})" for x in d["licences"])
        rows.insert(6, ("Licensees", held))
    table = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows)
    return (
        f'<h2 id="artwork-title" style="margin:0 0 6px 0">{escape(d["title"])} '
        f'<span class="atelier-muted">#{d["id"]}</span></h2>'
        f"<div>{badge(d['ai_label_text'], AI_BADGE_TONES[d['ai_label']])} {sale}</div>"
        f'<table class="atelier-facts">{table}</table>'
    )


def _recipe_words(public: dict) -> str:
    """The public side of a recipe: its kind, and the commitment the owner's disclosure can
    be checked against (the recipe itself is not public: it would remake the file)."""
    if not public.get("kind"):
        return "— (an upload)"
    return (
        f"{escape(public['kind'])} · commitment <code>{public['commitment'][:16]}…</code> "
        '<span class="atelier-muted">(the owner and licensees see the recipe and may '
        "disclose it)</span>"
    )


def my_recipe(services: Services, artwork_id: object, request: gr.Request | None):
    """The artwork's full recipe and salt for its owner, creator and licensees; None for
    anyone else (they see the public commitment in the record)."""
    who = viewer(services, request)
    if who is None or not isinstance(artwork_id, int):
        return None
    with services.readers() as s:
        if not recipe_commitments.may_see_recipe(s, who.id, artwork_id):
            return None
        disclosed = recipe_commitments.disclose_recipe(s, artwork_id, who.id)
    return disclosed if disclosed["kind"] else None


# the browser saves a file output as soon as it arrives (a click on a link made for it)
SAVE_FILE_JS = """
(file) => {
  if (file && file.url) {
    const link = document.createElement("a");
    link.href = file.url;
    link.download = file.orig_name || "";
    document.body.appendChild(link);
    link.click();
    link.remove();
  }
  return [];
}
"""


def in_page(make_file):
    """Run a file handler for the page: (file, "") on success, (None, the refusal in words)
    when it is refused, so the reason stays on the page."""
    try:
        return make_file(), ""
    except gr.Error as refusal:
        return None, f"⚠ {refusal.message}"


def _load(services: Services, number: int) -> tuple[dict, dict[int, str]]:
    with services.readers() as s:
        detail = read_models.artwork_detail(s, number)
        ids: set[int] = set()
        for e in detail["events"]:
            for key in ("buyer_id", "seller_id", "holder_id", "from_user_id", "to_user_id"):
                if isinstance((e["payload"] or {}).get(key), int):
                    ids.add(e["payload"][key])
        return detail, collection.usernames(s, ids)


def _related_tiles(services: Services, items: list[dict], keys: dict[int, str]) -> list:
    tiles = []
    for item in items:
        thumb = thumbnail(services, keys[item["artwork_id"]], size=256)
        if thumb is not None:
            caption = (
                f"#{item['artwork_id']} {item['title']} "
                f"({ROLE_WORDS.get(item['role'], item['role'])}, owned by {item['owner']})"
            )
            tiles.append((thumb, caption))
    return tiles


def _related_keys(services: Services, items: list[dict]) -> dict[int, str]:
    def work():
        with services.readers() as s:
            return {i["artwork_id"]: get_artwork(s, i["artwork_id"]).blob_key for i in items}

    return run(work) if items else {}


def _offer_choices(listings: list[dict]) -> list[tuple[str, int]]:
    return [
        (
            f"Listing #{x['id']} · {x['licence_tier']} · {x['price']} credits"
            + (
                f" · {x['edition_size'] - x['sold_count']} left"
                if x["licence_tier"] != "exclusive"
                else ""
            ),
            x["id"],
        )
        for x in listings
        if x["status"] == "active"
    ]


def show(services: Services, artwork_id):
    """An artwork's page. Returns (image, record HTML, offers, provenance events,
    timeline HTML, made-from thumbnails, used-in thumbnails, buy choices)."""
    number = whole(artwork_id, "the artwork number")
    d, names = run(_load, services, number)
    image = thumbnail(services, d["blob_key"], size=768)
    offers = [
        [
            x["id"],
            x["licence_tier"],
            x["price"],
            x["status"].replace("_", " "),
            f"{x['sold_count']}/{x['edition_size']}",
            x["version"],
        ]
        for x in d["listings"]
    ]
    history = [[e["id"], e["created_at"][:19], e["kind"], e["actor"] or ""] for e in d["events"]]
    timeline = "".join(
        f'<li><span class="atelier-muted">{_when(e["created_at"])}</span> · '
        f"{describe_event(e, names)}</li>"
        for e in d["events"]
    )
    keys = _related_keys(services, d["parents"] + d["children"])
    choices = _offer_choices(d["listings"])
    return (
        image,
        _facts(d),
        offers,
        history,
        f'<ol class="atelier-timeline">{timeline}</ol>',
        _related_tiles(services, d["parents"], keys),
        _related_tiles(services, d["children"], keys),
        gr.update(choices=choices, value=choices[0][1] if choices else None),
        d["id"],
        [p["artwork_id"] for p in d["parents"] if p["artwork_id"] in keys],
        [c["artwork_id"] for c in d["children"] if c["artwork_id"] in keys],
        gr.update(visible=False),
        bool(choices),
        "",
    )


def quote(services: Services, listing_id, request: gr.Request):
    """What buying a listing would cost the signed-in person; shows the confirmation."""
    who = require_viewer(services, request)
    number = whole(listing_id, "the listing to buy")

    def work():
        with services.readers() as s:
            from marketplace.listings import get_listing

            listing = get_listing(s, number)
            return read_models.listing_summary(listing), listing.artwork.title

    x, title = run(work)
    if x["status"] != "active":
        raise gr.Error(f"Listing #{x['id']} is {x['status'].replace('_', ' ')}.")
    if x["seller"] == who.username:
        raise gr.Error("This is your own listing.")
    after = who.balance_cents - x["price_cents"]
    what = (
        "the artwork itself (you become its owner)"
        if x["licence_tier"] == "exclusive"
        else f"a {x['licence_tier']} licence"
    )
    money = (
        f"Your balance: {format_cents(who.balance_cents)} → <b>{format_cents(after)}</b>"
        if after >= 0
        else f'<span style="color:#b91c1c">You have {format_cents(who.balance_cents)} '
        "credits: not enough.</span>"
    )
    text = (
        f"<b>Buy {what}</b> of #{x['artwork_id']} <i>{escape(title)}</i> from "
        f"{escape(x['seller'])} for <b>{x['price']} credits</b>?<br>{money}"
    )
    # one key for this confirmation: a second click on Confirm buys once
    return text, x["id"], x["version"], str(uuid.uuid4()), gr.update(visible=True), ""


def buy(services: Services, listing_id, version, key, request: gr.Request) -> str:
    """Buy a listing as the signed-in person. `version` (optional) is the listing version
    you saw; if the seller changed the price since, the purchase is refused. `key`
    (optional) is the purchase's idempotency key: a request sent again with the same key
    (a retry after a lost answer, a replica that died mid-request, a second click) returns
    the first purchase's result and never charges twice; without one, every call is new."""
    who = require_viewer(services, request)
    number = whole(listing_id, "the listing to buy")
    seen = whole(version, "the version", required=False)
    key = str(key).strip() if key not in (None, "") else str(uuid.uuid4())

    def work():
        with services.sessions() as s, s.begin():
            result = purchases.purchase(
                s,
                number,
                who.id,
                key,
                expected_version=seen,
                rules=services.settings.rules,
            )
            return read_models.purchase_summary(result)

    r = run(work)
    return (
        f"✓ Bought listing #{r['listing_id']} ({r['licence_tier']}) for "
        f"{format_cents(r['price_cents'])} credits. Sale #{r['sale_id']}."
    )


def confirm(services: Services, listing_id, version, key, request: gr.Request):
    return buy(services, listing_id, version, key, request), gr.update(visible=False)


def download(services: Services, artwork_id, request: gr.Request) -> str:
    """The artwork's file with signed Content Credentials (and its PNG parameters chunk).
    For its owner, creator and licensees."""
    who = require_viewer(services, request)
    number = whole(artwork_id, "the artwork number")

    def work():
        with services.readers() as s:
            if not collection.may_download_original(s, who.id, number):
                raise NotOwner(
                    f"only the owner, the creator and licensees of artwork #{number} may "
                    "download its file; buy a licence first"
                )
            return certificates.signed_download(s, services.blobs, number, services.c2pa)

    data, _mime, name = run(work)
    path = services.new_file(name)
    path.write_bytes(data)
    return str(path)


def certificate(services: Services, artwork_id) -> str:
    """A signed provenance certificate (record, events with inclusion proofs, signed tree
    head) as a text file; anyone may have one."""
    number = whole(artwork_id, "the artwork number")

    def work():
        with services.sessions() as s, s.begin():
            return certificates.certificate(s, number, services.log_signer)

    note = run(work)
    path = services.new_file(f"atelier-{number}.cert.txt")
    path.write_text(note, encoding="utf-8")
    return str(path)


def download_here(services: Services, artwork_id, request: gr.Request):
    """The signed file for the page: a refusal stays on the page instead of a toast."""
    return in_page(lambda: download(services, artwork_id, request))


def certificate_here(services: Services, artwork_id):
    return in_page(lambda: certificate(services, artwork_id))


def reveal(services: Services, artwork_id, request: gr.Request):
    """The "Your recipe" panel: shown, with the recipe, to those who may see it."""
    disclosed = my_recipe(services, artwork_id, request)
    return gr.update(visible=disclosed is not None), disclosed


STAR_CHOICES = [("not rated", 0), ("★", 1), ("★★", 2), ("★★★", 3), ("★★★★", 4), ("★★★★★", 5)]


def appraisal_html(a: taste.Appraisal) -> str:
    """What people think of a work, in a line."""
    stars = (
        f"★ {a.average_stars:.1f} from {a.ratings} rating{'s' if a.ratings != 1 else ''}"
        if a.ratings
        else "no ratings yet"
    )
    mine = " · <b>in your favourites</b>" if a.mine else ""
    return (
        f'<div id="artwork-appraisal">♥ {a.favourites} favourite'
        f"{'s' if a.favourites != 1 else ''} · {stars}{mine}</div>"
    )


def _favourite_label(mine: bool) -> str:
    return "♥ In your favourites (remove)" if mine else "♡ Add to favourites"


def taste_panel(services: Services, artwork_id, request: gr.Request):
    """What people think of the work and what is like it; counts the page view. Returns
    (appraisal HTML, favourite button, your stars, whether it is your favourite, similar
    thumbnails, their ids)."""
    if not isinstance(artwork_id, int):
        return "", gr.update(), 0, False, [], []
    who = viewer(services, request)

    def work():  # one unit of work: the view, the appraisal, the neighbours
        with services.sessions() as s, s.begin():
            artwork = get_artwork(s, artwork_id)
            taste.record_view(s, artwork, who.id if who else None)
            seen = taste.appraisal(s, artwork_id, who.id if who else None)
            return seen, _similar(services, s, artwork_id)

    seen, near = run(work)
    tiles, ids = _similar_tiles(services, near)
    return (
        appraisal_html(seen),
        gr.update(value=_favourite_label(seen.mine)),
        seen.my_stars or 0,
        seen.mine,
        tiles,
        ids,
    )


def _judge(services: Services, request: gr.Request, change) -> taste.Appraisal:
    who = require_viewer(services, request)

    def work():
        with services.sessions() as s, s.begin():
            return change(s, who.id)

    return run(work)


def favourite(services: Services, artwork_id, request: gr.Request) -> str:
    """Add a work to your favourites (again: no change); returns what people think of it."""
    number = whole(artwork_id, "the artwork number")
    return appraisal_html(_judge(services, request, lambda s, me: taste.favourite(s, me, number)))


def unfavourite(services: Services, artwork_id, request: gr.Request) -> str:
    """Take a work out of your favourites."""
    number = whole(artwork_id, "the artwork number")
    seen = _judge(services, request, lambda s, me: taste.favourite(s, me, number, on=False))
    return appraisal_html(seen)


def toggle_favourite(services: Services, artwork_id, mine, request: gr.Request):
    """The page's heart button: (appraisal HTML, button, whether it is now a favourite)."""
    number = whole(artwork_id, "the artwork number")
    seen = _judge(services, request, lambda s, me: taste.favourite(s, me, number, on=not mine))
    return appraisal_html(seen), gr.update(value=_favourite_label(seen.mine)), seen.mine


def rate(services: Services, artwork_id, stars, request: gr.Request) -> str:
    """Rate a work 1 to 5 stars (0 takes your rating back); returns what people think."""
    number = whole(artwork_id, "the artwork number")
    count = whole(stars, "the number of stars")
    return appraisal_html(_judge(services, request, lambda s, me: taste.rate(s, me, number, count)))


def more_like_this(services: Services, artwork_id):
    """The works nearest in style (Magenta's style embedding): (thumbnails, their ids)."""
    number = whole(artwork_id, "the artwork number")

    def work():
        with services.sessions() as s, s.begin():
            return _similar(services, s, number)

    return _similar_tiles(services, run(work))


def _similar(services: Services, session, artwork_id: int) -> list[tuple]:
    """(id, title, creator, blob key) of the works nearest in style, in one unit of work
    (the work's own embedding is stored there if it had none)."""
    near = style_index.more_like_this(session, services.blobs, artwork_id)
    return [(w.id, w.title, w.creator.username, w.blob_key) for w, _ in near]


def _similar_tiles(services: Services, near: list[tuple]):
    """Thumbnails of `_similar`'s works and their ids."""
    tiles, ids = [], []
    for work_id, title, creator, key in near:
        thumb = thumbnail(services, key, size=256)
        if thumb is not None:
            tiles.append((thumb, f"#{work_id} {title} · by {creator}"))
            ids.append(work_id)
    return tiles, ids


NO_PARENTS = "Not made from other registered works."
NO_CHILDREN = "No registered work is made from it yet."


def _open_row() -> tuple[gr.Number, gr.Button]:
    """The artwork number field and its Open button."""
    with gr.Row(equal_height=True, elem_id="artwork-open-row"):
        number = gr.Number(
            show_label=False,
            placeholder="Artwork number",
            precision=0,
            minimum=1,
            container=False,
            scale=0,
            min_width=180,
            elem_id="artwork-id",
        )
        go = gr.Button("Open", scale=0, min_width=100, size="md", elem_id="artwork-open")
        gr.HTML(
            '<div class="atelier-muted">Open an artwork from the gallery, or type its number. '
            "Share a page as <code>/?artwork=NUMBER</code>.</div>",
            scale=3,
        )
    return number, go


def _buying():
    """The offers dropdown with its Buy button, and the confirmation that follows.
    Returns (buy box, offers, buy button, confirm box, confirm text, yes, no)."""
    with gr.Group(visible=False) as buy_box:
        listing = gr.Dropdown(
            [],
            allow_custom_value=True,
            label="Offers open now",
            elem_id="artwork-offer",
            interactive=True,
        )
        buy_button = gr.Button("Buy…", variant="primary", elem_id="artwork-buy")
    with gr.Column(visible=False, elem_classes="atelier-confirm") as confirm_box:
        confirm_text = gr.HTML(elem_id="artwork-confirm-text")
        with gr.Row():
            yes = gr.Button("Confirm purchase", variant="primary", elem_id="artwork-confirm")
            no = gr.Button("Cancel", elem_id="artwork-cancel")
    return buy_box, listing, buy_button, confirm_box, confirm_text, yes, no


def _derivations(heading: str, elem_id: str, empty: str) -> tuple[gr.HTML, gr.Gallery]:
    """A derivation list: thumbnails when there are some, a sentence when not."""
    gr.Markdown(f"#### {heading}")
    notice = gr.HTML(f'<div class="atelier-muted">{empty}</div>')
    return notice, tile_gallery(elem_id, columns=5, height=190, visible=False)


def _record_sections():
    """The owner's recipe panel, the provenance timeline and the tables under the picture.
    Returns (recipe box, recipe JSON, timeline, offers table, events table)."""
    with gr.Accordion(
        "Your recipe: only you and licensees see it; share it to let anyone check it",
        open=False,
        visible=False,
        elem_id="artwork-recipe-box",
    ) as recipe_box:
        recipe_json = gr.JSON(elem_id="artwork-recipe", show_label=False)
    gr.Markdown("#### Provenance")
    timeline = gr.HTML(elem_id="artwork-timeline")
    with gr.Accordion("Offers and events as tables", open=False):
        offers = gr.Dataframe(headers=OFFER_HEADERS, interactive=False, label="Offers")
        history = gr.Dataframe(headers=HISTORY_HEADERS, interactive=False, label="Events")
    return recipe_box, recipe_json, timeline, offers, history


def build(services: Services, page: Page) -> None:
    """Lay out the Artwork page and wire its handlers."""
    number, go = _open_row()
    with gr.Row():
        with gr.Column(scale=5):
            image = gr.Image(
                label="Artwork",
                show_label=False,
                type="filepath",
                interactive=False,
                height=460,
                buttons=["fullscreen"],
                elem_id="artwork-image",
            )
        with gr.Column(scale=4):
            info = gr.HTML(
                '<div class="atelier-muted">No artwork open yet.</div>', elem_id="artwork-info"
            )
            buy_box, listing, buy_button, confirm_box, confirm_text, yes, no = _buying()
            result = gr.Markdown(elem_id="artwork-result")
            with gr.Row():
                download_button = gr.Button("Download signed file", size="sm")
                certificate_button = gr.Button("Provenance certificate", size="sm")
            with gr.Row(visible=False) as files_row:
                signed_file = gr.File(label="Signed file", elem_id="artwork-file")
                cert_file = gr.File(label="Certificate", elem_id="artwork-cert")
            appraisal = gr.HTML(elem_id="artwork-appraisal-box")
            with gr.Row(equal_height=True):
                heart = gr.Button(_favourite_label(False), size="sm", elem_id="artwork-favourite")
                stars = gr.Dropdown(
                    STAR_CHOICES,
                    value=0,
                    label="Your rating",
                    interactive=True,
                    elem_id="artwork-stars",
                )
    with gr.Row():
        with gr.Column():
            no_parents, parents = _derivations("Made from", "artwork-parents", NO_PARENTS)
        with gr.Column():
            no_children, children = _derivations("Used in", "artwork-children", NO_CHILDREN)
    gr.Markdown("#### More like this")
    similar = tile_gallery("artwork-similar", columns=8, height=190)
    recipe_box, recipe_json, timeline, offers, history = _record_sections()

    current = gr.State(None)
    has_offers = gr.State(False)
    parent_ids, child_ids = gr.State([]), gr.State([])
    quoted_listing, quoted_version, quoted_key = gr.State(None), gr.State(None), gr.State(None)
    outputs = [
        image,
        info,
        offers,
        history,
        timeline,
        parents,
        children,
        listing,
        current,
        parent_ids,
        child_ids,
        confirm_box,
        has_offers,
        result,
    ]
    show_page, reveal_recipe = bind(services, show), bind(services, reveal)
    go.click(show_page, [number], outputs, api_name="artwork")
    current.change(reveal_recipe, [current], [recipe_box, recipe_json], show_progress="hidden")
    mine, similar_ids = gr.State(False), gr.State([])
    current.change(
        bind(services, taste_panel),
        [current],
        [appraisal, heart, stars, mine, similar, similar_ids],
        show_progress="hidden",
    )
    heart.click(
        bind(services, toggle_favourite),
        [current, mine],
        [appraisal, heart, mine],
        api_visibility="private",
    )
    page.open_events.append(similar.select(picked_id, [similar_ids], [page.opener]))
    number.submit(show_page, [number], outputs, api_visibility="private")
    page.artwork_loader = (show_page, outputs)
    page.open_events.append(parents.select(picked_id, [parent_ids], [page.opener]))
    page.open_events.append(children.select(picked_id, [child_ids], [page.opener]))
    page.opener.change(lambda n: n, page.opener, number, queue=False, show_progress="hidden")
    has_offers.change(lambda yes: gr.update(visible=yes), has_offers, buy_box, queue=False)
    # a derivation gallery shows when there is something in it, a sentence when not
    for ids, tiles, notice in (
        (parent_ids, parents, no_parents),
        (child_ids, children, no_children),
    ):
        ids.change(
            lambda found: (gr.update(visible=bool(found)), gr.update(visible=not found)),
            ids,
            [tiles, notice],
            queue=False,
            show_progress="hidden",
        )

    buy_button.click(
        bind(services, quote),
        [listing],
        [confirm_text, quoted_listing, quoted_version, quoted_key, confirm_box, result],
        api_name="buy_quote",
    )
    no.click(lambda: gr.update(visible=False), None, confirm_box, queue=False)
    bought = yes.click(
        bind(services, confirm),
        [quoted_listing, quoted_version, quoted_key],
        [result, confirm_box],
        api_visibility="private",
    )
    bought.success(
        lambda n: show(services, n)[:-1], [current], outputs[:-1], show_progress="hidden"
    ).then(
        reveal_recipe, [current], [recipe_box, recipe_json], show_progress="hidden"
    )  # the buyer may now see the recipe
    page.refresh_header(bought, services)
    # for API clients: the same actions on plain numbers
    api_number = gr.Number(visible=False, precision=0)
    api_version = gr.Number(visible=False, precision=0)
    api_key = gr.Textbox(visible=False, value="")
    api_endpoint(bind(services, buy), [api_number, api_version, api_key], [result], "buy")
    api_endpoint(bind(services, download), [api_number], [signed_file], "download")
    api_endpoint(bind(services, certificate), [api_number], [cert_file], "certificate")
    api_stars = gr.Number(visible=False, precision=0)
    api_endpoint(bind(services, favourite), [api_number], [appraisal], "favourite")
    api_endpoint(bind(services, unfavourite), [api_number], [appraisal], "unfavourite")
    api_endpoint(bind(services, rate), [api_number, api_stars], [appraisal], "rate")
    api_endpoint(
        bind(services, more_like_this), [api_number], [similar, similar_ids], "more_like_this"
    )
    # after the public `rate`: the private wiring must not take its name
    stars.input(bind(services, rate), [current, stars], [appraisal], api_visibility="private")

    # one click: the file is made, then the browser saves it; a refusal (not the owner, not
    # signed in) stays on the page under the buttons instead of a toast that vanishes
    for button, fn, target in (
        (download_button, download_here, signed_file),
        (certificate_button, certificate_here, cert_file),
    ):
        button.click(bind(services, fn), [current], [target, result]).success(
            lambda: gr.update(visible=True), None, files_row, queue=False
        ).then(None, [target], None, js=SAVE_FILE_JS)
