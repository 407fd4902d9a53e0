"""The C2PA Soft Binding Resolution API (/sbr/v1): every response validated against the
specification's OpenAPI document (tests/contract/c2pa_soft_binding_api.json, CC-BY 4.0) with
openapi-core, a stripped, re-encoded and cropped download finding its manifest again, and
schemathesis fuzzing every operation for server errors."""

from __future__ import annotations

import base64
import io
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from tests.e2e.conftest import serve
from tests.factories import detailed, encode

# openapi-core does not check OAuth2 security schemes; the API is public anyway
pytestmark = pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning")

SPEC_PATH = Path(__file__).resolve().parents[1] / "contract" / "c2pa_soft_binding_api.json"


def spec_for(base: str) -> dict:
    spec = json.loads(SPEC_PATH.read_text())
    spec["servers"] = [{"url": base.rstrip("/") + "/sbr/v1"}]
    return spec


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """One running app for the module: ada's work #1 registered and downloaded."""
    from atelier.bootstrap import Services
    from atelier.config import Settings
    from marketplace.accounts import sign_up
    from marketplace.artworks import register_artwork
    from marketplace.certificates import signed_download
    from tests.factories import FAST_HASHER

    folder = tmp_path_factory.mktemp("sbr")
    settings = Settings(data_dir=folder / "data", database_url=f"sqlite:///{folder / 'a.db'}")
    services = Services.from_settings(settings)
    with services.sessions() as s, s.begin():
        ada = sign_up(s, "ada", "password 1234", hasher=FAST_HASHER).id
        art = register_artwork(
            s, services.blobs, encode(detailed(41)), owner_id=ada, title="Harbour"
        ).id
        download, _mime, _name = signed_download(s, services.blobs, art, services.c2pa)
    url, server, thread = serve(settings)
    yield {"url": url, "artwork": art, "download": download, "services": services}
    server.should_exit = True
    thread.join(timeout=15)


def call(url: str, method: str = "GET", body: bytes | None = None, kind: str | None = None):
    request = urllib.request.Request(url, data=body, method=method)
    if kind:
        request.add_header("Content-Type", kind)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def checked(app, path: str, method="GET", body=None, kind=None, query=""):
    """Call the API and validate the request and its response against the specification."""
    from openapi_core import OpenAPI
    from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
    from requests import Request as RequestsRequest
    from requests.models import Response as RequestsResponse

    full = app["url"].rstrip("/") + "/sbr/v1" + path + (f"?{query}" if query else "")
    status, headers, data = call(full, method, body, kind)
    content_type = headers.get("Content-Type", "")
    api = OpenAPI.from_dict(spec_for(app["url"]))
    request = RequestsRequest(
        method, full, data=body, headers={"Content-Type": kind} if kind else {}
    ).prepare()
    response = RequestsResponse()
    response.status_code, response._content = status, data
    if content_type:
        response.headers["Content-Type"] = content_type
    if status < 400:
        api.validate_request(RequestsOpenAPIRequest(request))
        api.validate_response(RequestsOpenAPIRequest(request), RequestsOpenAPIResponse(response))
    else:
        # the specification's error responses are `content: {}`: no body. openapi-core reads
        # an empty `content` as "a body of no known type" and refuses every response, so an
        # error is checked as the document means it: a status it lists, and no body
        assert str(status) in documented_statuses(path, method), (path, method, status)
        assert data == b"" and not content_type
    return status, (content_type or headers.get("Atelier-Error", "")), data


def documented_statuses(path: str, method: str) -> set[str]:
    import re

    spec = json.loads(SPEC_PATH.read_text())
    for template, operations in spec["paths"].items():
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^?]+", template), path):
            return set(operations[method.lower()]["responses"])
    raise AssertionError(f"{path} is not in the specification")


def stripped_cropped_copy(download: bytes) -> bytes:
    """The download with its manifest gone: decoded, cropped 10% off one side, JPEG q80."""
    picture = Image.open(io.BytesIO(download)).convert("RGB")
    w, h = picture.size
    return encode(picture.crop((int(w * 0.1), 0, w, h)), "JPEG", quality=80)


def test_a_stripped_re_encoded_cropped_download_finds_its_manifest_first(app):
    import c2pa

    from provenance.c2pa import read_manifest

    copy = stripped_cropped_copy(app["download"])
    assert read_manifest(copy, "image/jpeg", None).state == "unsigned"
    status, kind, data = checked(app, "/matches/byContent", "POST", copy, "image/jpeg")
    assert status == 200 and kind.startswith("application/json")
    first = json.loads(data)["matches"][0]
    assert first["similarityScore"] >= 80
    status, kind, store = checked(app, f"/manifests/{first['manifestId']}")
    assert status == 200 and kind == "application/c2pa"
    with c2pa.Reader("application/c2pa", io.BytesIO(store)) as reader:
        manifest = json.loads(reader.json())
    assert manifest["active_manifest"] == first["manifestId"]
    active = manifest["manifests"][first["manifestId"]]
    atelier = next(
        a["data"] for a in active["assertions"] if a["label"] == "org.atelier.provenance"
    )
    assert atelier["artwork_id"] == app["artwork"] and atelier["creator"] == "ada"
    # public: the recipe's commitment, never the recipe or its salt
    assert "recipe_commitment" in atelier
    assert "recipe" not in atelier and "recipe_salt" not in atelier


def test_the_iscc_soft_binding_in_a_download_resolves_by_get_and_by_post(app):
    from provenance.c2pa import read_manifest

    binding = read_manifest(app["download"], "image/png", None).soft_binding
    value = base64.b64encode(binding.encode()).decode()
    from urllib.parse import urlencode

    query = urlencode({"alg": "io.iscc.v0", "value": value, "maxResults": 3})
    status, _kind, data = checked(app, "/matches/byBinding", query=query)
    by_get = json.loads(data)["matches"]
    assert status == 200 and by_get[0]["similarityScore"] == 100
    body = json.dumps({"alg": "io.iscc.v0", "value": value}).encode()
    status, _kind, data = checked(app, "/matches/byBinding", "POST", body, "application/json")
    assert status == 200 and json.loads(data)["matches"][0] == by_get[0]


def test_the_service_lists_its_algorithms(app):
    status, _kind, data = checked(app, "/services/supportedAlgorithms")
    algs = {a["alg"] for a in json.loads(data)["fingerprints"]}
    assert status == 200 and algs == {"io.iscc.v0", "org.atelier.identify.1"}


@pytest.mark.parametrize(
    ("path", "method", "body", "kind", "query", "status", "says"),
    [
        ("/matches/byBinding", "GET", None, None, "alg=io.iscc.v0", 400, "`alg` and `value`"),
        ("/matches/byBinding", "GET", None, None, "alg=io.iscc.v0&value=%%%", 400, "base64"),
        ("/matches/byBinding", "GET", None, None, "alg=foo.bar.1&value=QUJD", 400, "unsupported"),
        ("/matches/byBinding", "POST", b"{not json", "application/json", "", 400, "JSON"),
        ("/matches/byContent", "POST", b"\x00" * 64, "image/png", "", 400, "image"),
        ("/matches/byContent", "POST", b"RIFF", "audio/wav", "", 415, "images"),
        ("/matches/byContent", "POST", b"x", "image/png", "maxResults=0", 400, "maxResults"),
        ("/manifests/urn:c2pa:nothing-here", "GET", None, None, "", 404, "no manifest"),
    ],
    ids=[
        "no-value",
        "not-base64",
        "unknown-alg",
        "bad-json",
        "not-an-image",
        "audio",
        "zero-results",
        "unknown-manifest",
    ],
)
def test_bad_queries_get_the_specified_status_and_plain_words(
    app, path, method, body, kind, query, status, says
):
    got, reason, data = checked(app, path, method, body, kind, query)
    assert got == status and data == b""  # the specification gives errors no body
    assert says in reason and "/work" not in reason and "Traceback" not in reason


def test_fuzzing_every_operation_finds_no_server_error(app):
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    schema = schemathesis.openapi.from_dict(spec_for(app["url"]))
    failures, calls = [], []

    def fuzzer(operation):
        @settings(
            max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        @given(case=operation.as_strategy())
        def fuzz(case):
            response = case.call(base_url=app["url"] + "sbr/v1")
            calls.append((operation.label, response.status_code))
            if response.status_code >= 500:
                failures.append((operation.label, response.status_code))

        return fuzz

    for result in schema.get_all_operations():
        fuzzer(result.ok())()
    # every operation was exercised, on our routes (not the pages' 404)
    assert {label for label, _ in calls} == {op.ok().label for op in schema.get_all_operations()}
    assert {code for label, code in calls if "supportedAlgorithms" in label} == {200}
    assert {code for label, code in calls if label == "GET /matches/byBinding"} >= {400}
    assert failures == []
