"""Gallery: open listings as a thumbnail grid with text search, filters, sort and pages.
Clicking a tile opens its Artwork page."""

from __future__ import annotations

import gradio as gr

from marketplace import browse, read_models
from marketplace.money import format_cents, parse_price
from ui.common import Services, bind, picked_id, run, thumbnail, tile_gallery, whole
from ui.shell import Page

PER_PAGE = 24
LICENCE_CHOICES = [("any licence", ""), ("personal", "personal"), ("commercial", "commercial")]
LICENCE_CHOICES.append(("exclusive (buy the work)", "exclusive"))
AI_CHOICES = [
    ("anything", ""),
    ("AI-generated", "ai_generated"),
    ("AI-modified", "ai_modified"),
    ("Uploaded", "human_upload"),
]
SORT_CHOICES = [
    ("Newest", "newest"),
    ("Oldest", "oldest"),
    ("Price: low to high", "price_asc"),
    ("Price: high to low", "price_desc"),
]
TABLE_HEADERS = [
    "artwork",
    "listing",
    "title",
    "creator",
    "owner",
    "price",
    "licence",
    "sold",
    "label",
]


def query(services: Services, text, min_price, max_price, licence, ai_label, sort, page_number):
    price = {
        name: None
        if value in (None, "")
        else parse_price(value, max_cents=services.settings.rules.max_price_cents)
        for name, value in (("min", min_price), ("max", max_price))
    }
    q = browse.BrowseQuery(
        text=(text or "").strip() or None,
        min_price_cents=price["min"],
        max_price_cents=price["max"],
        licence_tier=licence or None,
        ai_label=ai_label or None,
        sort=sort or "newest",
        page=page_number,
        per_page=PER_PAGE,
    )
    with services.readers() as s:
        return browse.browse_listings(s, q)


def search(services: Services, text, min_price, max_price, licence, ai_label, sort, page_number):
    """One page of open listings. Returns (tiles, table, summary); the artwork ids of the
    tiles go to the page's state, for clicks."""
    number = whole(page_number, "the page number", required=False) or 1
    result = run(query, services, text, min_price, max_price, licence, ai_label, sort, number)
    tiles, ids = [], []
    for card in result.items:
        thumb = thumbnail(services, card.blob_key)
        if thumb is not None:
            caption = f"{format_cents(card.price_cents)} · {card.title}"
            tiles.append((thumb, caption))
            ids.append(card.artwork_id)
    rows = [
        [
            c.artwork_id,
            c.listing_id,
            c.title,
            c.creator,
            c.owner,
            format_cents(c.price_cents),
            c.licence_tier,
            f"{c.sold_count}/{c.edition_size}",
            read_models.AI_LABEL_TEXT[c.ai_label],
        ]
        for c in result.items
    ]
    filtered = any(v not in (None, "") for v in (text, min_price, max_price, licence, ai_label))
    if result.total == 0 and not filtered:
        summary = "Nothing is for sale yet. Make something in the Studio and list it."
    elif result.total == 0:
        summary = "No listings match. Clear the search or the filters to see everything."
    else:
        summary = (
            f"Page {result.page} of {result.pages} · {result.total_text} listings · "
            "click a picture to open it"
        )
    return tiles, rows, summary, ids


def step(page_number, delta):
    return max(1, (whole(page_number, "the page number", required=False) or 1) + delta)


def open_tile(ids, event: gr.SelectData):
    chosen = picked_id(ids, event)
    if isinstance(chosen, dict):  # no tile: no change
        return chosen, gr.update()
    return chosen, gr.Tabs(selected="artwork")


def build(services: Services, page: Page) -> None:
    """Lay out the Gallery page and wire its handlers."""
    with gr.Row(equal_height=True):
        text = gr.Textbox(
            label="Search",
            placeholder="title, tag or artist",
            scale=4,
            max_length=browse.MAX_QUERY_LENGTH,
            elem_id="gallery-search",
        )
        min_price = gr.Textbox(label="Min price", placeholder="0.00", scale=1, min_width=100)
        max_price = gr.Textbox(label="Max price", placeholder="any", scale=1, min_width=100)
    with gr.Row(elem_classes="atelier-controls"):
        licence = gr.Dropdown(LICENCE_CHOICES, value="", label="Licence", min_width=160)
        ai_label = gr.Dropdown(AI_CHOICES, value="", label="Made with", min_width=160)
        sort = gr.Dropdown(SORT_CHOICES, value="newest", label="Sort", min_width=160)
        page_number = gr.Number(value=1, precision=0, minimum=1, label="Page", min_width=90)
        go = gr.Button("Search", variant="primary", min_width=110, elem_id="gallery-go")
    summary = gr.Markdown(elem_id="gallery-summary")
    tiles = tile_gallery("gallery-tiles", label="Listings", columns=6, height="auto")
    with gr.Row():
        previous = gr.Button("← Previous page", size="sm")
        following = gr.Button("Next page →", size="sm")
    with gr.Accordion("As a table", open=False):
        table = gr.Dataframe(headers=TABLE_HEADERS, interactive=False, wrap=True)
    ids = gr.State([])

    inputs = [text, min_price, max_price, licence, ai_label, sort, page_number]
    outputs = [tiles, table, summary, ids]
    go.click(bind(services, search), inputs, outputs, api_name="search")

    def first_page_then_search(trigger):
        trigger(lambda: 1, None, page_number, queue=False).then(
            bind(services, search), inputs, outputs, api_visibility="private"
        )

    for trigger in (text.submit, min_price.submit, max_price.submit):
        first_page_then_search(trigger)
    for control in (licence, ai_label, sort):
        first_page_then_search(control.input)
    for button, delta in ((previous, -1), (following, +1)):
        button.click(lambda p, d=delta: step(p, d), page_number, page_number, queue=False).then(
            bind(services, search), inputs, outputs, api_visibility="private"
        )
    page.open_events.append(tiles.select(open_tile, [ids], [page.opener, page.tabs]))
    page.loaders.append((bind(services, search), inputs, outputs))
