"""Find a GAN model's genes (GANSpace) and write them beside its weights as genes.json.

    python scripts/find_genes.py                      # the bundled model, with its names
    python scripts/find_genes.py path/to/model --count 8
    python scripts/find_genes.py --strips /tmp/genes  # also draw each gene at -2..+2

The bundled model's names were given by looking at the strips (6 seeds at truncation 0.7,
each moved -4, -2, 0, +2, +4 along the gene): see docs/MODEL_CARD.md "Genes".
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

# the bundled model's genes, strongest first, as seen in the strips: (name, what + does)
BUNDLED_NAMES = [
    ("flag", "toward flat flags and banners; minus: toward a face with hair"),
    ("person", "toward a person with hair and clothes; minus: toward a yellow smiley"),
    ("dark", "toward dark square tiles; minus: toward small light figures"),
    ("couple", "toward two people with a heart; minus: toward one standing figure"),
    ("halo", "toward a ring framing a lighter face; minus: toward dark silhouettes"),
    ("close-up", "toward head and shoulders filling the frame; minus: a small full figure"),
    ("hair", "toward a full head of dark hair; minus: toward sketchy outlines"),
    ("slim", "toward narrower, pointed shapes; minus: toward cluttered ones"),
    ("clothes", "toward a shirt and collar under the face"),
    ("round head", "toward a round head; minus: toward long ears and U shapes"),
    ("big hair", "toward big hair framing the face; minus: toward a small figure"),
    ("warm", "toward warm browns and reds; minus: toward purple clothes"),
]
SEED, SAMPLES = 1234, 8192


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=None, help="model directory (default: bundled)")
    parser.add_argument("--count", type=int, default=len(BUNDLED_NAMES))
    parser.add_argument("--strips", default=None, help="folder for one PNG strip per gene")
    args = parser.parse_args()

    from generation.gan_pipeline import default_model_dir, load_model
    from generation.genes import GENES_FILE, find_directions

    directory = Path(args.model) if args.model else default_model_dir()
    pipeline = load_model(directory)
    directions, share = find_directions(
        pipeline.generator, count=args.count, samples=SAMPLES, seed=SEED
    )
    bundled = args.model is None
    genes = []
    for i in range(args.count):
        name, note = BUNDLED_NAMES[i] if bundled else (f"gene {i + 1}", "")
        genes.append(
            {
                "name": name,
                "note": note,
                "component": i,
                "variance_share": round(float(share[i]), 4),
                "direction": [float(x) for x in directions[i]],
            }
        )
    document = {
        "model_sha256": pipeline.model_sha256,
        "method": "GANSpace: PCA of the activations after the second block, regressed on z",
        "samples": SAMPLES,
        "seed": SEED,
        "genes": genes,
    }
    target = directory if (directory / "config.json").is_file() else directory / "model"
    (target / GENES_FILE).write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {target / GENES_FILE}: {', '.join(g['name'] for g in genes)}")
    if args.strips:
        draw_strips(pipeline, directions, [g["name"] for g in genes], Path(args.strips))


def draw_strips(pipeline, directions, names, folder: Path) -> None:
    import numpy as np
    import torch
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    seeds, amounts = [3, 11, 25, 40, 57, 71], [-4, -2, 0, 2, 4]
    for i, name in enumerate(names):
        rows = []
        for seed in seeds:
            z = torch.randn(1, 128, generator=torch.Generator().manual_seed(seed)) * 0.7
            with torch.no_grad():
                images = pipeline.generator(torch.cat([z + a * directions[i] for a in amounts]))
            pixels = ((images.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1)
            rows.append(np.concatenate(list(pixels.numpy()), axis=1))
        Image.fromarray(np.concatenate(rows, axis=0)).save(folder / f"{i:02d}-{name}.png")
    print(f"strips in {folder}")


if __name__ == "__main__":
    main()
