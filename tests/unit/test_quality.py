"""The model card's figures: Fréchet distance, precision and recall, the held-out split."""

import numpy as np
import pytest

from generation.quality import (
    frechet_distance,
    held_out,
    nearest_distance,
    precision_recall,
)


def _cloud(seed, n=300, centre=0.0, spread=1.0):
    return np.random.default_rng(seed).normal(centre, spread, size=(n, 8))


def test_two_draws_of_one_distribution_have_high_precision_and_recall():
    precision, recall = precision_recall(_cloud(0), _cloud(1), k=3)
    assert precision > 0.8 and recall > 0.8


def test_a_collapsed_generator_is_precise_but_covers_little():
    real = _cloud(0)
    # Every sample sits near one real point: each looks real, few real points are covered.
    fake = real[:1] + 0.01 * _cloud(2)
    precision, recall = precision_recall(real, fake, k=3)
    assert precision == 1.0
    assert recall < 0.1


def test_samples_far_from_the_real_pictures_have_no_precision_or_recall():
    precision, recall = precision_recall(_cloud(0), _cloud(1, centre=50.0), k=3)
    assert precision == 0.0 and recall == 0.0


def test_a_blurry_generator_covers_everything_but_is_imprecise():
    real = _cloud(0)
    fake = _cloud(1, spread=6.0)  # spread over far more than the real pictures
    precision, recall = precision_recall(real, fake, k=3)
    assert recall > 0.9
    assert precision < 0.3


def test_precision_recall_counts_points_exactly_on_the_ball():
    real = np.array([[0.0], [1.0], [2.0], [3.0]])
    fake = np.array([[10.0], [11.0], [12.0], [1.0]])
    # k=1 radii of the reals are 1; the fake at 1.0 is inside one, the others are not.
    precision, recall = precision_recall(real, fake, k=1)
    assert precision == pytest.approx(0.25)
    # The fakes' k=1 radii are 1, 1, 1 and 9 (the lone one at 1.0): it covers 0..3 except none
    # farther than 9 away, so every real point is covered.
    assert recall == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("real", "fake", "k"),
    [
        (np.zeros((5, 3)), np.zeros((5, 4)), 3),
        (np.zeros((3, 3)), np.zeros((5, 3)), 3),
        (np.zeros((5, 3)), np.zeros((5, 3)), 0),
    ],
)
def test_precision_recall_rejects_unusable_sets(real, fake, k):
    with pytest.raises(ValueError):
        precision_recall(real, fake, k=k)


def test_frechet_distance_is_zero_for_one_set_and_grows_with_a_shift():
    a = _cloud(0)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, a + 2.0) == pytest.approx(8 * 4.0, rel=1e-6)


def test_nearest_distance_is_the_mean_distance_to_the_closest_reference():
    samples = np.array([[0.0, 0.0], [3.0, 4.0]])
    references = np.array([[0.0, 1.0], [3.0, 0.0]])
    assert nearest_distance(samples, references) == pytest.approx((1.0 + 4.0) / 2)


def test_the_held_out_split_is_about_one_in_ten_and_depends_on_the_name_alone():
    names = [f"emoji_{i}.png" for i in range(5000)]
    chosen = [n for n in names if held_out(n)]
    assert 400 < len(chosen) < 600
    assert [n for n in reversed(names) if held_out(n)] == list(reversed(chosen))
    assert held_out("u1f600.png") == held_out("u1f600.png")
    assert sum(held_out(n, every=2) for n in names) > 2000
