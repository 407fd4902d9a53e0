"""Favourites, ratings, more like this, follows, notifications, storefronts and the insight
panel through the running app's API, as a script would drive them."""

import time

import pytest

from tests.e2e.conftest import client, sign_up
from tests.e2e.test_app_api import register


def test_taste_and_people_through_the_api(app_url, tmp_path):
    ada, bob = sign_up(app_url, "ada"), sign_up(app_url, "bob")
    art = register(ada, tmp_path, 3, "Harbour")
    other = register(ada, tmp_path, 4, "Dunes")

    assert "♥ 1 favourite" in bob.predict(art, api_name="/favourite")
    assert "♥ 1 favourite" in bob.predict(art, api_name="/favourite")  # again: no change
    rated = bob.predict(art, 4, api_name="/rate")
    assert "★ 4.0 from 1 rating" in rated and "in your favourites" in rated
    with pytest.raises(Exception, match="You made this work"):
        ada.predict(art, api_name="/favourite")
    with pytest.raises(Exception, match="Choose 1 to 5 stars"):
        bob.predict(art, 9, api_name="/rate")
    with pytest.raises(Exception, match="Sign in"):
        client(app_url).predict(art, api_name="/favourite")
    assert "♥ 0 favourites" in bob.predict(art, api_name="/unfavourite")

    # the app's worker embeds new works' styles within seconds (its sweep, every 5 s)
    deadline = time.monotonic() + 30
    while not (similar := client(app_url).predict(art, api_name="/more_like_this")):
        assert time.monotonic() < deadline, "Dunes was not embedded within 30 s"
        time.sleep(0.5)
    assert [tile["caption"] for tile in similar] == [f"#{other} Dunes · by ada"]

    assert "You follow ada" in bob.predict("ada", api_name="/follow")
    with pytest.raises(Exception, match="You cannot follow yourself"):
        ada.predict("ada", api_name="/follow")
    with pytest.raises(Exception, match="No user named 'nobody'"):
        bob.predict("nobody", api_name="/follow")
    listed = ada.predict(art, "12", "exclusive", 1, "", api_name="/list")
    assert "Listed" in listed or "listing" in listed.lower()
    notes = bob.predict(api_name="/notifications")
    assert "<b>New work</b> from an artist you follow" in notes and "1 unread" in notes
    assert "All read." in bob.predict(api_name="/mark_read")

    front, tiles = client(app_url).predict("ada", api_name="/storefront")
    assert "Works made</td><td>2" in front and "Followers</td><td>1" in front
    assert len(tiles) == 2

    summary, by_style, _top = ada.predict(api_name="/insights")
    assert "<b>1</b> rating (4.0★)" in summary and "<b>1</b> follower</div>" in summary
    assert by_style["data"][0][0] == "Upload" and by_style["data"][0][1] == 2
    with pytest.raises(Exception, match="Sign in"):
        client(app_url).predict(api_name="/insights")


def test_tuning_is_refused_without_a_model_of_your_own(app_url):
    ada = sign_up(app_url, "ada")
    with pytest.raises(Exception, match="Choose one of your own trained models"):
        ada.predict("0" * 64, 300, api_name="/tune_model")
    summary, before, after = ada.predict(None, api_name="/tuning_status")
    assert summary == "No tuning yet." and before is None and after is None
