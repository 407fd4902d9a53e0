"""Who is signed in: the session cookie, its HTTP routes, and the lookup every handler uses.

Browsers sign in through `POST /auth/sign-in` (and `/auth/sign-up`, `/auth/sign-out`) with a
JSON body; the answer sets or clears the `atelier_session` cookie (HttpOnly, SameSite=Lax,
14 days). Gradio handlers take `request: gr.Request` and resolve the cookie with
`viewer(services, request)`; nothing about the user is kept in module globals or trusted
from the client besides the cookie. API clients (gradio_client) get a token from the
`/sign_in` endpoint and send it back as a header: `Cookie: atelier_session=TOKEN`.
"""

from __future__ import annotations

from dataclasses import dataclass
from http.cookies import SimpleCookie

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from marketplace import web_sessions
from marketplace.errors import InvalidCredentials, MarketplaceError
from marketplace.web_sessions import COOKIE_NAME, SESSION_LIFETIME, TooManyAttempts
from ui.common import Services, escape, in_words, sentence

SIGN_IN_FIRST = "Sign in first (Account tab)."
MAX_BODY_BYTES = 4096


@dataclass(frozen=True)
class Viewer:
    """The signed-in person making a request."""

    id: int
    username: str
    balance_cents: int


def session_token(request: gr.Request | Request | None) -> str | None:
    """The session cookie's value from a request (Gradio's or FastAPI's), if any."""
    if request is None:
        return None
    cookies = getattr(request, "cookies", None)
    if cookies:
        token = dict(cookies).get(COOKIE_NAME)
        if token:
            return token
    headers = getattr(request, "headers", None) or {}
    raw = dict(headers).get("cookie") or dict(headers).get("Cookie")
    if raw:
        parsed = SimpleCookie()
        try:
            parsed.load(raw)
        except Exception:  # a malformed header names nobody
            return None
        if COOKIE_NAME in parsed:
            return parsed[COOKIE_NAME].value
    return None


def client_ip(request: gr.Request | Request | None) -> str:
    """The address a request came from (the direct peer: no proxy headers are trusted)."""
    client = getattr(request, "client", None) if request is not None else None
    host = getattr(client, "host", None)
    return str(host) if host else "unknown"


def viewer(services: Services, request: gr.Request | Request | None) -> Viewer | None:
    """The person signed in on this request, or None (anonymous, expired or revoked)."""
    token = session_token(request)
    if not token:
        return None
    with services.readers() as s:
        user = web_sessions.user_for_token(s, token)
        if user is None:
            return None
        return Viewer(user.id, user.username, user.balance_cents)


def require_viewer(services: Services, request: gr.Request | None) -> Viewer:
    """The signed-in person, or a clear refusal."""
    who = viewer(services, request)
    if who is None:
        raise gr.Error(SIGN_IN_FIRST, title="Sign in")
    return who


def _set_cookie(response: JSONResponse, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def _refusal(message: str, status: int, plain: str | None = None) -> JSONResponse:
    # "error" is the precise message for scripts; the page shows "message_md", in words
    return JSONResponse(
        {"ok": False, "error": message, "message_md": "⚠ " + escape(plain or sentence(message))},
        status_code=status,
    )


def _refused(exc: Exception, status: int) -> JSONResponse:
    return _refusal(str(exc), status, in_words(exc))


def _too_many(exc: TooManyAttempts) -> JSONResponse:
    response = _refused(exc, 429)
    response.headers["Retry-After"] = str(exc.retry_after_seconds)
    return response


async def _credentials(request: Request) -> tuple[str, str] | JSONResponse:
    # JSON only: a cross-site HTML form cannot send it, so nobody is signed in by a forgery
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return _refusal("send the username and password as JSON", 415)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return _refusal("the request is too large", 413)
    try:
        data = await request.json()
    except ValueError:
        return _refusal("the request body is not JSON", 400)
    if not isinstance(data, dict):
        return _refusal("send an object with `username` and `password`", 400)
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        return _refusal("`username` and `password` must be text", 400)
    return username, password


def add_auth_routes(api: FastAPI, services: Services) -> None:
    """`POST /auth/sign-up`, `/auth/sign-in` and `/auth/sign-out` (JSON in, JSON out)."""
    rules = services.settings.rules

    def signed_in(request: Request, signed: web_sessions.SignedIn, message: str) -> JSONResponse:
        response = JSONResponse(
            {"ok": True, "username": signed.username, "message_md": escape(message)}
        )
        _set_cookie(response, request, signed.token)
        return response

    @api.post("/auth/sign-up")
    async def sign_up_route(request: Request) -> JSONResponse:
        parsed = await _credentials(request)
        if isinstance(parsed, JSONResponse):
            return parsed
        username, password = parsed

        def work() -> web_sessions.SignedIn:
            with services.sessions() as s, s.begin():
                return web_sessions.sign_up(
                    s, username, password, rules=rules, ip=client_ip(request)
                )

        try:
            signed = await _in_thread(work)
        except TooManyAttempts as exc:
            return _too_many(exc)
        except (MarketplaceError, ValueError) as exc:
            return _refused(exc, 400)
        return signed_in(request, signed, f"Welcome, {signed.username}! You are signed in.")

    @api.post("/auth/sign-in")
    async def sign_in_route(request: Request) -> JSONResponse:
        parsed = await _credentials(request)
        if isinstance(parsed, JSONResponse):
            return parsed
        username, password = parsed

        def work() -> web_sessions.SignedIn:
            return web_sessions.sign_in(
                services.sessions, services.readers, username, password, client_ip(request)
            )

        try:
            signed = await _in_thread(work)
        except TooManyAttempts as exc:
            return _too_many(exc)
        except InvalidCredentials as exc:
            return _refused(exc, 401)
        except (MarketplaceError, ValueError) as exc:
            return _refused(exc, 400)
        return signed_in(request, signed, f"Signed in as {signed.username}.")

    @api.post("/auth/sign-out")
    async def sign_out_route(request: Request) -> JSONResponse:
        token = session_token(request)

        def work() -> bool:
            with services.sessions() as s, s.begin():
                return web_sessions.revoke_session(s, token)

        was_open = await _in_thread(work) if token else False
        response = JSONResponse(
            {"ok": True, "was_signed_in": was_open, "message_md": "Signed out."}
        )
        response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")
        return response


async def _in_thread(fn):
    # argon2 and database work must not block the event loop
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn)
