"""Taste and people: favourites, ratings, follows, page views, notifications, storefronts,
the insight panel and "more like this", on SQLite and (DATABASE_URL) PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from PIL import ImageEnhance
from sqlalchemy import func, select

from db.models import Artwork, ArtworkStyle, ArtworkView, Favourite, Notification
from marketplace import notifications, style_index, taste
from marketplace.auctions import create_auction, place_bid, settle_auction
from marketplace.errors import InvalidInput, NotFound, NotOwner
from marketplace.offers import accept_offer, decline_offer, make_offer
from marketplace.settlement import sweep_market
from marketplace.takedowns import decide
from tests.factories import art_image, encode
from tests.integration.helpers import buy, new_artwork, new_listing, new_user
from tests.integration.test_auctions import T0, books_and_log_hold, race
from tests.integration.test_takedowns import copycat, report  # noqa: F401 (fixture)


@pytest.fixture
def people(sessions, blobs):
    ada, bob, cyd = (new_user(sessions, n) for n in ("ada", "bob", "cyd"))
    art = new_artwork(sessions, blobs, ada, 1, recipe={"kind": "gan_sample", "model_name": "x"})
    return ada, bob, cyd, art


def kinds_of(sessions, user_id) -> list[str]:
    with sessions() as s:
        return [n.kind for n in notifications.notifications_of(s, user_id)][::-1]


def test_a_favourite_and_a_rating_are_one_per_person_and_can_be_taken_back(sessions, people):
    _ada, bob, cyd, art = people
    with sessions() as s, s.begin():
        taste.favourite(s, bob, art)
        taste.favourite(s, bob, art)  # twice: still one
        taste.favourite(s, cyd, art)
        taste.rate(s, bob, art, 5)
        taste.rate(s, bob, art, 4)  # rating again replaces it
        taste.rate(s, cyd, art, 2)
    with sessions() as s:
        seen = taste.appraisal(s, art, bob)
    assert (seen.favourites, seen.ratings, seen.average_stars) == (2, 2, 3.0)
    assert seen.mine and seen.my_stars == 4
    with sessions() as s, s.begin():
        taste.favourite(s, bob, art, on=False)
        after = taste.rate(s, cyd, art, 0)
    assert (after.favourites, after.ratings, after.average_stars) == (1, 1, 4.0)
    with sessions() as s:
        assert [w.id for w in taste.favourited_by(s, cyd)] == [art]


@pytest.mark.parametrize(
    ("who", "stars", "error", "message"),
    [
        ("ada", 5, NotOwner, "you made artwork"),
        ("bob", 6, InvalidInput, "must be an integer 1 to 5"),
        ("bob", True, InvalidInput, "must be an integer 1 to 5"),
        ("bob", "5", InvalidInput, "must be an integer 1 to 5"),
    ],
)
def test_bad_ratings_are_refused_and_change_nothing(sessions, people, who, stars, error, message):
    ada, bob, _, art = people
    user = {"ada": ada, "bob": bob}[who]
    with pytest.raises(error, match=message), sessions() as s, s.begin():
        taste.rate(s, user, art, stars)
    with pytest.raises(NotOwner), sessions() as s, s.begin():
        taste.favourite(s, ada, art)
    with pytest.raises(NotFound), sessions() as s, s.begin():
        taste.favourite(s, bob, 999_999)
    with sessions() as s:
        assert taste.appraisal(s, art).favourites == 0 and taste.appraisal(s, art).ratings == 0


def test_two_favourites_at_once_leave_one_and_views_at_once_all_count(sessions, people):
    _ada, bob, cyd, art = people

    def like():
        with sessions() as s, s.begin():
            return taste.favourite(s, bob, art).favourites

    outcomes = race(like, like)
    assert all(o[0] == "ok" for o in outcomes), outcomes

    def view():
        with sessions() as s, s.begin():
            return taste.record_view(s, s.get(Artwork, art), cyd)

    outcomes = race(*[view] * 4)
    assert all(o == ("ok", True) for o in outcomes), outcomes
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Favourite)) == 1
        assert s.scalar(select(func.sum(ArtworkView.views))) == 4


def test_owners_and_creators_views_are_not_counted(sessions, people):
    ada, bob, _cyd, art = people
    with sessions() as s, s.begin():
        work = s.get(Artwork, art)
        assert taste.record_view(s, work, ada) is False
        assert taste.record_view(s, work, None) is True
        assert taste.record_view(s, work, bob) is True
        taste.record_view(s, work, bob, day=date.today() - timedelta(days=40))
    with sessions() as s:
        mine = taste.insights(s, ada)
    assert mine["totals"]["views"] == 2  # the 40-day-old view is outside the window


def test_followers_hear_of_an_artists_new_listing_but_not_of_a_resale(sessions, blobs, people):
    ada, bob, cyd, art = people
    with sessions() as s, s.begin():
        taste.follow(s, bob, "ADA")  # names compare case-insensitively
        taste.follow(s, cyd, "ada")
        taste.follow(s, cyd, "ada", on=False)
        assert taste.following(s, bob) == ["ada"]
    with pytest.raises(InvalidInput, match="cannot follow yourself"), sessions() as s:
        taste.follow(s, ada, "ada")
    with pytest.raises(NotFound, match="no user named"), sessions() as s:
        taste.follow(s, ada, "nobody")
    listing = new_listing(sessions, art, ada, 1000)
    assert kinds_of(sessions, bob) == ["new_work"]
    assert kinds_of(sessions, cyd) == []
    buy(sessions, listing, cyd)
    new_listing(sessions, art, cyd, 2000)  # cyd resells ada's work: not ada's new work
    assert kinds_of(sessions, bob) == ["new_work"]
    with sessions() as s:
        note = notifications.notifications_of(s, bob)[0]
    assert note.payload["listing_id"] == listing and note.payload["title"] == "Piece 1"


def test_a_sale_tells_the_seller_and_the_creator_what_it_paid_them(sessions, blobs, people):
    ada, bob, cyd, art = people
    buy(sessions, new_listing(sessions, art, ada, 1000), bob)
    buy(sessions, new_listing(sessions, art, bob, 2000), cyd, key="k2")
    assert kinds_of(sessions, ada) == ["sold", "royalty"]
    assert kinds_of(sessions, bob) == ["sold"]
    with sessions() as s:
        royalty = notifications.notifications_of(s, ada)[0].payload
        sold = notifications.notifications_of(s, bob)[0].payload
        front = taste.storefront(s, "ada")
    assert royalty["received_cents"] == front["royalties_cents"] > 0
    assert sold["price_cents"] == 2000 and 0 < sold["received_cents"] < 2000
    assert front["sales"] == 2 and front["sales_cents"] == 3000 and front["work_count"] == 1
    books_and_log_hold(sessions)


def test_outbid_won_offer_and_report_notifications(sessions, blobs, people):
    ada, bob, cyd, art = people
    with sessions() as s, s.begin():
        auction = create_auction(s, art, ada, kind="reserve", reserve_cents=500, now=T0).id
    with sessions() as s, s.begin():
        place_bid(s, auction, bob, 500, "b1", now=T0)
    with sessions() as s, s.begin():
        place_bid(s, auction, cyd, 600, "c1", now=T0 + timedelta(minutes=1))
    assert kinds_of(sessions, bob) == ["outbid"]
    with sessions() as s, s.begin():
        settle_auction(s, auction, now=T0 + timedelta(days=2))
    assert kinds_of(sessions, cyd) == ["won"]
    assert kinds_of(sessions, ada) == ["sold"]
    with sessions() as s, s.begin():
        first = make_offer(s, art, bob, 900, licence_tier="personal").id
    with sessions() as s, s.begin():
        second = make_offer(s, art, ada, 800, licence_tier="personal").id
    assert kinds_of(sessions, cyd) == ["won", "offer_received", "offer_received"]
    with sessions() as s, s.begin():
        decline_offer(s, first, cyd)
        accept_offer(s, second, cyd)
    with sessions() as s:
        answers = [n.payload["outcome"] for n in notifications.notifications_of(s, bob)[:1]]
        answers += [n.payload["outcome"] for n in notifications.notifications_of(s, ada)[:1]]
    assert answers == ["declined", "accepted"]
    books_and_log_hold(sessions)


def test_a_report_and_its_decision_reach_the_seller_and_the_reporter(
    sessions,
    blobs,
    copycat,  # noqa: F811
):
    ada, bob, _cyd, original, copy, _ = copycat
    t = report(sessions, blobs, ada, copy, original)
    with sessions() as s, s.begin():
        decide(s, t.id, "removed", "the evidence holds")
    assert kinds_of(sessions, bob) == ["takedown", "takedown"]
    assert kinds_of(sessions, ada) == ["takedown"]
    with sessions() as s:
        stages = [n.payload["stage"] for n in notifications.notifications_of(s, bob)]
    assert stages == ["removed", "suspended"]


def test_marking_read_touches_only_your_own(sessions, people):
    _ada, bob, cyd, art = people
    with sessions() as s, s.begin():
        notifications.notify(s, [bob, cyd, bob], "new_work", artwork_id=art, title="t")
        notifications.notify(s, bob, "new_work", artwork_id=art, title="u")
    with sessions() as s, s.begin():
        assert notifications.unread_count(s, bob) == 2
        first = notifications.notifications_of(s, bob)[-1].id
        assert notifications.mark_read(s, bob, first) == 1
        assert notifications.unread_count(s, bob) == 1
        assert notifications.mark_read(s, bob) == 1
        assert notifications.unread_count(s, cyd) == 1
    with pytest.raises(InvalidInput, match="notification number"), sessions() as s:
        notifications.mark_read(s, bob, -3)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Notification)) == 3


def test_the_insight_panel_counts_views_favourites_and_sales_by_style(sessions, blobs, people):
    ada, bob, cyd, art = people
    other = new_artwork(sessions, blobs, ada, 2)  # an upload, no recipe
    with sessions() as s, s.begin():
        for viewer in (bob, cyd, None):
            taste.record_view(s, s.get(Artwork, art), viewer)
        taste.record_view(s, s.get(Artwork, other), bob)
        taste.favourite(s, bob, art)
        taste.rate(s, cyd, art, 5)
        taste.rate(s, bob, other, 2)
    buy(sessions, new_listing(sessions, art, ada, 1500), bob)
    with sessions() as s:
        panel = taste.insights(s, ada)
    assert panel["totals"]["views"] == 4 and panel["totals"]["favourites"] == 1
    assert panel["totals"]["sales"] == 1 and panel["totals"]["sales_cents"] == 1500
    styles = {g["style"]: g for g in panel["by_style"]}
    assert set(styles) == {"GAN · x", "Upload"}
    assert styles["GAN · x"]["sales_cents"] == 1500 and styles["GAN · x"]["average_stars"] == 5
    assert styles["Upload"]["views"] == 1 and styles["Upload"]["average_stars"] == 2
    assert panel["top_works"][0]["id"] == art


def test_more_like_this_ranks_a_restyled_copy_first_and_leaves_out_takedowns(sessions, blobs):
    ada = new_user(sessions, "ada")
    from marketplace.artworks import register_artwork

    def register(image, title):
        with sessions() as s, s.begin():
            return register_artwork(s, blobs, encode(image), owner_id=ada, title=title).id

    base = register(art_image(3, 256), "Base")
    # the same picture, brighter: another work to the guard (ada owns both), the same style
    brighter = register(ImageEnhance.Brightness(art_image(3, 256)).enhance(1.15), "Brighter")
    others = [register(art_image(seed, 256), f"Other {seed}") for seed in (40, 41, 42)]
    report_ = sweep_market(sessions, now=T0, blobs=blobs)
    assert sorted(report_.embedded) == sorted([base, brighter, *others])
    assert sweep_market(sessions, now=T0, blobs=blobs).embedded == []  # nothing left to do
    with sessions() as s:
        similar = style_index.more_like_this(s, blobs, base, limit=3)
        vector = np.frombuffer(s.get(ArtworkStyle, base).vector, dtype="<f4")
    assert vector.shape == (100,)
    assert next(w.id for w, _ in similar) == brighter
    assert len(similar) == 3 and base not in [w.id for w, _ in similar]
    distances = [d for _, d in similar]
    assert distances == sorted(distances)
    with sessions() as s, s.begin():
        s.get(Artwork, brighter).sales_blocked = "removed"
    with sessions() as s:
        assert brighter not in [w.id for w, _ in style_index.more_like_this(s, blobs, base)]


def test_a_work_the_sweep_has_not_reached_is_embedded_when_asked_about(sessions, blobs, people):
    _ada, bob, _cyd, art = people
    new_artwork(sessions, blobs, bob, 9)
    with sessions() as s, s.begin():
        assert s.get(ArtworkStyle, art) is None
        style_index.more_like_this(s, blobs, art)
        assert s.get(ArtworkStyle, art) is not None
    with pytest.raises(NotFound), sessions() as s:
        style_index.more_like_this(s, blobs, 999_999)
