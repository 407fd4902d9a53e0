"""The app's public API is exactly the documented one."""

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs" / "API.md"
TXT2IMG = {"txt2img", "cancel_txt2img", "save_txt2img"}


@pytest.fixture
def public_names(app_settings):
    from app import Services, build_demo

    demo = build_demo(Services.from_settings(app_settings))
    return {fn.api_name for fn in demo.fns.values() if fn.api_visibility == "public"}


def test_every_public_endpoint_is_documented_and_every_documented_one_exists(public_names):
    from app import API_NAMES

    documented = set(re.findall(r"^\| `/(\w+)` \|", DOCS.read_text(), flags=re.MULTILINE))
    assert documented == set(API_NAMES)
    # text to image is offered only when a model is configured
    assert public_names == set(API_NAMES) - TXT2IMG
