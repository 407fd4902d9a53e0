"""Races and edge cases found in review; each test failed (or crashed) before its fix."""

import threading

import pytest
from sqlalchemy import select

from db.models import Artwork, Listing, ProvenanceEvent
from marketplace.browse import BrowseQuery, browse_listings
from marketplace.errors import InvalidInput, ListingConflict, ListingNotForSale, NotFound
from marketplace.ledger import account_history, check_ledger
from marketplace.listings import change_price, create_listing
from tests.integration.helpers import buy, new_artwork, new_listing, new_user


def run_together(*jobs):
    """Run callables at the same moment; return their results or exceptions."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def go(i, job):
        barrier.wait()
        try:
            results[i] = job()
        except Exception as exc:  # inspected by the caller
            results[i] = exc

    threads = [threading.Thread(target=go, args=(i, j)) for i, j in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_buying_an_artwork_and_a_licence_to_it_at_once_never_deadlocks(sessions, blobs):
    ada, bob, cyd = (new_user(sessions, n) for n in ("ada", "bob", "cyd"))
    for round_ in range(5):
        art = new_artwork(sessions, blobs, ada, 100 + round_)
        exclusive = new_listing(sessions, art, ada, 100)
        licence = new_listing(sessions, art, ada, 100, licence_tier="personal", edition_size=9)
        results = run_together(
            lambda e=exclusive, r=round_: buy(sessions, e, bob, key=f"x{r}"),
            lambda lic=licence, r=round_: buy(sessions, lic, cyd, key=f"l{r}"),
        )
        for result in results:
            # either purchase may win the race; the other is refused by name, never a
            # database error
            assert not isinstance(result, Exception) or isinstance(result, ListingNotForSale)
    with sessions() as s:
        assert check_ledger(s).ok


def test_two_first_listings_at_once_fix_one_royalty_and_the_log_agrees(sessions, blobs):
    ada = new_user(sessions, "ada")
    art = new_artwork(sessions, blobs, ada, 7)

    def list_with(tier, royalty):
        with sessions() as s, s.begin():
            return create_listing(
                s,
                art,
                ada,
                price_cents=100,
                licence_tier=tier,
                edition_size=1,
                royalty_bps=royalty,
            ).id

    results = run_together(lambda: list_with("exclusive", 500), lambda: list_with("personal", 5000))
    winners = [r for r in results if isinstance(r, int)]
    assert len(winners) == 1
    assert isinstance(next(r for r in results if not isinstance(r, int)), InvalidInput)
    with sessions() as s:
        royalty = s.get(Artwork, art).royalty_bps
        listed = s.scalars(select(ProvenanceEvent).where(ProvenanceEvent.kind == "listed")).all()
        assert [e.payload["royalty_bps"] for e in listed] == [royalty]


def test_two_identical_listings_at_once_give_one_listing_and_a_named_refusal(sessions, blobs):
    ada = new_user(sessions, "ada")
    art = new_artwork(sessions, blobs, ada, 8)
    new_listing(sessions, art, ada, 100, royalty_bps=1000)  # royalty already fixed

    def second_tier():
        with sessions() as s, s.begin():
            return create_listing(
                s, art, ada, price_cents=100, licence_tier="commercial", edition_size=3
            ).id

    results = run_together(second_tier, second_tier)
    assert sum(isinstance(r, int) for r in results) == 1
    assert any(isinstance(r, ListingConflict) for r in results)


def test_a_replayed_purchase_reports_what_was_charged_not_todays_price(sessions, blobs):
    ada, bob = new_user(sessions, "ada"), new_user(sessions, "bob")
    art = new_artwork(sessions, blobs, ada, 9)
    listing = new_listing(sessions, art, ada, 1000, licence_tier="personal", edition_size=5)
    first = buy(sessions, listing, bob, key="once")
    with sessions() as s, s.begin():
        change_price(s, listing, ada, 4000)
    again = buy(sessions, listing, bob, key="once")
    assert again.replayed
    assert again.split == first.split
    assert again.split.price_cents == 1000


@pytest.mark.parametrize("huge", [99999999999999999999, 2**31, 0, -1])
def test_ids_no_row_can_have_are_simply_not_found(sessions, huge):
    new_user(sessions, "ada")
    with pytest.raises(NotFound, match="does not exist"):
        buy(sessions, huge, 1)
    with pytest.raises(NotFound, match="does not exist"), sessions() as s:
        from marketplace.read_models import artwork_detail

        artwork_detail(s, huge)


def test_a_page_past_the_end_does_not_invent_listings(sessions, blobs):
    ada = new_user(sessions, "ada")
    new_listing(sessions, new_artwork(sessions, blobs, ada, 10), ada, 100)
    with sessions() as s:
        page = browse_listings(s, BrowseQuery(page=5))
    assert (page.items, page.total, page.total_exact) == ([], 1, True)


def test_history_limits_are_checked(sessions):
    ada = new_user(sessions, "ada")
    with pytest.raises(InvalidInput, match="limit"), sessions() as s:
        account_history(s, ada, limit=-1)
    with sessions() as s:
        (entry,) = account_history(s, ada)
    assert entry["balance_after_cents"] == entry["amount_cents"] == 10_000


def test_prices_with_absurd_exponents_are_refused_quickly():
    import time

    from marketplace.money import parse_price

    for text in ("1e999990", "1e999999", "1e-999999999", "9" * 500):
        start = time.perf_counter()
        with pytest.raises(InvalidInput):
            parse_price(text, max_cents=10**9)
        assert time.perf_counter() - start < 0.5


def test_listing_rows_keep_their_versions_when_cancelled(sessions, blobs):
    ada, bob = new_user(sessions, "ada"), new_user(sessions, "bob")
    art = new_artwork(sessions, blobs, ada, 11)
    licences = new_listing(sessions, art, ada, 100, licence_tier="personal", edition_size=3)
    with sessions() as s:
        before = s.get(Listing, licences).version
    buy(sessions, new_listing(sessions, art, ada, 500), bob)
    with sessions() as s:
        row = s.get(Listing, licences)
        assert (row.status, row.version) == ("cancelled", before + 1)
