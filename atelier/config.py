"""Settings read from the environment, with embedded defaults that need no set-up."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"`{name}` must be an integer, got {raw!r}") from None


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

    @classmethod
    def from_env(cls) -> MarketRules:
        defaults = cls()
        return cls(
            starting_balance_cents=_int_env(
                "ATELIER_STARTING_BALANCE_CENTS", defaults.starting_balance_cents
            ),
            platform_fee_bps=_int_env("ATELIER_PLATFORM_FEE_BPS", defaults.platform_fee_bps),
            source_share_bps=_int_env("ATELIER_SOURCE_SHARE_BPS", defaults.source_share_bps),
            default_royalty_bps=_int_env(
                "ATELIER_DEFAULT_ROYALTY_BPS", defaults.default_royalty_bps
            ),
            max_price_cents=_int_env("ATELIER_MAX_PRICE_CENTS", defaults.max_price_cents),
        )


@dataclass(frozen=True)
class Settings:
    """Where Atelier keeps its state and which rules it applies.

    Args:
        data_dir: the folder for the SQLite file, the blob store and key material.
        database_url: a SQLAlchemy URL; defaults to a SQLite file inside `data_dir`.
        rules: the marketplace's money rules.
        log_origin: the transparency log's name in its checkpoints (a schema-less URL).
        trusted_proxies: addresses whose `X-Forwarded-For`/`X-Forwarded-Proto` headers are
            believed (a load balancer in front of the app); empty: none, so a client cannot
            choose the address the sign-in limits count against.
    """

    data_dir: Path
    database_url: str
    rules: MarketRules = field(default_factory=MarketRules)
    log_origin: str = "atelier.local/log"
    trusted_proxies: tuple[str, ...] = ()

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("ATELIER_DATA_DIR", "data")).resolve()
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir / 'atelier.db'}"
        return cls(
            data_dir=data_dir,
            database_url=url,
            rules=MarketRules.from_env(),
            log_origin=os.environ.get("ATELIER_LOG_ORIGIN", "atelier.local/log"),
            trusted_proxies=tuple(
                part.strip()
                for part in os.environ.get("ATELIER_TRUSTED_PROXIES", "").split(",")
                if part.strip()
            ),
        )
