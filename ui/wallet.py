"""Wallet: your balance, your ledger entries, and a chart of the balance over time."""

from __future__ import annotations

from datetime import UTC, datetime

import gradio as gr
import pandas as pd

from marketplace import accounts, ledger
from marketplace.money import format_cents
from ui.auth import require_viewer
from ui.common import Services, bind, quiet_for_guests, run
from ui.shell import Page

LEDGER_HEADERS = [
    "time",
    "entry",
    "amount",
    "balance after",
    "artwork",
    "sale price",
    "platform fee",
    "memo",
]
ROLE_WORDS = {
    "grant": "credits granted",
    "buyer": "purchase",
    "seller": "sale proceeds",
    "creator_royalty": "creator royalty",
    "source_share": "source-work share",
}
HISTORY_LIMIT = 500


def balance_steps(history: list[dict], now: datetime) -> tuple[list[datetime], list[float]]:
    """The balance over time as a step function a line plot draws truly: it holds its value
    between entries and jumps at each one, so every entry adds a point at the old balance and
    one at the new; the last balance runs on to `now`. One entry still draws a line.

    Args:
        history: ledger entries, newest first (`ledger.account_history`).
        now: where the line ends (an aware datetime).
    """
    times: list[datetime] = []
    balances: list[float] = []
    entries = list(reversed(history))
    if not entries:
        return times, balances
    previous = (entries[0]["balance_after_cents"] - entries[0]["amount_cents"]) / 100
    for entry in entries:
        when = datetime.fromisoformat(entry["created_at"])
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        times += [when, when]
        balances += [previous, entry["balance_after_cents"] / 100]
        previous = balances[-1]
    times.append(max(now, times[-1]))
    balances.append(previous)
    return times, balances


def wallet(services: Services, request: gr.Request):
    """Your balance, ledger entries (newest first) and balance over time.
    Returns (balance text, entries, chart data)."""
    who = require_viewer(services, request)

    def work():
        with services.readers() as s:
            user = accounts.get_user(s, who.id)
            history = ledger.account_history(s, user.id, limit=HISTORY_LIMIT)
            return user.balance_cents, history

    balance, history = run(work)
    rows = [
        [
            h["created_at"][:19].replace("T", " "),
            ROLE_WORDS.get(h["role"], h["role"].replace("_", " ")),
            ("+" if h["amount_cents"] > 0 else "") + format_cents(h["amount_cents"]),
            format_cents(h["balance_after_cents"]),
            f"#{h['artwork_id']}" if h["artwork_id"] else "",
            format_cents(h["sale_price_cents"]) if "sale_price_cents" in h else "",
            format_cents(h["platform_fee_cents"]) if "platform_fee_cents" in h else "",
            h["memo"],
        ]
        for h in history
    ]
    times, balances = balance_steps(history, datetime.now(UTC))
    chart = pd.DataFrame({"time": times, "balance": balances})
    newest = f" (the newest {HISTORY_LIMIT})" if len(history) >= HISTORY_LIMIT else ""
    text = (
        f'<div class="atelier-verdict">Balance: <span id="wallet-balance">'
        f"{format_cents(balance)}</span> credits</div>"
        f'<div class="atelier-muted">{len(history)} ledger entries'
        f"{newest}."
        " Every sale is one balanced transaction: buyer, seller, royalties and the platform"
        " fee sum to zero.</div>"
    )
    return text, rows, chart


def build(services: Services, page: Page) -> None:
    """Lay out the Wallet page and wire its handlers."""
    with page.member_section("Your wallet needs an account."):
        with gr.Row():
            balance = gr.HTML(elem_id="wallet-summary")
            refresh = gr.Button("Refresh", size="sm", scale=0, min_width=100)
        chart = gr.LinePlot(
            x="time",
            y="balance",
            title="Balance over time (credits)",
            x_title="time",
            y_title="credits",
            # no fixed format: the chart's own time axis labels seconds for a short
            # history and days for a long one
            height=260,
            elem_id="wallet-chart",
        )
        table = gr.Dataframe(
            headers=LEDGER_HEADERS,
            interactive=False,
            wrap=True,
            label="Ledger",
            max_height=420,
            column_widths=["15%", "12%", "8%", "8%", "7%", "8%", "8%", "34%"],
            elem_id="wallet-ledger",
        )
    outputs = [balance, table, chart]
    refresh.click(bind(services, wallet), None, outputs, api_name="wallet")
    page.when_shown(quiet_for_guests(bind(services, wallet), len(outputs)), outputs)
