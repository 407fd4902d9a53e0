"""The frame around the pages: a header saying who is signed in (with their balance), the
sign-out button, member-only sections that show a sign-in notice to guests, and the links
between pages (a gallery tile or a derivation thumbnail opens the Artwork page).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import gradio as gr

from marketplace import notifications
from marketplace.money import format_cents
from ui.auth import Viewer, viewer
from ui.common import Services, escape

SIGN_OUT_JS = """
async () => {
  try { await fetch("auth/sign-out", {method: "POST", credentials: "same-origin"}); }
  finally { window.location.assign(window.location.pathname); }
}
"""

HEADER_REFRESH_SECONDS = 30.0
TAB_IDS = (
    "gallery",
    "artwork",
    "studio",
    "style",
    "txt2img",
    "train",
    "sell",
    "market",
    "people",
    "wallet",
    "verify",
    "account",
)


@dataclass
class Page:
    """Components and hooks the pages share.

    Attributes:
        who: the header's "signed in as" line.
        sign_in / sign_out: header buttons, one of them visible.
        opener: a hidden number: the artwork the Artwork page should show next.
        tabs: the page tabs (set by `app.build_demo`).
        current_tab: the tab being built (set by `app.build_demo`).
        gated: (notice, content) pairs of member-only sections.
        open_events: events that set `opener` and should then load the Artwork page.
        artwork_loader: the Artwork page's (function, outputs) that loads `opener`.
        loaders: (function, inputs, outputs) run on every page load after the header.
    """

    who: gr.HTML
    sign_in: gr.Button
    sign_out: gr.Button
    opener: gr.Number
    tabs: gr.Tabs | None = None
    current_tab: gr.Tab | None = None
    gated: list[tuple[gr.HTML, gr.Column]] = field(default_factory=list)
    open_events: list = field(default_factory=list)
    artwork_loader: tuple[Callable, list] | None = None
    loaders: list[tuple[Callable, list, list]] = field(default_factory=list)

    def member_section(self, what: str) -> gr.Column:
        """A column only signed-in people see; guests see a notice saying what signing in
        unlocks. Use it as a context manager: `with page.member_section("..."):`."""
        notice = gr.HTML(
            f'<div class="atelier-notice">{escape(what)} '
            "<b>Sign in or create an account on the Account tab.</b></div>",
            visible=True,
        )
        column = gr.Column(visible=False)
        self.gated.append((notice, column))
        return column

    def when_shown(self, fn: Callable, outputs: list) -> None:
        """Run `fn(request)` into `outputs` whenever the tab being built is opened (and on
        page load), so a page shows what other pages changed."""
        self.loaders.append((fn, None, outputs))
        if self.current_tab is not None:
            self.current_tab.select(fn, None, outputs, show_progress="hidden")

    def header_outputs(self) -> list:
        return [self.who, self.sign_in, self.sign_out]

    def refresh_header(self, event, services: Services):
        """Chain a header refresh (balance) after `event`."""
        return event.then(
            header_refresher(services),
            None,
            self.header_outputs(),
            show_progress="hidden",
            queue=False,
        )


def who_html(who: Viewer | None, unread: int = 0) -> str:
    if who is None:
        return '<div id="atelier-who-text" class="atelier-muted">Browsing as a guest</div>'
    news = (
        f' · <a id="atelier-unread" href="?tab=people" title="Notifications">🔔 {unread} new</a>'
        if unread
        else ""
    )
    return (
        f'<div id="atelier-who-text">Signed in as <b>{escape(who.username)}</b> · '
        f'<span id="atelier-balance">{format_cents(who.balance_cents)}</span> credits{news}</div>'
    )


def unread_of(services: Services, who: Viewer | None) -> int:
    """How many unread notifications the signed-in person has (0 for a guest)."""
    if who is None:
        return 0
    with services.readers() as s:
        return notifications.unread_count(s, who.id)


def header_refresher(services: Services) -> Callable:
    """A handler that redraws the header for the request's viewer (name, balance)."""

    def refresh(request: gr.Request):
        who = viewer(services, request)
        return header_updates(who, unread_of(services, who))

    return refresh


def header_updates(who: Viewer | None, unread: int = 0) -> tuple:
    return (
        who_html(who, unread),
        gr.update(visible=who is None),
        gr.update(visible=who is not None),
    )


def build_header(services: Services) -> Page:
    """The header row; returns the `Page` the tabs are built into."""
    with gr.Row(elem_id="atelier-header", equal_height=True):
        gr.HTML(
            '<span class="atelier-brand">Atelier</span>'
            '<span class="atelier-tagline">Make, sell, buy and verify AI-made art.</span>',
            elem_id="atelier-brand",
        )
        with gr.Column(scale=0, min_width=260):
            who = gr.HTML(who_html(None), elem_id="atelier-who")
        with gr.Column(scale=0, min_width=180):
            sign_in = gr.Button("Sign in / sign up", size="sm", elem_id="header-sign-in")
            sign_out = gr.Button(
                "Sign out", size="sm", visible=False, elem_id="header-sign-out", variant="secondary"
            )
    opener = gr.Number(visible=False, precision=0, elem_id="artwork-opener")
    return Page(who=who, sign_in=sign_in, sign_out=sign_out, opener=opener)


def wire(services: Services, page: Page, demo: gr.Blocks) -> None:
    """Connect the header, the member-only sections, deep links and cross-page links."""
    gated_outputs = [c for pair in page.gated for c in pair]

    def on_load(request: gr.Request):
        who = viewer(services, request)
        updates = list(header_updates(who, unread_of(services, who)))
        for _ in page.gated:
            updates += [gr.update(visible=who is None), gr.update(visible=who is not None)]
        # deep links: ?artwork=12 opens that artwork, ?tab=verify a page
        params = dict(getattr(request, "query_params", {}) or {})
        wanted_tab, opener = gr.update(), gr.update()
        artwork_id = str(params.get("artwork", ""))
        if artwork_id.isdigit():
            wanted_tab, opener = gr.Tabs(selected="artwork"), int(artwork_id)
        elif params.get("tab") in TAB_IDS:
            wanted_tab = gr.Tabs(selected=params["tab"])
        return [*updates, wanted_tab, opener]

    load = demo.load(
        on_load,
        None,
        [*page.header_outputs(), *gated_outputs, page.tabs, page.opener],
        show_progress="hidden",
        queue=False,
    )
    if page.artwork_loader is not None:
        show, shown = page.artwork_loader

        def deep_link(number):
            return show(number) if number else [gr.update()] * len(shown)

        load.then(deep_link, [page.opener], shown, show_progress="hidden")
        for event in page.open_events:
            event.then(show, [page.opener], shown)
    for loader, inputs, outputs in page.loaders:
        demo.load(loader, inputs, outputs, show_progress="hidden")
    # the balance changes when someone buys your work, in another browser: the header
    # follows on every page change and, while the page sits open, every HEADER_REFRESH_SECONDS
    refresh_header = header_refresher(services)
    page.tabs.select(
        refresh_header, None, page.header_outputs(), show_progress="hidden", queue=False
    )
    gr.Timer(HEADER_REFRESH_SECONDS).tick(
        refresh_header, None, page.header_outputs(), show_progress="hidden", queue=False
    )
    page.sign_in.click(lambda: gr.Tabs(selected="account"), None, page.tabs, queue=False)
    page.sign_out.click(None, None, None, js=SIGN_OUT_JS)
