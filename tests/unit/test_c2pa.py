import io

import pytest
from PIL import Image, PngImagePlugin

from provenance.c2pa import (
    COMPOSITE,
    TRAINED,
    C2paError,
    Ingredient,
    ManifestSpec,
    create_signing_material,
    load_signing_material,
    read_manifest,
    sign_image,
)
from provenance.fingerprint import iscc_image_code
from provenance.images import decode_image
from tests.factories import art_image, encode, png_bytes


@pytest.fixture(scope="module")
def material():
    return create_signing_material()


def spec(**kwargs):
    defaults = {
        "title": "Harbour",
        "digital_source_type": TRAINED,
        "soft_binding": iscc_image_code(art_image(1)),
        "atelier": {"artwork_id": 7, "recipe": {"kind": "gan", "seed": 3}, "pdq": "ab" * 32},
    }
    return ManifestSpec(**{**defaults, **kwargs})


def test_a_signed_png_reads_back_trusted_with_everything_we_put_in(material):
    parent = png_bytes(2)
    signed = sign_image(
        png_bytes(1),
        "image/png",
        spec(ingredients=(Ingredient("Source #3", parent, "image/png"),)),
        material,
    )
    report = read_manifest(signed, "image/png", material.anchor_pem)
    assert report.state == "trusted", report.failures
    assert report.claim_generator.startswith("Atelier")
    actions = report.assertions["c2pa.actions"]["actions"]
    assert actions[0]["action"] == "c2pa.created"
    assert actions[0]["digitalSourceType"] == TRAINED
    assert report.soft_binding == iscc_image_code(art_image(1))
    assert report.atelier["artwork_id"] == 7 and report.atelier["recipe"]["seed"] == 3
    assert report.ingredients == [{"title": "Source #3", "relationship": "inputTo"}]
    assert decode_image(signed).rgb.tobytes() == art_image(1).tobytes()


def test_without_our_anchor_the_manifest_is_valid_but_untrusted(material):
    signed = sign_image(png_bytes(1), "image/png", spec(), material)
    report = read_manifest(signed, "image/png", None)
    assert report.state == "valid_untrusted"
    assert "signingCredential.untrusted" in report.failures


def test_changed_pixels_make_the_manifest_invalid(material):
    signed = sign_image(png_bytes(1), "image/png", spec(), material)
    start = signed.index(b"IDAT") + 40
    tampered = signed[:start] + bytes([signed[start] ^ 0xFF]) + signed[start + 1 :]
    report = read_manifest(tampered, "image/png", material.anchor_pem)
    assert report.state == "invalid"
    assert "assertion.dataHash.mismatch" in report.failures


def test_an_image_without_credentials_reads_as_unsigned(material):
    assert read_manifest(png_bytes(1), "image/png", material.anchor_pem).state == "unsigned"


def test_a_certificate_from_another_authority_is_not_trusted(material):
    other = create_signing_material()
    signed = sign_image(png_bytes(1), "image/png", spec(), other)
    assert read_manifest(signed, "image/png", material.anchor_pem).state == "valid_untrusted"


def test_the_a1111_parameters_chunk_survives_signing(material):
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "Seed: 3, Size: 96x96, Model hash: abc, Truncation: 0.7")
    buf = io.BytesIO()
    art_image(1).save(buf, "PNG", pnginfo=info)
    signed = sign_image(buf.getvalue(), "image/png", spec(), material)
    assert Image.open(io.BytesIO(signed)).text["parameters"].startswith("Seed: 3")


def test_no_thumbnail_is_embedded(material):
    data = png_bytes(1, 512)
    signed = sign_image(data, "image/png", spec(), material)
    assert len(signed) - len(data) < 8_000


@pytest.mark.parametrize(("fmt", "mime"), [("JPEG", "image/jpeg"), ("WEBP", "image/webp")])
def test_jpeg_and_webp_sign_and_verify_too(material, fmt, mime):
    signed = sign_image(
        encode(art_image(4), fmt, quality=90), mime, spec(digital_source_type=COMPOSITE), material
    )
    assert read_manifest(signed, mime, material.anchor_pem).state == "trusted"


def test_an_unsupported_type_is_refused(material):
    with pytest.raises(C2paError, match="cannot sign image/gif"):
        sign_image(b"GIF89a", "image/gif", spec(), material)


def test_key_material_is_created_once_and_kept_private(tmp_path):
    first = load_signing_material(tmp_path / "keys")
    again = load_signing_material(tmp_path / "keys")
    assert first == again
    for name in ("c2pa-chain.pem", "c2pa-key.pem", "c2pa-root.pem"):
        assert oct((tmp_path / "keys" / name).stat().st_mode & 0o777) == "0o600"


def test_an_operator_must_name_the_whole_chain(tmp_path, monkeypatch):
    from atelier.config import Settings

    monkeypatch.setenv("ATELIER_C2PA_CHAIN", str(tmp_path / "chain.pem"))
    with pytest.raises(ValueError, match="set all of ATELIER_C2PA_CHAIN"):
        Settings.from_env()


def test_an_operators_chain_is_used_as_given(tmp_path, material):
    files = []
    for name, text in zip(
        ("chain.pem", "key.pem", "anchors.pem"),
        (material.chain_pem, material.key_pem, material.anchor_pem),
        strict=True,
    ):
        (tmp_path / name).write_text(text)
        files.append(tmp_path / name)
    assert load_signing_material(tmp_path / "keys", operator=tuple(files)) == material
    assert not (tmp_path / "keys").exists()
    with pytest.raises(C2paError, match="cannot read the operator's C2PA files"):
        load_signing_material(tmp_path / "keys", operator=(tmp_path / "missing.pem",) * 3)


def test_the_iscc_code_is_close_for_a_re_encoded_copy_and_far_for_another_image():
    import iscc_core

    a = iscc_image_code(art_image(5, 256))
    copy = iscc_image_code(
        decode_image(encode(art_image(5, 256).resize((128, 128)), "JPEG", quality=60)).rgb
    )
    other = iscc_image_code(art_image(6, 256))
    assert a.startswith("ISCC:")
    assert iscc_core.iscc_distance(a, copy) <= 8 < iscc_core.iscc_distance(a, other)


def test_an_upload_is_opened_from_itself_rather_than_claimed_as_created(material):
    data = png_bytes(3)
    upload = spec(digital_source_type=None, opened_from=Ingredient("upload", data, "image/png"))
    report = read_manifest(
        sign_image(data, "image/png", upload, material), "image/png", material.anchor_pem
    )
    assert report.state == "trusted", report.failures
    assert report.assertions["c2pa.actions"]["actions"][0]["action"] == "c2pa.opened"
    assert report.ingredients[0] == {"title": "upload", "relationship": "parentOf"}


def test_a_manifest_must_either_create_or_open():
    with pytest.raises(ValueError, match="either creates"):
        spec(digital_source_type=None)
