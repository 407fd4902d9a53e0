"""Settings read from the environment, with embedded defaults that need no set-up."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from marketplace.rules import MarketRules


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"`{name}` must be an integer, got {raw!r}") from None


C2PA_VARIABLES = ("ATELIER_C2PA_CHAIN", "ATELIER_C2PA_KEY", "ATELIER_C2PA_ANCHORS")


def _c2pa_files_from_env() -> tuple[Path, Path, Path] | None:
    values = [os.environ.get(name, "").strip() for name in C2PA_VARIABLES]
    if not any(values):
        return None
    if not all(values):
        raise ValueError(f"set all of {', '.join(C2PA_VARIABLES)}, or none")
    chain, key, anchors = (Path(v) for v in values)
    return chain, key, anchors


def rules_from_env() -> MarketRules:
    """The market rules, each one overridable by its `ATELIER_*` variable."""
    defaults = MarketRules()
    return MarketRules(
        starting_balance_cents=_int_env(
            "ATELIER_STARTING_BALANCE_CENTS", defaults.starting_balance_cents
        ),
        platform_fee_bps=_int_env("ATELIER_PLATFORM_FEE_BPS", defaults.platform_fee_bps),
        source_share_bps=_int_env("ATELIER_SOURCE_SHARE_BPS", defaults.source_share_bps),
        default_royalty_bps=_int_env("ATELIER_DEFAULT_ROYALTY_BPS", defaults.default_royalty_bps),
        max_price_cents=_int_env("ATELIER_MAX_PRICE_CENTS", defaults.max_price_cents),
        min_bid_increment_bps=_int_env(
            "ATELIER_MIN_BID_INCREMENT_BPS", defaults.min_bid_increment_bps
        ),
        auction_seconds=_int_env("ATELIER_AUCTION_SECONDS", defaults.auction_seconds),
        auction_extension_seconds=_int_env(
            "ATELIER_AUCTION_EXTENSION_SECONDS", defaults.auction_extension_seconds
        ),
        offer_seconds=_int_env("ATELIER_OFFER_SECONDS", defaults.offer_seconds),
    )


@dataclass(frozen=True)
class Settings:
    """Where Atelier keeps its state and which rules it applies.

    Args:
        data_dir: the folder for the SQLite file, the blob store and key material.
        database_url: a SQLAlchemy URL; defaults to a SQLite file inside `data_dir`.
        rules: the marketplace's money rules.
        log_origin: the transparency log's name in its checkpoints (a schema-less URL).
        c2pa_operator_files: the operator's C2PA certificate chain, private key and trust
            anchors (PEM files), or None to sign with keys the platform makes itself.
        diffusion_model: the text-to-image model (a diffusers folder or hub id), or None
            when the operator has installed none.
        pool_size: database connections each process keeps open (PostgreSQL).
        blob_url: where blobs live: `s3://bucket/prefix` (an S3-compatible store shared by
            a cluster; endpoint and keys from the standard `AWS_*` variables) or a folder;
            None: `data_dir/blobs`, the embedded default.
        app_worker: whether `atelier serve` runs a job worker thread beside the pages; a
            cluster leaves jobs to `atelier worker` processes (`ATELIER_APP_WORKER=0`).
        job_stale_seconds: how long a running job may go without a heartbeat before a
            worker takes it over (its own worker is taken to have died).
        trusted_proxies: addresses whose `X-Forwarded-For`/`X-Forwarded-Proto` headers are
            believed (a load balancer in front of the app); empty: none, so a client cannot
            choose the address the sign-in limits count against.
    """

    data_dir: Path
    database_url: str
    rules: MarketRules = field(default_factory=MarketRules)
    log_origin: str = "atelier.local/log"
    trusted_proxies: tuple[str, ...] = ()
    c2pa_operator_files: tuple[Path, Path, Path] | None = None
    diffusion_model: str | None = None
    pool_size: int = 10
    blob_url: str | None = None
    app_worker: bool = True
    job_stale_seconds: int = 300

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
            rules=rules_from_env(),
            c2pa_operator_files=_c2pa_files_from_env(),
            diffusion_model=os.environ.get("ATELIER_DIFFUSION_MODEL", "").strip() or None,
            pool_size=_int_env("ATELIER_DB_POOL_SIZE", 10),
            blob_url=os.environ.get("ATELIER_BLOB_URL", "").strip() or None,
            app_worker=_int_env("ATELIER_APP_WORKER", 1) != 0,
            job_stale_seconds=_int_env("ATELIER_JOB_STALE_SECONDS", 300),
            log_origin=os.environ.get("ATELIER_LOG_ORIGIN", "atelier.local/log"),
            trusted_proxies=tuple(
                part.strip()
                for part in os.environ.get("ATELIER_TRUSTED_PROXIES", "").split(",")
                if part.strip()
            ),
        )
