"""`atelier`: the command line, a thin layer over the library's service functions.

It acts directly on the database named by DATABASE_URL (default: ./data/atelier.db), as an
operator does; `--as NAME` says on whose behalf. Every command takes `--json`. On error it
prints one line to stderr and exits with status 1 (2 for a malformed command line).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

from atelier.bootstrap import Services
from atelier.cli_common import CommandError, emit, write_files
from atelier.config import Settings
from db.blobs import BlobStoreUnavailable
from generation.errors import GenerationError
from marketplace.errors import MarketplaceError
from marketplace.money import MAX_ROYALTY_BPS, format_cents, parse_percent_bps, parse_price
from provenance.errors import ProvenanceError


def user_id(session, name: str) -> int:
    """The id of the account named `name` (a clear refusal when there is none)."""
    from marketplace.accounts import find_user

    return find_user(session, name).id


# --- commands -----------------------------------------------------------------------------


def cmd_db_upgrade(args, settings: Settings) -> None:
    from db.migrate import upgrade
    from db.session import make_engine

    revision = upgrade(make_engine(settings.database_url))
    emit(args, {"revision": revision}, f"database at revision {revision}")


def cmd_user_create(args, ctx: Services) -> None:
    from marketplace.accounts import sign_up

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.name}: ")
    else:
        raise CommandError("give the password on standard input with --password-stdin")
    with ctx.sessions() as s, s.begin():
        user = sign_up(s, args.name, password, rules=ctx.settings.rules)
        data = {"id": user.id, "username": user.username, "balance_cents": user.balance_cents}
    emit(
        args,
        data,
        f"created user {data['username']} (#{data['id']}), "
        f"balance {format_cents(data['balance_cents'])} credits",
    )


def cmd_user_credit(args, ctx: Services) -> None:
    from marketplace.accounts import grant_credits

    try:
        cents = int(args.cents)
    except ValueError:
        raise CommandError(f"CENTS must be a whole number of cents, got {args.cents!r}") from None
    with ctx.sessions() as s, s.begin():
        user = grant_credits(s, user_id(s, args.name), cents, memo=args.memo)
        data = {"username": user.username, "balance_cents": user.balance_cents}
    emit(args, data, f"{data['username']} now has {format_cents(data['balance_cents'])} credits")


def cmd_register(args, ctx: Services) -> None:
    from marketplace.artworks import register_artwork
    from marketplace.read_models import artwork_summary

    path = Path(args.image)
    if not path.is_file():
        raise CommandError(f"no such file: {path}")
    recipe = None
    if args.recipe:
        try:
            recipe = json.loads(Path(args.recipe).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise CommandError(f"cannot read the recipe {args.recipe}: {exc}") from None
    parents = []
    for spec in args.parent or []:
        ident, _, role = spec.partition(":")
        if not ident.isdigit() or not role:
            raise CommandError(
                f"--parent must look like ID:ROLE (e.g. 12:style_source), got {spec!r}"
            )
        parents.append((int(ident), role))
    with ctx.sessions() as s, s.begin():
        artwork = register_artwork(
            s,
            ctx.blobs,
            path.read_bytes(),
            owner_id=user_id(s, args.owner),
            title=args.title,
            tags=args.tags,
            recipe=recipe,
            parents=parents,
        )
        data = artwork_summary(artwork)
    emit(args, data, f"registered artwork #{data['id']} {data['title']!r} for {data['owner']}")


def cmd_list(args, ctx: Services) -> None:
    from marketplace.listings import create_listing
    from marketplace.read_models import listing_summary

    rules = ctx.settings.rules
    price = parse_price(args.price, max_cents=rules.max_price_cents)
    royalty = (
        None
        if args.royalty is None
        else parse_percent_bps(args.royalty, name="royalty", upper_bps=MAX_ROYALTY_BPS)
    )
    with ctx.sessions() as s, s.begin():
        listing = create_listing(
            s,
            args.artwork_id,
            user_id(s, args.as_user),
            price_cents=price,
            licence_tier=args.licence,
            edition_size=args.edition,
            royalty_bps=royalty,
            rules=rules,
        )
        data = listing_summary(listing)
    emit(
        args,
        data,
        f"listing #{data['id']}: artwork #{data['artwork_id']} "
        f"({data['licence_tier']}) for {data['price']} credits",
    )


def cmd_delist(args, ctx: Services) -> None:
    from marketplace.listings import delist
    from marketplace.read_models import listing_summary

    with ctx.sessions() as s, s.begin():
        data = listing_summary(delist(s, args.listing_id, user_id(s, args.as_user)))
    emit(args, data, f"listing #{data['id']} delisted")


def cmd_price(args, ctx: Services) -> None:
    from marketplace.listings import change_price
    from marketplace.read_models import listing_summary

    rules = ctx.settings.rules
    price = parse_price(args.price, max_cents=rules.max_price_cents)
    with ctx.sessions() as s, s.begin():
        listing = change_price(s, args.listing_id, user_id(s, args.as_user), price, rules=rules)
        data = listing_summary(listing)
    emit(
        args,
        data,
        f"listing #{data['id']} now costs {data['price']} credits (version {data['version']})",
    )


def cmd_buy(args, ctx: Services) -> None:
    from marketplace.purchases import purchase
    from marketplace.read_models import purchase_summary

    key = args.idempotency_key or str(uuid.uuid4())
    with ctx.sessions() as s, s.begin():
        result = purchase(
            s,
            args.listing_id,
            user_id(s, args.as_user),
            key,
            expected_version=args.expect_version,
            rules=ctx.settings.rules,
        )
        data = {**purchase_summary(result), "idempotency_key": key}
    again = " (already bought with this key; not charged again)" if data["replayed"] else ""
    emit(
        args,
        data,
        f"bought listing #{data['listing_id']} (artwork #{data['artwork_id']}, "
        f"{data['licence_tier']}) for {format_cents(data['price_cents'])} credits; "
        f"sale #{data['sale_id']}{again}",
    )


def cmd_show(args, ctx: Services) -> None:
    from marketplace.read_models import artwork_detail

    with ctx.readers() as s:
        data = artwork_detail(s, args.artwork_id)
    lines = [
        f"artwork #{data['id']}: {data['title']!r} [{data['ai_label_text']}]",
        f"  creator {data['creator']}, owner {data['owner']}, "
        f"{data['width']}x{data['height']} {data['format']}",
        f"  sha256 {data['content_sha256']}",
        f"  pdq    {data['perceptual_hash']} (quality {data['perceptual_quality']})",
        f"  recipe {data['recipe']['kind'] or '(none)'}, commitment {data['recipe']['commitment']}",
    ]
    lines += [
        f"  listing #{x['id']}: {x['licence_tier']} {x['price']} credits, {x['status']}, "
        f"{x['sold_count']}/{x['edition_size']} sold"
        for x in data["listings"]
    ]
    lines += [f"  parent #{p['artwork_id']} ({p['role']})" for p in data["parents"]]
    lines += [f"  child #{c['artwork_id']} ({c['role']})" for c in data["children"]]
    lines += [f"  event {e['id']}: {e['kind']} by {e['actor']}" for e in data["events"]]
    emit(args, data, "\n".join(lines))


def cmd_recipe(args, ctx: Services) -> None:
    """Disclose an artwork's recipe and salt (owner, creator, licensees), or check a
    disclosure someone handed you against the artwork's public commitment."""
    from marketplace.artworks import get_artwork
    from marketplace.recipe_commitments import (
        check_disclosure,
        disclose_recipe,
        public_recipe,
    )

    if args.check:
        try:
            disclosure = json.loads(Path(args.check).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CommandError(f"cannot read the disclosure {args.check}: {exc}") from None
        if not isinstance(disclosure, dict):
            raise CommandError("a disclosure is a JSON object with `recipe` and `salt`")
        with ctx.readers() as s:
            public = public_recipe(get_artwork(s, args.artwork_id))
        ok = check_disclosure(
            disclosure.get("recipe"), disclosure.get("salt"), public["commitment"]
        )
        if not ok:
            raise CommandError(
                f"the disclosure does NOT match artwork #{args.artwork_id}'s recipe commitment "
                f"{public['commitment']}"
            )
        emit(
            args,
            {"artwork_id": args.artwork_id, "matches": True, **public},
            f"the disclosure matches artwork #{args.artwork_id}'s recipe commitment "
            f"{public['commitment']}",
        )
        return
    if not args.as_user:
        raise CommandError("say whose copy of the recipe this is: --as NAME")
    with ctx.readers() as s:
        data = disclose_recipe(s, args.artwork_id, user_id(s, args.as_user))
    text = json.dumps(data, indent=2, sort_keys=True)
    if args.out:
        write_files({Path(args.out): text.encode("utf-8") + b"\n"})
    emit(args, data, text)


def cmd_balance(args, ctx: Services) -> None:
    from marketplace.accounts import find_user
    from marketplace.ledger import account_history

    with ctx.readers() as s:
        user = find_user(s, args.name)
        history = account_history(s, user.id, limit=args.limit)
        data = {"username": user.username, "balance_cents": user.balance_cents, "history": history}
    lines = [f"{data['username']}: {format_cents(data['balance_cents'])} credits"]
    lines += [
        f"  {h['created_at'][:19]}  {h['role']:<16} {format_cents(h['amount_cents']):>12}"
        f"  -> {format_cents(h['balance_after_cents'])}  {h['memo']}"
        for h in history
    ]
    emit(args, data, "\n".join(lines))


def cmd_ledger_check(args, ctx: Services) -> None:
    from marketplace.ledger import check_ledger

    with ctx.readers() as s:
        report = check_ledger(s)
    data = {
        "ok": report.ok,
        "transactions": report.transactions,
        "entries": report.entries,
        "total_cents": report.total_cents,
        "issued_cents": report.issued_cents,
        "platform_cents": report.platform_cents,
        "escrow_cents": report.escrow_cents,
        "problems": report.problems,
    }
    text = (
        f"ledger balances: {report.transactions} transactions, {report.entries} entries, "
        f"sum {report.total_cents}; credits issued {format_cents(report.issued_cents)}, "
        f"platform fees {format_cents(report.platform_cents)}, "
        f"held in escrow {format_cents(report.escrow_cents)}"
    )
    emit(args, data, text if report.ok else "\n".join(report.problems))
    if not report.ok:
        raise CommandError(f"the ledger does not balance ({len(report.problems)} problems)")


def cmd_log_head(args, ctx: Services) -> None:
    from marketplace.transparency import sign_head

    signer = ctx.log_signer
    with ctx.sessions() as s, s.begin():
        checkpoint = sign_head(s, signer)
        data = {
            "size": checkpoint.size,
            "checkpoint": checkpoint.note,
            "verifier_key": signer.verifier.vkey,
        }
    emit(args, data, f"{data['checkpoint']}\nverifier key: {data['verifier_key']}")


def cmd_log_proof(args, ctx: Services) -> None:
    from marketplace.transparency import event_proof

    signer = ctx.log_signer
    with ctx.sessions() as s, s.begin():
        data = event_proof(s, args.event_id, signer)
    lines = [
        f"event #{data['event_id']} is leaf {data['leaf_index']} of {data['tree_size']}",
        f"leaf hash {data['leaf_hash']}",
        *(f"  proof {p}" for p in data["proof"]),
        data["checkpoint"].rstrip("\n"),
    ]
    emit(args, data, "\n".join(lines))


def cmd_log_publish(args, ctx: Services) -> None:
    from marketplace.log_publishing import publish_log

    done = publish_log(ctx.sessions, ctx.blobs, ctx.log_signer)
    data = {
        "size": done.size,
        "previous_size": done.previous_size,
        "written": done.tiles_written,
        "partials_removed": done.partials_removed,
    }
    text = (
        f"published the log at {done.size} leaves ({done.tiles_written} new tiles, "
        f"{done.partials_removed} superseded partial tiles removed; it was at "
        f"{done.previous_size}) under log/ in the blob store"
    )
    emit(args, data, text)


def cmd_features_backfill(args, ctx: Services) -> None:
    from marketplace.local_matching import backfill, stale_ids

    if args.batch < 1:
        raise CommandError("--batch must be at least 1")
    with ctx.sessions() as s:
        ids = stale_ids(s)
    described = 0
    for start in range(0, len(ids), args.batch):
        chunk = ids[start : start + args.batch]
        with ctx.sessions() as s, s.begin():
            described += backfill(s, ctx.blobs, chunk)
        if not args.json:
            print(f"  {start + len(chunk)} of {len(ids)} works looked at", file=sys.stderr)
    with ctx.sessions() as s:
        unreadable = len(set(stale_ids(s)) & set(ids))
    data = {
        "stale": len(ids),
        "described": described,
        "rewritten": len(ids) - described - unreadable,
        "unreadable": unreadable,
    }
    if not ids:
        text = "every work's keypoint description is up to date"
    else:
        text = (
            f"{len(ids) - unreadable} of {len(ids)} works brought up to date ({described} "
            f"described again, {data['rewritten']} stored in the current layout)"
        )
        if unreadable:
            text += f"; {unreadable} skipped: their originals could not be read"
    emit(args, data, text)


def cmd_log_verify(args, ctx: Services) -> None:
    from marketplace.transparency import audit_log

    signer = ctx.log_signer
    with ctx.readers() as s:
        report = audit_log(s, signer.verifier, ctx.settings.log_origin)
    data = {
        "ok": report.ok,
        "size": report.size,
        "events": report.events,
        "checkpoints": report.checkpoints,
        "problems": report.problems,
    }
    text = (
        f"log verified: {report.size} leaves, {report.events} events, "
        f"{report.checkpoints} signed checkpoints"
    )
    emit(args, data, text if report.ok else "\n".join(report.problems))
    if not report.ok:
        raise CommandError(f"the log does not verify ({len(report.problems)} problems)")


def cmd_verify(args, ctx: Services) -> None:
    from marketplace.identification import identify

    path = Path(args.image)
    if not path.is_file():
        raise CommandError(f"no such file: {path}")
    signer = ctx.log_signer
    material = ctx.c2pa
    with ctx.sessions() as s, s.begin():
        result = identify(
            s,
            path.read_bytes(),
            anchor_pem=material.anchor_pem,
            signer=signer,
            blobs=ctx.blobs,
        )
    data = result.as_dict()
    lines = [result.headline]
    manifest = data["evidence"].get("manifest")
    if manifest:
        failures = ", ".join(manifest["failures"]) or "none"
        lines.append(f"  content credentials: {manifest['state']} (failures: {failures})")
    for m in data["matches"]:
        lines.append(
            f"  #{m['artwork_id']} {m['title']!r} by {m['creator']}, owned by {m['owner']} "
            f"(distance {m['distance']}, {len(m['events'])} events, "
            f"{len(m['parents'])} parents, {len(m['children'])} children)"
        )
    emit(args, data, "\n".join(lines))


def cmd_certificate(args, ctx: Services) -> None:
    from marketplace.certificates import certificate

    signer = ctx.log_signer
    with ctx.sessions() as s, s.begin():
        note = certificate(s, args.artwork_id, signer)
    if args.out:
        Path(args.out).write_text(note)
    data = {
        "artwork_id": args.artwork_id,
        "certificate": note,
        "verifier_key": signer.verifier.vkey,
        "out": args.out,
    }
    emit(args, data, f"certificate written to {args.out}" if args.out else note.rstrip("\n"))


def cmd_download(args, ctx: Services) -> None:
    from marketplace.certificates import signed_download

    material = ctx.c2pa
    with ctx.readers() as s:
        data, mime, name = signed_download(s, ctx.blobs, args.artwork_id, material)
    out = Path(args.out or name)
    write_files({out: data})
    emit(
        args,
        {"artwork_id": args.artwork_id, "path": str(out), "mime": mime, "bytes": len(data)},
        f"wrote {out} ({len(data):,} bytes, {mime}, signed)",
    )


def cmd_browse(args, ctx: Services) -> None:
    from dataclasses import asdict

    from marketplace.browse import BrowseQuery, browse_listings

    rules = ctx.settings.rules
    query = BrowseQuery(
        text=args.search,
        min_price_cents=None
        if args.min_price is None
        else parse_price(args.min_price, max_cents=rules.max_price_cents),
        max_price_cents=None
        if args.max_price is None
        else parse_price(args.max_price, max_cents=rules.max_price_cents),
        licence_tier=args.licence,
        ai_label=args.ai_label,
        sort=args.sort,
        page=args.page,
        per_page=args.per_page,
    )
    with ctx.readers() as s:
        page = browse_listings(s, query)
    data = {
        "page": page.page,
        "pages": page.pages,
        "total": page.total,
        "total_exact": page.total_exact,
        "items": [asdict(c) for c in page.items],
    }
    lines = [f"page {page.page}/{page.pages}, {page.total_text} listings"]
    lines += [
        f"  listing #{c.listing_id}  artwork #{c.artwork_id} {c.title!r} by {c.creator}: "
        f"{format_cents(c.price_cents)} ({c.licence_tier})"
        for c in page.items
    ]
    emit(args, data, "\n".join(lines))


def cmd_worker(args, ctx: Services) -> None:
    """Run queued jobs (model training) in this process until interrupted, or once. On
    PostgreSQL the worker takes its jobs from the job engine (Procrastinate); on SQLite it
    claims them from the jobs table, as the app's own worker does."""
    if ctx.engine.dialect.name == "postgresql":
        worker = ctx.engine_worker()
        run_once, run_forever = worker.run_once, worker.run
    else:
        worker = ctx.job_worker(poll_seconds=args.poll)
        run_once, run_forever = worker.run_once, worker.run_forever
    if args.once:
        job_id = run_once()
        emit(args, {"job_id": job_id}, f"ran job #{job_id}" if job_id else "the queue is empty")
        return
    print(f"worker {worker.name} is waiting for jobs (Ctrl-C to stop)", file=sys.stderr)
    run_forever()


def cmd_serve(args, settings: Settings) -> None:
    from app import launch

    launch(settings, host=args.host, port=args.port)


# --- parser -------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print the result as JSON")
    parser = argparse.ArgumentParser(
        prog="atelier",
        description="Atelier: make, sell, buy and verify AI-made art.",
        epilog="Example: atelier register art.png --owner ada --title 'Harbour'",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable, help_text: str, *, parent=sub, needs_db: bool = True):
        p = parent.add_parser(name, parents=[common], help=help_text, description=help_text)
        p.set_defaults(func=func, needs_db=needs_db)
        return p

    def group(name: str, help_text: str):
        return sub.add_parser(name, help=help_text).add_subparsers(
            dest=f"{name}_command", required=True, metavar="SUBCOMMAND"
        )

    db = group("db", "database maintenance")
    add(
        "upgrade",
        cmd_db_upgrade,
        "bring the schema to the newest migration",
        parent=db,
        needs_db=False,
    )

    features = group("features", "the keypoint descriptions copies are matched by")
    p = add(
        "backfill",
        cmd_features_backfill,
        "describe the works registered before a release that changed the descriptions (a "
        "server does it on its first match otherwise): atelier features backfill",
        parent=features,
    )
    p.add_argument("--batch", type=int, default=200, help="works per transaction (default 200)")

    user = group("user", "accounts")
    p = add(
        "create",
        cmd_user_create,
        "create an account: atelier user create ada --password-stdin <<< 'a long password'",
        parent=user,
    )
    p.add_argument("name")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p = add(
        "credit", cmd_user_credit, "grant demo credits: atelier user credit ada 5000", parent=user
    )
    p.add_argument("name")
    p.add_argument("cents", help="whole cents (5000 = 50.00 credits)")
    p.add_argument("--memo", default="operator grant")

    p = add(
        "register",
        cmd_register,
        "register an image as an artwork: atelier register art.png --owner ada --title 'Harbour'",
    )
    p.add_argument("image")
    p.add_argument("--owner", required=True)
    p.add_argument("--title", required=True)
    p.add_argument("--tags", default=None, help="space- or comma-separated tags")
    p.add_argument("--recipe", default=None, help="a JSON file describing how it was made")
    p.add_argument(
        "--parent",
        action="append",
        metavar="ID:ROLE",
        help="a source work, e.g. 12:style_source (repeatable)",
    )

    p = add(
        "list",
        cmd_list,
        "offer an artwork for sale: atelier list 1 --as ada --price 12.50 "
        "--licence exclusive --royalty 10",
    )
    p.add_argument("artwork_id", type=int)
    p.add_argument("--as", dest="as_user", required=True, metavar="NAME")
    p.add_argument("--price", required=True, help="credits, e.g. 12.50")
    p.add_argument("--licence", required=True, choices=["personal", "commercial", "exclusive"])
    p.add_argument("--edition", type=int, default=1, help="licences to sell (default 1)")
    p.add_argument(
        "--royalty",
        default=None,
        help="creator royalty in percent, 0-50 (first listing only; default 10)",
    )

    p = add("delist", cmd_delist, "withdraw a listing: atelier delist 3 --as ada")
    p.add_argument("listing_id", type=int)
    p.add_argument("--as", dest="as_user", required=True, metavar="NAME")

    p = add("price", cmd_price, "change a listing's price: atelier price 3 --as ada --price 15")
    p.add_argument("listing_id", type=int)
    p.add_argument("--as", dest="as_user", required=True, metavar="NAME")
    p.add_argument("--price", required=True)

    p = add("buy", cmd_buy, "buy a listing: atelier buy 3 --as bob --idempotency-key order-1")
    p.add_argument("listing_id", type=int)
    p.add_argument("--as", dest="as_user", required=True, metavar="NAME")
    p.add_argument(
        "--idempotency-key",
        default=None,
        help="retrying with the same key never charges twice (default: a new key)",
    )
    p.add_argument(
        "--expect-version",
        type=int,
        default=None,
        help="refuse if the listing changed since this version",
    )

    p = add("show", cmd_show, "an artwork's record and history: atelier show 1")
    p.add_argument("artwork_id", type=int)

    p = add(
        "recipe",
        cmd_recipe,
        "disclose a recipe and its salt (owner, creator, licensees): atelier recipe 4 --as ada "
        "--out r.json; check one: atelier recipe 4 --check r.json",
    )
    p.add_argument("artwork_id", type=int)
    p.add_argument("--as", dest="as_user", default=None, metavar="NAME")
    p.add_argument("--out", default=None, help="also write the disclosure to this JSON file")
    p.add_argument("--check", default=None, metavar="FILE", help="a disclosure to check")

    p = add("balance", cmd_balance, "a wallet and its recent ledger entries: atelier balance bob")
    p.add_argument("name")
    p.add_argument("--limit", type=int, default=20)

    ledger = group("ledger", "the money ledger")
    add(
        "check",
        cmd_ledger_check,
        "check that the books balance: atelier ledger check",
        parent=ledger,
    )

    p = add(
        "verify", cmd_verify, "identify an image and show its provenance: atelier verify copy.jpg"
    )
    p.add_argument("image")
    p = add(
        "certificate",
        cmd_certificate,
        "a signed provenance certificate: atelier certificate 1 --out cert.txt",
    )
    p.add_argument("artwork_id", type=int)
    p.add_argument("--out", default=None)
    p = add(
        "download",
        cmd_download,
        "the image with signed Content Credentials: atelier download 1 --out harbour.png",
    )
    p.add_argument("artwork_id", type=int)
    p.add_argument("--out", default=None)

    log = group("log", "the transparency log of provenance events")
    add("head", cmd_log_head, "sign and print the log's checkpoint: atelier log head", parent=log)
    add(
        "publish",
        cmd_log_publish,
        "write the log's new tiles and checkpoint to the blob store, for a static server: "
        "atelier log publish",
        parent=log,
    )
    p = add("proof", cmd_log_proof, "an event's inclusion proof: atelier log proof 7", parent=log)
    p.add_argument("event_id", type=int)
    add(
        "verify",
        cmd_log_verify,
        "recompute the log from the rows and check every checkpoint: atelier log verify",
        parent=log,
    )

    p = add(
        "browse",
        cmd_browse,
        "search open listings: atelier browse --search harbour --sort price_asc",
    )
    p.add_argument("--search", default=None)
    p.add_argument("--min-price", default=None)
    p.add_argument("--max-price", default=None)
    p.add_argument("--licence", default=None, choices=["personal", "commercial", "exclusive"])
    p.add_argument(
        "--ai-label", default=None, choices=["ai_generated", "ai_modified", "human_upload"]
    )
    p.add_argument(
        "--sort", default="newest", choices=["newest", "oldest", "price_asc", "price_desc"]
    )
    p.add_argument("--page", type=int, default=1)
    p.add_argument("--per-page", type=int, default=24)

    p = add(
        "worker",
        cmd_worker,
        "run queued jobs (training) in this process: atelier worker",
    )
    p.add_argument("--once", action="store_true", help="run at most one job, then exit")
    p.add_argument("--poll", type=float, default=2.0, help="seconds between queue checks")

    p = add(
        "serve",
        cmd_serve,
        "start the web app: atelier serve --host 127.0.0.1 --port 7860",
        needs_db=False,
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)

    from atelier import cli_diffusion, cli_dream, cli_market, cli_studio, cli_style

    cli_market.add_commands(add, group)
    cli_studio.add_commands(add, group)
    cli_style.add_commands(add, group)
    cli_dream.add_commands(add, group)
    cli_diffusion.add_commands(add, group)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        target = Services.from_settings(settings) if args.needs_db else settings
        args.func(args, target)
        sys.stdout.flush()
    except (
        CommandError,
        MarketplaceError,
        ProvenanceError,
        GenerationError,
        ValueError,
        BlobStoreUnavailable,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`atelier browse | head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        # a database that cannot be reached or written; sqlalchemy is imported only by the
        # commands that use it, so it is recognised here without importing it at start
        database_error = sys.modules.get("sqlalchemy.exc")
        if database_error is None or not isinstance(exc, database_error.OperationalError):
            raise
        print(f"error: cannot use the database: {str(exc.orig).splitlines()[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
