"""The 26 preset styles of the multistyle network, with descriptive names.

The network came without names. These describe what each preset does to a photograph, as
seen on the preview sheet docs/style_presets.png (built by scripts/make_style_sheet.py).
"""

PRESET_COUNT = 26
PRESET_NAMES: tuple[str, ...] = (
    "sunlit pastel",  # 0: pale blue and yellow glow, soft strokes
    "bold ink outline",  # 1: thick black contours on white and yellow
    "grey wash sketch",  # 2: dark grey drawing over a pale wash
    "tangled ribbons",  # 3: chaotic red, blue and yellow ribbons
    "crimson and gold",  # 4: deep reds against a yellow sky
    "warm mosaic",  # 5: orange and rose broken strokes
    "navy bubbles",  # 6: dark blue with round bubble holes
    "primary blocks",  # 7: flat blue, yellow and red blocks
    "pink-teal watercolour",  # 8: white paper, pink and teal washes
    "teal cells",  # 9: teal cell mosaic with red dots
    "rust sepia",  # 10: brown and orange, photographic
    "gold engraving",  # 11: brown line work on gold
    "lavender mist",  # 12: soft violet with a yellow glow
    "acid green swirl",  # 13: green, yellow and red expressionist
    "frosted pastel",  # 14: pale icy blue wash
    "stained glass",  # 15: pastel panes in light lead lines
    "blue impasto",  # 16: blue with orange and yellow dabs
    "woven red bricks",  # 17: red and orange bricks on blue
    "sepia brush",  # 18: brown brush strokes on cream
    "starry blues",  # 19: dark blue with yellow swirls
    "ember red",  # 20: glowing reds and black
    "cut-paper collage",  # 21: blocky black and white with pale blue and red
    "charcoal crosshatch",  # 22: grey hatching with red accents
    "muted dusk",  # 23: dark, nearly photographic evening tones
    "delft blue",  # 24: dark blue on cream
    "tapestry weave",  # 25: blue and orange cross-woven texture
)
