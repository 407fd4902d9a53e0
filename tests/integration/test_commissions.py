"""Commissions: a brief with an escrowed budget, artists' answers, the buyer's choice paid
like a sale, and the refunds when nobody answers or nobody chooses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from db.models import Artwork, Commission, Licence, ProvenanceEvent, Sale
from marketplace.commissions import (
    brief_digest,
    cancel_commission,
    choose_candidate,
    post_commission,
    submit_candidate,
)
from marketplace.errors import (
    InsufficientFunds,
    InvalidInput,
    ListingConflict,
    ListingNotForSale,
    NotFound,
    NotOwner,
    SelfPurchase,
)
from marketplace.ledger import escrow_account, escrow_balance
from marketplace.settlement import sweep_market
from tests.integration.helpers import RULES, new_artwork, new_user
from tests.integration.test_auctions import T0, balance, books_and_log_hold, race

DAY = 24 * 3600
START = RULES.starting_balance_cents


@pytest.fixture
def studio(sessions, blobs):
    bob = new_user(sessions, "bob")  # the buyer
    ada, eve = new_user(sessions, "ada"), new_user(sessions, "eve")  # artists
    reference = new_artwork(sessions, blobs, bob, 1, title="My harbour photo")
    ada_work = new_artwork(sessions, blobs, ada, 2, title="Harbour at night")
    eve_work = new_artwork(sessions, blobs, eve, 3, title="Night boats")
    return bob, ada, eve, reference, ada_work, eve_work


def post(sessions, buyer, **kwargs) -> int:
    kwargs.setdefault("title", "Harbour at night")
    kwargs.setdefault("brief", "boats, lights on calm water, a deep blue night")
    kwargs.setdefault("budget_cents", 4000)
    kwargs.setdefault("deadline_seconds", 3 * DAY)
    kwargs.setdefault("now", T0)
    with sessions() as s, s.begin():
        return post_commission(s, buyer, **kwargs).id


def answer(sessions, commission, artist, artwork, at=T0):
    with sessions() as s, s.begin():
        return submit_candidate(s, commission, artist, artwork, note="as asked", now=at).id


def held(sessions, commission) -> int:
    with sessions() as s:
        return escrow_balance(s, escrow_account("commission", commission))


def test_a_brief_is_escrowed_answered_and_the_choice_is_paid_like_a_sale(sessions, studio):
    bob, ada, eve, reference, ada_work, eve_work = studio
    c = post(sessions, bob, palette="#0B1D3A, f2c14e", reference_ids=[reference], subject="harbour")
    assert balance(sessions, bob) == START - 4000 and held(sessions, c) == 4000
    first = answer(sessions, c, ada, ada_work)
    answer(sessions, c, eve, eve_work)
    with sessions() as s, s.begin():
        result = choose_candidate(s, first, bob, now=T0 + timedelta(days=1))
    assert result.sale.commission_id == c and result.sale.price_cents == 4000
    with sessions() as s:
        assert s.get(Artwork, ada_work).owner_id == bob
        assert s.get(Commission, c).status == "awarded"
        closed = s.scalars(
            select(ProvenanceEvent).where(ProvenanceEvent.kind == "commission_closed")
        ).one()
        posted = s.scalars(
            select(ProvenanceEvent).where(ProvenanceEvent.kind == "commission_posted")
        ).one()
        # the chosen work's history carries the brief it answered
        assert closed.artwork_id == ada_work
        assert closed.payload["brief_sha256"] == brief_digest(s.get(Commission, c))
        assert closed.payload["reference_ids"] == [reference]
        assert posted.payload["palette"] == ["#0b1d3a", "#f2c14e"]
    assert balance(sessions, ada) == START + 4000 - result.split.platform_fee_cents
    assert held(sessions, c) == 0
    books_and_log_hold(sessions)


def test_a_licence_brief_grants_a_licence_and_the_artist_keeps_the_work(sessions, studio):
    bob, ada, _, _, ada_work, _ = studio
    c = post(sessions, bob, licence_tier="commercial", budget_cents=900)
    candidate = answer(sessions, c, ada, ada_work)
    with sessions() as s, s.begin():
        choose_candidate(s, candidate, bob, now=T0)
    with sessions() as s:
        assert s.get(Artwork, ada_work).owner_id == ada
        assert s.scalar(select(Licence.tier).where(Licence.holder_id == bob)) == "commercial"
    books_and_log_hold(sessions)


def test_only_the_artists_own_works_answer_and_only_in_time(sessions, studio):
    bob, ada, eve, reference, ada_work, eve_work = studio
    c = post(sessions, bob)
    with pytest.raises(NotOwner, match="created and still own"):
        answer(sessions, c, ada, eve_work)
    with pytest.raises(SelfPurchase):
        answer(sessions, c, bob, reference)
    answer(sessions, c, ada, ada_work)
    with pytest.raises(ListingConflict):
        answer(sessions, c, ada, ada_work)
    with pytest.raises(ListingNotForSale, match="no longer takes answers"):
        answer(sessions, c, eve, eve_work, at=T0 + timedelta(days=3))
    with pytest.raises(NotOwner), sessions() as s, s.begin():
        choose_candidate(s, 1, eve, now=T0)


def test_bad_briefs_are_refused_and_hold_nothing(sessions, studio):
    bob, *_ = studio
    for kwargs in (
        {"brief": "short"},
        {"title": ""},
        {"budget_cents": 0},
        {"deadline_seconds": 60},
        {"palette": "blue"},
        {"licence_tier": "gold"},
    ):
        with pytest.raises(InvalidInput):
            post(sessions, bob, **kwargs)
    with pytest.raises(NotFound):
        post(sessions, bob, reference_ids=[999])
    with pytest.raises(InsufficientFunds):
        post(sessions, bob, budget_cents=START + 1)
    assert balance(sessions, bob) == START
    with sessions() as s:
        assert s.scalars(select(Commission)).all() == []


def test_cancel_before_answers_and_the_sweep_refunds_unanswered_or_unchosen(sessions, studio):
    bob, ada, _, _, ada_work, _ = studio
    cancelled = post(sessions, bob, budget_cents=1000)
    with sessions() as s, s.begin():
        cancel_commission(s, cancelled, bob, now=T0)
    unanswered = post(sessions, bob, budget_cents=1000)
    unchosen = post(sessions, bob, budget_cents=1000)
    answer(sessions, unchosen, ada, ada_work)
    with pytest.raises(ListingNotForSale, match="answered"), sessions() as s, s.begin():
        cancel_commission(s, unchosen, bob, now=T0)
    deadline = T0 + timedelta(days=3)
    assert sweep_market(sessions, now=deadline).commissions == [unanswered]
    # an answered brief gives the buyer 7 more days to choose
    assert sweep_market(sessions, now=deadline + timedelta(days=6)).commissions == []
    assert sweep_market(sessions, now=deadline + timedelta(days=7)).commissions == [unchosen]
    assert balance(sessions, bob) == START
    with pytest.raises(ListingNotForSale), sessions() as s, s.begin():
        choose_candidate(s, 1, bob, now=deadline + timedelta(days=7))
    books_and_log_hold(sessions)


def test_choosing_twice_at_once_pays_once(sessions, studio):
    bob, ada, eve, _, ada_work, eve_work = studio
    c = post(sessions, bob)
    first, second = answer(sessions, c, ada, ada_work), answer(sessions, c, eve, eve_work)

    def choose(candidate):
        with sessions() as s, s.begin():
            return choose_candidate(s, candidate, bob, now=T0).sale.id

    outcomes = race(lambda: choose(first), lambda: choose(second))
    assert [o[0] for o in outcomes].count("ok") == 1, outcomes
    with sessions() as s:
        assert len(s.scalars(select(Sale)).all()) == 1
    assert held(sessions, c) == 0
    books_and_log_hold(sessions)
