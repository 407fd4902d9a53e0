"""Money maths as pure functions: prices, rates and the split of a sale.

Rounding rule: every share (platform fee, royalty, source-work share) is rounded down to
the cent, and the seller receives what remains, so a split always sums exactly to the price
and no share is negative. The source-work pool is divided equally between the parent works;
its leftover cents go one each to the first parents in the order given (lowest artwork id).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from marketplace.errors import InvalidInput

BPS = 10_000
MAX_ROYALTY_BPS = 5_000


@dataclass(frozen=True)
class SaleSplit:
    """Where the money of one sale goes, in cents.

    Attributes:
        price_cents: what the buyer pays.
        platform_fee_cents: the platform's fee.
        creator_royalty_cents: paid to the creator on a resale; 0 on a primary sale, where
            the creator is the seller and keeps that part in `seller_cents`.
        source_shares_cents: one share per parent work, in the order the parents were given.
        seller_cents: what is left for the seller.
    """

    price_cents: int
    platform_fee_cents: int
    creator_royalty_cents: int
    source_shares_cents: tuple[int, ...]
    seller_cents: int

    @property
    def total_cents(self) -> int:
        return (
            self.platform_fee_cents
            + self.creator_royalty_cents
            + sum(self.source_shares_cents)
            + self.seller_cents
        )


def _check_bps(name: str, value: int, upper: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= upper:
        raise InvalidInput(f"`{name}` must be an integer in [0, {upper}], got {value!r}")


def split_sale(
    price_cents: int,
    royalty_bps: int,
    parents: int,
    *,
    platform_fee_bps: int,
    source_share_bps: int,
    primary: bool,
) -> SaleSplit:
    """Split a sale's price between platform, creator, source-work owners and seller.

    Args:
        price_cents: the price, > 0.
        royalty_bps: the creator royalty (0-5000 basis points).
        parents: how many registered source works the artwork has.
        platform_fee_bps: the platform fee (0-5000).
        source_share_bps: the part of the royalty paid to the source works' owners (0-10000).
        primary: true when the seller is the creator (first sale): no royalty is paid apart.

    Returns:
        the split; its parts sum to `price_cents` exactly.

    Raises:
        InvalidInput: for a non-positive price or a rate out of range.
    """
    if isinstance(price_cents, bool) or not isinstance(price_cents, int) or price_cents <= 0:
        raise InvalidInput(f"`price_cents` must be a positive integer, got {price_cents!r}")
    _check_bps("royalty_bps", royalty_bps, MAX_ROYALTY_BPS)
    _check_bps("platform_fee_bps", platform_fee_bps, 5_000)
    _check_bps("source_share_bps", source_share_bps, BPS)
    if isinstance(parents, bool) or not isinstance(parents, int) or parents < 0:
        raise InvalidInput(f"`parents` must be a non-negative integer, got {parents!r}")

    fee = price_cents * platform_fee_bps // BPS
    royalty = price_cents * royalty_bps // BPS
    pool = royalty * source_share_bps // BPS if parents else 0
    base, extra = divmod(pool, parents) if parents else (0, 0)
    shares = tuple(base + (1 if i < extra else 0) for i in range(parents))
    creator = 0 if primary else royalty - pool
    seller = price_cents - fee - creator - pool
    return SaleSplit(
        price_cents=price_cents,
        platform_fee_cents=fee,
        creator_royalty_cents=creator,
        source_shares_cents=shares,
        seller_cents=seller,
    )


def _decimal(value: object, name: str, example: str) -> Decimal:
    plain = f"Enter the {name} as a number, like {example}."
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInput(f"`{name}` must be a number, got {value!r}", plain=plain)
    text = value if isinstance(value, Decimal) else str(value).strip()
    if not isinstance(text, Decimal) and len(text) > 40:
        raise InvalidInput(f"`{name}` must be a number of at most 40 characters", plain=plain)
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError, ArithmeticError):
        raise InvalidInput(f"`{name}` must be a number, got {value!r}", plain=plain) from None
    if not number.is_finite():
        raise InvalidInput(f"`{name}` must be a finite number, got {value!r}", plain=plain)
    # bound the exponent before any arithmetic: "1e999999" must not build a huge integer
    if number and not -12 <= number.adjusted() <= 15:
        raise InvalidInput(f"`{name}` is out of range, got {value!r}", plain=plain)
    return number


def parse_price(value: object, *, max_cents: int) -> int:
    """Turn a price in credits (`"12.50"`, 12.5, Decimal) into integer cents.

    Raises:
        InvalidInput: for NaN, infinity, zero, negative prices, more than two decimals or a
            price above `max_cents`.
    """
    number = _decimal(value, "price", "12.50")
    if number <= 0:
        raise InvalidInput(
            f"`price` must be greater than zero, got {value!r}", plain="Enter a price above 0.00."
        )
    cents = number * 100
    if cents != cents.to_integral_value():
        raise InvalidInput(
            f"`price` must have at most two decimals, got {value!r}",
            plain="Enter the price in credits with at most two decimals, like 12.50.",
        )
    if cents > max_cents:
        raise InvalidInput(
            f"`price` must be at most {format_cents(max_cents)} credits, got {value!r}",
            plain=f"Enter a price of at most {format_cents(max_cents)} credits.",
        )
    return int(cents)


def parse_percent_bps(value: object, *, name: str, upper_bps: int) -> int:
    """Turn a percentage (`"10"`, 12.5) into basis points, within [0, upper_bps]."""
    number = _decimal(value, name, "10")
    plain = f"Enter a {name} from 0 to {upper_bps / 100:g} percent, with at most two decimals."
    bps = number * 100
    if bps != bps.to_integral_value():
        raise InvalidInput(f"`{name}` must have at most two decimals, got {value!r}", plain=plain)
    if not 0 <= bps <= upper_bps:
        raise InvalidInput(
            f"`{name}` must be between 0 and {upper_bps / 100:g} percent, got {value!r}",
            plain=plain,
        )
    return int(bps)


def format_cents(cents: int) -> str:
    """`1250` → `"12.50"`; negative amounts keep their sign."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{part:02d}"
