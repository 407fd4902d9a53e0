""" "Tune my model on what collectors liked": which works weigh what, who may tune, and the
job that continues the model and leaves a new one with before/after grids and figures."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import GanModel, Job
from marketplace import taste
from marketplace.errors import InvalidInput, NotFound, NotOwner
from marketplace.jobs import Worker
from marketplace.training_jobs import KIND as TRAIN_KIND
from marketplace.training_jobs import run_training
from marketplace.tuning import KIND, LIKED_WEIGHT, liked_works, liking, run_tuning, submit_tuning
from tests.integration.helpers import new_artwork, new_user
from tests.integration.test_training_jobs import portfolio, submit


@pytest.fixture
def trained(sessions, blobs, tmp_path):
    """ada's model trained for 10 steps on 20 images, and four works she made with it."""
    ada, bob, cyd = (new_user(sessions, n) for n in ("ada", "bob", "cyd"))
    job_id = submit(sessions, blobs, ada, portfolio(20), steps=10)
    worker = Worker(
        sessions,
        {TRAIN_KIND: run_training, KIND: run_tuning},
        {"blobs": blobs, "data_dir": tmp_path},
    )
    assert worker.run_once() == job_id
    with sessions() as s:
        model = s.get(GanModel, s.get(Job, job_id).result["model_id"])
        sha = model.sha256
    recipe = {"kind": "gan_sample", "model_sha256": sha, "model_name": "my studies"}
    works = [new_artwork(sessions, blobs, ada, 300 + i, recipe=recipe) for i in range(4)]
    new_artwork(sessions, blobs, ada, 400)  # an upload: not made with the model
    return ada, bob, cyd, sha, works, worker


def test_liking_counts_favourites_and_stars_around_three():
    assert liking(2, []) == 2
    assert liking(0, [5, 4]) == 1.5
    assert liking(1, [1, 1]) == -1


def test_what_people_liked_weighs_more_and_what_they_disliked_is_left_out(sessions, trained):
    _ada, bob, cyd, sha, works, _ = trained
    with sessions() as s, s.begin():
        taste.favourite(s, bob, works[0])
        taste.favourite(s, cyd, works[0])
        taste.rate(s, bob, works[1], 5)
        taste.favourite(s, bob, works[2])
        taste.rate(s, cyd, works[2], 1)  # liked once, disliked once: left out
    with sessions() as s:
        model = s.scalar(select(GanModel).where(GanModel.sha256 == sha))
        liked = liked_works(s, model)
    assert [(w["artwork_id"], w["liking"]) for w in liked] == [(works[0], 2), (works[1], 1)]
    assert liked[0]["weight"] == 1 + 2 * LIKED_WEIGHT


def test_only_the_owner_may_tune_and_only_once_something_was_liked(sessions, trained):
    ada, bob, _cyd, sha, works, _ = trained
    with pytest.raises(InvalidInput, match="nobody has favourited") as refused:
        with sessions() as s, s.begin():
            submit_tuning(s, ada, sha)
    assert "save and share" in refused.value.plain
    with sessions() as s, s.begin():
        taste.favourite(s, bob, works[0])
    with pytest.raises(NotOwner, match="you can tune only your own"), sessions() as s:
        submit_tuning(s, bob, sha)
    with pytest.raises(NotFound, match="no trained model"), sessions() as s:
        submit_tuning(s, ada, "0" * 64)
    with pytest.raises(InvalidInput, match="`steps` must be 10"), sessions() as s:
        submit_tuning(s, ada, sha, steps=5)
    with sessions() as s:
        assert s.query(Job).filter(Job.kind == KIND).count() == 0


def test_a_tuning_job_leaves_a_new_model_with_before_and_after(sessions, blobs, trained):
    ada, bob, cyd, sha, works, worker = trained
    with sessions() as s, s.begin():
        taste.favourite(s, bob, works[0])
        taste.rate(s, cyd, works[1], 5)
    with sessions() as s, s.begin():
        job_id = submit_tuning(s, ada, sha, steps=10)
    assert worker.run_once() == job_id
    with sessions() as s:
        job = s.get(Job, job_id)
        assert job.status == "done", job.error
        result = job.result
        model = s.get(GanModel, result["model_id"])
        assert model.owner_id == ada and model.name == "my studies-liked"
        assert model.sha256 != sha and model.training["tuned_from"] == sha
        assert model.training["liked_artworks"] == [works[0], works[1]]
    for key in ("before_grid_key", "after_grid_key"):
        assert blobs.get(result[key]).startswith(b"\x89PNG")
    figures = result["figures"]
    assert figures["liked"] == 2 and figures["training"] == 20 and figures["samples"] == 64
    for side in ("before", "after"):
        assert figures[side]["frechet_to_training"] > 0 and figures[side]["nearest_liked"] > 0
