"""Hostile and odd files through every web entry point that takes an image: Sell → Register,
Verify, Style and Train. Each is refused with Atelier's own message (no server path, no
Gradio preprocessing error) or, where it is a usable image, stored byte for byte; a refusal
writes nothing."""

from __future__ import annotations

import hashlib

import pytest
from gradio_client import handle_file
from sqlalchemy import func, select

from db.blobs import open_blob_store
from db.models import Artwork, Job
from db.session import make_engine
from tests.e2e.conftest import client, sign_up, text_of
from tests.factories import hostile_files, png_bytes

FILES = hostile_files()
LEAKS = ("/tmp", "gradio", "Could not preprocess", "Traceback", "/work", "site-packages")


def clean_refusal(exc: Exception) -> str:
    message = str(exc)
    assert not any(leak in message for leak in LEAKS), message
    return message


@pytest.fixture
def database(app_settings):
    engine = make_engine(app_settings.database_url)
    yield engine
    engine.dispose()


def count(engine, column) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count(column))).scalar_one()


def blob_store(app_settings):
    return open_blob_store(app_settings.blob_url, app_settings.blob_dir)


def blob_files(app_settings) -> set[str]:
    return set(blob_store(app_settings).keys())


def test_register_refuses_cleanly_or_stores_the_exact_bytes(
    app_url, app_settings, database, tmp_path
):
    assert len(FILES) >= 30
    ada = sign_up(app_url, "ada")
    stored = 0
    for i, (name, data) in enumerate(FILES):
        path = tmp_path / name
        path.write_bytes(data)
        before_rows, before_blobs = count(database, Artwork.id), blob_files(app_settings)
        try:
            message, artwork_id = ada.predict(
                handle_file(str(path)), f"file {i}", "", api_name="/register"
            )
        except Exception as exc:  # a refusal: Atelier's words, and nothing written
            clean_refusal(exc)
            assert count(database, Artwork.id) == before_rows, name
            assert blob_files(app_settings) == before_blobs, name
            continue
        assert "Registered as artwork" in message, name
        with database.connect() as conn:
            sha, key = conn.execute(
                select(Artwork.content_sha256, Artwork.blob_key).where(
                    Artwork.id == int(artwork_id)
                )
            ).one()
        assert sha == hashlib.sha256(data).hexdigest(), name
        assert blob_store(app_settings).get(key) == data, name
        stored += 1
    assert stored >= 15  # the usable images among them (odd modes and formats) are kept


def test_the_artists_own_rgba_file_verifies_as_the_registered_original(app_url, tmp_path):
    ada = sign_up(app_url, "ada")
    name, data = next(f for f in FILES if f[0] == "rgba-hidden.png")
    path = tmp_path / name
    path.write_bytes(data)
    _message, artwork_id = ada.predict(
        handle_file(str(path)), "Half hidden", "", api_name="/register"
    )
    verdict, *_ = client(app_url).predict(handle_file(str(path)), api_name="/verify")
    assert f"Registered original #{int(artwork_id)}" in text_of(verdict)


def test_verify_answers_every_file_in_atelier_words(app_url, tmp_path):
    guest = client(app_url)
    answered = 0
    for name, data in FILES:
        path = tmp_path / name
        path.write_bytes(data)
        try:
            verdict, *_ = guest.predict(handle_file(str(path)), api_name="/verify")
        except Exception as exc:
            assert "can't be used as an image" in clean_refusal(exc), name
            continue
        assert "atelier-verdict" in verdict, name
        answered += 1
    assert answered >= 15


def test_style_refuses_cleanly_or_restyles(app_url, tmp_path):
    ada = sign_up(app_url, "ada")
    for name, data in FILES:
        path = tmp_path / name
        path.write_bytes(data)
        args = ["Upload a picture", handle_file(str(path)), None, "Preset", 19, None, None, None]
        try:
            _pair, status = ada.predict(*args, 0.5, 1.0, False, 128, api_name="/stylise")
        except Exception as exc:
            clean_refusal(exc)
            continue
        assert "Restyled at" in text_of(status), name


def test_train_refuses_a_set_with_a_hostile_file_cleanly_and_queues_nothing(
    app_url, database, tmp_path
):
    ada = sign_up(app_url, "ada")
    good = []
    for i in range(20):
        path = tmp_path / f"good{i}.png"
        path.write_bytes(png_bytes(900 + i, 64))
        good.append(handle_file(str(path)))
    # the files no decoder accepts (a zip is opened, and its non-image members skipped)
    for name, data in [f for f in FILES[:12] if not f[0].endswith(".zip")]:
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(Exception) as refused:
            ada.predict([*good, handle_file(str(path))], "with junk", 10, 64, api_name="/train")
        assert f"“{name}” can't be used as an image" in clean_refusal(refused.value), name
    assert count(database, Job.id) == 0


def _upload(app_url: str, body_bytes: int | None, cookie: str | None = None, data: bytes = b""):
    """POST to Gradio's upload route; with `body_bytes` set, only the headers are sent (the
    length claimed), so a refusal must come before the body is read."""
    import http.client
    from urllib.parse import urlparse

    url = urlparse(app_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    boundary = "atelierboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    conn.putrequest("POST", "/gradio_api/upload")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(body_bytes if body_bytes is not None else len(body)))
    if cookie:
        conn.putheader("Cookie", cookie)
    conn.endheaders()
    if body_bytes is None:
        conn.send(body)
    response = conn.getresponse()
    status, text = response.status, response.read().decode("utf-8", "replace")
    conn.close()
    return status, text


def test_anonymous_uploads_are_capped_at_one_image_and_never_served_back(app_url):
    import json
    import urllib.error
    import urllib.request

    status, text = _upload(app_url, 60 * 1024 * 1024)
    assert status == 413 and "Without an account you may upload one image of at most 50 MB" in text
    ada = sign_up(app_url, "ada")
    token = ada.headers["Cookie"]
    status, text = _upload(app_url, 600 * 1024 * 1024, cookie=token)
    assert status == 413 and "files over 500 MB" in text  # a session's limit is the training one

    status, text = _upload(app_url, None, data=png_bytes(5))
    assert status == 200
    (path,) = json.loads(text)
    with pytest.raises(urllib.error.HTTPError, match="404"):
        urllib.request.urlopen(f"{app_url}gradio_api/file={path}", timeout=30)
