"""Account: sign up, sign in, sign out.

In the browser the buttons post to `/auth/...` (so the answer can set the HttpOnly session
cookie) and reload the page. For API clients there are `/sign_up`, `/sign_in` and
`/sign_out` endpoints that return the session token; a client sends it back on every call as
`Cookie: atelier_session=TOKEN` (`Client(url, headers={"Cookie": ...})`).
"""

from __future__ import annotations

import gradio as gr

from marketplace import web_sessions
from ui.auth import client_ip, session_token, viewer
from ui.common import Services, bind, escape, run
from ui.shell import Page

# the browser posts the form as JSON; the answer's message is already escaped by the server
_POST_JS = """
async (username, password) => {
  let response, data = {};
  try {
    response = await fetch("auth/%s", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({username: username || "", password: password || ""}),
    });
    data = await response.json();
  } catch (e) {
    return "⚠ The server could not be reached; try again.";
  }
  if (response.ok && data.ok) {
    window.location.assign(window.location.pathname + "?tab=%s");
    return data.message_md;
  }
  return data.message_md || ("⚠ Not signed in (HTTP " + response.status + ").");
}
"""
SIGN_UP_JS = _POST_JS % ("sign-up", "studio")
SIGN_IN_JS = _POST_JS % ("sign-in", "gallery")


def sign_up(
    services: Services, username: str, password: str, request: gr.Request
) -> tuple[str, str, str]:
    """Create an account and sign it in. Returns (message, session token, username);
    send the token back as the cookie `atelier_session`."""

    def work():
        with services.sessions() as s, s.begin():
            return web_sessions.sign_up(
                s, username, password, rules=services.settings.rules, ip=client_ip(request)
            )

    signed = run(work)
    return (
        f"Welcome, {escape(signed.username)}! You are signed in.",
        signed.token,
        signed.username,
    )


def sign_in(
    services: Services, username: str, password: str, request: gr.Request
) -> tuple[str, str, str]:
    """Sign in. Returns (message, session token, username); send the token back as the
    cookie `atelier_session`. Refused for a while after repeated wrong passwords."""
    signed = run(
        web_sessions.sign_in,
        services.sessions,
        services.readers,
        username,
        password,
        client_ip(request),
    )
    return f"Signed in as {escape(signed.username)}.", signed.token, signed.username


def sign_out(services: Services, request: gr.Request) -> str:
    """Revoke the session whose cookie this request carries."""
    token = session_token(request)
    if not token:
        return "You were not signed in."
    with services.sessions() as s, s.begin():
        web_sessions.revoke_session(s, token)
    return "Signed out."


def whoami(services: Services, request: gr.Request) -> tuple[str, int]:
    """The signed-in username ("" for a guest) and balance in cents."""
    who = viewer(services, request)
    return ("", 0) if who is None else (who.username, who.balance_cents)


def build(services: Services, page: Page) -> None:
    """Lay out the Account page and wire its handlers."""
    with gr.Row(), gr.Column(scale=1, min_width=320):
        gr.Markdown(
            "### Sign in or create an account\n"
            "Anyone may browse the gallery, open artworks and verify images. An account "
            "lets you make pictures in the studio, restyle them, sell, buy and keep a "
            "wallet. New accounts get 100.00 demo credits."
        )
        username = gr.Textbox(
            label="Username",
            placeholder="3-32 letters, digits, _ . -",
            max_length=32,
            elem_id="account-username",
        )
        password = gr.Textbox(
            label="Password",
            type="password",
            placeholder="at least 8 characters",
            max_length=256,
            elem_id="account-password",
        )
        with gr.Row():
            up = gr.Button("Create account", elem_id="account-sign-up")
            into = gr.Button("Sign in", variant="primary", elem_id="account-sign-in")
        status = gr.Markdown(elem_id="account-status")
    up.click(None, [username, password], [status], js=SIGN_UP_JS)
    into.click(None, [username, password], [status], js=SIGN_IN_JS)
    password.submit(None, [username, password], [status], js=SIGN_IN_JS)

    gr.api(bind(services, sign_up), api_name="sign_up")
    gr.api(bind(services, sign_in), api_name="sign_in")
    gr.api(bind(services, sign_out), api_name="sign_out")
    gr.api(bind(services, whoami), api_name="whoami")
