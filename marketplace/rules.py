"""The money rules of the marketplace: the platform's fee, royalties, source-work shares,
starting credits and price ceiling. They are domain policy, so they live here; the settings
(`atelier.config`) only read them from the environment."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MarketRules:
    """The money rules of the marketplace; every amount is integer cents, every rate basis points.

    Args:
        starting_balance_cents: demo credits every new account receives.
        platform_fee_bps: the platform's cut of every sale (250 = 2.5%).
        source_share_bps: the part of a sale's royalty that goes to the owners of the
            artwork's registered source works (5000 = half of the royalty).
        default_royalty_bps: the creator royalty used when the first listing names none.
        max_price_cents: the highest price a listing may ask.
    """

    starting_balance_cents: int = 100_00
    platform_fee_bps: int = 250
    source_share_bps: int = 5_000
    default_royalty_bps: int = 1_000
    max_price_cents: int = 1_000_000_00

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


DEFAULT_RULES = MarketRules()
