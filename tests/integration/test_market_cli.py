"""Auctions, bids and offers through the `atelier` command line, on the test database."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from db.models import Auction
from db.session import make_sessionmaker
from tests.factories import PASSWORD, png_bytes
from tests.integration.test_cli import cli  # noqa: F401  (the fixture)


@pytest.fixture
def people(cli, tmp_path):  # noqa: F811
    for name in ("ada", "bob", "cyd"):
        assert cli("user", "create", name, "--password-stdin", stdin=PASSWORD + "\n")[0] == 0
    ids = []
    for seed in (1, 2):
        image = tmp_path / f"art{seed}.png"
        image.write_bytes(png_bytes(seed))
        code, art, _ = cli("register", str(image), "--owner", "ada", "--title", f"Work {seed}")
        assert code == 0
        ids.append(str(art["id"]))
    return ids


def test_a_reserve_auction_from_the_command_line(cli, people, engine):  # noqa: F811
    art, _ = people
    code, auction, _ = cli(
        "auction", "create", art, "--as", "ada", "--reserve", "20", "--duration", "2h"
    )
    assert code == 0 and auction["ends_at"] is None and auction["minimum_bid_cents"] == 2000
    code, _, err = cli("bid", str(auction["id"]), "--as", "bob", "--amount", "19.99")
    assert code != 0 and "at least 20.00 credits (the reserve)" in err
    code, first, _ = cli(
        "bid", str(auction["id"]), "--as", "bob", "--amount", "20", "--idempotency-key", "b1"
    )
    assert code == 0 and first["ends_at"] is not None and not first["extended"]
    code, again, _ = cli(
        "bid", str(auction["id"]), "--as", "bob", "--amount", "20", "--idempotency-key", "b1"
    )
    assert code == 0 and again["replayed"] and again["bid_id"] == first["bid_id"]
    assert cli("bid", str(auction["id"]), "--as", "cyd", "--amount", "25")[0] == 0
    code, shown, _ = cli("auction", "show", str(auction["id"]))
    assert shown["high_bidder"] == "cyd" and shown["minimum_bid_cents"] == 2750
    assert [b["bidder"] for b in shown["bids"]] == ["cyd", "bob"]
    code, _, err = cli("auction", "cancel", str(auction["id"]), "--as", "ada")
    assert code != 0 and "has bids" in err

    code, settled, _ = cli("auction", "settle")
    assert code == 0 and settled["auctions"] == []  # still running
    with make_sessionmaker(engine)() as s, s.begin():
        s.execute(update(Auction).values(ends_at=datetime.now(UTC) - timedelta(seconds=1)))
    code, settled, _ = cli("auction", "settle")
    assert settled["auctions"] == [auction["id"]]
    code, shown, _ = cli("show", art)
    assert code == 0 and shown["owner"] == "cyd"
    code, check, _ = cli("ledger", "check")
    assert code == 0 and check["ok"] and check["escrow_cents"] == 0
    assert cli("log", "verify")[0] == 0


def test_a_dutch_auction_and_offers_from_the_command_line(cli, people):  # noqa: F811
    art, other = people
    code, auction, _ = cli(
        "auction",
        "create",
        art,
        "--as",
        "ada",
        "--dutch",
        "--start",
        "80",
        "--reserve",
        "20",
        "--duration",
        "2h",
    )
    assert code == 0 and auction["price_now_cents"] <= 8000
    code, _, err = cli("auction", "buy", str(auction["id"]), "--as", "bob", "--max-price", "1")
    assert code != 0 and "more than the 1.00 you agreed to" in err
    code, sale, _ = cli("auction", "buy", str(auction["id"]), "--as", "bob")
    assert code == 0 and 2000 <= sale["price_cents"] <= 8000

    code, offer, _ = cli("offer", "make", other, "--as", "cyd", "--amount", "30", "--expires", "3d")
    assert code == 0 and offer["status"] == "open" and offer["amount_cents"] == 3000
    code, listed, _ = cli("offer", "list", "--as", "ada")
    assert [o["id"] for o in listed["received"]] == [offer["id"]]
    code, check, _ = cli("ledger", "check")
    assert check["ok"] and check["escrow_cents"] == 3000
    code, _, err = cli("offer", "accept", str(offer["id"]), "--as", "bob")
    assert code != 0 and "do not own" in err
    code, sold, _ = cli("offer", "accept", str(offer["id"]), "--as", "ada")
    assert code == 0 and sold["price_cents"] == 3000
    code, again, _ = cli("offer", "make", art, "--as", "cyd", "--amount", "5")
    assert code == 0
    code, closed, _ = cli("offer", "withdraw", str(again["id"]), "--as", "cyd")
    assert code == 0 and closed["status"] == "withdrawn"
    code, check, _ = cli("ledger", "check")
    assert check["ok"] and check["escrow_cents"] == 0


@pytest.mark.parametrize(
    "argv, words",
    [
        (["auction", "create", "1", "--as", "ada", "--reserve", "ten"], "`price` must be"),
        (
            ["auction", "create", "1", "--as", "ada", "--reserve", "5", "--duration", "soon"],
            "duration such as",
        ),
        (["bid", "99", "--as", "ada", "--amount", "5"], "auction #99 does not exist"),
        (["offer", "make", "1", "--as", "nobody", "--amount", "5"], "nobody"),
        (
            ["offer", "make", "1", "--as", "bob", "--amount", "5", "--expires", "1y"],
            "duration such as",
        ),
        (["offer", "list"], "give --as NAME"),
    ],
)
def test_bad_market_commands_say_what_was_wrong_in_one_line(cli, people, argv, words):  # noqa: F811
    code, _, err = cli(*argv)
    assert code != 0 and words in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "verb",
    [
        ["auction"],
        ["auction", "create"],
        ["auction", "settle"],
        ["bid"],
        ["offer"],
        ["offer", "make"],
        ["offer", "accept"],
        ["report"],
        ["report", "file"],
        ["commission"],
        ["commission", "post"],
        ["commission", "choose"],
        ["report", "decide"],
    ],
)
def test_every_market_verb_has_help(verb):
    out = subprocess.run(
        [sys.executable, "-m", "atelier.cli", *verb, "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "usage: atelier" in out.stdout


def test_a_copyright_report_from_the_command_line(cli, people, tmp_path):  # noqa: F811
    art, other = people
    code, data, err = cli(
        "report", "file", other, "--copies", art, "--as", "bob", "--statement", "looks like it"
    )
    # two different pictures: the evidence does not name the original, nothing is suspended
    assert code == 0 and data["status"] == "open" and data["signal"] is None
    code, _, err = cli("report", "counter", str(data["id"]), "--as", "bob", "--statement", "x" * 20)
    assert code != 0 and "only the owner" in err
    code, answered, _ = cli(
        "report", "counter", str(data["id"]), "--as", "ada", "--statement", "I drew both myself"
    )
    assert code == 0 and answered["status"] == "countered"
    code, decided, _ = cli(
        "report", "decide", str(data["id"]), "--restore", "--note", "different pictures"
    )
    assert code == 0 and decided["status"] == "restored" and decided["decided_at"]
    code, listed, _ = cli("report", "list", "--status", "restored")
    assert [r["id"] for r in listed["reports"]] == [data["id"]]
    code, _, err = cli("report", "decide", str(data["id"]), "--remove", "--note", "too late now")
    assert code != 0 and "already decided" in err
    assert cli("log", "verify")[0] == 0


def test_a_commission_from_the_command_line(cli, people):  # noqa: F811
    art, other = people
    code, brief, _ = cli(
        "commission",
        "post",
        "--as",
        "bob",
        "--title",
        "Harbour at night",
        "--brief",
        "boats and lights on calm water",
        "--budget",
        "40",
        "--deadline",
        "3d",
        "--palette",
        "#0b1d3a #f2c14e",
        "--reference",
        art,
    )
    assert code == 0 and brief["budget_cents"] == 4000 and brief["reference_ids"] == [int(art)]
    code, _, err = cli(
        "commission",
        "post",
        "--as",
        "bob",
        "--title",
        "x",
        "--brief",
        "boats and lights",
        "--budget",
        "1",
        "--deadline",
        "10m",
    )
    assert code != 0 and "deadline_seconds" in err
    code, candidate, _ = cli(
        "commission", "answer", str(brief["id"]), "--as", "ada", "--artwork", other
    )
    assert code == 0
    code, shown, _ = cli("commission", "show", str(brief["id"]))
    assert [c["artist"] for c in shown["candidates"]] == ["ada"]
    code, sale, _ = cli("commission", "choose", str(candidate["candidate_id"]), "--as", "bob")
    assert code == 0 and sale["price_cents"] == 4000
    code, shown, _ = cli("show", other)
    assert shown["owner"] == "bob"
    code, check, _ = cli("ledger", "check")
    assert check["ok"] and check["escrow_cents"] == 0
