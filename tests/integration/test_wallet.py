"""Finding 10 and 15 of issue 12, the wallet's side: the balance chart is a step function
(it drew ramps between entries, and nothing for one entry), and each sale's platform fee is
shown to the seller."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from marketplace.ledger import account_history
from tests.integration.helpers import RULES, buy, new_artwork, new_listing, new_user
from ui.wallet import balance_steps


def history_of(sessions, user_id):
    with sessions() as s:
        return account_history(s, user_id)


def test_a_seller_sees_each_sales_price_and_platform_fee(sessions, blobs):
    ada, bob = new_user(sessions, "ada"), new_user(sessions, "bob")
    art = new_artwork(sessions, blobs, ada, 1)
    buy(sessions, new_listing(sessions, art, ada, 1250), bob)
    fee = 1250 * RULES.platform_fee_bps // 10_000
    sale = next(h for h in history_of(sessions, ada) if h["role"] == "seller")
    assert sale["sale_price_cents"] == 1250
    assert sale["platform_fee_cents"] == fee > 0
    # the buyer's own entry is a purchase: no fee line of someone else's sale
    bought = next(h for h in history_of(sessions, bob) if h["role"] == "buyer")
    assert "platform_fee_cents" not in bought


def is_step_function(times, balances) -> bool:
    """Every segment is flat (a held balance) or upright (an entry): no ramps."""
    points = list(zip(times, balances, strict=True))
    return all(t0 == t1 or b0 == b1 for (t0, b0), (t1, b1) in pairwise(points))


def test_the_balance_chart_is_a_step_function_that_runs_to_now(sessions, blobs):
    ada, bob = new_user(sessions, "ada"), new_user(sessions, "bob")
    art = new_artwork(sessions, blobs, ada, 1)
    buy(sessions, new_listing(sessions, art, ada, 1250), bob)
    history = history_of(sessions, bob)
    now = datetime.now(UTC) + timedelta(minutes=5)
    times, balances = balance_steps(history, now)
    assert is_step_function(times, balances)
    assert times[-1] == now and balances[-1] == history[0]["balance_after_cents"] / 100
    assert balances[0] == 0  # before the first grant
    assert sorted(times) == times


def test_one_entry_still_draws_a_line(sessions):
    ada = new_user(sessions, "ada")
    (grant,) = history_of(sessions, ada)
    now = datetime.now(UTC) + timedelta(minutes=1)
    times, balances = balance_steps([grant], now)
    assert len(times) == 3 and is_step_function(times, balances)
    assert balances == [0, grant["balance_after_cents"] / 100, grant["balance_after_cents"] / 100]
    assert balance_steps([], now) == ([], [])
