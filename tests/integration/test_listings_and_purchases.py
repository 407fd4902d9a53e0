import pytest
from sqlalchemy import func, select

from db.models import Artwork, LedgerEntry, Licence, Listing, ProvenanceEvent, Sale, User
from marketplace.errors import (
    IdempotencyConflict,
    InsufficientFunds,
    InvalidInput,
    ListingConflict,
    ListingNotForSale,
    NotFound,
    NotOwner,
    SelfPurchase,
    StaleVersion,
)
from marketplace.ledger import check_ledger
from marketplace.listings import change_price, create_listing, delist
from marketplace.purchases import purchase
from marketplace.rules import MarketRules
from tests.integration.helpers import RULES, buy, new_artwork, new_listing, new_user

START = RULES.starting_balance_cents


def balances(sessions, *ids):
    with sessions() as s:
        return tuple(s.get(User, i).balance_cents for i in ids)


def snapshot(sessions):
    """Everything a refused purchase must leave untouched."""
    with sessions() as s:
        return (
            tuple(s.execute(select(User.id, User.balance_cents).order_by(User.id)).all()),
            tuple(s.execute(select(Artwork.id, Artwork.owner_id).order_by(Artwork.id)).all()),
            tuple(
                s.execute(
                    select(Listing.id, Listing.status, Listing.sold_count, Listing.version)
                ).all()
            ),
            s.scalar(select(func.count(Sale.id))),
            s.scalar(select(func.count(LedgerEntry.id))),
            s.scalar(select(func.count(ProvenanceEvent.id))),
            s.scalar(select(func.count(Licence.id))),
        )


@pytest.fixture
def market(sessions, blobs):
    ada, bob, cyd = (new_user(sessions, n) for n in ("ada", "bob", "cyd"))
    art = new_artwork(sessions, blobs, ada, 1, title="Harbour")
    return {"ada": ada, "bob": bob, "cyd": cyd, "art": art}


def test_an_exclusive_sale_moves_money_and_ownership_together(sessions, market):
    ada, bob, art = market["ada"], market["bob"], market["art"]
    listing = new_listing(sessions, art, ada, 1000)
    result = buy(sessions, listing, bob)
    assert not result.replayed
    assert result.split.platform_fee_cents == 25
    assert balances(sessions, ada, bob) == (START + 975, START - 1000)
    with sessions() as s:
        assert s.get(Artwork, art).owner_id == bob
        listing_row = s.get(Listing, listing)
        assert (listing_row.status, listing_row.sold_count) == ("sold", 1)
        kinds = s.scalars(
            select(ProvenanceEvent.kind)
            .where(ProvenanceEvent.artwork_id == art)
            .order_by(ProvenanceEvent.id)
        ).all()
        assert kinds == ["registered", "listed", "sold", "ownership_transferred"]
        report = check_ledger(s)
        assert report.ok, report.problems
        assert report.platform_cents == 25


def test_a_resale_pays_the_creator_royalty(sessions, market):
    ada, bob, cyd, art = market["ada"], market["bob"], market["cyd"], market["art"]
    first = new_listing(sessions, art, ada, 1000, royalty_bps=1500)
    buy(sessions, first, bob)
    second = new_listing(sessions, art, bob, 2000)
    result = buy(sessions, second, cyd)
    assert result.split.creator_royalty_cents == 300
    assert balances(sessions, ada, bob, cyd) == (
        START + 975 + 300,
        START - 1000 + (2000 - 50 - 300),
        START - 2000,
    )
    with sessions() as s:
        assert s.get(Artwork, art).owner_id == cyd
        assert check_ledger(s).ok


def test_a_resale_of_a_derived_work_pays_the_source_owners_their_share(sessions, blobs, market):
    ada, bob, cyd = market["ada"], market["bob"], market["cyd"]
    source = market["art"]
    lic = new_listing(sessions, source, ada, 100, licence_tier="commercial", edition_size=5)
    buy(sessions, lic, bob)
    child = new_artwork(sessions, blobs, bob, 2, parents=[(source, "style_source")])
    sale1 = new_listing(sessions, child, bob, 1000, royalty_bps=2000)
    r1 = buy(sessions, sale1, cyd, key="first")
    # primary sale: royalty 200, half (100) to ada as source owner, bob keeps the rest
    assert r1.split.source_shares_cents == (100,)
    assert r1.split.creator_royalty_cents == 0
    with sessions() as s:
        shares = s.scalars(
            select(LedgerEntry.amount_cents).where(
                LedgerEntry.role == "source_share", LedgerEntry.user_id == ada
            )
        ).all()
        assert shares == [100]
        assert check_ledger(s).ok


def test_a_licence_sale_keeps_ownership_and_sells_out_at_the_edition_size(sessions, market):
    ada, bob, cyd, art = market["ada"], market["bob"], market["cyd"], market["art"]
    listing = new_listing(sessions, art, ada, 300, licence_tier="personal", edition_size=2)
    buy(sessions, listing, bob)
    with sessions() as s:
        assert s.get(Listing, listing).status == "active"
    buy(sessions, listing, cyd)
    with sessions() as s:
        assert s.get(Artwork, art).owner_id == ada
        row = s.get(Listing, listing)
        assert (row.status, row.sold_count) == ("sold_out", 2)
        holders = s.scalars(select(Licence.holder_id).order_by(Licence.holder_id)).all()
        assert holders == sorted([bob, cyd])
    dee = new_user(sessions, "dee")
    with pytest.raises(ListingNotForSale, match="sold out"):
        buy(sessions, listing, dee)


def test_a_retried_purchase_with_the_same_key_charges_once(sessions, blobs, market):
    ada, bob, art = market["ada"], market["bob"], market["art"]
    listing = new_listing(sessions, art, ada, 400, licence_tier="personal", edition_size=5)
    first = buy(sessions, listing, bob, key="retry-me")
    again = buy(sessions, listing, bob, key="retry-me")
    assert again.replayed and again.sale.id == first.sale.id
    assert balances(sessions, bob) == (START - 400,)
    other = new_listing(sessions, new_artwork(sessions, blobs, ada, 77), ada, 100)
    with pytest.raises(IdempotencyConflict, match=f"already used for listing #{listing}"):
        buy(sessions, other, bob, key="retry-me")
    assert balances(sessions, bob) == (START - 400,)


@pytest.mark.parametrize(
    ("setup", "error", "message"),
    [
        ("own", SelfPurchase, "cannot buy your own listing"),
        ("poor", InsufficientFunds, "costs 5,000.00 credits but your balance is 100.00"),
        ("delisted", ListingNotForSale, "delisted"),
        ("sold", ListingNotForSale, "already sold"),
        ("stale", StaleVersion, "changed since you saw it"),
        ("missing", NotFound, "listing #999 does not exist"),
        ("badkey", InvalidInput, "idempotency_key"),
    ],
)
def test_refused_purchases_change_nothing(sessions, market, setup, error, message):
    ada, bob, cyd, art = market["ada"], market["bob"], market["cyd"], market["art"]
    price = 500_000 if setup == "poor" else 1000
    listing = new_listing(sessions, art, ada, price)
    buyer, key, kwargs = bob, "k", {}
    if setup == "own":
        buyer = ada
    elif setup == "delisted":
        with sessions() as s, s.begin():
            delist(s, listing, ada)
    elif setup == "sold":
        buy(sessions, listing, cyd)
    elif setup == "stale":
        with sessions() as s, s.begin():
            change_price(s, listing, ada, 1200)
        kwargs["expected_version"] = 1
    elif setup == "missing":
        listing = 999
    elif setup == "badkey":
        key = ""
    before = snapshot(sessions)
    with pytest.raises(error, match=message):
        buy(sessions, listing, buyer, key=key, **kwargs)
    assert snapshot(sessions) == before


def test_the_version_a_buyer_saw_is_honoured(sessions, market):
    listing = new_listing(sessions, market["art"], market["ada"], 1000)
    with sessions() as s:
        version = s.get(Listing, listing).version
    result = buy(sessions, listing, market["bob"], expected_version=version)
    assert result.sale.price_cents == 1000


def test_only_the_owner_can_list_and_each_tier_has_one_open_listing(sessions, market):
    ada, bob, art = market["ada"], market["bob"], market["art"]
    with pytest.raises(NotOwner, match="do not own artwork"), sessions() as s, s.begin():
        create_listing(s, art, bob, price_cents=100, licence_tier="exclusive")
    new_listing(sessions, art, ada, 100, licence_tier="personal", edition_size=3)
    with pytest.raises(ListingConflict, match="already has an open personal listing"):
        new_listing(sessions, art, ada, 200, licence_tier="personal", edition_size=3)
    new_listing(sessions, art, ada, 900, licence_tier="exclusive")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"price_cents": 0}, "price_cents"),
        ({"price_cents": -100}, "price_cents"),
        ({"price_cents": 10**12}, "price_cents"),
        ({"price_cents": 10.5}, "price_cents"),
        ({"price_cents": 100, "licence_tier": "rental"}, "licence_tier"),
        ({"price_cents": 100, "edition_size": 3}, "single edition"),
        ({"price_cents": 100, "royalty_bps": 5001}, "royalty_bps"),
        ({"price_cents": 100, "licence_tier": "personal", "edition_size": 0}, "edition_size"),
    ],
)
def test_bad_listing_arguments_are_refused(sessions, market, kwargs, message):
    kwargs.setdefault("licence_tier", "exclusive")
    with pytest.raises(InvalidInput, match=message), sessions() as s, s.begin():
        create_listing(s, market["art"], market["ada"], **kwargs)
    with sessions() as s:
        assert s.scalar(select(func.count(Listing.id))) == 0
        assert s.get(Artwork, market["art"]).royalty_bps is None


def test_the_royalty_is_fixed_at_the_first_listing(sessions, market):
    ada, art = market["ada"], market["art"]
    first = new_listing(sessions, art, ada, 100, royalty_bps=700)
    with sessions() as s, s.begin():
        delist(s, first, ada)
    with pytest.raises(InvalidInput, match="fixed at 7%"):
        new_listing(sessions, art, ada, 100, royalty_bps=900)
    new_listing(sessions, art, ada, 100)  # no royalty named: keeps 7%


def test_a_derived_work_needs_a_royalty_that_can_pay_its_sources(sessions, blobs, market):
    ada, art = market["ada"], market["art"]
    child = new_artwork(sessions, blobs, ada, 3, parents=[(art, "content_source")])
    with pytest.raises(InvalidInput, match="at least 10%"):
        new_listing(sessions, child, ada, 100, royalty_bps=0)


def test_only_the_seller_can_reprice_or_delist(sessions, market):
    listing = new_listing(sessions, market["art"], market["ada"], 100)
    with pytest.raises(NotOwner, match="not yours"), sessions() as s, s.begin():
        change_price(s, listing, market["bob"], 50)
    with pytest.raises(NotOwner, match="not yours"), sessions() as s, s.begin():
        delist(s, listing, market["bob"])


def test_an_exclusive_sale_cancels_the_old_owners_licence_listings(sessions, market):
    ada, bob, art = market["ada"], market["bob"], market["art"]
    licences = new_listing(sessions, art, ada, 100, licence_tier="personal", edition_size=9)
    exclusive = new_listing(sessions, art, ada, 1000)
    buy(sessions, exclusive, bob)
    with sessions() as s:
        assert s.get(Listing, licences).status == "cancelled"
    with pytest.raises(ListingNotForSale, match="cancelled"):
        buy(sessions, licences, market["cyd"])


def test_a_configured_platform_fee_is_applied(sessions, market):
    rules = MarketRules(platform_fee_bps=1000)
    listing = new_listing(sessions, market["art"], market["ada"], 1000)
    with sessions() as s, s.begin():
        result = purchase(s, listing, market["bob"], "fee", rules=rules)
    assert result.split.platform_fee_cents == 100


def test_objects_the_buyers_session_already_holds_show_the_purchase(sessions, market):
    """The purchase writes with Core statements; the caller's session may hold the rows it
    changes as objects, loaded before: after the purchase they read the new state."""
    ada, bob, art = market["ada"], market["bob"], market["art"]
    listing = new_listing(sessions, art, ada, 1000)
    other = new_listing(sessions, art, ada, 300, licence_tier="personal", edition_size=5)
    with sessions() as s, s.begin():
        buyer, seller = s.get(User, bob), s.get(User, ada)
        artwork, listing_row, other_row = (
            s.get(Artwork, art),
            s.get(Listing, listing),
            s.get(Listing, other),
        )
        assert (buyer.balance_cents, artwork.owner_id, listing_row.status) == (
            START,
            ada,
            "active",
        )
        result = purchase(s, listing, bob, "fresh")
        assert buyer.balance_cents == START - 1000
        assert seller.balance_cents == START + 975
        assert artwork.owner_id == bob
        assert (listing_row.status, listing_row.sold_count) == ("sold", 1)
        assert other_row.status == "cancelled"
        assert result.sale.buyer_id == bob and s.get(Sale, result.sale.id) is result.sale
