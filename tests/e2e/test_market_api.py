"""Auctions and offers through the running app's API, as a script would drive them."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from db.models import Auction
from db.session import make_sessionmaker
from marketplace.ledger import check_ledger
from tests.e2e.conftest import client, sign_up
from tests.e2e.test_app_api import register


def test_an_auction_and_an_offer_run_end_to_end_through_the_api(app_url, tmp_path, engine):
    ada, bob, cyd = (sign_up(app_url, n) for n in ("ada", "bob", "cyd"))
    art = register(ada, tmp_path, 3, "Harbour")
    other = register(ada, tmp_path, 4, "Dunes")

    started = ada.predict(art, "reserve", "20", "", "1h", api_name="/start_auction")
    assert "Auction #1 is open with a reserve of 20.00" in started
    with pytest.raises(Exception, match="Bid at least 20.00 credits"):
        bob.predict(1, "19", "", api_name="/bid")
    assert "leads auction #1" in bob.predict(1, "20", "", api_name="/bid")
    assert "leads auction #1" in cyd.predict(1, "22", "", api_name="/bid")
    rows = client(app_url).predict(api_name="/auctions")["data"]
    assert rows[0][:4] == [1, art, "ada", "reserve"] and "22.00 by cyd" in rows[0][4]
    assert bob.predict(api_name="/whoami") == ["bob", 10000]  # outbid: refunded at once
    with pytest.raises(Exception, match="has bids"):
        ada.predict(1, api_name="/cancel_auction")

    # the clock runs out (moved back in the database); the app's worker settles it
    sessions = make_sessionmaker(engine)
    with sessions() as s, s.begin():
        s.execute(update(Auction).values(ends_at=datetime.now(UTC) - timedelta(seconds=1)))
    deadline = datetime.now(UTC) + timedelta(seconds=30)
    while client(app_url).predict(api_name="/auctions")["data"]:
        assert datetime.now(UTC) < deadline, "the auction was not settled within 30 s"
    page = cyd.predict(art, api_name="/artwork")
    assert "Owner</td><td><b>cyd</b>" in page[1]

    offered = bob.predict(other, "30", "exclusive", "3d", api_name="/make_offer")
    assert "Offer #1: 30.00 credits" in offered
    table, summary = ada.predict(api_name="/offers")
    assert "1 open offer on your works" in summary
    assert table["data"][0][:4] == [1, other, "bob", "30.00"]
    with pytest.raises(Exception, match="do not own"):
        cyd.predict(1, api_name="/accept_offer")
    assert "Accepted offer #1" in ada.predict(1, api_name="/accept_offer")
    assert bob.predict(api_name="/whoami") == ["bob", 7000]
    with sessions() as s:
        assert check_ledger(s).ok


def test_a_report_and_its_answer_through_the_api(app_url, tmp_path):
    ada, bob = sign_up(app_url, "ada"), sign_up(app_url, "bob")
    art = register(ada, tmp_path, 3, "Harbour")
    mine = register(bob, tmp_path, 8, "Dunes")
    filed = ada.predict(mine, art, "bob's Dunes copies my Harbour", api_name="/report_copy")
    # two different pictures: Atelier's evidence does not name the original
    assert "Report #1 filed; an operator will look at it" in filed
    assert "does not name the original" in filed
    rows = bob.predict(api_name="/reports")["data"]
    assert rows[0][:5] == [1, mine, art, "ada", "open"]
    with pytest.raises(Exception, match="Say in a sentence"):
        bob.predict(1, "no", api_name="/counter_notice")
    assert "answer to report #1 is filed" in bob.predict(
        1, "I painted these dunes myself", api_name="/counter_notice"
    )
    assert ada.predict(api_name="/reports")["data"][0][4] == "countered"


def test_a_commission_through_the_api(app_url, tmp_path):
    ada, bob = sign_up(app_url, "ada"), sign_up(app_url, "bob")
    reference = register(bob, tmp_path, 3, "My harbour photo")
    posted = bob.predict(
        "Harbour at night",
        "boats, lights on calm water",
        "#0b1d3a",
        str(reference),
        "exclusive",
        "15",
        "2d",
        api_name="/post_commission",
    )
    assert "Brief #1 posted; 15.00 credits are held" in posted
    rows = client(app_url).predict(api_name="/commissions")["data"]
    assert rows[0][:4] == [1, "bob", "Harbour at night", "15.00 (exclusive)"]
    work = register(ada, tmp_path, 9, "Night harbour")
    with pytest.raises(Exception, match="created and still own"):
        ada.predict(1, reference, "", api_name="/answer_commission")
    assert "answers brief #1" in ada.predict(1, work, "blue", api_name="/answer_commission")
    answers = bob.predict(api_name="/commission_answers")["data"]
    assert answers[0][2:4] == [work, "ada"]
    assert f"artwork #{work} is yours" in bob.predict(1, api_name="/choose_candidate")
    assert bob.predict(api_name="/whoami") == ["bob", 8500]
