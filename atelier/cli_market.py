"""`atelier` commands for auctions, bids and offers.

Examples:
    atelier auction create 4 --as ada --reserve 20 --duration 24h
    atelier auction create 4 --as ada --dutch --start 80 --reserve 20 --duration 2h
    atelier bid 1 --as bob --amount 22.00
    atelier auction buy 2 --as bob          # a Dutch auction, at its price now
    atelier auction settle                  # settle what has ended (the workers do it too)
    atelier offer make 4 --as cyd --amount 30 --expires 3d
    atelier offer accept 3 --as ada
    atelier report file 7 --copies 4 --as ada --statement "a captioned copy of my Harbour"
    atelier report counter 1 --as bob --statement "I hold a licence from ada (sale #3)"
    atelier report decide 1 --remove --note "a copy with a caption"     # the operator
"""

from __future__ import annotations

import uuid

from atelier.cli_common import emit
from marketplace.money import format_cents


def add_commands(add, group) -> None:
    """Add this module's commands with `atelier.cli.build_parser`'s `add` and `group` helpers."""
    auction = group("auction", "auctions of a work itself: reserve (bids) and Dutch (falling)")
    p = add(
        "create",
        cmd_auction_create,
        "put a work you own up for auction: atelier auction create 4 --as ada --reserve 20 "
        "(a reserve auction: the clock starts with the first bid at the reserve) or "
        "--dutch --start 80 --reserve 20 --duration 2h (the price falls to the reserve)",
        parent=auction,
    )
    p.add_argument("artwork_id", type=int)
    p.add_argument("--as", dest="as_user", required=True, metavar="NAME")
    p.add_argument(
        "--reserve", required=True, help="the lowest first bid, or a Dutch auction's floor"
    )
    p.add_argument("--dutch", action="store_true", help="a Dutch auction (falling price)")
    p.add_argument("--start", default=None, help="a Dutch auction's starting price")
    p.add_argument(
        "--duration",
        default=None,
        help="the clock, e.g. 24h, 90m, 7d (default 24h; a reserve auction's starts at "
        "its first bid)",
    )
    p.add_argument(
        "--extension",
        default=None,
        help="a bid with less than this left extends the end to this after it (default 15m)",
    )
    p.add_argument("--royalty", default=None, help="creator royalty in percent (first sale)")

    p = add(
        "show", cmd_auction_show, "an auction and its bids: atelier auction show 1", parent=auction
    )
    p.add_argument("auction_id", type=int)

    p = add(
        "list",
        cmd_auction_list,
        "auctions, ending soonest first: atelier auction list --status open",
        parent=auction,
    )
    p.add_argument("--status", default="open", choices=["open", "settled", "unsold", "cancelled"])

    p = add(
        "cancel",
        cmd_auction_cancel,
        "withdraw your auction (a reserve auction only before its first bid): "
        "atelier auction cancel 1 --as ada",
        parent=auction,
    )
    p.add_argument("auction_id", type=int)
    p.add_argument("--as", dest="as_user", required=True, metavar="NAME")

    p = add(
        "buy",
        cmd_auction_buy,
        "buy a Dutch auction's work at its price now: atelier auction buy 2 --as bob",
        parent=auction,
    )
    p.add_argument("auction_id", type=int)
    p.add_argument("--as", dest="as_user", required=True, metavar="NAME")
    p.add_argument("--max-price", default=None, help="refuse if the price is above this")
    p.add_argument("--idempotency-key", default=None, help="retry safely with the same key")

    add(
        "settle",
        cmd_auction_settle,
        "settle the auctions whose clock has run out and refund expired offers, now "
        "(the workers do it every few seconds): atelier auction settle",
        parent=auction,
    )

    p = add(
        "bid",
        cmd_bid,
        "bid on a reserve auction; the amount is held until you are outbid (refunded at once) "
        "or win: atelier bid 1 --as bob --amount 22.00",
    )
    p.add_argument("auction_id", type=int)
    p.add_argument("--as", dest="as_user", required=True, metavar="NAME")
    p.add_argument("--amount", required=True, help="credits, e.g. 22.00")
    p.add_argument("--idempotency-key", default=None, help="retry safely with the same key")

    offer = group("offer", "offers on any registered work, listed or not")
    p = add(
        "make",
        cmd_offer_make,
        "offer to buy a work (or a licence of it); the amount is held until the offer closes: "
        "atelier offer make 4 --as cyd --amount 30 --expires 3d",
        parent=offer,
    )
    p.add_argument("artwork_id", type=int)
    p.add_argument("--as", dest="as_user", required=True, metavar="NAME")
    p.add_argument("--amount", required=True, help="credits, e.g. 30.00")
    p.add_argument(
        "--licence", default="exclusive", choices=["personal", "commercial", "exclusive"]
    )
    p.add_argument("--expires", default=None, help="how long it stays open, e.g. 3d (default 7d)")
    for name, func, text in (
        (
            "accept",
            cmd_offer_accept,
            "accept an offer on a work you own: atelier offer accept 3 --as ada",
        ),
        (
            "decline",
            cmd_offer_decline,
            "decline an offer on a work you own (refunded): atelier offer decline 3 --as ada",
        ),
        (
            "withdraw",
            cmd_offer_withdraw,
            "withdraw your offer (refunded): atelier offer withdraw 3 --as cyd",
        ),
    ):
        p = add(name, func, text, parent=offer)
        p.add_argument("offer_id", type=int)
        p.add_argument("--as", dest="as_user", required=True, metavar="NAME")
    p = add(
        "list",
        cmd_offer_list,
        "offers you made and open offers on your works: atelier offer list --as ada; "
        "or a work's open offers: atelier offer list --artwork 4",
        parent=offer,
    )
    p.add_argument("--as", dest="as_user", default=None, metavar="NAME")
    p.add_argument("--artwork", type=int, default=None)

    commission = group("commission", "briefs for works made to order, with escrowed budgets")
    p = add(
        "post",
        cmd_commission_post,
        "post a brief; the budget is held until you choose an answer (or it is refunded): "
        "atelier commission post --as bob --title 'Harbour at night' --brief 'boats, lights, "
        "calm water' --budget 40 --deadline 3d --palette '#0b1d3a #f2c14e' --reference 4",
        parent=commission,
    )
    p.add_argument("--as", dest="as_user", required=True, metavar="NAME")
    p.add_argument("--title", required=True)
    p.add_argument("--brief", required=True, help="what you want, in words (10+ characters)")
    p.add_argument("--subject", default="")
    p.add_argument("--palette", default="", help="up to 8 colours, e.g. '#0b1d3a #f2c14e'")
    p.add_argument(
        "--reference",
        type=int,
        action="append",
        default=[],
        metavar="ID",
        help="a registered work to show what you mean (repeatable)",
    )
    p.add_argument(
        "--licence", default="exclusive", choices=["personal", "commercial", "exclusive"]
    )
    p.add_argument("--budget", required=True, help="credits, e.g. 40.00")
    p.add_argument("--deadline", required=True, help="answers due within, e.g. 3d (1h to 30d)")
    p = add(
        "list",
        cmd_commission_list,
        "briefs taking answers: atelier commission list",
        parent=commission,
    )
    p = add(
        "show",
        cmd_commission_show,
        "a brief and its answers: atelier commission show 1",
        parent=commission,
    )
    p.add_argument("commission_id", type=int)
    p = add(
        "answer",
        cmd_commission_answer,
        "answer a brief with a work you made and own: atelier commission answer 1 --as ada "
        "--artwork 9 --note 'night palette as asked'",
        parent=commission,
    )
    p.add_argument("commission_id", type=int)
    p.add_argument("--as", dest="as_user", required=True, metavar="NAME")
    p.add_argument("--artwork", type=int, required=True)
    p.add_argument("--note", default="")
    p = add(
        "choose",
        cmd_commission_choose,
        "choose an answer to your brief; the artist is paid like a sale: "
        "atelier commission choose 2 --as bob (the candidate's number)",
        parent=commission,
    )
    p.add_argument("candidate_id", type=int)
    p.add_argument("--as", dest="as_user", required=True, metavar="NAME")
    p = add(
        "cancel",
        cmd_commission_cancel,
        "withdraw your brief before anyone answers (refunded): "
        "atelier commission cancel 1 --as bob",
        parent=commission,
    )
    p.add_argument("commission_id", type=int)
    p.add_argument("--as", dest="as_user", required=True, metavar="NAME")

    report = group("report", "copyright reports (takedowns): file, answer, decide, list")
    p = add(
        "file",
        cmd_report_file,
        "report that a work copies another; with Atelier's evidence for it, the copy's sales "
        "stop until an operator decides: atelier report file 7 --copies 4 --as ada "
        "--statement 'a captioned copy of my Harbour'",
        parent=report,
    )
    p.add_argument("artwork_id", type=int, help="the work that copies")
    p.add_argument("--copies", required=True, type=int, metavar="ID", help="the work copied")
    p.add_argument("--as", dest="as_user", required=True, metavar="NAME")
    p.add_argument("--statement", required=True, help="why, in your words (10+ characters)")
    p = add(
        "counter",
        cmd_report_counter,
        "answer a report about your work (a counter-notice): atelier report counter 1 --as bob "
        "--statement 'I hold a licence'",
        parent=report,
    )
    p.add_argument("takedown_id", type=int)
    p.add_argument("--as", dest="as_user", required=True, metavar="NAME")
    p.add_argument("--statement", required=True)
    p = add(
        "decide",
        cmd_report_decide,
        "the operator's decision on a report: atelier report decide 1 --remove --note '...' "
        "(or --restore, --reject)",
        parent=report,
    )
    p.add_argument("takedown_id", type=int)
    choice = p.add_mutually_exclusive_group(required=True)
    for flag, value in (
        ("--remove", "removed"),
        ("--restore", "restored"),
        ("--reject", "rejected"),
    ):
        choice.add_argument(flag, dest="decision", action="store_const", const=value)
    p.add_argument("--note", required=True, help="the reason, kept with the report")
    p = add(
        "list",
        cmd_report_list,
        "reports, newest first: atelier report list --status suspended",
        parent=report,
    )
    p.add_argument(
        "--status",
        default=None,
        choices=["open", "suspended", "countered", "removed", "restored", "rejected"],
    )
    p.add_argument("--artwork", type=int, default=None)


def _user(session, name: str) -> int:
    from marketplace.accounts import find_user

    return find_user(session, name).id


def cmd_auction_create(args, ctx) -> None:
    from marketplace.auctions import create_auction
    from marketplace.money import MAX_ROYALTY_BPS, parse_percent_bps, parse_price
    from marketplace.read_models import auction_summary
    from marketplace.rules import parse_duration

    rules = ctx.settings.rules
    reserve = parse_price(args.reserve, max_cents=rules.max_price_cents)
    start = None if args.start is None else parse_price(args.start, max_cents=rules.max_price_cents)
    duration = None if args.duration is None else parse_duration(args.duration, name="duration")
    extension = None if args.extension is None else parse_duration(args.extension, name="extension")
    royalty = (
        None
        if args.royalty is None
        else parse_percent_bps(args.royalty, name="royalty", upper_bps=MAX_ROYALTY_BPS)
    )
    with ctx.sessions() as s, s.begin():
        auction = create_auction(
            s,
            args.artwork_id,
            _user(s, args.as_user),
            kind="dutch" if args.dutch else "reserve",
            reserve_cents=reserve,
            start_price_cents=start,
            duration_seconds=duration,
            extension_seconds=extension,
            royalty_bps=royalty,
            rules=rules,
        )
        data = auction_summary(s, auction)
    if data["kind"] == "dutch":
        text = (
            f"auction #{data['id']}: artwork #{data['artwork_id']}, Dutch, from "
            f"{format_cents(data['start_price_cents'])} down to "
            f"{format_cents(data['reserve_cents'])} by {data['ends_at']}"
        )
    else:
        text = (
            f"auction #{data['id']}: artwork #{data['artwork_id']}, reserve "
            f"{format_cents(data['reserve_cents'])}; the {_span(data['duration_seconds'])} clock "
            "starts with the first bid at the reserve"
        )
    emit(args, data, text)


def _span(seconds: int) -> str:
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _auction_text(data: dict) -> str:
    lines = [
        f"auction #{data['id']} of artwork #{data['artwork_id']} by {data['seller']}: "
        f"{data['kind']}, {data['status']}"
    ]
    if data["kind"] == "dutch":
        lines.append(
            f"  from {format_cents(data['start_price_cents'])} to "
            f"{format_cents(data['reserve_cents'])}, ends {data['ends_at']}"
        )
        if "price_now_cents" in data:
            lines.append(f"  price now {format_cents(data['price_now_cents'])}")
    else:
        lines.append(
            f"  reserve {format_cents(data['reserve_cents'])}; "
            + (f"ends {data['ends_at']}" if data["ends_at"] else "clock not started (no bid yet)")
        )
        if data["high_bid_cents"] is not None:
            lines.append(
                f"  leading bid {format_cents(data['high_bid_cents'])} by {data['high_bidder']} "
                f"({data['bid_count']} bids)"
            )
        if "minimum_bid_cents" in data:
            lines.append(f"  next bid at least {format_cents(data['minimum_bid_cents'])}")
    return "\n".join(lines)


def cmd_auction_show(args, ctx) -> None:
    from marketplace.auctions import get_auction
    from marketplace.read_models import auction_summary

    with ctx.readers() as s:
        data = auction_summary(s, get_auction(s, args.auction_id))
    emit(args, data, _auction_text(data))


def cmd_auction_list(args, ctx) -> None:
    from marketplace.auctions import list_auctions
    from marketplace.read_models import auction_summary

    with ctx.readers() as s:
        items = [auction_summary(s, a) for a in list_auctions(s, status=args.status)]
    text = "\n".join(_auction_text(d) for d in items) or f"no {args.status} auctions"
    emit(args, {"auctions": items}, text)


def cmd_auction_cancel(args, ctx) -> None:
    from marketplace.auctions import cancel_auction
    from marketplace.read_models import auction_summary

    with ctx.sessions() as s, s.begin():
        data = auction_summary(s, cancel_auction(s, args.auction_id, _user(s, args.as_user)))
    emit(args, data, f"auction #{data['id']} cancelled")


def cmd_auction_buy(args, ctx) -> None:
    from marketplace.auctions import buy_dutch
    from marketplace.money import parse_price
    from marketplace.read_models import purchase_summary

    rules = ctx.settings.rules
    cap = (
        None
        if args.max_price is None
        else parse_price(args.max_price, max_cents=rules.max_price_cents)
    )
    key = args.idempotency_key or str(uuid.uuid4())
    with ctx.sessions() as s, s.begin():
        result = buy_dutch(
            s, args.auction_id, _user(s, args.as_user), key, max_price_cents=cap, rules=rules
        )
        data = {**purchase_summary(result), "idempotency_key": key}
    emit(
        args,
        data,
        f"bought artwork #{data['artwork_id']} in auction #{args.auction_id} for "
        f"{format_cents(data['price_cents'])} credits; sale #{data['sale_id']}",
    )


def cmd_auction_settle(args, ctx) -> None:
    from marketplace.settlement import sweep_market

    report = sweep_market(ctx.sessions, rules=ctx.settings.rules)
    data = {
        "auctions": report.auctions,
        "offers": report.offers,
        "commissions": report.commissions,
    }
    emit(
        args,
        data,
        f"closed {len(report.auctions)} auctions, expired {len(report.offers)} offers and "
        f"{len(report.commissions)} commissions",
    )


def cmd_bid(args, ctx) -> None:
    from marketplace.auctions import place_bid
    from marketplace.money import parse_price
    from marketplace.read_models import iso_utc

    rules = ctx.settings.rules
    amount = parse_price(args.amount, max_cents=rules.max_price_cents)
    key = args.idempotency_key or str(uuid.uuid4())
    with ctx.sessions() as s, s.begin():
        result = place_bid(s, args.auction_id, _user(s, args.as_user), amount, key, rules=rules)
        auction = result.auction
        data = {
            "bid_id": result.bid.id,
            "auction_id": auction.id,
            "amount_cents": result.bid.amount_cents,
            "ends_at": iso_utc(auction.ends_at),
            "extended": result.extended,
            "replayed": result.replayed,
            "idempotency_key": key,
        }
    again = " (already placed with this key)" if result.replayed else ""
    extended = "; the clock was extended" if result.extended else ""
    emit(
        args,
        data,
        f"bid #{data['bid_id']} of {format_cents(data['amount_cents'])} leads auction "
        f"#{data['auction_id']}, ending {data['ends_at']}{extended}{again}",
    )


def cmd_offer_make(args, ctx) -> None:
    from marketplace.money import parse_price
    from marketplace.offers import make_offer
    from marketplace.read_models import offer_summary
    from marketplace.rules import parse_duration

    rules = ctx.settings.rules
    amount = parse_price(args.amount, max_cents=rules.max_price_cents)
    seconds = None if args.expires is None else parse_duration(args.expires, name="expires")
    with ctx.sessions() as s, s.begin():
        offer = make_offer(
            s,
            args.artwork_id,
            _user(s, args.as_user),
            amount,
            licence_tier=args.licence,
            expires_in_seconds=seconds,
            rules=rules,
        )
        data = offer_summary(s, offer)
    emit(
        args,
        data,
        f"offer #{data['id']}: {data['amount']} credits for artwork #{data['artwork_id']} "
        f"({data['licence_tier']}), held until it closes; expires {data['expires_at']}",
    )


def cmd_offer_accept(args, ctx) -> None:
    from marketplace.offers import accept_offer
    from marketplace.read_models import purchase_summary

    with ctx.sessions() as s, s.begin():
        result = accept_offer(s, args.offer_id, _user(s, args.as_user), rules=ctx.settings.rules)
        data = purchase_summary(result)
    emit(
        args,
        data,
        f"accepted offer #{args.offer_id}: artwork #{data['artwork_id']} "
        f"({data['licence_tier']}) sold for {format_cents(data['price_cents'])} credits; "
        f"sale #{data['sale_id']}",
    )


def _close_offer(args, ctx, func, verb: str) -> None:
    from marketplace.read_models import offer_summary

    with ctx.sessions() as s, s.begin():
        data = offer_summary(s, func(s, args.offer_id, _user(s, args.as_user)))
    emit(
        args, data, f"offer #{data['id']} {verb}; {data['amount']} credits back to {data['buyer']}"
    )


def cmd_offer_decline(args, ctx) -> None:
    from marketplace.offers import decline_offer

    _close_offer(args, ctx, decline_offer, "declined")


def cmd_offer_withdraw(args, ctx) -> None:
    from marketplace.offers import withdraw_offer

    _close_offer(args, ctx, withdraw_offer, "withdrawn")


def cmd_offer_list(args, ctx) -> None:
    from atelier.cli_common import CommandError
    from marketplace.offers import offers_for_user, offers_on
    from marketplace.read_models import offer_summary

    if (args.as_user is None) == (args.artwork is None):
        raise CommandError("give --as NAME (your offers) or --artwork ID (a work's offers)")
    with ctx.readers() as s:
        if args.artwork is not None:
            groups = {"open": offers_on(s, args.artwork)}
        else:
            groups = offers_for_user(s, _user(s, args.as_user))
        data = {k: [offer_summary(s, o) for o in v] for k, v in groups.items()}
    lines = []
    for group, items in data.items():
        lines.append(f"{group}:" if items else f"{group}: none")
        lines += [
            f"  offer #{o['id']} on artwork #{o['artwork_id']} by {o['buyer']}: {o['amount']} "
            f"({o['licence_tier']}), {o['status']}, expires {o['expires_at']}"
            for o in items
        ]
    emit(args, data, "\n".join(lines))


def _report_text(d: dict) -> str:
    return (
        f"report #{d['id']}: artwork #{d['artwork_id']} copies #{d['original_id']}? "
        f"{d['status']} (evidence: {d['signal'] or 'does not name it'}); filed "
        f"{d['created_at']} by {d['reporter']}"
    )


def cmd_report_file(args, ctx) -> None:
    from marketplace.read_models import takedown_summary
    from marketplace.takedowns import file_report

    with ctx.sessions() as s, s.begin():
        report = file_report(
            s, ctx.blobs, _user(s, args.as_user), args.artwork_id, args.copies, args.statement
        )
        data = takedown_summary(s, report)
    stop = (
        "its sales are suspended until an operator decides"
        if data["status"] == "suspended"
        else f"not suspended ({data['evidence'].get('why_not_suspended')}); an operator will look"
    )
    emit(args, data, f"{_report_text(data)}\n{stop}")


def cmd_report_counter(args, ctx) -> None:
    from marketplace.read_models import takedown_summary
    from marketplace.takedowns import counter_notice

    with ctx.sessions() as s, s.begin():
        report = counter_notice(s, args.takedown_id, _user(s, args.as_user), args.statement)
        data = takedown_summary(s, report)
    emit(args, data, f"report #{data['id']} answered; an operator will decide")


def cmd_report_decide(args, ctx) -> None:
    from marketplace.read_models import takedown_summary
    from marketplace.takedowns import decide

    with ctx.sessions() as s, s.begin():
        data = takedown_summary(s, decide(s, args.takedown_id, args.decision, args.note))
    emit(args, data, f"report #{data['id']}: {data['status']}")


def cmd_report_list(args, ctx) -> None:
    from marketplace.read_models import takedown_summary
    from marketplace.takedowns import reports

    with ctx.readers() as s:
        items = [
            takedown_summary(s, t) for t in reports(s, status=args.status, artwork_id=args.artwork)
        ]
    emit(args, {"reports": items}, "\n".join(_report_text(d) for d in items) or "no reports")


def _commission_text(d: dict) -> str:
    lines = [
        f"commission #{d['id']} by {d['buyer']}: {d['title']!r}, {d['budget']} credits "
        f"({d['licence_tier']}), {d['status']}, answers due {d['deadline_at']}",
        f"  {d['brief']}",
    ]
    if d["palette"] or d["reference_ids"]:
        lines.append(
            f"  palette {' '.join(d['palette']) or '-'}; references "
            f"{', '.join(f'#{r}' for r in d['reference_ids']) or '-'}"
        )
    lines += [
        f"  candidate #{c['id']}: artwork #{c['artwork_id']} by {c['artist']} ({c['status']})"
        + (f" - {c['note']}" if c["note"] else "")
        for c in d["candidates"]
    ]
    return "\n".join(lines)


def cmd_commission_post(args, ctx) -> None:
    from marketplace.commissions import post_commission
    from marketplace.money import parse_price
    from marketplace.read_models import commission_summary
    from marketplace.rules import parse_duration

    rules = ctx.settings.rules
    budget = parse_price(args.budget, max_cents=rules.max_price_cents)
    deadline = parse_duration(args.deadline, name="deadline")
    with ctx.sessions() as s, s.begin():
        commission = post_commission(
            s,
            _user(s, args.as_user),
            title=args.title,
            brief=args.brief,
            subject=args.subject,
            palette=args.palette,
            reference_ids=args.reference,
            licence_tier=args.licence,
            budget_cents=budget,
            deadline_seconds=deadline,
            rules=rules,
        )
        data = commission_summary(s, commission)
    emit(args, data, _commission_text(data))


def cmd_commission_list(args, ctx) -> None:
    from marketplace.commissions import open_commissions
    from marketplace.read_models import commission_summary

    with ctx.readers() as s:
        items = [commission_summary(s, c) for c in open_commissions(s)]
    emit(args, {"commissions": items}, "\n".join(map(_commission_text, items)) or "no open briefs")


def cmd_commission_show(args, ctx) -> None:
    from marketplace.commissions import get_commission
    from marketplace.read_models import commission_summary

    with ctx.readers() as s:
        data = commission_summary(s, get_commission(s, args.commission_id))
    emit(args, data, _commission_text(data))


def cmd_commission_answer(args, ctx) -> None:
    from marketplace.commissions import submit_candidate

    with ctx.sessions() as s, s.begin():
        c = submit_candidate(
            s, args.commission_id, _user(s, args.as_user), args.artwork, note=args.note
        )
        data = {"candidate_id": c.id, "commission_id": c.commission_id, "artwork_id": c.artwork_id}
    emit(
        args,
        data,
        f"candidate #{data['candidate_id']}: artwork #{data['artwork_id']} answers commission "
        f"#{data['commission_id']}",
    )


def cmd_commission_choose(args, ctx) -> None:
    from marketplace.commissions import choose_candidate
    from marketplace.read_models import purchase_summary

    with ctx.sessions() as s, s.begin():
        result = choose_candidate(
            s, args.candidate_id, _user(s, args.as_user), rules=ctx.settings.rules
        )
        data = purchase_summary(result)
    emit(
        args,
        data,
        f"chose candidate #{args.candidate_id}: artwork #{data['artwork_id']} "
        f"({data['licence_tier']}) for {format_cents(data['price_cents'])} credits; "
        f"sale #{data['sale_id']}",
    )


def cmd_commission_cancel(args, ctx) -> None:
    from marketplace.commissions import cancel_commission
    from marketplace.read_models import commission_summary

    with ctx.sessions() as s, s.begin():
        data = commission_summary(
            s, cancel_commission(s, args.commission_id, _user(s, args.as_user))
        )
    emit(args, data, f"commission #{data['id']} cancelled; {data['budget']} credits back")
