"""The Train page says, before a run starts, whether its settings can work, how long it
takes, when the first sample shows, and whether there are enough images."""

from __future__ import annotations

from ui.train import training_expectation


def test_a_run_too_short_to_draw_anything_is_called_out():
    words = training_expectation(300)
    assert words.startswith("⚠ 300 steps cannot work")
    assert "about 85 s on one CPU thread at 64 px" in words


def test_the_estimate_follows_steps_size_and_batch():
    short = training_expectation(2_000, 64)
    big = training_expectation(2_000, 128)
    assert "about 10 min" in short and "about 38 min" in big
    assert "first sample shows after 100 steps, well before a tenth of the run" in short
    assert "first sample shows after 10 steps." in training_expectation(10)


def test_few_images_warn_of_learning_them_by_heart_and_too_few_are_named():
    thirty = training_expectation(20_000, 64, [f"a{i}.png" for i in range(30)])
    assert "30 images is few" in thirty and "a long run on few images makes that worse" in thirty
    assert "at least 20" in training_expectation(2_000, 64, ["a.png"] * 5)
    plenty = training_expectation(2_000, 64, [f"a{i}.png" for i in range(150)])
    assert "⚠" not in plenty
    # a zip hides how many images it holds: no count is guessed
    assert "images is few" not in training_expectation(2_000, 64, ["set.zip"])


def test_nonsense_settings_give_no_words_rather_than_an_error():
    assert training_expectation("lots") == ""
    assert training_expectation(None) == ""
