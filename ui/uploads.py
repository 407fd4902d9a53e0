"""Limits on what anyone may upload, and what is served back.

Gradio's `/gradio_api/upload` accepts files up to the app's `max_file_size` (the training
limit, 500 MB) from anyone, and its `/gradio_api/file=` route serves an uploaded file to anyone
who has its URL. Atelier only ever reads uploads on the server, so:

- a request without a valid session may upload at most ANONYMOUS_UPLOAD_BYTES (the verify
  limit: one image of 50 MB); larger uploads (training zips) need a session;
- an upload must say its length (`Content-Length`), and a body longer than it said is cut off;
- uploaded files are never served back (404), to their uploader or anyone else;
- the upload cache is deleted after UPLOAD_KEEP_SECONDS (`gr.Blocks(delete_cache=...)`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool

from marketplace import web_sessions
from provenance.images import MAX_IMAGE_BYTES
from ui.auth import session_token

ANONYMOUS_UPLOAD_BYTES = MAX_IMAGE_BYTES + 64 * 1024  # one image, plus the form's framing
UPLOAD_KEEP_SECONDS = 3600
UPLOAD_CACHE_SWEEP = (900, UPLOAD_KEEP_SECONDS)  # (how often, older than), for gr.Blocks


class UploadGuard:
    """ASGI middleware applying the module's rules in front of Gradio's routes.

    Args:
        app: the wrapped ASGI app.
        readers: a read-only session factory (to check the session cookie).
        signed_in_limit: the most a signed-in person may upload in one request.
        uploaded: a callable giving the set of uploaded file paths (Gradio's
            `blocks.upload_file_set`), consulted when a file is asked for.
    """

    def __init__(
        self,
        app,
        *,
        readers,
        signed_in_limit: int,
        uploaded: Callable[[], set[str]],
    ) -> None:
        self.app = app
        self.readers = readers
        self.signed_in_limit = signed_in_limit
        self.uploaded = uploaded

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if scope["method"] == "POST" and path.rstrip("/").endswith("/gradio_api/upload"):
            return await self._upload(scope, receive, send)
        if scope["method"] in ("GET", "HEAD") and "/gradio_api/file=" in path:
            asked = unquote(path.split("/gradio_api/file=", 1)[1])
            if self._is_upload(asked):
                return await _answer(send, 404, "Not found.")
        return await self.app(scope, receive, send)

    def _is_upload(self, asked: str) -> bool:
        from pathlib import Path

        try:
            resolved = str(Path(asked).resolve())
        except (OSError, ValueError):
            return False
        uploads = self.uploaded()
        return asked in uploads or resolved in uploads

    async def _upload(self, scope, receive, send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        signed_in = await run_in_threadpool(self._signed_in, headers.get("cookie"))
        limit = self.signed_in_limit if signed_in else ANONYMOUS_UPLOAD_BYTES
        try:
            declared = int(headers.get("content-length", ""))
        except ValueError:
            return await _answer(send, 411, "Say how large the upload is (Content-Length).")
        if declared > limit:
            message = (
                "The upload is too large: files over 500 MB are refused."
                if signed_in
                else "Without an account you may upload one image of at most 50 MB. Sign in "
                "to upload more (training sets)."
            )
            return await _answer(send, 413, message)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > declared:
                    return {"type": "http.disconnect"}
            return message

        return await self.app(scope, counted, send)

    def _signed_in(self, cookie_header: str | None) -> bool:
        if not cookie_header:
            return False

        class _Request:  # session_token reads a request's headers
            headers = {"cookie": cookie_header}
            cookies = None

        token = session_token(_Request())
        if not token:
            return False
        with self.readers() as s:
            return web_sessions.user_for_token(s, token) is not None


async def _answer(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
