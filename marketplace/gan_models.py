"""GAN models a person may sample from: the bundled default and the ones they trained.

A trained model's files (its `save_pretrained` folder) are blobs; to load one, a process
copies them into a local cache folder named by the model id, which any process can rebuild
from the blob store, so the cache is never the only copy.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.blobs import BlobStore
from db.models import GanModel, User, is_row_id
from generation.recipes import is_sha256
from marketplace.errors import InvalidInput, NotFound

BUNDLED_NAME = "emoji64"
MODEL_FILES = ("config.json", "model.safetensors", "training_data.json")


@dataclass(frozen=True)
class ModelChoice:
    """A model in a studio's model picker."""

    sha256: str
    name: str
    owner: str | None  # None for the bundled model
    image_size: int

    @property
    def label(self) -> str:
        whose = "bundled" if self.owner is None else f"by {self.owner}"
        return f"{self.name} ({self.image_size} px, {whose}, {self.sha256[:10]})"


@functools.cache
def bundled_model() -> ModelChoice:
    """The default model shipped in the package. Its id is hashed once per process: the
    file never changes under a running install, and the studio asks on every page."""
    from generation.gan import weights_sha256
    from generation.gan_pipeline import default_model_dir

    return ModelChoice(weights_sha256(default_model_dir()), BUNDLED_NAME, None, 64)


def available_models(session: Session, user_id: int | None) -> list[ModelChoice]:
    """The bundled model, then the models `user_id` trained (newest first)."""
    choices = [bundled_model()]
    if user_id is not None:
        rows = session.scalars(
            select(GanModel).where(GanModel.owner_id == user_id).order_by(GanModel.id.desc())
        ).all()
        choices += [ModelChoice(m.sha256, m.name, m.owner.username, m.image_size) for m in rows]
    return choices


def clean_model_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(
            "a model needs a name, e.g. 'my watercolours'",
            plain="Give the model a name, such as “my watercolours”.",
        )
    name = " ".join(name.split())
    if len(name) > 100:
        raise InvalidInput(
            f"a model name has at most 100 characters, got {len(name)}",
            plain=f"Shorten the model name to 100 characters (it has {len(name)}).",
        )
    return name


def save_trained_model(
    session: Session,
    blobs: BlobStore,
    owner_id: int,
    name: str,
    model_dir: str | Path,
    training: dict[str, Any],
) -> GanModel:
    """Store a trained model's folder as blobs and record it as `owner_id`'s model.

    Raises:
        InvalidInput: a bad name, or the folder is not a saved generator.
        NotFound: an unknown owner.
    """
    from generation.fastgan import load_generator
    from generation.gan import weights_sha256

    name = clean_model_name(name)
    if not is_row_id(owner_id) or session.get(User, owner_id) is None:
        raise NotFound(f"user #{owner_id} does not exist")
    folder = Path(model_dir)
    try:
        generator = load_generator(folder)
        sha = weights_sha256(folder)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise InvalidInput(f"{folder} is not a saved generator: {exc}") from None
    existing = session.scalar(select(GanModel).where(GanModel.sha256 == sha))
    if existing is not None:
        return existing
    files = {f: blobs.put((folder / f).read_bytes()) for f in MODEL_FILES if (folder / f).exists()}
    model = GanModel(
        sha256=sha,
        name=name,
        owner_id=owner_id,
        image_size=generator.image_size,
        files=files,
        training=dict(training),
    )
    session.add(model)
    session.flush()
    return model


def resolve_model_dir(
    session: Session, blobs: BlobStore, sha256: str, cache_root: str | Path
) -> Path:
    """The local folder of the model with id `sha256`, loading a trained one from the blob
    store into `cache_root/<sha256>/` if needed.

    Raises:
        NotFound: no model has this id here.
    """

    if not is_sha256(sha256):
        raise NotFound(f"no model has the id {sha256!r}")
    if bundled_model().sha256 == sha256:
        from generation.gan_pipeline import default_model_dir

        return default_model_dir()
    model = session.scalar(select(GanModel).where(GanModel.sha256 == sha256))
    if model is None:
        raise NotFound(
            f"no model here has the id {sha256[:10]}...; it was made with a model this "
            "installation does not have"
        )
    target = Path(cache_root) / sha256
    weights = target / "model.safetensors"
    if weights.exists() and hashlib.sha256(weights.read_bytes()).hexdigest() == sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".staging-"))
    try:
        for file_name, key in model.files.items():
            (staging / file_name).write_bytes(blobs.get(key))
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def owned_model(session: Session, sha256: str, user_id: int | None) -> ModelChoice:
    """The model `sha256` if `user_id` may sample from it (the bundled one, or their own).

    Raises:
        NotFound: not a model this user may use.
    """
    for choice in available_models(session, user_id):
        if choice.sha256 == sha256:
            return choice
    raise NotFound(f"you have no model with the id {str(sha256)[:10]}...")
