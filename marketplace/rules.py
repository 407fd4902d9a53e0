"""The money rules of the marketplace: the platform's fee, royalties, source-work shares,
starting credits and price ceiling. They are domain policy, so they live here; the settings
(`atelier.config`) only read them from the environment."""

from __future__ import annotations

import re
from dataclasses import dataclass

from marketplace.errors import InvalidInput

MAX_MARKET_SECONDS = 30 * 24 * 3600  # the longest an auction's clock or an offer may run


@dataclass(frozen=True)
class MarketRules:
    """The money rules of the marketplace; every amount is integer cents, every rate basis points.

    Args:
        starting_balance_cents: demo credits every new account receives.
        platform_fee_bps: the platform's cut of every sale (250 = 2.5%).
        source_share_bps: the part of a sale's royalty that goes to the owners of the
            artwork's registered source works (5000 = half of the royalty).
        default_royalty_bps: the creator royalty used when the first listing names none.
        max_price_cents: the highest price a listing may ask (and an auction or offer reach).
        min_bid_increment_bps: how much a bid must beat the leading bid by (1000 = 10%,
            at least one cent).
        auction_seconds: a reserve auction's clock, started by the first bid (24 hours).
        auction_extension_seconds: a bid with less than this left moves the end to this
            long after the bid (15 minutes).
        offer_seconds: how long an offer stays open unless its maker says otherwise (7 days).
    """

    starting_balance_cents: int = 100_00
    platform_fee_bps: int = 250
    source_share_bps: int = 5_000
    default_royalty_bps: int = 1_000
    max_price_cents: int = 1_000_000_00
    min_bid_increment_bps: int = 1_000
    auction_seconds: int = 24 * 3600
    auction_extension_seconds: int = 15 * 60
    offer_seconds: int = 7 * 24 * 3600

    def __post_init__(self) -> None:
        if self.starting_balance_cents < 0:
            raise ValueError(
                f"`starting_balance_cents` must be >= 0, got {self.starting_balance_cents}"
            )
        if not 0 <= self.platform_fee_bps <= 5_000:
            raise ValueError(
                f"`platform_fee_bps` must be in [0, 5000], got {self.platform_fee_bps}"
            )
        if not 0 <= self.source_share_bps <= 10_000:
            raise ValueError(
                f"`source_share_bps` must be in [0, 10000], got {self.source_share_bps}"
            )
        if not 0 <= self.default_royalty_bps <= 5_000:
            raise ValueError(
                f"`default_royalty_bps` must be in [0, 5000], got {self.default_royalty_bps}"
            )
        if self.max_price_cents <= 0:
            raise ValueError(f"`max_price_cents` must be > 0, got {self.max_price_cents}")
        if not 0 <= self.min_bid_increment_bps <= 10_000:
            raise ValueError(
                f"`min_bid_increment_bps` must be in [0, 10000], got {self.min_bid_increment_bps}"
            )
        for name in ("auction_seconds", "offer_seconds"):
            if not 60 <= getattr(self, name) <= MAX_MARKET_SECONDS:
                raise ValueError(
                    f"`{name}` must be in [60, {MAX_MARKET_SECONDS}], got {getattr(self, name)}"
                )
        if not 0 <= self.auction_extension_seconds <= 24 * 3600:
            raise ValueError(
                "`auction_extension_seconds` must be in [0, 86400], got "
                f"{self.auction_extension_seconds}"
            )


DEFAULT_RULES = MarketRules()


_UNITS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
_DURATION = re.compile(r"(?:(\d{1,6})([dhms]))+")


def parse_duration(text: object, *, name: str) -> int:
    """Whole seconds from a duration such as `24h`, `90m`, `7d` or `1h30m`.

    Raises:
        InvalidInput: anything else, naming `name`.
    """
    value = text.strip().lower().replace(" ", "") if isinstance(text, str) else ""
    if not value or not _DURATION.fullmatch(value):
        raise InvalidInput(
            f"`{name}` must be a duration such as 24h, 90m, 7d or 1h30m, got {text!r}",
            plain=f"Write the {name.replace('_', ' ')} as a duration such as 24h, 90m or 7d.",
        )
    return sum(int(n) * _UNITS[u] for n, u in re.findall(r"(\d+)([dhms])", value))
