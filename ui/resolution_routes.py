"""HTTP routes of the C2PA Soft Binding Resolution API under /sbr/v1 (the service itself is
`marketplace.resolution`; its OpenAPI document is tests/contract/c2pa_soft_binding_api.json).

Errors answer with the status codes the specification names (400 for a bad query, 404 for an
unknown manifest, 415 for an asset that is not an image; 413 for a file over the size limit)
and, since the specification gives error responses no body, the reason in plain words in the
`Atelier-Error` header. No route answers 422 or 500 for bad input.
"""

from __future__ import annotations

import json

from fastapi import FastAPI, Request, Response

from marketplace import resolution
from marketplace.errors import InvalidInput, NotFound
from ui.common import Services

PREFIX = "/sbr/v1"
MAX_ASSET_BYTES = 25 * 1024 * 1024
MAX_JSON_BYTES = 16 * 1024
ERROR_HEADER = "Atelier-Error"


def _json(body: dict, status: int = 200) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def _error(message: str, status: int = 400) -> Response:
    """An error as the specification shapes it (no body), with the reason in plain words
    in the `Atelier-Error` header."""
    reason = message.encode("ascii", "replace").decode("ascii").replace("\n", " ")[:300]
    return Response(status_code=status, headers={ERROR_HEADER: reason})


async def _read_limited(request: Request, limit: int) -> bytes | None:
    """The body, or None when it is over `limit` bytes (checked as it streams in)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def add_resolution_routes(api: FastAPI, services: Services) -> None:
    """Serve the resolution API (public, no sign-in: it discloses what certificates do)."""

    def by_binding(alg, value, max_results) -> Response:
        try:
            count = resolution.check_max_results(max_results)
            code = resolution.decode_binding(alg, value)
            with services.sessions() as s, s.begin():
                found = resolution.matches_by_iscc(s, code, count)
                matches = resolution.manifest_ids(s, services.blobs, found, services.c2pa)
        except InvalidInput as exc:
            return _error(str(exc))
        return _json({"matches": matches})

    @api.get(PREFIX + "/matches/byBinding")
    def query_by_binding(request: Request) -> Response:
        params = request.query_params
        if "value" not in params or "alg" not in params:
            return _error("give the soft binding as `alg` and `value` (base64)")
        return by_binding(params["alg"], params["value"], params.get("maxResults"))

    @api.post(PREFIX + "/matches/byBinding")
    async def query_by_large_binding(request: Request) -> Response:
        body = await _read_limited(request, MAX_JSON_BYTES)
        if body is None:
            return _error(f"the query is over {MAX_JSON_BYTES // 1024} KB", 413)
        try:
            query = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _error("the body must be a JSON object with `alg` and `value`")
        if not isinstance(query, dict) or "alg" not in query or "value" not in query:
            return _error("the body must be a JSON object with `alg` and `value`")
        return by_binding(query["alg"], query["value"], request.query_params.get("maxResults"))

    @api.post(PREFIX + "/matches/byContent")
    async def query_by_content(request: Request) -> Response:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if not kind.startswith("image/"):
            return _error("Atelier holds images: send the file with an image/* content type", 415)
        data = await _read_limited(request, MAX_ASSET_BYTES)
        if data is None:
            return _error(f"the file is over {MAX_ASSET_BYTES // (1024 * 1024)} MB", 413)
        params = request.query_params
        try:
            count = resolution.check_max_results(params.get("maxResults"))
            with services.sessions() as s, s.begin():
                found = resolution.matches_by_content(
                    s,
                    services.blobs,
                    data,
                    alg=params.get("alg"),
                    max_results=count,
                    signer=services.log_signer,
                    anchor_pem=services.c2pa.anchor_pem,
                )
                matches = resolution.manifest_ids(s, services.blobs, found, services.c2pa)
        except InvalidInput as exc:
            return _error(exc.plain if getattr(exc, "plain", None) else str(exc))
        return _json({"matches": matches})

    @api.post(PREFIX + "/matches/byReference")
    def query_by_reference() -> Response:
        # optional in the specification; fetching URLs for strangers invites SSRF
        return _error("this service does not fetch assets by reference; use byContent", 400)

    @api.get(PREFIX + "/manifests/{manifest_id:path}")
    def get_manifest(manifest_id: str, request: Request) -> Response:
        active = request.query_params.get("returnActiveManifest", "false").lower()
        if active not in ("true", "false"):
            return _error("returnActiveManifest must be true or false")
        try:
            with services.readers() as s:
                store = resolution.manifest_store(s, services.blobs, manifest_id)
        except NotFound as exc:
            return _error(str(exc), 404)
        # a public store holds one manifest, the active one: both answers are the store
        return Response(store, media_type="application/c2pa")

    @api.get(PREFIX + "/services/supportedAlgorithms")
    def supported_algorithms() -> Response:
        return _json(resolution.SUPPORTED)
