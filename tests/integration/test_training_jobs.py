"""Training a GAN as a job: upload checks, data rights, the run and the model it leaves."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import ImageOps

from db.models import GanModel, Job
from marketplace.errors import InvalidInput, NotOwner
from marketplace.gan_models import available_models, bundled_model, resolve_model_dir
from marketplace.jobs import Worker
from marketplace.training_jobs import KIND, run_training, submit_training
from tests.factories import art_image, encode, png_bytes
from tests.integration.helpers import buy, new_artwork, new_listing, new_user


def portfolio(count: int, first_seed: int = 500) -> list[tuple[str, bytes]]:
    return [(f"art{i}.png", png_bytes(first_seed + i, 64)) for i in range(count)]


def zipped(files) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in files:
            archive.writestr(f"portfolio/{name}", data)
        archive.writestr("__MACOSX/._art0.png", b"resource fork")
        archive.writestr("portfolio/notes.txt", b"not an image")
    return buf.getvalue()


def submit(sessions, blobs, user, files, **kwargs):
    with sessions() as s, s.begin():
        return submit_training(s, blobs, user, "my studies", files, **kwargs)


def jobs_count(sessions) -> int:
    with sessions() as s:
        return s.query(Job).count()


@pytest.mark.parametrize(
    ("files", "kwargs", "message"),
    [
        (portfolio(19), {}, "at least 20 images"),
        ([*portfolio(19), ("notes.png", b"hello")], {}, "notes.png is not a usable image"),
        (portfolio(20), {"steps": 0}, "`steps` must be 10"),
        (portfolio(20), {"image_size": 96}, "`image_size` must be 64 or 128"),
        ([("broken.zip", b"PK\x03\x04 not really")], {}, "broken.zip is not a readable zip"),
    ],
)
def test_a_bad_upload_is_refused_and_queues_nothing(sessions, blobs, files, kwargs, message):
    ada = new_user(sessions, "ada")
    with pytest.raises(InvalidInput, match=message):
        submit(sessions, blobs, ada, files, **kwargs)
    assert jobs_count(sessions) == 0


def test_a_zip_of_images_is_unpacked_skipping_what_is_not_an_image(sessions, blobs):
    ada = new_user(sessions, "ada")
    job_id = submit(sessions, blobs, ada, [("portfolio.zip", zipped(portfolio(20)))])
    with sessions() as s:
        job = s.get(Job, job_id)
        assert job.kind == KIND and len(job.params["image_keys"]) == 20
        assert job.params["file_names"][0] == "portfolio.zip/portfolio/art0.png"


def test_training_on_someone_elses_registered_work_needs_their_licence(sessions, blobs):
    ada, bob = new_user(sessions, "ada"), new_user(sessions, "bob")
    work = new_artwork(sessions, blobs, ada, 7, title="Harbour")
    mirrored = encode(ImageOps.mirror(art_image(7)))
    files = [*portfolio(20), ("found-online.png", mirrored)]
    with pytest.raises(NotOwner, match=rf"found-online.png is artwork #{work} \('Harbour'\)"):
        submit(sessions, blobs, bob, files)
    assert jobs_count(sessions) == 0
    # ada training on her own work is fine, and so is bob once he holds a commercial licence
    submit(sessions, blobs, ada, files)
    buy(sessions, new_listing(sessions, work, ada, 100, licence_tier="commercial"), bob)
    job_id = submit(sessions, blobs, bob, files)
    with sessions() as s:
        assert s.get(Job, job_id).params["licensed_artworks"] == [work]


def test_a_training_job_leaves_a_model_its_owner_can_sample_from(sessions, blobs, tmp_path):
    ada, bob = new_user(sessions, "ada"), new_user(sessions, "bob")
    job_id = submit(sessions, blobs, ada, portfolio(20), steps=10)
    worker = Worker(sessions, {KIND: run_training}, {"blobs": blobs, "data_dir": tmp_path})
    assert worker.run_once() == job_id
    with sessions() as s:
        job = s.get(Job, job_id)
        assert job.status == "done", job.error
        assert job.progress["step"] == 10 and job.progress["total_steps"] == 10
        assert blobs.get(job.progress["sample_key"]).startswith(b"\x89PNG")
        model = s.get(GanModel, job.result["model_id"])
        assert model.owner_id == ada and model.training["steps"] == 10
        mine = [m.sha256 for m in available_models(s, ada)]
        assert mine == [bundled_model().sha256, model.sha256]
        assert [m.sha256 for m in available_models(s, bob)] == [bundled_model().sha256]
        # another machine rebuilds the model folder from the blob store alone
        folder = resolve_model_dir(s, blobs, model.sha256, tmp_path / "fresh-cache")
    from generation.gan import Generator, weights_sha256

    assert weights_sha256(folder) == model.sha256
    assert Generator.from_pretrained(folder).image_size == 64


class WorkerDied(BaseException):
    """Stands for SIGKILL: nothing in the handler catches it, no cleanup runs."""


def test_a_job_whose_worker_dies_resumes_on_another_machine_from_the_stored_checkpoint(
    sessions, blobs, tmp_path, monkeypatch
):
    from marketplace import jobs

    ada = new_user(sessions, "ada")
    job_id = submit(sessions, blobs, ada, portfolio(20), steps=120)
    first = Worker(sessions, {KIND: run_training}, {"blobs": blobs, "data_dir": tmp_path / "a"})
    real_report = jobs.JobContext.report

    def dies_after_its_first_checkpoint(ctx, progress, *, force=False):
        real_report(ctx, progress, force=force)
        if progress.get("checkpoint_key"):
            raise WorkerDied

    monkeypatch.setattr(jobs.JobContext, "report", dies_after_its_first_checkpoint)
    with pytest.raises(WorkerDied):
        first.run_once()
    monkeypatch.setattr(jobs.JobContext, "report", real_report)
    with sessions() as s:
        left = s.get(Job, job_id)
        assert left.status == "running"
        stopped_at, checkpoint_key = left.progress["step"], left.progress["checkpoint_key"]
    assert 0 < stopped_at < 120 and blobs.exists(checkpoint_key)

    # the heartbeat stops; another worker, on a machine with an empty data folder, takes over
    seen: list[int] = []

    def watched(ctx, progress, *, force=False):
        seen.append(progress["step"])
        real_report(ctx, progress, force=force)

    monkeypatch.setattr(jobs.JobContext, "report", watched)
    with sessions() as s, s.begin():
        assert jobs.requeue_stale_jobs(s, older_than=jobs.timedelta(0)) == [job_id]
    second = Worker(sessions, {KIND: run_training}, {"blobs": blobs, "data_dir": tmp_path / "b"})
    assert second.run_once() == job_id
    with sessions() as s:
        job = s.get(Job, job_id)
        assert job.status == "done", job.error
        assert job.result["steps"] == 120
        final_checkpoint = job.progress["checkpoint_key"]
    # it went on from the checkpoint: no step at or before it was trained again
    assert [n for n in seen if 0 < n <= stopped_at] == []
    assert min(n for n in seen if n > 0) > stopped_at
    # only the newest checkpoint is kept in the store
    assert final_checkpoint != checkpoint_key and not blobs.exists(checkpoint_key)
