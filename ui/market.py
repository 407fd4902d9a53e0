"""Market: auctions (reserve and Dutch) and offers.

Anyone sees the open auctions; members bid, buy a Dutch auction at its price now, start and
cancel auctions of their works, make offers on any registered work, and answer the offers on
theirs. Money for a bid or an offer is held in escrow from the moment it is placed.
"""

from __future__ import annotations

import uuid

import gradio as gr

from marketplace import auctions, commissions, offers, read_models, takedowns
from marketplace.money import format_cents, parse_price
from marketplace.rules import MarketRules, parse_duration
from ui.auth import require_viewer
from ui.common import Services, bind, escape, quiet_for_guests, run, whole
from ui.shell import Page

AUCTION_HEADERS = ["auction", "artwork", "seller", "kind", "now", "ends (UTC)", "bids"]
BRIEF_HEADERS = ["brief", "by", "title", "budget", "due (UTC)", "answers"]
CANDIDATE_HEADERS = ["answer", "brief", "artwork", "artist", "note", "status"]
REPORT_HEADERS = ["report", "work", "copies", "reported by", "status", "evidence", "filed"]
OFFER_HEADERS = ["offer", "artwork", "from", "amount", "licence", "status", "expires (UTC)"]
KIND_CHOICES = [("Reserve (bids)", "reserve"), ("Dutch (falling price)", "dutch")]
LICENCE_CHOICES = [
    ("the work itself (exclusive)", "exclusive"),
    ("a commercial licence", "commercial"),
    ("a personal licence", "personal"),
]


def rules_text(rules: MarketRules) -> str:
    """The rules a bidder must know, from the rules the market runs with."""

    def span(seconds: int) -> str:
        if seconds % 3600 == 0:
            return f"{seconds // 3600} h"
        return f"{seconds // 60} minutes" if seconds % 60 == 0 else f"{seconds} s"

    return (
        "**How it works.** A bid or an offer is taken from your wallet at once and held in "
        "escrow: an outbid bidder, a declined, withdrawn or expired offer gets it back at once. "
        f"A reserve auction's clock ({span(rules.auction_seconds)} unless the seller chose "
        "otherwise) starts with the first bid at the reserve; each bid must beat the last by "
        f"{rules.min_bid_increment_bps / 100:g}%; a bid in the last "
        f"{span(rules.auction_extension_seconds)} moves the end to "
        f"{span(rules.auction_extension_seconds)} after it. When the clock runs out the work "
        "goes to the highest bidder within seconds, paid like a purchase (platform fee "
        f"{rules.platform_fee_bps / 100:g}%, creator royalty, shares for the owners of source "
        "works)."
    )


def _short(moment: str | None) -> str:
    return "—" if moment is None else moment[:16].replace("T", " ")


def open_auctions(services: Services):
    """The open auctions, ending soonest first (those waiting for a first bid last)."""

    def work():
        with services.readers() as s:
            return [read_models.auction_summary(s, a) for a in auctions.list_auctions(s)]

    rows = []
    for a in run(work):
        if a["kind"] == "dutch":
            now = f"price {format_cents(a['price_now_cents'])}"
        elif a["high_bid_cents"] is None:
            now = f"reserve {format_cents(a['reserve_cents'])}, no bids"
        else:
            now = (
                f"{format_cents(a['high_bid_cents'])} by {a['high_bidder']}; next ≥ "
                f"{format_cents(a['minimum_bid_cents'])}"
            )
        ends = _short(a["ends_at"]) if a["ends_at"] else "clock starts at first bid"
        rows.append([a["id"], a["artwork_id"], a["seller"], a["kind"], now, ends, a["bid_count"]])
    return rows


def start_auction(
    services: Services, artwork_id, kind, reserve, start_price, duration, request: gr.Request
) -> str:
    """Put a work you own up for auction: `kind` "reserve" or "dutch"; `reserve` the lowest
    first bid (Dutch: the floor); `start_price` a Dutch auction's first price; `duration`
    like 24h, 90m or 7d (empty: 24h)."""
    who = require_viewer(services, request)
    number = whole(artwork_id, "the artwork to auction")
    rules = services.settings.rules

    def work():
        with services.sessions() as s, s.begin():
            auction = auctions.create_auction(
                s,
                number,
                who.id,
                kind=kind,
                reserve_cents=parse_price(reserve, max_cents=rules.max_price_cents),
                start_price_cents=(
                    parse_price(start_price, max_cents=rules.max_price_cents)
                    if kind == "dutch"
                    else None
                ),
                duration_seconds=(parse_duration(duration, name="duration") if duration else None),
                rules=rules,
            )
            return read_models.auction_summary(s, auction)

    a = run(work)
    if a["kind"] == "dutch":
        return (
            f"✓ Auction #{a['id']} is open: from {format_cents(a['start_price_cents'])} down to "
            f"{format_cents(a['reserve_cents'])} credits, ending {_short(a['ends_at'])} UTC."
        )
    return (
        f"✓ Auction #{a['id']} is open with a reserve of {format_cents(a['reserve_cents'])} "
        "credits; its clock starts with the first bid."
    )


def place_bid(services: Services, auction_id, amount, key, request: gr.Request) -> str:
    """Bid `amount` credits on a reserve auction; it is held until you are outbid or win.
    `key` (optional) makes a retry safe: the same key bids once."""
    who = require_viewer(services, request)
    number = whole(auction_id, "the auction")
    rules = services.settings.rules

    def work():
        cents = parse_price(amount, max_cents=rules.max_price_cents)
        with services.sessions() as s, s.begin():
            result = auctions.place_bid(
                s, number, who.id, cents, key or str(uuid.uuid4()), rules=rules
            )
            return result, read_models.iso_utc(result.auction.ends_at)

    result, ends = run(work)
    extended = " The clock was extended." if result.extended else ""
    return (
        f"✓ Your bid of {format_cents(result.bid.amount_cents)} credits leads auction "
        f"#{result.auction.id}, ending {_short(ends)} UTC.{extended}"
    )


def buy_now(services: Services, auction_id, key, request: gr.Request) -> str:
    """Buy a Dutch auction's work at its price now."""
    who = require_viewer(services, request)
    number = whole(auction_id, "the auction")

    def work():
        with services.sessions() as s, s.begin():
            return auctions.buy_dutch(
                s, number, who.id, key or str(uuid.uuid4()), rules=services.settings.rules
            )

    result = run(work)
    return (
        f"✓ Bought artwork #{result.sale.artwork_id} for "
        f"{format_cents(result.sale.price_cents)} credits (sale #{result.sale.id})."
    )


def cancel_auction(services: Services, auction_id, request: gr.Request) -> str:
    """Cancel your auction (a reserve auction only before its first bid)."""
    who = require_viewer(services, request)
    number = whole(auction_id, "the auction")

    def work():
        with services.sessions() as s, s.begin():
            return auctions.cancel_auction(s, number, who.id).id

    return f"✓ Auction #{run(work)} is cancelled."


def make_offer(
    services: Services, artwork_id, amount, licence, expires, request: gr.Request
) -> str:
    """Offer `amount` credits for a work (or a licence of it), listed or not; held in escrow
    until it is accepted, declined, withdrawn or expires (`expires` like 3d; empty: 7d)."""
    who = require_viewer(services, request)
    number = whole(artwork_id, "the artwork")
    rules = services.settings.rules

    def work():
        cents = parse_price(amount, max_cents=rules.max_price_cents)
        seconds = parse_duration(expires, name="expiry") if expires else None
        with services.sessions() as s, s.begin():
            offer = offers.make_offer(
                s,
                number,
                who.id,
                cents,
                licence_tier=licence or "exclusive",
                expires_in_seconds=seconds,
                rules=rules,
            )
            return read_models.offer_summary(s, offer)

    o = run(work)
    return (
        f"✓ Offer #{o['id']}: {o['amount']} credits for artwork #{o['artwork_id']} "
        f"({o['licence_tier']}), held until it closes; it expires {_short(o['expires_at'])} UTC."
    )


def my_offers(services: Services, request: gr.Request):
    """Offers you made, and open offers on works you own. Returns (table, summary)."""
    who = require_viewer(services, request)

    def work():
        with services.readers() as s:
            groups = offers.offers_for_user(s, who.id)
            return {k: [read_models.offer_summary(s, o) for o in v] for k, v in groups.items()}

    data = run(work)
    rows = [
        [
            o["id"],
            o["artwork_id"],
            "you" if group == "made" else o["buyer"],
            o["amount"],
            o["licence_tier"],
            o["status"],
            _short(o["expires_at"]),
        ]
        for group in ("received", "made")
        for o in data[group]
    ]
    received = len(data["received"])
    summary = (
        f"{received} open offer{'s' if received != 1 else ''} on your works; "
        f"{len(data['made'])} made by you."
    )
    return rows, escape(summary)


def answer_offer(services: Services, offer_id, answer: str, request: gr.Request) -> str:
    who = require_viewer(services, request)
    number = whole(offer_id, "the offer")
    rules = services.settings.rules

    def work():
        with services.sessions() as s, s.begin():
            if answer == "accept":
                result = offers.accept_offer(s, number, who.id, rules=rules)
                return (
                    f"✓ Accepted offer #{number}: sold for "
                    f"{format_cents(result.sale.price_cents)} credits (sale #{result.sale.id})."
                )
            close = offers.decline_offer if answer == "decline" else offers.withdraw_offer
            offer = close(s, number, who.id)
            verb = "declined" if answer == "decline" else "withdrawn"
            return f"✓ Offer #{offer.id} {verb}; the money is back with its maker."

    return run(work)


def accept_offer(services: Services, offer_id, request: gr.Request) -> str:
    """Accept an offer on a work you own: it is paid out like a sale."""
    return answer_offer(services, offer_id, "accept", request)


def decline_offer(services: Services, offer_id, request: gr.Request) -> str:
    """Decline an offer on a work you own; its maker is refunded at once."""
    return answer_offer(services, offer_id, "decline", request)


def withdraw_offer(services: Services, offer_id, request: gr.Request) -> str:
    """Withdraw an offer you made; you are refunded at once."""
    return answer_offer(services, offer_id, "withdraw", request)


def report_copy(services: Services, artwork_id, original_id, statement, request: gr.Request):
    """Report that artwork `artwork_id` copies `original_id`, saying why. Atelier checks
    with its own identification; where that names the original (older, someone else's), the
    copy's sales stop until an operator decides."""
    who = require_viewer(services, request)
    copy = whole(artwork_id, "the work that copies")
    original = whole(original_id, "the work it copies")

    def work():
        with services.sessions() as s, s.begin():
            report = takedowns.file_report(s, services.blobs, who.id, copy, original, statement)
            return read_models.takedown_summary(s, report)

    t = run(work)
    if t["status"] == "suspended":
        return (
            f"✓ Report #{t['id']} filed. Atelier's evidence ({t['signal']}) names artwork "
            f"#{t['original_id']}: the sales of artwork #{t['artwork_id']} are suspended "
            "until an operator decides."
        )
    return (
        f"✓ Report #{t['id']} filed; an operator will look at it. Its sales go on meanwhile: "
        f"{escape(t['evidence'].get('why_not_suspended', ''))}."
    )


def my_reports(services: Services, request: gr.Request):
    """Reports about your works, and reports you filed, newest first."""
    who = require_viewer(services, request)

    def work():
        with services.readers() as s:
            mine = {t.id: t for t in takedowns.reports(s) if who.id in (t.reporter_id, t.seller_id)}
            return [read_models.takedown_summary(s, t) for t in mine.values()]

    return [
        [
            t["id"],
            t["artwork_id"],
            t["original_id"],
            t["reporter"],
            t["status"],
            t["signal"] or "does not name it",
            _short(t["created_at"]),
        ]
        for t in run(work)
    ]


def counter_notice(services: Services, takedown_id, statement, request: gr.Request) -> str:
    """Answer a report about a work you own; an operator then decides."""
    who = require_viewer(services, request)
    number = whole(takedown_id, "the report")

    def work():
        with services.sessions() as s, s.begin():
            return takedowns.counter_notice(s, number, who.id, statement).id

    return f"✓ Your answer to report #{run(work)} is filed; an operator will decide."


def post_brief(
    services: Services,
    title,
    brief,
    palette,
    references,
    licence,
    budget,
    deadline,
    request: gr.Request,
) -> str:
    """Post a commission brief: `references` are artwork numbers ("4, 7"), `palette` up to 8
    colours ("#0b1d3a #f2c14e"), `deadline` like 3d. The budget is held until you choose."""
    who = require_viewer(services, request)
    rules = services.settings.rules
    refs = [whole(x, "a reference work") for x in str(references or "").replace(",", " ").split()]

    def work():
        cents = parse_price(budget, max_cents=rules.max_price_cents)
        seconds = parse_duration(deadline or "3d", name="deadline")
        with services.sessions() as s, s.begin():
            c = commissions.post_commission(
                s,
                who.id,
                title=title,
                brief=brief,
                palette=palette or "",
                reference_ids=refs,
                licence_tier=licence or "exclusive",
                budget_cents=cents,
                deadline_seconds=seconds,
                rules=rules,
            )
            return read_models.commission_summary(s, c)

    c = run(work)
    return (
        f"✓ Brief #{c['id']} posted; {c['budget']} credits are held until you choose an "
        f"answer. Answers are due {_short(c['deadline_at'])} UTC."
    )


def open_briefs(services: Services):
    """Briefs taking answers, soonest deadline first."""

    def work():
        with services.readers() as s:
            return [read_models.commission_summary(s, c) for c in commissions.open_commissions(s)]

    return [
        [
            c["id"],
            c["buyer"],
            c["title"],
            f"{c['budget']} ({c['licence_tier']})",
            _short(c["deadline_at"])[5:],
            len(c["candidates"]),
        ]
        for c in run(work)
    ]


def answer_brief(services: Services, commission_id, artwork_id, note, request: gr.Request):
    """Answer a brief with a work you made and own."""
    who = require_viewer(services, request)
    number = whole(commission_id, "the brief")
    artwork = whole(artwork_id, "your work")

    def work():
        with services.sessions() as s, s.begin():
            return commissions.submit_candidate(s, number, who.id, artwork, note=note or "").id

    return f"✓ Your work #{artwork} answers brief #{number} (answer #{run(work)})."


def my_briefs(services: Services, request: gr.Request):
    """The answers to your open briefs."""
    who = require_viewer(services, request)

    def work():
        with services.readers() as s:
            return [read_models.commission_summary(s, c) for c in commissions.briefs_of(s, who.id)]

    return [
        [
            a["id"],
            f"#{c['id']} {c['title']} ({c['status']})",
            a["artwork_id"],
            a["artist"],
            a["note"],
            a["status"],
        ]
        for c in run(work)
        for a in c["candidates"]
    ]


def choose_answer(services: Services, candidate_id, request: gr.Request) -> str:
    """Choose an answer to your brief: the artist is paid like a sale."""
    who = require_viewer(services, request)
    number = whole(candidate_id, "the answer")

    def work():
        with services.sessions() as s, s.begin():
            return commissions.choose_candidate(s, number, who.id, rules=services.settings.rules)

    result = run(work)
    return (
        f"✓ Chose answer #{number}: artwork #{result.sale.artwork_id} is yours "
        f"({result.sale.licence_tier}) for {format_cents(result.sale.price_cents)} credits."
    )


def cancel_brief(services: Services, commission_id, request: gr.Request) -> str:
    """Withdraw your brief before anyone answers; the budget comes back."""
    who = require_viewer(services, request)
    number = whole(commission_id, "the brief")

    def work():
        with services.sessions() as s, s.begin():
            return commissions.cancel_commission(s, number, who.id).id

    return f"✓ Brief #{run(work)} withdrawn; its budget is back in your wallet."


def build(services: Services, page: Page) -> None:
    """Lay out the Market page and wire its handlers."""
    gr.Markdown(rules_text(services.settings.rules), elem_id="market-rules")
    with gr.Row():
        with gr.Column(scale=3):
            gr.Markdown("### Open auctions")
            table = gr.Dataframe(
                headers=AUCTION_HEADERS, interactive=False, wrap=True, elem_id="market-auctions"
            )
            refresh = gr.Button("Refresh", size="sm", elem_id="market-refresh")
        with gr.Column(scale=2), page.member_section("Bidding and offers need an account."):
            gr.Markdown("### Bid, or buy a Dutch auction now")
            with gr.Row():
                auction = gr.Number(
                    label="Auction", value=None, precision=0, elem_id="market-auction"
                )
                amount = gr.Textbox(label="Your bid (credits)", elem_id="market-amount")
            key = gr.Textbox(visible=False)
            with gr.Row():
                bid_button = gr.Button("Place bid", variant="primary", elem_id="market-bid")
                buy_button = gr.Button("Buy now (Dutch)", elem_id="market-buy")
            bid_status = gr.Markdown(elem_id="market-bid-status")
    with page.member_section("Auctions and offers need an account."), gr.Row():
        with gr.Column():
            gr.Markdown("### Auction a work you own")
            with gr.Row():
                artwork = gr.Number(
                    label="Artwork", value=None, precision=0, elem_id="market-artwork"
                )
                kind = gr.Dropdown(
                    KIND_CHOICES, value="reserve", label="Kind", elem_id="market-kind"
                )
            with gr.Row():
                reserve = gr.Textbox(
                    label="Reserve (credits; Dutch: the floor)", elem_id="market-reserve"
                )
                start_price = gr.Textbox(
                    label="Start price (Dutch)", visible=False, elem_id="market-start"
                )
                duration = gr.Textbox(
                    label="Duration", placeholder="24h", elem_id="market-duration"
                )
            with gr.Row():
                start_button = gr.Button(
                    "Start auction", variant="primary", elem_id="market-start-auction"
                )
                cancel_button = gr.Button("Cancel auction (number above)", variant="stop")
            auction_status = gr.Markdown(elem_id="market-auction-status")
        with gr.Column():
            gr.Markdown("### Offers")
            with gr.Row():
                offer_artwork = gr.Number(
                    label="Artwork", value=None, precision=0, elem_id="market-offer-artwork"
                )
                offer_amount = gr.Textbox(label="Offer (credits)", elem_id="market-offer-amount")
            with gr.Row():
                offer_licence = gr.Dropdown(
                    LICENCE_CHOICES, value="exclusive", label="For", elem_id="market-offer-licence"
                )
                expires = gr.Textbox(label="Expires in", placeholder="7d")
            offer_button = gr.Button("Make offer", variant="primary", elem_id="market-offer")
            offers_summary = gr.Markdown(elem_id="market-offers-summary")
            offers_table = gr.Dataframe(
                headers=OFFER_HEADERS, interactive=False, wrap=True, elem_id="market-offers"
            )
            with gr.Row():
                offer_number = gr.Number(
                    label="Offer", value=None, precision=0, elem_id="market-offer-id"
                )
                accept = gr.Button("Accept", variant="primary", elem_id="market-accept")
                decline = gr.Button("Decline", elem_id="market-decline")
                withdraw = gr.Button("Withdraw", elem_id="market-withdraw")
            offer_status = gr.Markdown(elem_id="market-offer-status")
    with page.member_section("Commissions need an account."), gr.Row():
        with gr.Column():
            gr.Markdown(
                "### Commission a work\nDescribe what you want; artists answer with works "
                "they made. The budget is held until you choose one (refunded if nobody "
                "answers by the deadline, or you choose nothing within 7 days after it)."
            )
            brief_title = gr.Textbox(label="Title", elem_id="brief-title")
            brief_text = gr.Textbox(label="What you want", lines=3, elem_id="brief-text")
            with gr.Row():
                brief_palette = gr.Textbox(
                    label="Palette", placeholder="#0b1d3a #f2c14e", elem_id="brief-palette"
                )
                brief_refs = gr.Textbox(
                    label="Reference works", placeholder="4, 7", elem_id="brief-refs"
                )
            with gr.Row():
                brief_licence = gr.Dropdown(
                    LICENCE_CHOICES, value="exclusive", label="For", elem_id="brief-licence"
                )
                brief_budget = gr.Textbox(label="Budget (credits)", elem_id="brief-budget")
                brief_deadline = gr.Textbox(
                    label="Answers due in", placeholder="3d", elem_id="brief-deadline"
                )
            brief_button = gr.Button("Post brief", variant="primary", elem_id="brief-post")
            brief_status = gr.Markdown(elem_id="brief-status")
            gr.Markdown("#### Answers to your briefs")
            answers_table = gr.Dataframe(
                headers=CANDIDATE_HEADERS, interactive=False, wrap=True, elem_id="brief-answers"
            )
            with gr.Row():
                answer_number = gr.Number(
                    label="Answer", value=None, precision=0, elem_id="brief-answer-id"
                )
                choose_button = gr.Button("Choose", variant="primary", elem_id="brief-choose")
                cancel_brief_button = gr.Button("Withdraw brief (number)", elem_id="brief-cancel")
            choose_status = gr.Markdown(elem_id="brief-choose-status")
        with gr.Column():
            gr.Markdown("### Open briefs")
            briefs_table = gr.Dataframe(
                headers=BRIEF_HEADERS, interactive=False, wrap=True, elem_id="briefs"
            )
            with gr.Row():
                answer_brief_number = gr.Number(
                    label="Brief", value=None, precision=0, elem_id="answer-brief"
                )
                answer_artwork = gr.Number(
                    label="Your work", value=None, precision=0, elem_id="answer-artwork"
                )
            answer_note = gr.Textbox(label="Note to the buyer", elem_id="answer-note")
            answer_button_brief = gr.Button("Answer with this work", elem_id="answer-go")
            answer_brief_status = gr.Markdown(elem_id="answer-status")
    with page.member_section("Reporting a copy needs an account."), gr.Row():
        with gr.Column():
            gr.Markdown(
                "### Report a copy\nName the work that copies and the work it copies. Atelier "
                "checks with its own identification; if it names the original (older, someone "
                "else's), the copy's sales stop until an operator decides. Its owner may answer."
            )
            with gr.Row():
                reported = gr.Number(
                    label="Work that copies", value=None, precision=0, elem_id="report-copy"
                )
                copied = gr.Number(
                    label="Work it copies", value=None, precision=0, elem_id="report-original"
                )
            statement = gr.Textbox(label="Why (your words)", lines=2, elem_id="report-statement")
            report_button = gr.Button("Report", variant="stop", elem_id="report-file")
            report_status = gr.Markdown(elem_id="report-status")
        with gr.Column():
            gr.Markdown("### Reports about your works, and yours")
            reports_table = gr.Dataframe(
                headers=REPORT_HEADERS, interactive=False, wrap=True, elem_id="report-table"
            )
            with gr.Row():
                report_number = gr.Number(
                    label="Report", value=None, precision=0, elem_id="report-id"
                )
                answer = gr.Textbox(label="Your answer (counter-notice)", elem_id="report-answer")
            answer_button = gr.Button("Send answer", elem_id="report-counter")
            answer_status = gr.Markdown(elem_id="report-answer-status")

    def then_refresh(event):
        event.success(bind(services, open_auctions), None, table, show_progress="hidden")

    def then_offers(event):
        event.success(
            bind(services, my_offers), None, [offers_table, offers_summary], show_progress="hidden"
        )

    refresh.click(bind(services, open_auctions), None, table, api_name="auctions")
    kind.change(
        lambda k: gr.update(visible=k == "dutch"),
        kind,
        start_price,
        queue=False,
        show_progress="hidden",
    )
    bid_event = bid_button.click(
        bind(services, place_bid), [auction, amount, key], bid_status, api_name="bid"
    )
    buy_event = buy_button.click(
        bind(services, buy_now), [auction, key], bid_status, api_name="buy_now"
    )
    for event in (bid_event, buy_event):
        then_refresh(event)
        page.refresh_header(event, services)  # the money held or paid shows in the balance
    then_refresh(
        start_button.click(
            bind(services, start_auction),
            [artwork, kind, reserve, start_price, duration],
            auction_status,
            api_name="start_auction",
        )
    )
    then_refresh(
        cancel_button.click(
            bind(services, cancel_auction), [auction], auction_status, api_name="cancel_auction"
        )
    )
    offer_event = offer_button.click(
        bind(services, make_offer),
        [offer_artwork, offer_amount, offer_licence, expires],
        offer_status,
        api_name="make_offer",
    )
    then_offers(offer_event)
    page.refresh_header(offer_event, services)
    for button, fn, name in (
        (accept, accept_offer, "accept_offer"),
        (decline, decline_offer, "decline_offer"),
        (withdraw, withdraw_offer, "withdraw_offer"),
    ):
        event = button.click(bind(services, fn), [offer_number], offer_status, api_name=name)
        then_offers(event)
        page.refresh_header(event, services)

    def then_reports(event):
        event.success(bind(services, my_reports), None, reports_table, show_progress="hidden")

    then_reports(
        report_button.click(
            bind(services, report_copy),
            [reported, copied, statement],
            report_status,
            api_name="report_copy",
        )
    )
    then_reports(
        answer_button.click(
            bind(services, counter_notice),
            [report_number, answer],
            answer_status,
            api_name="counter_notice",
        )
    )

    def then_briefs(event):
        event.success(bind(services, open_briefs), None, briefs_table, show_progress="hidden")
        event.success(bind(services, my_briefs), None, answers_table, show_progress="hidden")

    posted = brief_button.click(
        bind(services, post_brief),
        [
            brief_title,
            brief_text,
            brief_palette,
            brief_refs,
            brief_licence,
            brief_budget,
            brief_deadline,
        ],
        brief_status,
        api_name="post_commission",
    )
    then_briefs(posted)
    page.refresh_header(posted, services)
    then_briefs(
        answer_button_brief.click(
            bind(services, answer_brief),
            [answer_brief_number, answer_artwork, answer_note],
            answer_brief_status,
            api_name="answer_commission",
        )
    )
    for button, fn, name in (
        (choose_button, choose_answer, "choose_candidate"),
        (cancel_brief_button, cancel_brief, "cancel_commission"),
    ):
        event = button.click(bind(services, fn), [answer_number], choose_status, api_name=name)
        then_briefs(event)
        page.refresh_header(event, services)
    briefs_refresh = gr.Button(visible=False)
    briefs_refresh.click(bind(services, open_briefs), None, briefs_table, api_name="commissions")
    answers_refresh = gr.Button(visible=False)
    answers_refresh.click(
        bind(services, my_briefs), None, answers_table, api_name="commission_answers"
    )
    page.when_shown(bind(services, open_briefs), [briefs_table])
    page.when_shown(quiet_for_guests(bind(services, my_briefs), 1), [answers_table])
    reports_refresh = gr.Button(visible=False)
    reports_refresh.click(bind(services, my_reports), None, reports_table, api_name="reports")
    page.when_shown(quiet_for_guests(bind(services, my_reports), 1), [reports_table])
    offers_refresh = gr.Button(visible=False)
    offers_refresh.click(
        bind(services, my_offers), None, [offers_table, offers_summary], api_name="offers"
    )
    page.when_shown(bind(services, open_auctions), [table])
    page.when_shown(quiet_for_guests(bind(services, my_offers), 2), [offers_table, offers_summary])
