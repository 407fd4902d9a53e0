"""Previews are previews: half size at most, marked when large, not named by the content hash."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from db.blobs import LocalBlobStore
from marketplace.media import MARK_ABOVE, load_preview_secret, preview_path
from tests.factories import art_image, encode

SECRET = b"k" * 32


@pytest.fixture
def blobs(tmp_path):
    return LocalBlobStore(tmp_path / "blobs")


def stored(blobs, side: int, seed: int = 1) -> str:
    return blobs.put(encode(art_image(seed).resize((side, side)), "PNG"))


@pytest.mark.parametrize(
    ("side", "asked", "expected"),
    [(512, 768, 256), (512, 256, 256), (256, 256, 128), (2048, 768, 768)],
)
def test_a_preview_is_at_most_half_the_original_and_at_most_the_size_asked(
    blobs, tmp_path, side, asked, expected
):
    key = stored(blobs, side)
    with Image.open(preview_path(blobs, key, tmp_path / "p", SECRET, asked)) as preview:
        assert max(preview.size) == expected


def test_a_preview_over_256_px_carries_a_visible_mark_and_a_small_one_does_not(blobs, tmp_path):
    key = stored(blobs, 1024)
    plain = art_image(1).resize((1024, 1024)).resize((512, 512), Image.Resampling.LANCZOS)
    with Image.open(preview_path(blobs, key, tmp_path / "p", SECRET, 768)) as preview:
        assert preview.size == (512, 512) and max(preview.size) > MARK_ABOVE
        diff = np.abs(np.asarray(preview.convert("RGB"), int) - np.asarray(plain, int)).max(axis=2)
    # the mark changes a good part of the picture, strongly (WebP's own error is a few levels)
    assert (diff > 40).mean() > 0.05
    small = art_image(1).resize((1024, 1024)).resize((256, 256), Image.Resampling.LANCZOS)
    with Image.open(preview_path(blobs, key, tmp_path / "p", SECRET, 256)) as preview:
        diff = np.abs(np.asarray(preview.convert("RGB"), int) - np.asarray(small, int)).max(axis=2)
    assert (diff > 40).mean() < 0.01


def test_a_preview_is_not_named_by_the_content_hash_and_needs_the_secret(blobs, tmp_path):
    key = stored(blobs, 512)
    one = preview_path(blobs, key, tmp_path / "p", SECRET, 256)
    other = preview_path(blobs, key, tmp_path / "q", b"x" * 32, 256)
    assert key not in one.name and key[:16] not in one.name
    assert one.name != other.name
    assert preview_path(blobs, key, tmp_path / "p", SECRET, 256) == one  # cached


def test_the_preview_secret_is_made_once_and_kept_private(tmp_path):
    first = load_preview_secret(tmp_path / "keys")
    assert len(first) == 32 and load_preview_secret(tmp_path / "keys") == first
    assert (tmp_path / "keys" / "preview.key").stat().st_mode & 0o077 == 0
