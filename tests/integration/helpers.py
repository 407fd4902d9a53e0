"""Steps the integration tests share, each one unit of work through the real services."""

from __future__ import annotations

from marketplace.accounts import sign_up
from marketplace.artworks import register_artwork
from marketplace.listings import create_listing
from marketplace.purchases import purchase
from marketplace.rules import MarketRules
from tests.factories import FAST_HASHER, PASSWORD, png_bytes

RULES = MarketRules()


def new_user(sessions, name: str, rules: MarketRules = RULES) -> int:
    with sessions() as s, s.begin():
        return sign_up(s, name, PASSWORD, rules=rules, hasher=FAST_HASHER).id


def new_artwork(sessions, blobs, owner_id: int, seed: int, **kwargs) -> int:
    kwargs.setdefault("title", f"Piece {seed}")
    with sessions() as s, s.begin():
        return register_artwork(s, blobs, png_bytes(seed), owner_id=owner_id, **kwargs).id


def new_listing(
    sessions, artwork_id: int, seller_id: int, price_cents: int = 1000, **kwargs
) -> int:
    kwargs.setdefault("licence_tier", "exclusive")
    with sessions() as s, s.begin():
        return create_listing(s, artwork_id, seller_id, price_cents=price_cents, **kwargs).id


def buy(sessions, listing_id: int, buyer_id: int, key: str = "k1", **kwargs):
    with sessions() as s, s.begin():
        return purchase(s, listing_id, buyer_id, key, **kwargs)
