from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.errors import InvalidInput
from marketplace.money import format_cents, parse_percent_bps, parse_price, split_sale

prices = st.integers(min_value=1, max_value=10**12)
royalties = st.integers(min_value=0, max_value=5_000)
fees = st.integers(min_value=0, max_value=5_000)
shares = st.integers(min_value=0, max_value=10_000)
parent_counts = st.integers(min_value=0, max_value=12)


@given(prices, royalties, parent_counts, fees, shares, st.booleans())
def test_every_split_sums_to_the_price_with_no_negative_share(
    price, royalty, parents, fee, share, primary
):
    split = split_sale(
        price, royalty, parents, platform_fee_bps=fee, source_share_bps=share, primary=primary
    )
    parts = [
        split.platform_fee_cents,
        split.creator_royalty_cents,
        split.seller_cents,
        *split.source_shares_cents,
    ]
    assert sum(parts) == price
    assert all(p >= 0 for p in parts)
    assert len(split.source_shares_cents) == parents


@given(prices, royalties, st.integers(min_value=1, max_value=12), fees, shares)
def test_source_shares_differ_by_at_most_one_cent_and_favour_the_first_parents(
    price, royalty, parents, fee, share
):
    split = split_sale(
        price, royalty, parents, platform_fee_bps=fee, source_share_bps=share, primary=False
    )
    s = split.source_shares_cents
    assert max(s) - min(s) <= 1
    assert list(s) == sorted(s, reverse=True)


@given(prices, royalties, fees)
def test_rounding_is_down_to_the_cent_for_every_share(price, royalty, fee):
    split = split_sale(price, royalty, 0, platform_fee_bps=fee, source_share_bps=0, primary=False)
    assert split.platform_fee_cents == price * fee // 10_000
    assert split.creator_royalty_cents == price * royalty // 10_000


def test_a_worked_resale_example_matches_the_documented_rule():
    # 12.50 credits, 10% royalty, 2.5% fee, three source works sharing half the royalty
    split = split_sale(1250, 1000, 3, platform_fee_bps=250, source_share_bps=5000, primary=False)
    assert split.platform_fee_cents == 31  # 31.25 rounded down
    assert split.source_shares_cents == (21, 21, 20)  # pool 62 (62.5 down): 20 each, +1 +1
    assert split.creator_royalty_cents == 63  # royalty 125 - pool 62
    assert split.seller_cents == 1250 - 31 - 63 - 62


def test_a_primary_sale_pays_no_separate_royalty_but_still_pays_sources():
    split = split_sale(1000, 1000, 1, platform_fee_bps=250, source_share_bps=5000, primary=True)
    assert split.creator_royalty_cents == 0
    assert split.source_shares_cents == (50,)
    assert split.seller_cents == 1000 - 25 - 50


@pytest.mark.parametrize("price", [0, -5, 1.5, "12", True])
def test_split_refuses_a_price_that_is_not_a_positive_integer(price):
    with pytest.raises(InvalidInput, match="price_cents"):
        split_sale(price, 1000, 0, platform_fee_bps=250, source_share_bps=5000, primary=False)


def test_split_refuses_a_royalty_above_fifty_percent():
    with pytest.raises(InvalidInput, match="royalty_bps"):
        split_sale(100, 5001, 0, platform_fee_bps=250, source_share_bps=5000, primary=False)


@pytest.mark.parametrize(
    ("text", "cents"),
    [("12.50", 1250), ("12.5", 1250), ("0.01", 1), (12, 1200), (Decimal("3.10"), 310), (2.5, 250)],
)
def test_parse_price_turns_credits_into_exact_cents(text, cents):
    assert parse_price(text, max_cents=10**9) == cents


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "greater than zero"),
        ("-1", "greater than zero"),
        ("NaN", "finite"),
        ("inf", "finite"),
        ("1.005", "two decimals"),
        ("abc", "must be a number"),
        ("", "must be a number"),
        (None, "must be a number"),
        (True, "must be a number"),
        ("10000000.01", "at most"),
    ],
)
def test_parse_price_refuses_bad_prices_with_a_clear_message(value, message):
    with pytest.raises(InvalidInput, match=message):
        parse_price(value, max_cents=10_000_000_00)


def test_parse_percent_gives_basis_points_within_bounds():
    assert parse_percent_bps("10", name="royalty", upper_bps=5000) == 1000
    assert parse_percent_bps(12.25, name="royalty", upper_bps=5000) == 1225
    with pytest.raises(InvalidInput, match="between 0 and 50 percent"):
        parse_percent_bps("51", name="royalty", upper_bps=5000)


def test_format_cents_shows_two_decimals_and_thousands():
    assert format_cents(123456789) == "1,234,567.89"
    assert format_cents(-5) == "-0.05"
