"""Finding 14 of issue 12: the web pages word refusals as sentences ("Enter a price above
0.00."), while the CLI and scripts keep the precise message that names the argument."""

from __future__ import annotations

import re

import pytest

from marketplace import accounts, artworks, gan_models, training_jobs
from marketplace.errors import MarketplaceError
from marketplace.money import MAX_ROYALTY_BPS, parse_percent_bps, parse_price
from ui.common import in_words, sentence

MAX_CENTS = 1_000_000_00


def refusal(fn, *args, **kwargs) -> MarketplaceError:
    with pytest.raises(MarketplaceError) as caught:
        fn(*args, **kwargs)
    return caught.value


def looks_like_code(text: str) -> list[str]:
    """What makes a message read like code rather than a sentence."""
    problems = []
    if "`" in text:
        problems.append("backticks")
    if re.search(r"\bgot\b", text):
        problems.append("'got <value>'")
    if re.search(r"\b[a-z]+_[a-z_]+\b", text):
        problems.append("a snake_case name")
    if re.search(r"\[\d+, \d+\]", text):
        problems.append("an interval")
    if not text[:1].isupper() or not text.endswith("."):
        problems.append("not a sentence")
    return problems


BAD_FORM_VALUES = [
    ("price -5", lambda: parse_price("-5", max_cents=MAX_CENTS)),
    ("price 0", lambda: parse_price("0", max_cents=MAX_CENTS)),
    ("price abc", lambda: parse_price("abc", max_cents=MAX_CENTS)),
    ("price empty", lambda: parse_price("", max_cents=MAX_CENTS)),
    ("price 1.234", lambda: parse_price("1.234", max_cents=MAX_CENTS)),
    ("price too high", lambda: parse_price("99999999", max_cents=MAX_CENTS)),
    ("price nan", lambda: parse_price("nan", max_cents=MAX_CENTS)),
    (
        "royalty 60",
        lambda: parse_percent_bps("60", name="royalty", upper_bps=MAX_ROYALTY_BPS),
    ),
    ("username a", lambda: accounts.validate_username("a")),
    ("username admin", lambda: accounts.validate_username("admin")),
    ("password short", lambda: accounts.validate_password("short")),
    ("password spaces", lambda: accounts.validate_password(" " * 12)),
    ("title empty", lambda: artworks.clean_title("  ")),
    ("title long", lambda: artworks.clean_title("x" * 1000)),
    ("title control", lambda: artworks.clean_title("a\x00b")),
    ("tags many", lambda: artworks.clean_tags(" ".join(f"t{i}" for i in range(40)))),
    ("model name empty", lambda: gan_models.clean_model_name("  ")),
    ("model name long", lambda: gan_models.clean_model_name("m" * 101)),
    # the checks before any database work: a session is never reached
    ("training steps", lambda: submit_training(steps=5)),
    ("training size", lambda: submit_training(image_size=96)),
    ("too few images", lambda: submit_training(files=[])),
]


def submit_training(files=(), steps=500, image_size=64):
    training_jobs.submit_training(
        None, None, 1, "my model", list(files), steps=steps, image_size=image_size
    )


def test_a_negative_price_reads_as_the_issue_asks_on_the_web_and_stays_precise_for_the_cli():
    exc = refusal(parse_price, "-5", max_cents=MAX_CENTS)
    assert in_words(exc) == "Enter a price above 0.00."
    assert str(exc) == "`price` must be greater than zero, got '-5'"


@pytest.mark.parametrize("case", BAD_FORM_VALUES, ids=[c[0] for c in BAD_FORM_VALUES])
def test_every_form_refusal_is_a_sentence_on_the_web(case):
    _name, call = case
    exc = refusal(call)
    web = in_words(exc)
    assert looks_like_code(web) == [], web


def test_messages_without_a_plain_wording_become_sentences():
    assert (
        sentence("`edition_size` must be an integer in [1, 1000], got 0")
        == "Edition size must be a whole number from 1 to 1000."
    )
    assert sentence("`licence_tier` must be one of ('personal', 'commercial')") == (
        "Licence must be one of ('personal', 'commercial')."
    )
    assert sentence("listing #3 is sold out") == "Listing #3 is sold out."
    assert sentence("") == "That could not be done."
