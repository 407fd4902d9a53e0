"""People: your notifications, artists' storefronts (their works, sales and royalties, with a
Follow button) and, for an artist, the insight panel (views, favourites, ratings and sales of
the works they made, by style)."""

from __future__ import annotations

import gradio as gr

from marketplace import notifications, taste
from marketplace.money import format_cents
from ui.auth import require_viewer, viewer
from ui.common import (
    Services,
    bind,
    escape,
    picked_id,
    quiet_for_guests,
    run,
    thumbnail,
    tile_gallery,
)
from ui.shell import Page

STYLE_HEADERS = ["style", "works", "views", "favourites", "rating", "sales", "sold for"]
TOP_HEADERS = ["artwork", "title", "style", "views", "favourites", "rating", "sales"]
OUTCOME_WORDS = {
    "accepted": "accepted",
    "declined": "declined",
    "expired": "expired unanswered",
}
STAGE_WORDS = {
    "filed": "was reported as a copy; an operator will look at it",
    "suspended": "was reported as a copy and its sales are suspended; you may answer the report",
    "countered": "has an answered report",
    "removed": "was taken down after a copyright report",
    "restored": "is back on sale: the copyright report was not upheld",
    "rejected": "had a copyright report rejected",
}


def _work(n) -> str:
    title = escape(n.payload.get("title", ""))
    if n.artwork_id is None:
        return f"“{title}”"
    return f'<a href="?artwork={n.artwork_id}">“{title}” (#{n.artwork_id})</a>'


def describe_notification(n) -> str:
    """One notification in words (HTML, user text escaped)."""
    p, work, cents = n.payload, _work(n), format_cents
    if n.kind == "outbid":
        return (
            f"You were <b>outbid</b> on {work}: a bid of {cents(p.get('bid_cents', 0))} credits "
            f"beat yours; your {cents(p.get('refunded_cents', 0))} credits are back in your "
            "wallet."
        )
    if n.kind == "won":
        return f"You <b>won</b> {work} for {cents(p.get('price_cents', 0))} credits."
    if n.kind == "sold":
        return (
            f"<b>Sold</b>: {work} ({escape(p.get('licence_tier', ''))}) for "
            f"{cents(p.get('price_cents', 0))} credits; {cents(p.get('received_cents', 0))} "
            "came to you."
        )
    if n.kind == "royalty":
        return (
            f"<b>Royalty</b>: {work} was sold; {cents(p.get('received_cents', 0))} credits came "
            "to you."
        )
    if n.kind == "offer_received":
        return (
            f"<b>Offer</b> of {cents(p.get('amount_cents', 0))} credits for "
            f"{escape(p.get('licence_tier', ''))} on {work} (offer #{p.get('offer_id')}); answer "
            "it on the Market page."
        )
    if n.kind == "offer_answered":
        outcome = OUTCOME_WORDS.get(p.get("outcome"), escape(str(p.get("outcome"))))
        back = "" if p.get("outcome") == "accepted" else "; your credits are back"
        return f"Your offer #{p.get('offer_id')} on {work} was <b>{outcome}</b>{back}."
    if n.kind == "takedown":
        stage = STAGE_WORDS.get(p.get("stage"), escape(str(p.get("stage"))))
        return f"<b>Copyright report</b> #{p.get('takedown_id')}: {work} {stage}."
    if n.kind == "new_work":
        price = (
            f" for {cents(p['price_cents'])} credits"
            if p.get("price_cents")
            else " at auction"
            if p.get("auction_id")
            else ""
        )
        return f"<b>New work</b> from an artist you follow: {work}{price}."
    return escape(n.kind)


def notifications_page(services: Services, request: gr.Request) -> str:
    """Your newest notifications (unread ones marked), as HTML."""
    who = require_viewer(services, request)

    def work():
        with services.readers() as s:
            items = notifications.notifications_of(s, who.id)
            return [
                (n.id, n.read_at is None, n.created_at, describe_notification(n)) for n in items
            ]

    items = run(work)
    if not items:
        return (
            '<div class="atelier-muted">Nothing yet. Outbids, sales, royalties, offers, '
            "copyright reports and new works by artists you follow appear here.</div>"
        )
    unread = sum(1 for _, new, _, _ in items if new)
    rows = "".join(
        f'<li class="{"atelier-unread" if new else ""}">'
        f'<span class="atelier-muted">{str(at)[:16]} UTC</span> · '
        f"{'<b>●</b> ' if new else ''}{text}</li>"
        for _id, new, at, text in items
    )
    head = f"<p><b>{unread} unread</b></p>" if unread else "<p>All read.</p>"
    return f'{head}<ol class="atelier-timeline" id="people-notes">{rows}</ol>'


def mark_read(services: Services, request: gr.Request) -> str:
    """Mark all your notifications read; returns the list again."""
    who = require_viewer(services, request)

    def work():
        with services.sessions() as s, s.begin():
            notifications.mark_read(s, who.id)

    run(work)
    return notifications_page(services, request)


def storefront(services: Services, artist, request: gr.Request):
    """An artist's storefront: (HTML of their figures, thumbnails of their works, work ids)."""
    name = (artist or "").strip()
    if not name:
        raise gr.Error("Enter an artist's name.")
    who = viewer(services, request)

    def work():
        with services.readers() as s:
            return taste.storefront(s, name, who.id if who else None)

    front = run(work)
    tiles, ids = [], []
    for w in front["works"]:
        thumb = thumbnail(services, w["blob_key"], size=256)
        if thumb is None:
            continue
        price = f" · {format_cents(w['price_cents'])} credits" if w["price_cents"] else ""
        owner = "" if w["owner"] == front["artist"] else f" · owned by {w['owner']}"
        tiles.append((thumb, f"#{w['id']} {w['title']}{price}{owner}"))
        ids.append(w["id"])
    following = " · <b>you follow them</b>" if front["you_follow"] else ""
    html = (
        f'<h3 id="people-artist-name" style="margin:0">{escape(front["artist"])}</h3>'
        f'<div class="atelier-muted">member since {front["member_since"]}{following}</div>'
        f'<table class="atelier-facts">'
        f"<tr><td>Works made</td><td>{front['work_count']}</td></tr>"
        f"<tr><td>Sales of their works</td><td>{front['sales']} for "
        f"{format_cents(front['sales_cents'])} credits</td></tr>"
        f"<tr><td>Royalties earned</td><td>{format_cents(front['royalties_cents'])} credits"
        "</td></tr>"
        f"<tr><td>Followers</td><td>{front['followers']}</td></tr></table>"
    )
    return html, tiles, ids


def follow(services: Services, artist, request: gr.Request) -> str:
    """Follow an artist: their new listings and auctions reach your notifications."""
    return _follow(services, artist, request, on=True)


def unfollow(services: Services, artist, request: gr.Request) -> str:
    """Stop following an artist."""
    return _follow(services, artist, request, on=False)


def _follow(services: Services, artist, request: gr.Request, *, on: bool) -> str:
    who = require_viewer(services, request)
    name = (artist or "").strip()
    if not name:
        raise gr.Error("Enter an artist's name.")

    def work():
        with services.sessions() as s, s.begin():
            taste.follow(s, who.id, name, on=on)
            return taste.following(s, who.id)

    names = run(work)
    now = (
        f"✓ You follow {escape(name)}: their new works will reach your notifications."
        if on
        else f"✓ You no longer follow {escape(name)}."
    )
    listed = ", ".join(escape(n) for n in names) or "nobody"
    return f"{now}\n\nYou follow: {listed}."


def insights(services: Services, request: gr.Request):
    """Your insight panel, for the works you made: (summary HTML, by-style rows, top works)."""
    who = require_viewer(services, request)

    def work():
        with services.readers() as s:
            return taste.insights(s, who.id), taste.following(s, who.id)

    panel, followed = run(work)
    t = panel["totals"]

    def stars(item) -> str:
        return "—" if item["average_stars"] is None else f"{item['average_stars']:.1f}★"

    def n(count: int, word: str) -> str:
        return f"<b>{count}</b> {word}{'' if count == 1 else 's'}"

    html = (
        f'<div id="people-insight-totals">Your {panel["works"]} works, last {panel["days"]} days: '
        f"{n(t['views'], 'view')} · {n(t['favourites'], 'favourite')} · "
        f"{n(t['ratings'], 'rating')} ({stars(t)}) · {n(t['sales'], 'sale')} for "
        f"{format_cents(t['sales_cents'])} credits · royalties earned "
        f"{format_cents(panel['royalties_cents'])} · {n(panel['followers'], 'follower')}</div>"
        f'<div class="atelier-muted">You follow: '
        f"{', '.join(escape(n) for n in followed) or 'nobody yet'}.</div>"
    )
    by_style = [
        [
            g["style"],
            g["works"],
            g["views"],
            g["favourites"],
            stars(g),
            g["sales"],
            format_cents(g["sales_cents"]),
        ]
        for g in panel["by_style"]
    ]
    top = [
        [w["id"], w["title"], w["style"], w["views"], w["favourites"], stars(w), w["sales"]]
        for w in panel["top_works"]
    ]
    return html, by_style, top


def build(services: Services, page: Page) -> None:
    """Lay out the People page and wire its handlers."""
    with gr.Row():
        with gr.Column(scale=3):
            gr.Markdown("### Artist storefront")
            with gr.Row(equal_height=True):
                artist = gr.Textbox(
                    show_label=False,
                    placeholder="Artist's name",
                    max_length=64,
                    container=False,
                    elem_id="people-artist",
                )
                look = gr.Button("Open", scale=0, min_width=100, elem_id="people-open")
            front = gr.HTML(
                '<div class="atelier-muted">Type an artist\'s name (a creator on any artwork '
                "page) to see their works, sales and royalties.</div>",
                elem_id="people-storefront",
            )
            tiles = tile_gallery("people-works", columns=5, height=280)
            with page.member_section("Following an artist needs an account."), gr.Row():
                follow_button = gr.Button("Follow", variant="primary", elem_id="people-follow")
                unfollow_button = gr.Button("Unfollow", elem_id="people-unfollow")
            follow_status = gr.Markdown(elem_id="people-follow-status")
        with (
            gr.Column(scale=2),
            page.member_section("Notifications need an account."),
        ):
            gr.Markdown("### Notifications")
            notes = gr.HTML(elem_id="people-notifications")
            with gr.Row():
                refresh = gr.Button("Refresh", size="sm", elem_id="people-refresh")
                read = gr.Button("Mark all read", size="sm", elem_id="people-read")
    with page.member_section("The insight panel is for artists with an account."):
        gr.Markdown("### Your insights")
        summary = gr.HTML(elem_id="people-insights")
        with gr.Row():
            by_style = gr.Dataframe(
                headers=STYLE_HEADERS, interactive=False, label="By style", elem_id="people-styles"
            )
            top = gr.Dataframe(headers=TOP_HEADERS, interactive=False, label="Most viewed works")
    ids = gr.State([])
    shown = [front, tiles, ids]
    look.click(bind(services, storefront), [artist], shown, api_name="storefront")
    artist.submit(bind(services, storefront), [artist], shown, api_visibility="private")
    page.open_events.append(tiles.select(picked_id, [ids], [page.opener]))
    for button, fn, name in (
        (follow_button, follow, "follow"),
        (unfollow_button, unfollow, "unfollow"),
    ):
        button.click(bind(services, fn), [artist], [follow_status], api_name=name).success(
            bind(services, storefront), [artist], shown, show_progress="hidden"
        )
    page.refresh_header(
        refresh.click(bind(services, notifications_page), None, [notes], api_name="notifications"),
        services,
    )
    page.refresh_header(
        read.click(bind(services, mark_read), None, [notes], api_name="mark_read"), services
    )
    gr.Button(visible=False).click(
        bind(services, insights), None, [summary, by_style, top], api_name="insights"
    )
    page.when_shown(quiet_for_guests(bind(services, notifications_page), 1), [notes])
    page.when_shown(quiet_for_guests(bind(services, insights), 3), [summary, by_style, top])
