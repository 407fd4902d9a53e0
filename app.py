"""The Atelier web app (Gradio): `build_demo(services)` assembles the pages of `ui/`,
`create_app(services)` adds the sign-in routes, the transparency log's tiles and the C2PA
soft-binding resolution API (/sbr/v1), and
`launch()` serves it all.

Who is signed in comes from the `atelier_session` cookie on each request (`ui.auth`), never
from a module global (Gradio shares globals between all users).

Run it with `atelier serve` (or `make run`).
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from contextlib import asynccontextmanager

import gradio as gr
from fastapi import FastAPI, Response

from atelier.config import Settings
from db.session import reachable
from marketplace import training_jobs, transparency
from provenance.tiles import TileError
from ui import (
    account,
    artwork,
    dream,
    gallery,
    market,
    people,
    sell,
    shell,
    studio,
    style,
    train,
    txt2img,
    verify,
    wallet,
)
from ui.auth import add_auth_routes
from ui.common import CSS, Services, theme
from ui.resolution_routes import add_resolution_routes
from ui.uploads import UPLOAD_CACHE_SWEEP, UploadGuard

__all__ = ["Services", "build_demo", "create_app", "launch"]

# at most this many events run at once; heavy generation events have their own, lower limits
DEFAULT_CONCURRENCY = 4
# the API (docs/API.md); every other event is the browser's own wiring and is kept private
API_NAMES = (
    "sign_up",
    "sign_in",
    "sign_out",
    "whoami",
    "search",
    "artwork",
    "buy_quote",
    "buy",
    "download",
    "certificate",
    "generate",
    "breed",
    "morph",
    "cancel_morph",
    "project",
    "cancel_project",
    "save_generated",
    "studio_choices",
    "stylise",
    "cancel_stylise",
    "save_style",
    "dream",
    "cancel_dream",
    "save_dream",
    "txt2img",
    "cancel_txt2img",
    "save_txt2img",
    "train",
    "jobs",
    "job_status",
    "cancel_job",
    "collection",
    "list",
    "change_price",
    "delist",
    "register",
    "wallet",
    "verify",
    "auctions",
    "start_auction",
    "bid",
    "buy_now",
    "cancel_auction",
    "make_offer",
    "offers",
    "accept_offer",
    "decline_offer",
    "withdraw_offer",
    "report_copy",
    "reports",
    "counter_notice",
    "post_commission",
    "commissions",
    "answer_commission",
    "commission_answers",
    "choose_candidate",
    "cancel_commission",
    "favourite",
    "unfavourite",
    "rate",
    "more_like_this",
    "storefront",
    "follow",
    "unfollow",
    "notifications",
    "mark_read",
    "insights",
    "tune_model",
    "tuning_status",
)


# (tab label, tab id used in ?tab= links and elem ids, page module), in display order
PAGES = (
    ("Gallery", "gallery", gallery),
    ("Artwork", "artwork", artwork),
    ("Studio", "studio", studio),
    ("Style", "style", style),
    ("Dream", "dream", dream),
    ("Text to image", "txt2img", txt2img),
    ("Train", "train", train),
    ("Sell", "sell", sell),
    ("Market", "market", market),
    ("People", "people", people),
    ("Wallet", "wallet", wallet),
    ("Verify", "verify", verify),
    ("Account", "account", account),
)


def build_demo(services: Services) -> gr.Blocks:
    """The whole UI: a header saying who is signed in, then one tab per page."""
    with gr.Blocks(
        title="Atelier",
        analytics_enabled=False,
        fill_width=True,
        delete_cache=UPLOAD_CACHE_SWEEP,
    ) as demo:
        page = shell.build_header(services)
        with gr.Tabs(elem_id="atelier-tabs") as tabs:
            page.tabs = tabs
            for label, tab_id, module in PAGES:
                with gr.Tab(label, id=tab_id, elem_id=f"tab-{tab_id}") as page.current_tab:
                    module.build(services, page)
        shell.wire(services, page, demo)
    for dependency in demo.fns.values():
        if dependency.api_name not in API_NAMES:
            dependency.api_visibility = "private"
    demo.queue(default_concurrency_limit=DEFAULT_CONCURRENCY)
    return demo


def add_log_routes(api: FastAPI, services: Services) -> None:
    """Serve the transparency log read-only as C2SP tlog-tiles under /log/."""

    @api.get("/log/checkpoint")
    def checkpoint() -> Response:
        with services.sessions() as s, s.begin():
            note = transparency.sign_head(s, services.log_signer).note
        return Response(
            note,
            media_type="text/plain; charset=utf-8",
            headers={"Cache-Control": "no-cache, max-age=5"},
        )

    @api.get("/log/verifier-key")
    def verifier_key() -> Response:
        return Response(
            services.log_signer.verifier.vkey + "\n", media_type="text/plain; charset=utf-8"
        )

    @api.get("/log/tile/{rest:path}")
    def tile(rest: str) -> Response:
        try:
            with services.readers() as s:
                data = transparency.log_tile(s, f"tile/{rest}")
        except TileError as exc:
            return Response(str(exc) + "\n", status_code=404, media_type="text/plain")
        return Response(
            data,
            media_type="application/octet-stream",
            headers={"Cache-Control": "public, max-age=31536000, immutable"},
        )


def add_health_route(api: FastAPI, services: Services) -> None:
    """`GET /health`: 200 while this process can reach the database, 503 when it cannot; a
    load balancer stops sending people to a replica that fails it."""

    @api.get("/health")
    def health() -> Response:
        if not reachable(services.readers):
            return Response("database unreachable\n", status_code=503, media_type="text/plain")
        return Response("ok\n", media_type="text/plain", headers={"Cache-Control": "no-store"})


def create_app(services: Services) -> FastAPI:
    """The whole web app: sign-in routes under /auth/, the log's tiles under /log/, the C2PA
    soft-binding resolution API under /sbr/v1/, `/health`, the Gradio UI at /, and (unless
    the settings leave jobs to `atelier worker` processes) a job worker for training."""

    @asynccontextmanager
    async def lifespan(_api: FastAPI):
        if not services.settings.app_worker:
            yield
            return
        worker = services.job_worker().start()
        try:
            yield
        finally:
            worker.stop(timeout=10)

    api = FastAPI(
        title="Atelier", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    add_health_route(api, services)
    add_auth_routes(api, services)
    add_log_routes(api, services)
    add_resolution_routes(api, services)
    demo = build_demo(services)
    api.add_middleware(
        UploadGuard,
        readers=services.readers,
        signed_in_limit=training_jobs.MAX_UPLOAD_BYTES,
        uploaded=lambda: demo.upload_file_set,
    )
    return gr.mount_gradio_app(
        api,
        demo,
        path="",
        footer_links=[],
        allowed_paths=[str(services.previews), str(services.files)],
        show_error=True,
        max_file_size=training_jobs.MAX_UPLOAD_BYTES,  # zips of training images
        theme=theme(),
        css=CSS,
        ssr_mode=False,
    )


def launch(settings: Settings | None = None, *, host: str = "127.0.0.1", port: int = 7860):
    """Start the app on `host:port` with the given (or environment) settings."""
    import uvicorn

    services = Services.from_settings(settings)
    app = create_app(services)
    print(f"Atelier is running at http://{host}:{port}/", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", **proxy_options(services.settings))


def proxy_options(settings: Settings) -> dict:
    """uvicorn's forwarded-header options: believe `X-Forwarded-For` only from the proxies in
    `ATELIER_TRUSTED_PROXIES` (uvicorn would otherwise trust 127.0.0.1, so anyone on the
    machine, or any local reverse proxy passing the header through, could pick the address
    the sign-in limits count against)."""
    trusted = list(settings.trusted_proxies)
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted or ""}


if __name__ == "__main__":
    launch()
