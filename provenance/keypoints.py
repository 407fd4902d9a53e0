"""The second signal for copies PDQ misses (crops, re-framings, captions): ORB keypoints
matched with a ratio test, then a RANSAC similarity transform (rotation, uniform scale,
translation) that the matches must agree on. A mirrored copy is tried mirrored back.

The count of matches that agree on one transform (inliers) is the evidence: unrelated
images rarely give more than a handful; a copy gives dozens. Thresholds are set from
bench/identify_bench.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

WORKING_SIZE = 512
FEATURES = 1000
RATIO = 0.8
REPROJECTION_PX = 4.0
MIN_INLIERS = 30  # strong agreement (reported in the evidence)
MIN_SIMILAR_INLIERS = 12  # "similar to": worth showing, not enough to name an owner


@dataclass(frozen=True)
class Features:
    """ORB keypoints of an image at the working size."""

    points: np.ndarray  # (N, 2) float32
    descriptors: np.ndarray  # (N, 32) uint8

    def __len__(self) -> int:
        return len(self.points)


@dataclass(frozen=True)
class GeometricMatch:
    """How well a query's keypoints map onto a reference by one similarity transform."""

    inliers: int
    matches: int
    mirrored: bool
    scale: float
    rotation_degrees: float

    @property
    def strong(self) -> bool:
        return self.inliers >= MIN_INLIERS

    @property
    def similar(self) -> bool:
        return self.inliers >= MIN_SIMILAR_INLIERS


def keypoint_features(rgb: Image.Image, *, mirrored: bool = False) -> Features:
    """ORB features of an RGB image, scaled so its long side is at most 512 px."""
    import cv2

    grey = rgb.convert("L")
    if max(grey.size) > WORKING_SIZE:
        grey = grey.copy()
        grey.thumbnail((WORKING_SIZE, WORKING_SIZE), Image.Resampling.BILINEAR)
    if mirrored:
        grey = grey.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    orb = cv2.ORB_create(nfeatures=FEATURES)
    keypoints, descriptors = orb.detectAndCompute(np.asarray(grey), None)
    if descriptors is None:
        return Features(np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8))
    return Features(np.float32([k.pt for k in keypoints]), descriptors)


def _verify(query: Features, reference: Features) -> tuple[int, int, float, float]:
    import cv2

    if len(query) < 4 or len(reference) < 4:
        return 0, 0, 1.0, 0.0
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(query.descriptors, reference.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < 4:
        return 0, len(good), 1.0, 0.0
    src = query.points[[g.queryIdx for g in good]]
    dst = reference.points[[g.trainIdx for g in good]]
    transform, mask = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=REPROJECTION_PX
    )
    if transform is None or mask is None:
        return 0, len(good), 1.0, 0.0
    scale = math.hypot(transform[0, 0], transform[1, 0])
    rotation = math.degrees(math.atan2(transform[1, 0], transform[0, 0]))
    return int(mask.sum()), len(good), scale, rotation


def geometric_match(query: Image.Image, reference: Features | Image.Image) -> GeometricMatch:
    """The best similarity-transform agreement between a query image and a reference,
    trying the query as it is and mirrored."""
    if isinstance(reference, Image.Image):
        reference = keypoint_features(reference)
    best = GeometricMatch(0, 0, False, 1.0, 0.0)
    for mirrored in (False, True):
        inliers, matches, scale, rotation = _verify(
            keypoint_features(query, mirrored=mirrored), reference
        )
        if inliers > best.inliers:
            best = GeometricMatch(inliers, matches, mirrored, scale, rotation)
    return best
