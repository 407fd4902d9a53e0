"""Local features that survive crops, captions, rotations and padding, and the evidence that
names a copy's source from them.

Three steps, each measured in bench/identify_bench.py:

1. **Features** (`extract`): ORB keypoints and binary descriptors of the grey picture
   scaled so its long side is `WORKING_SIDE` px (small clip art is scaled up, so a 90 px
   crop of a 128 px emoji and the emoji meet at similar scales); a soft picture, short of
   corners `FAST_THRESHOLD` grey levels sharp, by its softer ones. A query is also described
   mirrored, and a query larger than that at its own size up to `QUERY_MAX_SIDE` (a
   screenshot shows the work in a part of it).
2. **Words** (`Vocabulary`): each descriptor's nearest of `VOCABULARY_SIZE` visual words
   (k-means centres trained by scripts/train_vocabulary.py, committed as
   provenance/data/orb_words.npy). Works are found by the words they share with the query
   (an inverted index, tf-idf weighted: `WordIndex`), whatever PDQ says.
3. **Verification** (`verify`): descriptors matched with a ratio test, one similarity
   transform (rotation, scale, shift) fitted by RANSAC, and then the pixels: the work is
   warped onto the copy by that transform and the share of the overlap whose normalised
   grey levels agree is measured (`agreement`). A copy agrees almost everywhere (a caption
   or a sticker covers a little of it); another picture that happens to share keypoints
   (a repeated texture, an alike GAN output) does not.

Everything here is pure: numpy, OpenCV and Pillow over images and arrays.
"""

from __future__ import annotations

import io
import itertools
import math
import struct
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from importlib import resources

import numpy as np
from PIL import Image

WORKING_SIDE = 512
ALIGN_SIDE = 256  # the pictures compared pixel by pixel after alignment
QUERY_FEATURES = 1000  # at WORKING_SIDE; a larger query gets more (`query_side`)
QUERY_MAX_SIDE = 1024  # the largest working size a query is described at
REFERENCE_FEATURES = 700
FAST_THRESHOLD = 10
SOFT_FAST_THRESHOLD = 3  # for soft pictures, and the soft parts of a copy (`extract`)
MIN_SIDE = 32  # px at the working size: thinner pictures get no keypoints
GRID = 4  # a query's keypoints are spread over GRID x GRID cells (`_spread`)
SPREAD_POOL = 3  # ... chosen from this many times the budget
QUERY_SPREAD = True
VOCABULARY_SIZE = 4096
RATIO = 0.8
REPROJECTION_PX = 5.0
MIN_MATCHES = 6
FIT_SCALES = (0.05, 20.0)  # a placement outside these scales (working px) is no fit
AGREEMENT_TOLERANCE = 0.6  # |z_copy - z_work| below this (in standard deviations) agrees
AGREEMENT_BLUR = 1.5  # px at the working size: JPEG blocks and resampling are not content
FILL_TOLERANCE = 6  # grey levels: how flat a corner-joined area must be to count as fill
MIN_SPREAD = 4.0  # grey levels: the least spread a picture is normalised by
ROBUST_ROUNDS = 5  # refits of the copy's grey levels onto the work's (`_robust_lines`)
EDGE_THRESHOLD = 0.5  # gradient of the normalised grey levels (standard deviations per px)
FEATURE_FORMAT = 2  # the storage layout (`Features.to_bytes`); format 1 (.npz) is still read
_MAGIC = b"ATLF"
# magic, format, keypoints, PNG bytes, width, height, scale
_HEADER = struct.Struct("<4sIIIIId")
DESCRIPTOR_BYTES = 32  # an ORB descriptor: 256 bits


@dataclass(frozen=True)
class Features:
    """ORB keypoints of an image at the working size.

    Attributes:
        points: (N, 2) float32 keypoint positions at the working size.
        descriptors: (N, 32) uint8 ORB descriptors.
        size: (width, height) of the picture at the working size.
        scale: working size / original size.
        align: (h, w, 3) uint8 RGB of the picture with its long side at ALIGN_SIDE px, for
            comparing pixels after alignment (empty for a query's own features). Features
            read back from storage keep it as the PNG they stored and decode it on first
            use: most candidates are placed by keypoints and never compared pixel by pixel.
    """

    points: np.ndarray
    descriptors: np.ndarray
    size: tuple[int, int]
    scale: float
    _align: np.ndarray | bytes = field(default=b"", repr=False, compare=False)

    @property
    def align(self) -> np.ndarray:
        value = self._align
        if isinstance(value, bytes):
            value = (
                np.asarray(Image.open(io.BytesIO(value)).convert("RGB"))
                if value
                else np.zeros((0, 0, 3), np.uint8)
            )
            object.__setattr__(self, "_align", value)  # decoded once
        return value

    def __len__(self) -> int:
        return len(self.points)

    def to_bytes(self) -> bytes:
        """A compact, versioned serialisation (what registration stores): a fixed header
        (`_HEADER`: magic, FEATURE_FORMAT, counts, size, scale), then the points, the
        descriptors and the alignment picture as PNG, each as raw bytes."""
        if isinstance(self._align, bytes):
            png = self._align  # as it was read back: store it unchanged
        else:
            picture = io.BytesIO()
            if self._align.size:
                # a fast PNG level: ~5 ms instead of ~9 ms a work, ~10% larger
                Image.fromarray(self._align).save(picture, "PNG", compress_level=1)
            png = picture.getvalue()
        points = np.ascontiguousarray(self.points, "<f4").reshape(-1, 2)
        descriptors = np.ascontiguousarray(self.descriptors, np.uint8).reshape(-1, DESCRIPTOR_BYTES)
        if len(points) != len(descriptors):
            raise ValueError("each keypoint needs one descriptor")
        header = _HEADER.pack(
            _MAGIC, FEATURE_FORMAT, len(points), len(png), *self.size, float(self.scale)
        )
        return b"".join([header, points.tobytes(), descriptors.tobytes(), png])

    @classmethod
    def from_bytes(cls, data: bytes) -> Features:
        """Features as `to_bytes` wrote them, or as format 1 wrote them (a NumPy .npz
        archive: slower to read, ~0.8 ms against ~0.02 ms). Raises ValueError for anything
        else, a truncated blob included."""
        data = bytes(data)
        if data[:2] == b"PK":
            return cls._from_npz(data)
        if len(data) < _HEADER.size or data[:4] != _MAGIC:
            raise ValueError("not a feature blob")
        _magic, version, count, png_length, width, height, scale = _HEADER.unpack_from(data)
        if version != FEATURE_FORMAT:
            raise ValueError(f"unknown feature format {version}")
        start = _HEADER.size
        ends = np.cumsum([start, 8 * count, DESCRIPTOR_BYTES * count, png_length])
        if ends[-1] != len(data):
            raise ValueError("a truncated or padded feature blob")
        return cls(
            np.frombuffer(data, "<f4", 2 * count, int(ends[0])).reshape(count, 2),
            np.frombuffer(data, np.uint8, DESCRIPTOR_BYTES * count, int(ends[1])).reshape(
                count, DESCRIPTOR_BYTES
            ),
            (width, height),
            scale,
            data[int(ends[2]) : int(ends[3])],  # decoded when first compared (`align`)
        )

    @classmethod
    def _from_npz(cls, data: bytes) -> Features:
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                if int(z["format"]) != 1:
                    raise ValueError(f"unknown feature format {int(z['format'])}")
                return cls(
                    z["points"],
                    z["descriptors"],
                    (int(z["size"][0]), int(z["size"][1])),
                    float(z["scale"]),
                    z["align_png"].tobytes(),
                )
        except (OSError, KeyError, zipfile.BadZipFile) as exc:
            raise ValueError(f"an unreadable feature blob: {exc}") from None


def _long_side(image: Image.Image, side: int) -> tuple[Image.Image, float]:
    """The image scaled so its long side is `side` px (up or down), and the scale."""
    scale = side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    if size != image.size:
        resample = Image.Resampling.BICUBIC if scale > 1 else Image.Resampling.BOX
        image = image.resize(size, resample)
    return image, scale


def working_grey(rgb: Image.Image, side: int = WORKING_SIDE) -> tuple[np.ndarray, float]:
    """The grey picture with its long side at `side` px, and the scale applied."""
    grey, scale = _long_side(rgb.convert("L"), side)
    return np.asarray(grey), scale


def query_side(rgb: Image.Image) -> int:
    """The working size a query is described at: WORKING_SIDE, or its own long side up to
    QUERY_MAX_SIDE when it is larger. A large copy often shows the work in a small part of
    it (a screenshot of a page, a collage): shrunk to WORKING_SIDE, a work shown 500 px
    wide in a 1280 px screenshot would keep only 200 px of its detail."""
    return min(max(max(rgb.size), WORKING_SIDE), QUERY_MAX_SIDE)


def align_picture(rgb: Image.Image) -> np.ndarray:
    """The RGB picture with its long side at ALIGN_SIDE px, (h, w, 3) uint8."""
    return np.asarray(_long_side(rgb.convert("RGB"), ALIGN_SIDE)[0])


def describe(rgb: Image.Image) -> Features:
    """What registration stores for a work: its features and its alignment picture."""
    features = extract(rgb)
    return Features(
        features.points, features.descriptors, features.size, features.scale, align_picture(rgb)
    )


def _ranks_in_cells(cells: np.ndarray) -> np.ndarray:
    """For cells listed in order, each one's place among the earlier ones of its cell."""
    order = np.argsort(cells, kind="stable")
    sorted_cells = cells[order]
    starts = np.flatnonzero(np.r_[True, sorted_cells[1:] != sorted_cells[:-1]])
    lengths = np.diff(np.r_[starts, len(cells)])
    ranks = np.empty(len(cells), np.int64)
    ranks[order] = np.arange(len(cells)) - np.repeat(starts, lengths)
    return ranks


def _strongest_first(keypoints, size: tuple[int, int]):
    """The keypoints strongest first (ties in their order), their cells and identities."""
    keypoints = list(keypoints)
    if not keypoints:
        return [], np.zeros(0, np.int64), np.zeros(0, np.int64)
    response = np.float32([k.response for k in keypoints])
    order = np.argsort(-response, kind="stable")
    keypoints = [keypoints[i] for i in order]
    points = np.float32([k.pt for k in keypoints])
    octave = np.int64([k.octave for k in keypoints]) & 0xFF
    width, height = size
    cx = np.minimum(GRID - 1, (points[:, 0] * GRID / width).astype(np.int64))
    cy = np.minimum(GRID - 1, (points[:, 1] * GRID / height).astype(np.int64))
    tenths = np.round(points.astype(np.float64) * 10).astype(np.int64)
    identity = (tenths[:, 0] * 1_000_000 + tenths[:, 1]) * 256 + octave
    return keypoints, cx + GRID * cy, identity


def _spread(keypoints, features: int, size: tuple[int, int], soft=None):
    """At most `features` keypoints, spread over a GRID x GRID grid: each cell keeps its
    strongest up to an equal share, the rest of the budget goes to the strongest left over.
    Text (a caption, meme letters) has the strongest corners of a picture; spread out, it
    cannot take the whole budget from the picture it covers part of. A cell short of its
    share is topped up from `soft()` (keypoints detected at SOFT_FAST_THRESHOLD, asked for
    only then): the soft photograph under a caption keeps corners of its own."""
    share = max(1, features // (GRID * GRID))
    sharp, cells, identity = _strongest_first(keypoints, size)
    kept = _ranks_in_cells(cells) < share
    taken = [k for k, keep in zip(sharp, kept, strict=True) if keep]
    rest = [k for k, keep in zip(sharp, kept, strict=True) if not keep]
    room = share - np.bincount(cells[kept], minlength=GRID * GRID)
    if soft is not None and room.any():
        soft, soft_cells, soft_identity = _strongest_first(soft(), size)
        new = ~np.isin(soft_identity, identity)
        ranks = np.full(len(soft), GRID * GRID * share, np.int64)
        ranks[new] = _ranks_in_cells(soft_cells[new])
        taken += [k for k, keep in zip(soft, ranks < room[soft_cells], strict=True) if keep]
    return (taken + rest)[:features]


def extract(
    rgb: Image.Image | np.ndarray,
    *,
    features: int = REFERENCE_FEATURES,
    mirrored: bool = False,
    spread: bool = False,
) -> Features:
    """ORB features of a picture (an RGB image, or a working-size grey array); with `spread`,
    chosen across the picture rather than strongest first (`_spread`). Corners are taken at
    FAST_THRESHOLD grey levels; a picture with fewer than `features` of them is described
    by its strongest at SOFT_FAST_THRESHOLD instead (and a spread query's short cells
    topped up from them), so soft photographs get keypoints too."""
    import cv2

    if isinstance(rgb, Image.Image):
        grey, scale = working_grey(rgb)
    else:
        grey, scale = rgb, 1.0
    if mirrored:
        grey = np.ascontiguousarray(grey[:, ::-1])
    size = (grey.shape[1], grey.shape[0])
    none = Features(
        np.zeros((0, 2), np.float32), np.zeros((0, DESCRIPTOR_BYTES), np.uint8), size, scale
    )
    if min(size) < MIN_SIDE:  # a sliver (4000x2 px) has no corners ORB can describe
        return none
    detected = features * SPREAD_POOL if spread else features

    def orb(threshold: int):
        return cv2.ORB_create(nfeatures=detected, fastThreshold=threshold, edgeThreshold=15)

    try:
        if spread:
            sharp = orb(FAST_THRESHOLD)
            soft = lambda: orb(SOFT_FAST_THRESHOLD).detect(grey, None)  # noqa: E731
            chosen = _spread(sharp.detect(grey, None), features, size, soft)
            keypoints, descriptors = sharp.compute(grey, chosen)
        else:
            keypoints, descriptors = orb(FAST_THRESHOLD).detectAndCompute(grey, None)
            if len(keypoints) < features:
                # A soft picture (a misty photograph, a gentle gradient) has few corners
                # as sharp as FAST_THRESHOLD grey levels: it is described by its softer ones.
                keypoints, descriptors = orb(SOFT_FAST_THRESHOLD).detectAndCompute(grey, None)
    except cv2.error:  # a picture ORB cannot take is a picture without keypoints
        return none
    if descriptors is None:
        return none
    points = np.float32([k.pt for k in keypoints])
    return Features(points, descriptors, size, scale)


class Vocabulary:
    """Binary visual words: each descriptor's nearest centre by Hamming distance."""

    def __init__(self, centres: np.ndarray) -> None:
        if centres.ndim != 2 or centres.shape[1] != DESCRIPTOR_BYTES or centres.dtype != np.uint8:
            raise ValueError(
                f"centres must be (K, {DESCRIPTOR_BYTES}) uint8, "
                f"got {centres.shape} {centres.dtype}"
            )
        self.centres = centres
        self._index = _hamming_index(centres)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.centres)

    def words(self, descriptors: np.ndarray) -> np.ndarray:
        """The word of each descriptor, (N,) int32."""
        if not len(descriptors):
            return np.zeros(0, np.int32)
        with self._lock:
            _d, ids = self._index.search(np.ascontiguousarray(descriptors, dtype=np.uint8), 1)
        return ids[:, 0].astype(np.int32)


_VOCABULARY: Vocabulary | None = None
_VOCABULARY_LOCK = threading.Lock()


def bundled_vocabulary() -> Vocabulary:
    """The committed vocabulary (provenance/data/orb_words.npy), loaded once."""
    global _VOCABULARY
    with _VOCABULARY_LOCK:
        if _VOCABULARY is None:
            path = resources.files("provenance") / "data" / "orb_words.npy"
            with path.open("rb") as handle:
                _VOCABULARY = Vocabulary(np.load(handle, allow_pickle=False))
        return _VOCABULARY


def word_set(words: np.ndarray) -> np.ndarray:
    """The distinct words of a picture, sorted, as uint16 (what the index stores)."""
    return np.unique(words).astype(np.uint16)


class WordIndex:
    """An inverted index from visual words to the works that contain them.

    Works are scored by the tf-idf weight of the words they share with a query (each word
    counted once per picture), normalised by the square root of the work's own word count,
    so a busy picture with many words does not win every query. Scores are summed with one
    `bincount` over the query's posting lists, so a search costs about the total length of
    those lists (bench/word_index_bench.py).
    """

    def __init__(self, vocabulary_size: int = VOCABULARY_SIZE) -> None:
        self.vocabulary_size = vocabulary_size
        # each word's posting list: the first `_lengths[w]` entries of a growing int32
        # array (doubled when full), so adding a work appends in place and a search reads
        # views (4-8 bytes an entry, where a Python list of ints took about 36):
        # lists kept as Python lists and converted on search cost a registration ~20 ms at
        # 10,000 works, the lists of every word the work added being converted again
        self._postings = [np.zeros(0, np.int32) for _ in range(vocabulary_size)]
        self._lengths = [0] * vocabulary_size
        self._norms = np.zeros(1, np.float64)  # by id; 0 for ids not indexed
        self._count = 0
        self._lock = threading.Lock()
        self.max_id = 0

    def __len__(self) -> int:
        return self._count

    def add(self, ident: int, words: np.ndarray) -> None:
        self.add_many([(ident, words)])

    def add_many(self, works: list[tuple[int, np.ndarray]]) -> None:
        """`add` each (id, words) of `works` in turn, in one pass over the posting lists (a
        process building the index of 10,000 works at once: ~2 s)."""
        if not works:
            return
        distinct = [np.unique(words) for _, words in works]
        idents = np.fromiter((i for i, _ in works), np.int64, len(works))
        if idents.min() < 0 or idents.max() >= 2**31:
            raise ValueError("work ids go from 0 to 2**31 - 1")
        counts = np.fromiter((len(d) for d in distinct), np.int64, len(works))
        words = np.concatenate(distinct).astype(np.int64)
        owners = np.repeat(idents, counts)
        order = np.argsort(words, kind="stable")  # each word's works in the order given
        words, owners = words[order], owners[order]
        bounds = np.flatnonzero(np.r_[True, words[1:] != words[:-1], True]) if len(words) else []
        with self._lock:
            for start, end in itertools.pairwise(list(bounds)):
                w = int(words[start])
                postings, used = self._postings[w], self._lengths[w]
                if used + end - start > len(postings):
                    grown = np.empty(max(8, 2 * len(postings), used + end - start), np.int32)
                    grown[:used] = postings[:used]
                    postings = self._postings[w] = grown
                postings[used : used + end - start] = owners[start:end]
                self._lengths[w] = used + end - start
            top = int(idents.max())
            if top >= len(self._norms):
                grown = np.zeros(max(top + 1, 2 * len(self._norms)), np.float64)
                grown[: len(self._norms)] = self._norms
                self._norms = grown
            for ident, count in zip(idents.tolist(), counts.tolist(), strict=True):
                if self._norms[ident] == 0:
                    self._count += 1
                self._norms[ident] = math.sqrt(max(1, count))
            self.max_id = max(self.max_id, top)

    def search(self, words: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The `k` works sharing the most (idf-weighted) words with the query."""
        query = np.unique(words)
        if not len(query) or not self._count:
            return []
        with self._lock:
            # views of the lists as they stand: a later add writes past their ends, or
            # into a new array when one grows, never into what they show
            used = [(w, self._lengths[w]) for w in query.tolist() if self._lengths[w]]
            lists = [self._postings[w][:n] for w, n in used]
            norms = self._norms
            total = self._count
        if not lists:
            return []
        lengths = np.fromiter((n for _, n in used), np.int64, len(used))
        idf = np.log1p(total / lengths)
        scores = np.bincount(
            np.concatenate(lists), weights=np.repeat(idf, lengths), minlength=len(norms)
        )
        indexed = norms > 0
        scores[indexed] /= norms[indexed]
        k = min(k, int(np.count_nonzero(scores)))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((top, -scores[top]))]
        return [(int(i), float(scores[i])) for i in top]


# parts of a query searched on their own besides the whole (x0, y0, x1, y1, as shares of
# the picture): meme letters, a caption bar or a sticker add words that drown the work's
# in a search over the whole picture, and leave one of these parts clear
REGIONS = (
    (0.0, 0.2, 1.0, 0.8),  # the middle band, between a meme's top and bottom lines
    (0.2, 0.0, 0.8, 1.0),
    (0.0, 0.0, 0.6, 0.6),
    (0.4, 0.0, 1.0, 0.6),
    (0.0, 0.4, 0.6, 1.0),
    (0.4, 0.4, 1.0, 1.0),
)
REGION_SHORTLIST = 3  # candidates each part adds


def shortlist(index: WordIndex, query: Query, vocabulary: Vocabulary, k: int) -> list[int]:
    """The works worth verifying against a query: the `k` best for its whole picture (as it
    is and mirrored) and the REGION_SHORTLIST best for each of its REGIONS, best first."""
    words = vocabulary.words(query.features.descriptors)
    mirrored = vocabulary.words(query.mirrored_features.descriptors)
    ids = [i for i, _ in index.search(np.concatenate([words, mirrored]), k)]
    if not len(words):
        return ids
    width, height = query.features.size
    x = query.features.points[:, 0] / width
    y = query.features.points[:, 1] / height
    for x0, y0, x1, y1 in REGIONS:
        inside = (x >= x0) & (x < x1) & (y >= y0) & (y < y1)
        if inside.sum() < MIN_MATCHES:
            continue
        for i, _ in index.search(words[inside], REGION_SHORTLIST):
            if i not in ids:
                ids.append(i)
    return ids


@dataclass
class Query:
    """A query picture prepared once for verifying against many references."""

    align: np.ndarray  # (h, w, 3) uint8 at ALIGN_SIDE
    features: Features
    mirrored_features: Features
    scale: float  # working size / original size
    # what every pixel comparison needs of the query itself, computed once:
    rgb: np.ndarray  # `align` as float32
    blurred_grey: np.ndarray  # its grey levels, blurred by AGREEMENT_BLUR
    fill: np.ndarray  # its flat fill joined to the corners (`_fill`)

    # its descriptors, as it is and mirrored, indexed for the two-nearest search `_fit`
    # runs once per reference (built once per query, rather than for every reference)
    @cached_property
    def matcher(self):
        return _hamming_index(self.features.descriptors)

    @cached_property
    def mirrored_matcher(self):
        return _hamming_index(self.mirrored_features.descriptors)

    @classmethod
    def of(cls, rgb: Image.Image) -> Query:
        import cv2

        side = query_side(rgb)
        grey, scale = working_grey(rgb, side)
        align = align_picture(rgb)
        as_float = align.astype(np.float32)
        budget = round(QUERY_FEATURES * side / WORKING_SIDE)  # the same density per px
        features = extract(grey, features=budget, spread=QUERY_SPREAD)
        mirrored = extract(grey, features=budget, mirrored=True, spread=QUERY_SPREAD)
        return cls(
            scale=scale,
            align=align,
            features=features,
            mirrored_features=mirrored,
            rgb=as_float,
            blurred_grey=cv2.GaussianBlur(
                cv2.cvtColor(as_float, cv2.COLOR_RGB2GRAY), (0, 0), AGREEMENT_BLUR
            ),
            fill=_fill(align),
        )


def _hamming_index(descriptors: np.ndarray):
    """An exact Hamming index over binary descriptors (faiss's binary flat index: the same
    two nearest as OpenCV's brute-force matcher, about four times faster)."""
    import faiss

    index = faiss.IndexBinaryFlat(8 * DESCRIPTOR_BYTES)
    if len(descriptors):
        index.add(np.ascontiguousarray(descriptors, dtype=np.uint8))
    return index


def _fit(query: Features, matcher, reference: Features):
    """The similarity transform from `reference` onto `query` (whose descriptors `matcher`
    indexes): each reference keypoint's nearest query keypoint, kept when clearly nearer
    than the second nearest (RATIO), then RANSAC. Returns (transform or None, matches kept,
    inliers)."""
    import cv2

    if len(query) < MIN_MATCHES or len(reference) < MIN_MATCHES:
        return None, 0, 0
    distances, nearest = matcher.search(
        np.ascontiguousarray(reference.descriptors, dtype=np.uint8), 2
    )
    # a tie for nearest is no match (as with the brute-force matcher's ratio test)
    good = np.flatnonzero(distances[:, 0] < RATIO * distances[:, 1])
    if len(good) < MIN_MATCHES:
        return None, len(good), 0
    src = reference.points[good]
    dst = query.points[nearest[good, 0]]
    transform, mask = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=REPROJECTION_PX, maxIters=2000
    )
    if transform is None or mask is None:
        return None, len(good), 0
    scale = math.hypot(transform[0, 0], transform[1, 0])
    if not FIT_SCALES[0] < scale < FIT_SCALES[1]:
        # a collapsed fit: on a repeating texture RANSAC can shrink the whole work onto a
        # few px of the copy, where many matches land within the reprojection error
        return None, len(good), 0
    return transform, len(good), int(mask.sum())


def _to_align_frame(
    transform: np.ndarray, query: Query, reference: Features, mirrored: bool
) -> np.ndarray:
    """The fitted transform (reference working px -> query working px, mirrored or not)
    as a map between the two alignment pictures."""
    qw = query.align.shape[1]
    rw = reference.align.shape[1]
    qf = qw / query.features.size[0]  # query: working -> align
    rf = rw / reference.size[0]  # reference: working -> align
    m = np.vstack([transform.astype(np.float64), [0.0, 0.0, 1.0]])
    if mirrored:  # the fit maps into the mirrored query: flip x back
        w = query.features.size[0]
        m = np.array([[-1.0, 0.0, w - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]) @ m
    return (np.diag([qf, qf, 1.0]) @ m @ np.diag([1.0 / rf, 1.0 / rf, 1.0]))[:2]


def _normalised(grey: np.ndarray, mask: np.ndarray) -> np.ndarray:
    values = grey[mask]
    return (grey - values.mean()) / max(float(values.std()), MIN_SPREAD)


def _refit(x, y, gain, offset) -> tuple[float, float]:
    for _ in range(ROBUST_ROUNDS):
        keep = np.abs(y - (gain * x + offset)) < AGREEMENT_TOLERANCE * gain
        xs, ys = x[keep], y[keep]
        if len(xs) < 16 or float(xs.var()) < 0.05:
            break
        gain = max(float(((xs - xs.mean()) * (ys - ys.mean())).mean() / xs.var()), MIN_SPREAD)
        offset = float(ys.mean() - gain * xs.mean())
    return gain, offset


def _robust_lines(x: np.ndarray, y: np.ndarray):
    """Gains and offsets of y ~ gain * x + offset (x: the work's normalised grey levels, y:
    the copy's grey levels), one per start, made as they are asked for. Each start is
    refitted by least squares on the pixels the line already explains (within
    AGREEMENT_TOLERANCE), ROBUST_ROUNDS times: letters or a sticker over part of the copy
    shift its mean and spread, not the pixels that still show the work. The starts: matching
    the copy's mean and spread, then matching its quantiles (middle half, middle 80%), which
    a sticker moves less. The gain stays at least MIN_SPREAD, as `_normalised`'s spread
    does, so a flat copy cannot blow up the comparison."""
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    gain = max(float(y.std()), MIN_SPREAD)
    yield _refit(x, y, gain, float(y.mean()) - gain * float(x.mean()))
    for low, high in ((25, 75), (10, 90)):
        xl, xh = np.percentile(x, (low, high))
        yl, yh = np.percentile(y, (low, high))
        if xh - xl > 0.05:
            gain = max(float((yh - yl) / (xh - xl)), MIN_SPREAD)
            yield _refit(x, y, gain, float(np.median(y)) - gain * float(np.median(x)))


def _gradient(grey: np.ndarray) -> np.ndarray:
    import cv2

    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    return cv2.magnitude(gx, gy)


def _fill(rgb: np.ndarray) -> np.ndarray:
    """The flat areas joined to the picture's corners (a frame, padding, the empty corners
    of a turned copy), as a boolean mask."""
    import cv2

    h, w = rgb.shape[:2]
    mask = np.zeros((h + 2, w + 2), np.uint8)
    image = np.array(rgb, dtype=np.uint8, copy=True)  # floodFill wants a writable image
    flags = 4 | cv2.FLOODFILL_FIXED_RANGE | cv2.FLOODFILL_MASK_ONLY | (255 << 8)
    for x, y in ((0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)):
        if not mask[y + 1, x + 1]:
            cv2.floodFill(
                image, mask, (x, y), 0, (FILL_TOLERANCE,) * 3, (FILL_TOLERANCE,) * 3, flags
            )
    return mask[1:-1, 1:-1] > 0


@dataclass(frozen=True)
class Agreement:
    """How the reference's pixels, warped onto the query, agree with the query's.

    Attributes:
        agreement: share of the overlap whose normalised grey levels agree.
        edge_agreement: the same over the pixels where the work has an edge (flat
            backgrounds agree with anything, so this is the one that tells works apart).
        gradient_correlation: Pearson correlation of the two gradient magnitudes.
        overlap: share of the reference that the query shows.
        colour_error: mean absolute RGB difference over the overlap left after the best
            affine colour map (`_colour_residuals`).
        colour_core_error: the same over the COLOUR_CORE share of the overlap the map
            explains best, refitted on it: the letters of a meme or a sticker are nothing of
            any work, and over all the pixels they hide how much closer one colouring is
            (inf where the work's edges do not agree: it only tells passing works apart).
        edge_core_agreement: edge agreement over the work outside the part of the copy
            where it disagrees most (`_edge_core_share`); measured for fits of MIN_INLIERS
            or more whose edges fall short of MIN_EDGE_AGREEMENT (else 0).
        coverage: share of the copy's picture (its own flat fill left out) that the work
            covers once aligned: a neighbouring tile of one wallpaper covers the part of a
            copy it shares with the copy's source, the source all of it.
    """

    agreement: float = 0.0
    edge_agreement: float = 0.0
    gradient_correlation: float = 0.0
    overlap: float = 0.0
    colour_error: float = math.inf
    colour_core_error: float = math.inf
    edge_core_agreement: float = 0.0
    coverage: float = 0.0


def _edge_core_share(inside: np.ndarray, edges: np.ndarray, close: np.ndarray) -> float:
    """The share of the work's edges that agree once the grid cells (CORE_GRID x CORE_GRID
    over the copy) holding most of the disagreement are set aside, up to EDGE_SET_ASIDE of
    the overlap's area: a meme's letters or a sticker hide the work in one place, so the
    rest of a copy agrees almost everywhere, where another work (a restyling, a look-alike)
    disagrees all over."""
    h, w = inside.shape
    rows = np.linspace(0, h, CORE_GRID + 1).astype(int)[:-1]
    cols = np.linspace(0, w, CORE_GRID + 1).astype(int)[:-1]

    def per_cell(mask: np.ndarray) -> np.ndarray:
        counts = np.add.reduceat(mask.astype(np.int64), rows, axis=0)
        return np.add.reduceat(counts, cols, axis=1).ravel()

    area, on_edges, agreeing = per_cell(inside), per_cell(edges), per_cell(edges & close)
    if on_edges.sum() < 16:
        return 0.0
    budget = EDGE_SET_ASIDE * area.sum()
    kept_edges, kept_agreeing, set_aside = int(on_edges.sum()), int(agreeing.sum()), 0
    for cell in np.argsort(-(on_edges - agreeing), kind="stable"):
        if set_aside + area[cell] > budget:
            break
        set_aside += area[cell]
        kept_edges -= on_edges[cell]
        kept_agreeing -= agreeing[cell]
    return kept_agreeing / kept_edges if kept_edges >= 16 else 0.0


def _warped(query: Query, reference: Features, transform: np.ndarray, mirrored: bool):
    """The reference's alignment picture moved onto the query's by a fitted transform: the
    map between the two alignment pictures, the moved picture (float32), where it lands
    (less a 2 px rim, where interpolation mixes in the border) and that less the copy's own
    flat fill around the picture (padding, the corners a rotation opens up)."""
    import cv2

    m = _to_align_frame(transform, query, reference, mirrored)
    h, w = query.align.shape[:2]
    ref = reference.align.astype(np.float32)
    warped = cv2.warpAffine(ref, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    lands = cv2.warpAffine(
        np.ones(ref.shape[:2], np.uint8), m, (w, h), flags=cv2.INTER_NEAREST, borderValue=0
    )
    footprint = cv2.erode(lands, np.ones((5, 5), np.uint8)).astype(bool)
    return m, warped, footprint, footprint & ~query.fill


def _core_mapping(design: np.ndarray, target: np.ndarray, fitted: np.ndarray) -> np.ndarray:
    """The affine colour map refitted CORE_ROUNDS times over the COLOUR_CORE share of the
    pixels the last map explains best (`fitted`: each pixel's residual under it)."""
    for _ in range(CORE_ROUNDS):
        keep = fitted <= np.quantile(fitted, COLOUR_CORE)
        mapping, *_ = np.linalg.lstsq(design[keep], target[keep], rcond=None)
        fitted = np.abs(design @ mapping - target).mean(axis=1)
    return mapping


def _colour_residuals(
    work: np.ndarray, copy: np.ndarray, *, core: bool = True
) -> tuple[float, float]:
    """Mean absolute difference (0-255) left after the best affine colour map from the
    work's pixels to the copy's: brightness, contrast, saturation and greyscale edits are
    affine in RGB and leave almost nothing; another colouring of the same drawing (a
    skin-tone variant) changes some regions and not others, and stays. Then the same over
    the COLOUR_CORE share of the pixels the map explains best, the map refitted on them
    CORE_ROUNDS times (`Agreement.colour_core_error`; inf unless `core`)."""
    if len(work) < 16:
        return math.inf, math.inf
    design = np.hstack([work.astype(np.float64), np.ones((len(work), 1))])  # (N, 4)
    target = copy.astype(np.float64)  # (N, 3)
    mapping, *_ = np.linalg.lstsq(design, target, rcond=None)
    residual = np.abs(design @ mapping - target).mean(axis=1)
    if not core:
        return float(residual.mean()), math.inf
    mapping = _core_mapping(design, target, residual)
    fitted = np.abs(design @ mapping - target).mean(axis=1)
    return float(residual.mean()), float(fitted[fitted <= np.quantile(fitted, COLOUR_CORE)].mean())


def agreement(
    query: Query,
    reference: Features,
    transform: np.ndarray,
    mirrored: bool,
    thorough: bool = True,
):
    """The `Agreement` of a reference with the query under a fitted transform; unless
    `thorough`, from the first grey-level line alone and without the core colours."""
    import cv2

    m, warped_rgb, footprint, inside = _warped(query, reference, transform, mirrored)
    ref = reference.align
    covered = int(inside.sum())
    if covered < 64:
        return Agreement()
    grey_r = cv2.cvtColor(warped_rgb, cv2.COLOR_RGB2GRAY)
    zr = _normalised(cv2.GaussianBlur(grey_r, (0, 0), AGREEMENT_BLUR), inside)
    gr = _gradient(zr)
    # the work's own edges: a caption or a sticker adds edges to the copy, which must not
    # count against it beyond the little of the work they hide
    edges = inside & (gr > EDGE_THRESHOLD)
    # the copy's grey levels in the work's units: a robust line, so the letters of a caption
    # or a sticker's colours (nothing of the work) do not shift the whole picture. Lines
    # from more starts are tried while the work's edges do not agree (MIN_EDGE_AGREEMENT),
    # over all the pixels and then over the work's edges alone: on clip art the white is
    # the copy's fill, so a sticker beside the figure is as much of the pixels compared as
    # the figure, and the line over all of them is the sticker's. The line that explains
    # most of the work's edges is kept.
    at_edges, work_edges = query.blurred_grey[edges], zr[edges]

    def edges_explained(line: tuple[float, float]) -> float:
        gain, offset = line
        if not len(at_edges):
            return 0.0
        return float((np.abs((at_edges - offset) / gain - work_edges) < AGREEMENT_TOLERANCE).mean())

    lines = _robust_lines(zr[inside], query.blurred_grey[inside])
    if not thorough:
        lines = itertools.islice(lines, 1)
    elif len(at_edges) >= 16:
        lines = itertools.chain(lines, _robust_lines(work_edges, at_edges))
    best, best_share = None, -1.0
    for line in lines:
        share = edges_explained(line)
        if share > best_share:
            best, best_share = line, share
        if best_share >= MIN_EDGE_AGREEMENT:
            break
    gain, offset = best
    zq = (query.blurred_grey - offset) / gain
    close = np.abs(zq - zr) < AGREEMENT_TOLERANCE
    core_edges = (
        _edge_core_share(inside, edges, close)
        if thorough and len(at_edges) >= 16 and best_share < MIN_EDGE_AGREEMENT
        else 0.0
    )
    gq = _gradient(zq)
    a, b = gq[inside], gr[inside]
    a, b = a - a.mean(), b - b.mean()
    scale2 = abs(float(np.linalg.det(m[:, :2])))  # area scale, reference -> query
    # (the colours over the core are compared only between works that pass: `name_source`)
    colour, core = _colour_residuals(
        warped_rgb[inside], query.rgb[inside], core=thorough and best_share >= MIN_EDGE_AGREEMENT
    )
    return Agreement(
        agreement=float(close[inside].mean()),
        edge_agreement=best_share if len(at_edges) >= 16 else 0.0,  # = close[edges].mean()
        gradient_correlation=float(
            (a * b).sum() / max(math.sqrt(float((a * a).sum() * (b * b).sum())), 1e-9)
        ),
        overlap=min(1.0, int(footprint.sum()) / max(1.0, scale2 * ref.shape[0] * ref.shape[1])),
        colour_error=colour,
        colour_core_error=core,
        edge_core_agreement=core_edges,
        coverage=covered / max(1, int((~query.fill).sum())),
    )


@dataclass(frozen=True)
class Verification:
    """How a query lines up with one reference.

    Attributes:
        inliers: matches that agree on the transform.
        matches: matches that passed the ratio test.
        mirrored: the query was matched mirrored.
        transform: 2x3 affine, reference working px -> query working px (None: no fit).
        scale: how large the copy shows the work, in the two files' own pixels.
        rotation_degrees: how far the copy turns the work.
        pixels: the `Agreement` of the aligned pixels (all zero when not measured).
    """

    inliers: int
    matches: int
    mirrored: bool
    transform: np.ndarray | None
    scale: float
    rotation_degrees: float
    pixels: Agreement

    @staticmethod
    def none() -> Verification:
        return Verification(0, 0, False, None, 1.0, 0.0, Agreement())


def verify(query: Query, reference: Features, *, pixels: bool = True) -> Verification:
    """Fit one similarity transform from `reference` onto the query (as it is, then
    mirrored when that does not fit) and, when `pixels` and the reference has its alignment
    picture, measure how well the aligned pixels agree."""
    best = None
    for mirrored in (False, True):
        if best is not None and best[2] >= MIN_INLIERS:
            break  # it fits as it is: no need to try it mirrored
        if mirrored:
            features, matcher = query.mirrored_features, query.mirrored_matcher
        else:
            features, matcher = query.features, query.matcher
        transform, matches, inliers = _fit(features, matcher, reference)
        if transform is not None and (best is None or inliers > best[2]):
            best = (transform, matches, inliers, mirrored)
    if best is None:
        return Verification.none()
    transform, matches, inliers, mirrored = best
    # in the two pictures' own pixels (each was described at the working size)
    scale = math.hypot(transform[0, 0], transform[1, 0]) * reference.scale / query.scale
    rotation = math.degrees(math.atan2(transform[1, 0], transform[0, 0]))
    found = Verification(inliers, matches, mirrored, transform, scale, rotation, Agreement())
    return with_pixels(query, reference, found) if pixels else found


def with_pixels(query: Query, reference: Features, v: Verification) -> Verification:
    """`v` with the agreement of the aligned pixels measured (when it has a usable fit)."""
    if v.transform is None or not reference.align.size or v.inliers < MIN_MATCHES:
        return v
    if not 0.2 < v.scale < 5.0:
        return v
    # a fit with fewer than MIN_INLIERS cannot be named whatever its pixels say: one line
    thorough = v.inliers >= MIN_INLIERS
    return replace(v, pixels=agreement(query, reference, v.transform, v.mirrored, thorough))


def check_beside(
    query: Query, twins: list[Features], neighbours: list[Features]
) -> list[tuple[int, Verification]]:
    """Verify a named work's twins and neighbours against the query, the pixels only for
    fits of MIN_INLIERS or more: (position in `twins + neighbours`, verification) for every
    twin, and for each neighbour that passes or would but for an overlay
    (`hidden_in_one_place`). Neighbours are chosen for resembling the named work, so the
    others line up with the copy by more keypoints than the works its own words proposed,
    which is no evidence against the named one (it would take a dominant work's lead)."""
    found = []
    for position, features in enumerate(twins + neighbours):
        v = verify(query, features, pixels=False)
        if v.inliers >= MIN_INLIERS:
            v = with_pixels(query, features, v)
        if position < len(twins) or passes(v) or hidden_in_one_place(v):
            found.append((position, v))
    return found


def check_all(
    query: Query, references: list[Features], pixel_checks: int, *, below_bar: bool = True
) -> list[tuple[int, Verification]]:
    """Verify a query against each reference: the placement for every one, then the aligned
    pixels for the `pixel_checks` with the most agreeing keypoints (comparing pixels costs
    most). With `below_bar` False, only the pixels that can decide a naming are compared:
    those of fits with MIN_INLIERS or more (`name_source` names none below, and lists them
    as similar by their keypoints alone; their pixels are evidence for a person to read).
    Returns (position in `references`, verification) pairs, most agreeing keypoints first,
    an earlier position first among equals."""
    found = sorted(
        ((i, verify(query, features, pixels=False)) for i, features in enumerate(references)),
        key=lambda item: (-item[1].inliers, item[0]),
    )
    return [
        (
            i,
            with_pixels(query, references[i], v)
            if rank < pixel_checks and (below_bar or v.inliers >= MIN_INLIERS)
            else v,
        )
        for rank, (i, v) in enumerate(found)
    ]


# naming rules, chosen on the tuning split of bench/identify_bench.py (see docs/BENCHMARKS.md)
MIN_INLIERS = 15  # matches agreeing on one placement before pixels are compared
MIN_EDGE_AGREEMENT = 0.85  # share of edge pixels that agree after alignment
MIN_OVERLAP = 0.2  # share of the work the copy must show
SIMILAR_INLIERS = 12  # shown as "similar to" below the naming bar
RIVAL_INLIERS = 0.25  # a passing work with fewer than this share of the best one's inliers
# is set aside before colours are compared
COLOUR_CORE = 0.8  # share of the overlap `Agreement.colour_core_error` is measured over
CORE_ROUNDS = 3
COLOUR_RATIO = 0.8  # between two works that both align, the named one's colour error
# must be below this share of the other's
# else, where the two works differ (`tell_apart`):
DIFFERING = 24.0  # mean absolute RGB difference of their predictions of the copy
DIFFERING_AREA = 5  # px at ALIGN_SIDE: a difference thinner than this is misplacement
MIN_DIFFERING = 40  # pixels at ALIGN_SIDE that must vote
TELL_APART = 0.85  # share of the votes the work picked must have
# a work whose edges agree only outside an overlay (`passes_outside_an_overlay`)
DOMINANT_INLIERS = 40  # ... lines up by this many keypoints
DOMINANT_RATIO = 4  # ... and this many times as many as any other work
CORE_GRID = 8  # the copy's cells, CORE_GRID x CORE_GRID
EDGE_SET_ASIDE = 0.2  # the share of the overlap's area set aside where the edges disagree most
MIN_CORE_EDGE_AGREEMENT = 0.9  # edge agreement over the rest
# a passing work covering this much less of the copy than another passing work that lines
# up by at least half as many keypoints shows only a part of what that one shows (a
# neighbouring tile of one wallpaper, sharing the copy's motif): it is not a rival
COVERAGE_MARGIN = 0.1
SHOWS_MORE_INLIERS = 0.5


@dataclass(frozen=True)
class Naming:
    """Which reference a query copies, by local features.

    Attributes:
        named: the index (into the checked list) of the work named, or None.
        similar: indexes of references worth showing as "similar to", best first.
        reason: one plain sentence saying why.
    """

    named: int | None
    similar: list[int]
    reason: str


def passes(v: Verification) -> bool:
    """Whether one verification is strong enough to name a work on its own."""
    return (
        v.inliers >= MIN_INLIERS
        and v.pixels.edge_agreement >= MIN_EDGE_AGREEMENT
        and v.pixels.overlap >= MIN_OVERLAP
    )


def hidden_in_one_place(v: Verification) -> bool:
    """Whether a work's edges fall short only where the copy hides it: at least
    DOMINANT_INLIERS keypoints line up and MIN_CORE_EDGE_AGREEMENT of its edges agree
    outside the EDGE_SET_ASIDE of the copy where they disagree most."""
    return (
        v.inliers >= DOMINANT_INLIERS
        and v.pixels.edge_core_agreement >= MIN_CORE_EDGE_AGREEMENT
        and v.pixels.overlap >= MIN_OVERLAP
    )


def passes_outside_an_overlay(v: Verification, runner_up: int) -> bool:
    """Whether a work whose edges fall short only where the copy hides it passes: its
    keypoints line up DOMINANT_RATIO times as many as any other work's (`runner_up`, the
    most inliers of another), and its edges agree MIN_CORE_EDGE_AGREEMENT outside the
    EDGE_SET_ASIDE of the copy where they disagree most (a meme's letters, a sticker)."""
    return hidden_in_one_place(v) and v.inliers >= DOMINANT_RATIO * runner_up


def _shows_more(a: Verification, b: Verification) -> bool:
    """Whether `a` explains more of the copy than `b`: it covers COVERAGE_MARGIN more of
    the copy's picture and lines up by at least SHOWS_MORE_INLIERS of `b`'s keypoints
    (a registered part of a work is described at its own size, so over the same area it
    can line up by more). `b` agrees with the copy where it lies and `a` over a larger
    part of it, which `b` cannot explain (the other tiles of a wallpaper whose motif the
    copy shows, a registered part of the work the copy shows)."""
    return (
        a.pixels.coverage >= b.pixels.coverage + COVERAGE_MARGIN
        and a.inliers >= SHOWS_MORE_INLIERS * b.inliers
    )


def _told_apart(checked, passing: list[int], tell) -> int | None:
    """The passing work `tell` picks over each other passing one (the closest colours
    first), or None."""
    if tell is None:
        return None
    first = min(passing, key=lambda i: checked[i].pixels.colour_error)
    for other in passing:
        if other != first and tell(first, other) != first:
            return None
    return first


def _closest_colours(checked: list[Verification], passing: list[int], error: str) -> int | None:
    """The passing work whose colour `error` is below COLOUR_RATIO of every other's; else,
    among those not clearly worse than the best, the one fit that is not mirrored (a work
    and its mirror image are told apart by the copy not being mirrored); else None."""
    errors = {i: getattr(checked[i].pixels, error) for i in passing}
    by_colour = sorted(passing, key=lambda i: (errors[i], checked[i].mirrored))
    best = errors[by_colour[0]]
    if best < COLOUR_RATIO * errors[by_colour[1]]:
        return by_colour[0]
    close = [i for i in passing if COLOUR_RATIO * errors[i] <= best]
    unmirrored = [i for i in close if not checked[i].mirrored]
    return unmirrored[0] if len(unmirrored) == 1 else None


def _predicted_colours(work: np.ndarray, copy: np.ndarray) -> np.ndarray:
    """The copy's colours as the work's predict them: the affine colour map fitted over the
    COLOUR_CORE share of the pixels it explains best (letters and stickers left out)."""
    design = np.hstack([work.astype(np.float64), np.ones((len(work), 1))])
    target = copy.astype(np.float64)
    mapping, *_ = np.linalg.lstsq(design, target, rcond=None)
    fitted = np.abs(design @ mapping - target).mean(axis=1)
    return design @ _core_mapping(design, target, fitted)


def tell_apart(
    query: Query, a: tuple[Features, Verification], b: tuple[Features, Verification]
) -> int | None:
    """Which of two works that both line up with the query it shows, judged where the two
    works differ: 0 for `a`, 1 for `b`, None when it cannot be told.

    Two drawings alike but for a part (the same face as "woman" and "woman judge", a
    skin-tone variant, a small change) have colour errors within COLOUR_RATIO over the
    whole overlap, the part being small. Over the pixels where the two works' predictions
    of the copy differ by DIFFERING or more (each work's colours mapped onto the copy's)
    in areas at least DIFFERING_AREA px across, and where the copy is nearer one of them
    than half that difference (a sticker or letters are near neither), each pixel votes
    for the work it is nearer; a work is picked when at least MIN_DIFFERING pixels vote
    and TELL_APART of them for it.
    """
    (ref_a, va), (ref_b, vb) = a, b
    if va.transform is None or vb.transform is None:
        return None
    if not ref_a.align.size or not ref_b.align.size:
        return None
    _, warped_a, _, inside_a = _warped(query, ref_a, va.transform, va.mirrored)
    _, warped_b, _, inside_b = _warped(query, ref_b, vb.transform, vb.mirrored)
    both = inside_a & inside_b
    if both.sum() < 64:
        return None
    import cv2

    copy = query.rgb[both]
    pa = _predicted_colours(warped_a[both], copy)
    pb = _predicted_colours(warped_b[both], copy)
    apart = np.abs(pa - pb).mean(axis=1)
    # where the works differ as areas do: the thin lines along edges where two placements
    # of the same drawing disagree by a pixel are opened away
    differing = np.zeros(both.shape, np.uint8)
    differing[both] = apart >= DIFFERING
    kernel = np.ones((DIFFERING_AREA, DIFFERING_AREA), np.uint8)
    differing = cv2.morphologyEx(differing, cv2.MORPH_OPEN, kernel)[both].astype(bool)
    ea = np.abs(copy - pa).mean(axis=1)
    eb = np.abs(copy - pb).mean(axis=1)
    voting = differing & (np.minimum(ea, eb) < 0.5 * apart)
    votes = int(voting.sum())
    if votes < MIN_DIFFERING:
        return None
    for_a = int((ea[voting] < eb[voting]).sum())
    if for_a >= TELL_APART * votes:
        return 0
    if votes - for_a >= TELL_APART * votes:
        return 1
    return None


def name_source(
    checked: list[Verification],
    tell: Callable[[int, int], int | None] | None = None,
) -> Naming:
    """Name the one reference a query copies, or none.

    A reference is named when its keypoints agree on one placement and its pixels, moved by
    that placement, agree with the query's over the overlap (`passes`). When several pass
    (an emoji and its skin-tone or mirrored variant), the one whose colours are clearly
    closer is named: over the whole overlap, or else over the part the colour map explains
    best (a meme's letters hide the difference over the whole); an unmirrored fit wins a
    tie with a mirrored one; else, with `tell` (two indexes -> the one the copy shows, by
    the pixels where those two works differ: `tell_apart`), the work it picks over every
    other passing one; otherwise none is named. A passing work that shows less of the copy
    than another (`_shows_more`) is no rival, and a work hidden in one place by an overlay
    (`hidden_in_one_place`) that shows more than every passing work competes with them.
    """
    order = sorted(range(len(checked)), key=lambda i: -checked[i].inliers)
    similar = [i for i in order if checked[i].inliers >= SIMILAR_INLIERS]
    passing = [i for i in order if passes(checked[i])]
    dominant = False  # named because it alone lines up (`passes_outside_an_overlay`)
    if not passing and order:
        # a work that alone lines up, hidden in one place by letters or a sticker
        runner_up = checked[order[1]].inliers if len(order) > 1 else 0
        if passes_outside_an_overlay(checked[order[0]], runner_up):
            passing, dominant = [order[0]], True
    if passing:
        # a work that lines up by a fraction of the keypoints the best one does shares only
        # a corner with the copy (a neighbouring tile of one wallpaper): it is not a rival
        most = checked[passing[0]].inliers
        passing = [i for i in passing if checked[i].inliers >= RIVAL_INLIERS * most]
        # a work hidden in one place by letters or a sticker that shows more of the copy than
        # every passing work (a registered part of it lies clear of the sticker and passes)
        passing += [
            i
            for i in order
            if i not in passing
            and hidden_in_one_place(checked[i])
            and all(_shows_more(checked[i], checked[j]) for j in passing)
        ]
        passing = [
            i for i in passing if not any(_shows_more(checked[j], checked[i]) for j in passing)
        ]
    if not passing:
        return Naming(None, similar, "no registered work lines up with it closely enough")
    if len(passing) > 1:
        # by the colours over the whole overlap, or else over the part the colour map
        # explains best (`Agreement.colour_core_error`): a meme's letters hide the difference
        for error in ("colour_error", "colour_core_error"):
            pick = _closest_colours(checked, passing, error)
            if pick is not None:
                break
        else:
            pick = _told_apart(checked, passing, tell)
            if pick is None:
                return Naming(None, similar, "two registered works line up with it equally well")
    else:
        pick = passing[0]
    v = checked[pick]
    return Naming(pick, similar, describe_fit(v, dominant=dominant))


def describe_fit(v: Verification, *, dominant: bool = True) -> str:
    """A one-line, plain-language account of how a copy lines up with the work; for a work
    whose edges fall short where the copy hides it, why it is named: no other work lines
    up nearly as well (`dominant`), or else it shows more of the copy than any that pass."""
    parts = []
    if v.mirrored:
        parts.append("mirrored")
    turn = v.rotation_degrees
    if abs(turn) >= 2:
        parts.append(f"turned {abs(turn):.0f}°")
    if v.pixels.overlap < 0.95:
        parts.append(f"cropped to {v.pixels.overlap:.0%} of the work")
    if not parts:
        size = "" if abs(v.scale - 1) < 0.03 else f" at {v.scale:.0%} of its size"
        parts.append(f"the whole work{size}")
    edit = ", ".join(parts)
    if v.pixels.edge_agreement < MIN_EDGE_AGREEMENT:  # hidden in one place by an overlay
        why = (
            "no other work's nearly as many"
            if dominant
            else "it shows more of the picture than any other work that lines up"
        )
        return (
            f"{v.inliers} keypoints line up under one placement ({edit}), {why}, and "
            f"{v.pixels.edge_core_agreement:.0%} of the aligned detail "
            "matches the work outside the part of the copy that hides it (letters or a "
            "sticker, at most a fifth of it)."
        )
    return (
        f"{v.inliers} keypoints line up under one placement ({edit}), and "
        f"{v.pixels.edge_agreement:.0%} of the aligned detail matches the work."
    )
