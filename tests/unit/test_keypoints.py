from PIL import ImageOps

from provenance.images import trim_borders
from provenance.keypoints import geometric_match
from tests.factories import detailed


def test_a_cropped_resized_copy_agrees_on_one_transform():
    original = detailed(1)
    copy = original.crop((30, 20, 300, 300)).resize((200, 207))
    match = geometric_match(copy, original)
    assert match.strong and not match.mirrored
    assert 1.2 < match.scale < 1.5  # the copy was shrunk about 0.74x


def test_a_mirrored_rotated_copy_is_found_mirrored():
    original = detailed(2)
    copy = ImageOps.mirror(original).rotate(12, expand=True, fillcolor=(255, 255, 255))
    match = geometric_match(copy, original)
    assert match.strong and match.mirrored


def test_unrelated_pictures_do_not_agree():
    match = geometric_match(detailed(3), detailed(4))
    assert not match.similar


def test_a_border_and_a_blank_caption_bar_are_trimmed_back_to_the_picture():
    picture = detailed(5, 200)
    framed = ImageOps.expand(picture, border=(12, 12, 12, 40), fill=(255, 255, 255))
    assert trim_borders(framed).size == picture.size
    assert trim_borders(picture) is picture
