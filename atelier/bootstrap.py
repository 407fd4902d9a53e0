"""The one bootstrap: everything Atelier's entry points share, built from the settings in
one place. The app, the CLI, the job worker, the benches and the tests all start here
(`Services.from_settings(settings)`), so a new setting is read once (`atelier.config`) and
passed down as arguments, never read from the environment deeper in.
"""

from __future__ import annotations

import secrets
import shutil
import threading
import time
from datetime import timedelta
from functools import cached_property
from pathlib import Path

from atelier.config import Settings

DOWNLOADS_KEEP_SECONDS = 3600


class CancelFlags:
    """Cancel requests for long work, one flag per (browser session, kind of work).

    The Cancel button of a page sets the flag of its own browser session (Gradio's
    `session_hash`), and the running work polls it. Flags say nothing about who is signed
    in; they only let a click reach a computation that is already running in this process.
    """

    def __init__(self) -> None:
        self._flags: dict[tuple[str, str], threading.Event] = {}
        self._lock = threading.Lock()

    def start(self, session_hash: str | None, kind: str) -> threading.Event:
        """A fresh, clear flag for new work (replacing any old one)."""
        flag = threading.Event()
        with self._lock:
            self._flags[(session_hash or "", kind)] = flag
        return flag

    def cancel(self, session_hash: str | None, kind: str) -> bool:
        """Raise the flag of running work; True if there was some."""
        with self._lock:
            flag = self._flags.get((session_hash or "", kind))
        if flag is None or flag.is_set():
            return False
        flag.set()
        return True

    def finish(self, session_hash: str | None, kind: str, flag: threading.Event) -> None:
        with self._lock:
            if self._flags.get((session_hash or "", kind)) is flag:
                del self._flags[(session_hash or "", kind)]


class Services:
    """The database, the blob store and the keys, built once from the settings.

    Attributes:
        settings: where the state is and which rules apply.
        engine / sessions / readers: the database, with read-write and read-only sessions.
        blobs: the blob store: images, trained models, shared previews (`db.blobs`).
        log_signer: the transparency log's key (loaded, or created, on first use).
        c2pa: the Content Credentials signing material (the operator's chain when the
            settings name one, else keys created under `data_dir/keys`; on first use).
        previews / preview_secret: the preview cache folder and the secret its file names
            are an HMAC under (`marketplace.media`).
        files: a folder for files handed to browsers (downloads, renders), pruned hourly.
        model_cache: where trained GAN models are unpacked from blobs.
        cancels: cancel flags for long work running in this process.
    """

    def __init__(self, settings: Settings, *, migrate: bool = True) -> None:
        from db.blobs import open_blob_store
        from db.session import make_engine, make_sessionmaker

        self.settings = settings
        self.engine = make_engine(settings.database_url, pool_size=settings.pool_size)
        if migrate:
            from db.migrate import upgrade

            upgrade(self.engine)
        self.sessions = make_sessionmaker(self.engine)
        self.readers = make_sessionmaker(self.engine, read_only=True)
        self.blobs = open_blob_store(settings.blob_url, settings.blob_dir)
        self.cancels = CancelFlags()

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, migrate: bool = True) -> Services:
        """The services for `settings` (default: the environment's), the schema migrated."""
        return cls(settings or Settings.from_env(), migrate=migrate)

    @cached_property
    def log_signer(self):
        from marketplace.transparency import load_signer

        return load_signer(self.settings.data_dir, self.settings.log_origin)

    @cached_property
    def c2pa(self):
        from provenance.c2pa import load_signing_material

        return load_signing_material(
            self.settings.data_dir / "keys", operator=self.settings.c2pa_operator_files
        )

    @cached_property
    def preview_secret(self) -> bytes:
        from marketplace.media import load_preview_secret

        return load_preview_secret(self.settings.data_dir / "keys")

    @cached_property
    def previews(self) -> Path:
        # display copies of older versions were full size and named by the content hash
        shutil.rmtree(self.settings.data_dir / "thumbs", ignore_errors=True)
        return _folder(self.settings.data_dir / "previews")

    @cached_property
    def files(self) -> Path:
        return _folder(self.settings.data_dir / "web")

    @cached_property
    def model_cache(self) -> Path:
        return _folder(self.settings.data_dir / "models")

    def job_worker(self, *, poll_seconds: float = 1.0):
        """The in-process job runner (`marketplace.jobs.Worker`): the app's thread, and
        `atelier worker` on SQLite."""
        from marketplace.jobs import Worker

        return Worker(
            self.sessions,
            self._job_handlers(),
            self._job_services(),
            poll_seconds=poll_seconds,
            stale_after=timedelta(seconds=self.settings.job_stale_seconds),
            periodic=self.sweep_market,
        )

    def engine_worker(self):
        """`atelier worker` on PostgreSQL: an engine worker (`marketplace.job_engine`) whose
        maintenance worker also publishes the log to the blob store."""
        from marketplace.job_engine import EngineWorker
        from marketplace.log_publishing import publish_log

        return EngineWorker(
            self.settings.database_url,
            self.sessions,
            self._job_handlers(),
            self._job_services(),
            stale_after=timedelta(seconds=self.settings.job_stale_seconds),
            publish_log=lambda: publish_log(self.sessions, self.blobs, self.log_signer),
            sweep_market=self.sweep_market,
        )

    def sweep_market(self):
        """Settle the auctions that have ended and refund the offers that have expired
        (`marketplace.settlement`); the workers call it every few seconds."""
        from marketplace.settlement import sweep_market

        return sweep_market(self.sessions, rules=self.settings.rules, blobs=self.blobs)

    def _job_handlers(self) -> dict:
        from marketplace import training_jobs, tuning

        return {
            training_jobs.KIND: training_jobs.run_training,
            tuning.KIND: tuning.run_tuning,
        }

    def _job_services(self) -> dict:
        return {"blobs": self.blobs, "data_dir": self.settings.data_dir}

    def new_file(self, name: str) -> Path:
        """A fresh path `files/<random>/<name>` for a file to hand to a browser; folders
        older than an hour are removed on the way (they were downloaded or abandoned)."""
        cutoff = time.time() - DOWNLOADS_KEEP_SECONDS
        for old in self.files.iterdir():
            try:
                if old.is_dir() and old.stat().st_mtime < cutoff:
                    shutil.rmtree(old, ignore_errors=True)
            except OSError:
                pass
        folder = self.files / secrets.token_hex(8)
        folder.mkdir(parents=True)
        return folder / Path(name).name


def _folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
