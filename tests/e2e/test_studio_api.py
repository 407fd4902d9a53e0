"""The running app's studio, style and training pages, driven through gradio_client."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest
from gradio_client import handle_file
from PIL import Image

from generation.parameters import read_parameters, read_recipe
from tests.e2e.conftest import client, sign_up, text_of
from tests.factories import detailed, encode, png_bytes


def bundled_model(user) -> str:
    model, *_ = studio_choices(user)
    return model


def studio_choices(user):
    """(first model id, first parent choice, ...) as the studio's dropdowns get them."""
    updates = user.predict(api_name="/studio_choices")
    return [u["value"] if isinstance(u, dict) else u for u in updates]


def test_generate_then_save_a_picked_sample_as_an_ai_generated_artwork(app_url):
    ada = sign_up(app_url, "ada")
    model = bundled_model(ada)
    grid, status, chosen = ada.predict(model, 41, 3, 0.7, 64, api_name="/generate")
    assert len(grid) == 3 and "3 pictures from seed 41" in status and chosen is None
    assert "enlarged" not in status  # asked for at the model's own 64 px
    assert [tile["caption"] for tile in grid] == ["1 · seed 41", "2 · seed 42", "3 · seed 43"]
    message, artwork_id = ada.predict(2, "Seed <b>42</b>", "emoji gan", api_name="/save_generated")
    assert f"Saved as artwork #{int(artwork_id)}" in message
    page = client(app_url).predict(int(artwork_id), api_name="/artwork")
    assert "AI-generated" in text_of(page[1]) and "Seed <b>42</b>" in text_of(page[1])
    assert "<b>42</b>" not in page[1]
    # the saved file is exactly what the recipe makes: seed 42, the grid's second picture
    saved = Path(ada.predict(int(artwork_id), api_name="/download")).read_bytes()
    assert read_recipe(saved)["seed"] == 42 and "Sampler: GAN" in read_parameters(saved)
    shown = Image.open(grid[1]["image"]).convert("RGB")
    assert shown.tobytes() == Image.open(io_bytes(saved)).convert("RGB").tobytes()


def test_gene_sliders_move_the_pictures_and_the_saved_recipe_keeps_them(app_url):
    from generation.gan_pipeline import load_model

    names = load_model().genes.names
    ada = sign_up(app_url, "ada")
    model = bundled_model(ada)
    amounts = [0.0] * len(names)
    amounts[names.index("person")], amounts[names.index("warm")] = 2.0, -1.5
    grid, status, _ = ada.predict(model, 41, 2, 0.7, 64, *amounts, api_name="/generate")
    assert "truncation 0.7; genes person +2, warm -1.5" in status
    plain, _status, _ = ada.predict(model, 41, 2, 0.7, 64, api_name="/generate")
    moved = Image.open(grid[0]["image"]).convert("RGB").tobytes()
    assert moved != Image.open(plain[0]["image"]).convert("RGB").tobytes()
    ada.predict(model, 41, 2, 0.7, 64, *amounts, api_name="/generate")
    _message, artwork_id = ada.predict(1, "Warm person", "", api_name="/save_generated")
    saved = Path(ada.predict(int(artwork_id), api_name="/download")).read_bytes()
    assert read_recipe(saved)["genes"] == {"person": 2.0, "warm": -1.5}
    assert Image.open(io_bytes(saved)).convert("RGB").tobytes() == moved
    amounts[0] = 7.0
    with pytest.raises(Exception, match="greater than maximum value 3"):
        ada.predict(model, 41, 2, 0.7, 64, *amounts, api_name="/generate")


def test_project_a_picture_save_it_and_breed_from_it(app_url, tmp_path):
    ada, bob = sign_up(app_url, "ada"), sign_up(app_url, "bob")
    photo = tmp_path / "photo.png"
    photo.write_bytes(encode(detailed(8, 160), "PNG"))
    grid, status, chosen = ada.predict(
        "Upload a picture", handle_file(str(photo)), None, 20, api_name="/project"
    )
    assert "Projected into the bundled model in 20 steps" in status and chosen == 1
    assert [t["caption"] for t in grid] == ["1 · the model's", "yours, as the model sees it"]
    _m, projected = ada.predict(1, "Me as emoji", "", api_name="/save_generated")
    saved = Path(ada.predict(int(projected), api_name="/download")).read_bytes()
    recipe = read_recipe(saved)
    assert recipe["kind"] == "gan_projection" and recipe["source"]["hash_of"] == "file"
    assert Image.open(io_bytes(saved)).convert("RGB").tobytes() == (
        Image.open(grid[0]["image"]).convert("RGB").resize((256, 256)).tobytes()
    )
    # a projection breeds like a seeded picture
    model = bundled_model(ada)
    ada.predict(model, 5, 1, 0.7, 64, api_name="/generate")
    _m, sample = ada.predict(1, "Seed five", "", api_name="/save_generated")
    kids, status = ada.predict(int(projected), int(sample), 2, 0.1, "3", api_name="/breed")[:2]
    assert len(kids) == 2 and "2 children" in status
    # someone else's work is projected only with a licence
    with pytest.raises(Exception, match=f"You may not use artwork #{int(projected)}"):
        bob.predict("One of my works", None, int(projected), 20, api_name="/project")
    with pytest.raises(Exception, match="Choose a picture to project"):
        bob.predict("Upload a picture", None, None, 20, api_name="/project")


def test_the_public_page_shows_a_marked_down_preview_and_a_recipe_commitment(app_url):
    from marketplace.recipe_commitments import check_disclosure
    from provenance.c2pa import read_manifest

    ada = sign_up(app_url, "ada")
    seed = 2**62 + 12_345  # 63-bit seeds go through exactly (a text field, not a float)
    _grid, status, _c = ada.predict(
        bundled_model(ada), str(seed), 1, 0.7, 512, api_name="/generate"
    )
    assert f"from seed {seed} " in status
    assert "drawn at 64 px, enlarged to 512 px" in status  # an enlargement says so
    _message, artwork_id = ada.predict(1, "Big one", "", api_name="/save_generated")
    page = client(app_url).predict(int(artwork_id), api_name="/artwork")
    saved = ada.predict(int(artwork_id), api_name="/download")
    content_sha = hashlib.sha256(Path(saved).read_bytes()).hexdigest()
    with Image.open(page[0]) as preview:
        assert max(preview.size) <= 256  # half of the 512 px original
    assert content_sha[:16] not in Path(page[0]).name
    # the record names the recipe's kind and commitment, never its seed
    assert "gan_sample" in text_of(page[1]) and str(seed) not in page[1]
    credentials = read_manifest(Path(saved).read_bytes(), "image/png", None).atelier
    assert credentials["recipe"]["seed"] == seed
    commitment = credentials["recipe_commitment"]
    assert commitment[:16] in page[1]
    assert check_disclosure(credentials["recipe"], credentials["recipe_salt"], commitment)
    assert not check_disclosure(
        {**credentials["recipe"], "seed": 7}, credentials["recipe_salt"], commitment
    )


def io_bytes(data: bytes):
    import io

    return io.BytesIO(data)


def test_studio_refusals_name_the_problem(app_url):
    ada = sign_up(app_url, "ada")
    model = bundled_model(ada)
    with pytest.raises(Exception, match="Value 40 is greater than maximum value 16"):
        ada.predict(model, 1, 40, 0.7, 64, api_name="/generate")
    with pytest.raises(Exception, match="Generate, breed or morph something first"):
        ada.predict(1, "Nothing", "", api_name="/save_generated")
    with pytest.raises(Exception, match="You have no model with the id 0000000000"):
        ada.predict("0" * 64, 1, 2, 0.7, 64, api_name="/generate")
    with pytest.raises(Exception, match="Sign in first"):
        client(app_url).predict(model, 1, 2, 0.7, 64, api_name="/generate")


def save_sample(user, model, seed, title) -> int:
    user.predict(model, seed, 1, 0.7, 64, api_name="/generate")
    _message, artwork_id = user.predict(1, title, "", api_name="/save_generated")
    return int(artwork_id)


def test_breeding_and_morphing_two_of_your_works_records_them_as_parents(app_url):
    ada = sign_up(app_url, "ada")
    model = bundled_model(ada)
    a, b = save_sample(ada, model, 7, "Mum"), save_sample(ada, model, 8, "Dad")
    grid, status, _chosen = ada.predict(a, b, 2, 0.2, 5, api_name="/breed")
    assert len(grid) == 2 and f"2 children of #{a} and #{b}" in status
    _message, child = ada.predict(1, "Kid", "", api_name="/save_generated")
    page = client(app_url).predict(int(child), api_name="/artwork")
    parents = page[5]
    assert len(parents) == 2 and "(parent, owned by ada)" in parents[0]["caption"]

    animation, status, _chosen = ada.predict(a, b, 6, "gif", api_name="/morph")
    assert "6-frame morph" in status
    with Image.open(animation) as gif:
        assert gif.format == "GIF" and gif.n_frames >= 2
    _message, morph_id = ada.predict(1, "Mum to Dad", "", api_name="/save_generated")
    assert int(morph_id) > int(child)

    bob = sign_up(app_url, "bob")
    with pytest.raises(Exception, match=f"You may not use artwork #{a}"):
        bob.predict(a, b, 2, 0.2, 5, api_name="/breed")


def cancel_while_running(user, job, api_name: str, stopping: str, poll: float) -> None:
    """Press Cancel until the running `job` of this client answers `stopping`."""
    deadline = time.monotonic() + 60
    while user.predict(api_name=api_name) != stopping:
        assert time.monotonic() < deadline and not job.done(), f"{api_name}: nothing started"
        time.sleep(poll)


def test_a_running_morph_can_be_cancelled_from_the_same_session(app_url):
    ada = sign_up(app_url, "ada")
    assert ada.predict(api_name="/cancel_morph") == "No morph is running."
    model = bundled_model(ada)
    ends = []
    for seed, title in ((3, "Start"), (4, "End")):  # 512 px frames: the slowest morph
        ada.predict(model, seed, 1, 0.7, 512, api_name="/generate")
        ends.append(int(ada.predict(1, title, "", api_name="/save_generated")[1]))
    job = ada.submit(*ends, 60, "gif", api_name="/morph")
    cancel_while_running(ada, job, "/cancel_morph", "Stopping the morph…", poll=0.05)
    with pytest.raises(Exception, match="The morph was cancelled after"):
        job.result(timeout=120)
    assert ada.predict(api_name="/cancel_morph") == "No morph is running."


def test_stylise_an_upload_with_a_preset_and_save_it_as_ai_modified(app_url, tmp_path):
    ada = sign_up(app_url, "ada")
    photo = tmp_path / "photo.png"
    photo.write_bytes(encode(detailed(3, 200), "PNG"))
    args = ["Upload a picture", handle_file(str(photo)), None, "Preset", 19, None, None, None]
    pair, status = ada.predict(*args, 0.5, 1.0, False, 256, api_name="/stylise")
    before, after = pair
    assert "Restyled at 256×256 with starry blues" in text_of(status)
    with Image.open(after) as styled, Image.open(before) as original:
        assert styled.size == original.size == (256, 256)
        assert styled.convert("RGB").tobytes() != original.convert("RGB").tobytes()
    message, artwork_id = ada.predict("Starry photo", "style", api_name="/save_style")
    assert f"Saved as artwork #{int(artwork_id)} (AI-modified)" in message
    saved = Path(ada.predict(int(artwork_id), api_name="/download")).read_bytes()
    recipe = read_recipe(saved)
    assert recipe["kind"] == "style" and recipe["content_artwork_id"] is None


def test_dream_an_upload_save_it_and_dream_on_it_again(app_url, tmp_path):
    ada, bob = sign_up(app_url, "ada"), sign_up(app_url, "bob")
    photo = tmp_path / "photo.png"
    photo.write_bytes(encode(detailed(5, 200), "PNG"))
    args = ["Upload a picture", handle_file(str(photo)), None, "block8", 2, 3, 1.5, 128, 7]
    pair, status = ada.predict(*args, api_name="/dream")
    before, after = pair
    assert "Dreamed at 128×128 with block8: 2 octaves of 3 steps, strength 1.5" in text_of(status)
    with Image.open(after) as dreamed, Image.open(before) as original:
        assert dreamed.size == original.size == (128, 128)
        assert dreamed.convert("RGB").tobytes() != original.convert("RGB").tobytes()
    message, artwork_id = ada.predict("Dreamy", "dream", api_name="/save_dream")
    assert f"Saved as artwork #{int(artwork_id)} (AI-modified)" in message
    recipe = read_recipe(Path(ada.predict(int(artwork_id), api_name="/download")).read_bytes())
    assert recipe["kind"] == "dream" and recipe["layer"] == "block8" and recipe["seed"] == 7
    again = ["One of my works", None, int(artwork_id), "block12", 1, 2, 1.0, 96, 0]
    _pair, status = ada.predict(*again, api_name="/dream")
    assert "with block12" in text_of(status)
    _m, second = ada.predict("Dream of a dream", "", api_name="/save_dream")
    page = client(app_url).predict(int(second), api_name="/artwork")
    assert "(content, owned by ada)" in page[5][0]["caption"]
    with pytest.raises(Exception, match=f"You may not use artwork #{int(artwork_id)}"):
        bob.predict(*again, api_name="/dream")
    with pytest.raises(Exception, match="conv_1 is not in the list of choices"):
        ada.predict(*args[:3], "conv_1", *args[4:], api_name="/dream")
    with pytest.raises(Exception, match="99 is greater than maximum value 40"):
        ada.predict(*args[:4], 2, 99, *args[6:], api_name="/dream")
    with pytest.raises(Exception, match="Dream something first"):
        bob.predict("Nothing", "", api_name="/save_dream")


def test_a_running_restyle_can_be_cancelled_from_the_same_session(app_url, tmp_path):
    ada = sign_up(app_url, "ada")
    photo = tmp_path / "photo.png"
    photo.write_bytes(encode(detailed(6, 400), "PNG"))
    args = ["Upload a picture", handle_file(str(photo)), None, "Preset", 3, None, None, None]
    job = ada.submit(*args, 0.5, 1.0, False, 2048, api_name="/stylise")
    cancel_while_running(ada, job, "/cancel_stylise", "Stopping…", poll=0.2)
    with pytest.raises(Exception, match="The style transfer was cancelled"):
        job.result(timeout=120)
    assert ada.predict(api_name="/cancel_stylise") == "Nothing is running."


def test_a_gallery_artwork_is_a_style_only_for_its_owner_or_a_commercial_licensee(
    app_url, tmp_path
):
    ada, bob = sign_up(app_url, "ada"), sign_up(app_url, "bob")
    art = tmp_path / "art.png"
    art.write_bytes(png_bytes(5, 128))
    _m, style_id = ada.predict(handle_file(str(art)), "Ada's colours", "", api_name="/register")
    photo = tmp_path / "photo.png"
    photo.write_bytes(encode(detailed(4, 160), "PNG"))
    args = ["Upload a picture", handle_file(str(photo)), None, "Picture or gallery artwork"]
    styled = [*args, None, None, None, int(style_id), 0.5, 1.0, False, 128]
    with pytest.raises(Exception, match=f"You may not use artwork #{int(style_id)}"):
        bob.predict(*styled, api_name="/stylise")
    ada.predict(int(style_id), "4.00", "commercial", 10, "", api_name="/list")
    bob.predict(1, None, api_name="/buy")
    _pair, status = bob.predict(*styled, api_name="/stylise")
    assert f"artwork #{int(style_id)}" in text_of(status)
    _message, derived = bob.predict("Bob after Ada", "", api_name="/save_style")
    page = client(app_url).predict(int(derived), api_name="/artwork")
    assert "(style, owned by ada)" in page[5][0]["caption"]


def portfolio_files(tmp_path, count=20) -> list:
    files = []
    for i in range(count):
        path = tmp_path / f"train{i}.png"
        path.write_bytes(png_bytes(900 + i, 64))
        files.append(handle_file(str(path)))
    return files


def wait_for(user, job_id, statuses, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        summary, sample, losses = user.predict(job_id, api_name="/job_status")
        if any(f"**{s}**" in summary for s in statuses):
            return summary, sample, losses
        time.sleep(1)
    raise AssertionError(f"job #{job_id} did not reach {statuses}: {summary}")


def test_training_a_model_shows_progress_and_the_model_joins_the_studio(app_url, tmp_path):
    ada = sign_up(app_url, "ada")
    with pytest.raises(Exception, match="Upload at least 20 images"):
        ada.predict(portfolio_files(tmp_path, 3), "tiny", 10, 64, api_name="/train")
    message, job_id = ada.predict(
        portfolio_files(tmp_path), "my tiny gan", 10, 64, api_name="/train"
    )
    assert f"Training job #{int(job_id)} is queued" in message
    summary, _sample, losses = wait_for(ada, int(job_id), ["done", "failed"])
    assert "**done**" in summary and "Finished after 10 steps" in summary
    assert {row[2] for row in losses["data"]} == {"discriminator", "generator"}
    rows, latest = ada.predict(api_name="/jobs")
    assert rows["data"][0][:3] == [int(job_id), "my tiny gan", "done"] and latest == job_id
    labels = json.dumps(ada.predict(api_name="/studio_choices")[0])
    assert "my tiny gan (64 px, by ada" in labels
    # someone else neither sees the job nor can cancel it
    bob = sign_up(app_url, "bob")
    with pytest.raises(Exception, match=f"Job #{int(job_id)} does not exist"):
        bob.predict(int(job_id), api_name="/job_status")


def test_queued_and_running_training_jobs_can_be_cancelled(app_url, tmp_path):
    ada = sign_up(app_url, "ada")
    files = portfolio_files(tmp_path)
    _m, first = ada.predict(files, "long one", 20000, 64, api_name="/train")
    _m, second = ada.predict(files, "second", 20000, 64, api_name="/train")
    assert "is cancelled" in ada.predict(int(second), api_name="/cancel_job")
    summary, _s, _l = ada.predict(int(second), api_name="/job_status")
    assert "**cancelled**" in summary
    # the worker may not have claimed the first job yet: cancel it once it runs
    wait_for(ada, int(first), ["running"], timeout=120)
    assert "stop" in ada.predict(int(first), api_name="/cancel_job")
    summary, _s, _l = wait_for(ada, int(first), ["cancelled"], timeout=120)
    assert "Cancelled." in summary


@pytest.fixture
def diffusion_app(app_settings, tmp_path):
    from dataclasses import replace

    from tests.e2e.conftest import serve
    from tests.tiny_diffusion import save_tiny_stable_diffusion

    folder = save_tiny_stable_diffusion(tmp_path / "tiny-sd")
    url, server, thread = serve(replace(app_settings, diffusion_model=str(folder)))
    yield url
    server.should_exit = True
    thread.join(timeout=15)


def test_text_to_image_makes_a_picture_with_its_recipe_and_saves_it(diffusion_app):
    ada = sign_up(diffusion_app, "ada")
    image, status = ada.predict("a red cat", "", 7, 2, 5.0, 64, api_name="/txt2img")
    assert "Seed 7, 2 steps, guidance 5" in status
    data = Path(image).read_bytes()
    recipe = read_recipe(data)
    assert recipe["prompt"] == "a red cat" and recipe["seed"] == 7 and recipe["steps"] == 2
    assert "a red cat" in read_parameters(data)
    message, artwork_id = ada.predict("Cat", "", api_name="/save_txt2img")
    assert "(AI-generated)" in message
    page = client(diffusion_app).predict(int(artwork_id), api_name="/artwork")
    assert "AI-generated" in text_of(page[1])
    with pytest.raises(Exception, match="Prompt must be"):
        ada.predict("", "", 7, 2, 5.0, 64, api_name="/txt2img")


def test_without_a_configured_model_text_to_image_is_not_offered(app_url):
    endpoints = client(app_url).view_api(print_info=False, return_format="dict")
    names = set(endpoints["named_endpoints"])
    assert "/generate" in names and "/txt2img" not in names
