import pytest

from marketplace.browse import BrowseQuery, browse_listings
from marketplace.errors import InvalidInput
from tests.integration.helpers import new_artwork, new_listing, new_user


@pytest.fixture
def gallery(sessions, blobs):
    ada, bob = new_user(sessions, "ada"), new_user(sessions, "Bob_Painter")
    specs = [
        (ada, "Harbour at dawn", "sea boats", {"kind": "gan"}, 500, "exclusive"),
        (ada, "Red fox", "animal", None, 1500, "personal"),
        (bob, "Night harbour", "sea", {"kind": "style"}, 900, "commercial"),
        (bob, "100% cotton", "textile", None, 200, "exclusive"),
        (bob, "Mountain", "rock", {"kind": "gan"}, 900, "exclusive"),
    ]
    ids = {}
    for seed, (owner, title, tags, recipe, price, tier) in enumerate(specs):
        art = new_artwork(sessions, blobs, owner, seed, title=title, tags=tags, recipe=recipe)
        edition = 1 if tier == "exclusive" else 10
        ids[title] = new_listing(
            sessions, art, owner, price, licence_tier=tier, edition_size=edition
        )
    return ids


def titles(sessions, **kwargs):
    with sessions() as s:
        return [c.title for c in browse_listings(s, BrowseQuery(**kwargs)).items]


def test_newest_first_is_the_default_order(sessions, gallery):
    assert titles(sessions) == [
        "Mountain",
        "100% cotton",
        "Night harbour",
        "Red fox",
        "Harbour at dawn",
    ]


def test_text_search_matches_titles_tags_and_creator_names(sessions, gallery):
    assert titles(sessions, text="HARBOUR") == ["Night harbour", "Harbour at dawn"]
    assert titles(sessions, text="animal") == ["Red fox"]
    assert titles(sessions, text="bob_painter sea") == ["Night harbour"]


def test_like_wildcards_in_search_text_are_taken_literally(sessions, gallery):
    assert titles(sessions, text="100%") == ["100% cotton"]
    assert titles(sessions, text="%") == ["100% cotton"]
    # "_" only appears in the creator name Bob_Painter, not as "any character"
    assert titles(sessions, text="_") == ["Mountain", "100% cotton", "Night harbour"]


def test_filters_combine(sessions, gallery):
    assert titles(sessions, min_price_cents=900, max_price_cents=1000) == [
        "Mountain",
        "Night harbour",
    ]
    assert titles(sessions, licence_tier="personal") == ["Red fox"]
    assert titles(sessions, ai_label="ai_generated") == ["Mountain", "Harbour at dawn"]
    assert titles(sessions, ai_label="ai_modified", text="night") == ["Night harbour"]


def test_price_sorts_break_ties_by_listing_id(sessions, gallery):
    assert titles(sessions, sort="price_asc") == [
        "100% cotton",
        "Harbour at dawn",
        "Night harbour",
        "Mountain",
        "Red fox",
    ]
    assert titles(sessions, sort="price_desc")[:3] == ["Red fox", "Mountain", "Night harbour"]


def test_pages_are_stable_and_cover_every_listing_once(sessions, gallery):
    with sessions() as s:
        pages = [
            browse_listings(s, BrowseQuery(sort="price_asc", page=p, per_page=2)) for p in (1, 2, 3)
        ]
    assert [len(p.items) for p in pages] == [2, 2, 1]
    assert pages[0].total == 5 and pages[0].pages == 3
    seen = [c.listing_id for p in pages for c in p.items]
    assert sorted(seen) == sorted(gallery.values())


def test_cards_carry_what_the_gallery_shows(sessions, gallery):
    with sessions() as s:
        card = browse_listings(s, BrowseQuery(text="fox")).items[0]
    assert (card.creator, card.owner, card.price_cents) == ("ada", "ada", 1500)
    assert (card.licence_tier, card.edition_size, card.sold_count) == ("personal", 10, 0)
    assert card.ai_label == "human_upload" and len(card.blob_key) == 64


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sort": "random"}, "sort"),
        ({"page": 0}, "page"),
        ({"per_page": 1000}, "per_page"),
        ({"licence_tier": "rental"}, "licence_tier"),
        ({"min_price_cents": -1}, "min_price_cents"),
        ({"text": "x" * 101}, "at most 100"),
    ],
)
def test_bad_queries_are_refused(kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        BrowseQuery(**kwargs)


def test_counting_stops_at_the_cap_and_says_so(sessions, gallery, monkeypatch):
    monkeypatch.setattr("marketplace.browse.COUNT_CAP", 3)
    with sessions() as s:
        first = browse_listings(s, BrowseQuery(per_page=2))
        narrow = browse_listings(s, BrowseQuery(text="harbour", per_page=2))
        last = browse_listings(s, BrowseQuery(per_page=2, page=3))
    assert (first.total, first.total_exact, first.total_text) == (3, False, "3+")
    assert (narrow.total, narrow.total_exact, narrow.total_text) == (2, True, "2")
    # a page beyond the cap is still served, and the count covers it
    assert len(last.items) == 1 and last.total == 5


def test_search_words_shorter_than_three_letters_still_match_as_substrings(sessions, gallery):
    assert titles(sessions, text="ox") == ["Red fox"]
    assert titles(sessions, text="fox ed") == ["Red fox"]
