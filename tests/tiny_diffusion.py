"""A tiny random-weight Stable Diffusion pipeline, built from configs, for tests and benchmarks.

It has every part of a real one (CLIP tokenizer and text encoder, UNet, VAE, scheduler) at
toy sizes, so loading and running it exercises the same code as a real model, offline, in
well under a second. Its images are noise.
"""

from __future__ import annotations

import json
from pathlib import Path

# byte-level BPE merges for a few words, so the tokenizer's merges file is really used
TINY_MERGES = ("c a", "ca t</w>", "d o", "do g</w>", "r e", "re d</w>")


def write_tiny_clip_tokenizer_files(folder: Path) -> dict[str, int]:
    """Write a CLIP `vocab.json` and `merges.txt`: every byte, every byte at a word's end,
    the merged words and the two special tokens.

    Returns:
        The vocabulary.
    """
    from tokenizers.pre_tokenizers import ByteLevel

    folder.mkdir(parents=True, exist_ok=True)
    alphabet = sorted(ByteLevel.alphabet())
    tokens = alphabet + [c + "</w>" for c in alphabet]
    tokens += [merge.replace(" ", "") for merge in TINY_MERGES]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {token: i for i, token in enumerate(tokens)}
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(TINY_MERGES) + "\n")
    return vocab


def save_tiny_stable_diffusion(
    folder: Path, *, seed: int = 0, safety_checker: bool = False, variant: str | None = None
) -> Path:
    """Build a random-weight `StableDiffusionPipeline` and `save_pretrained` it to `folder`.

    UNet: 32/64 channels, one layer per block, 16x16 latents (32 px native); VAE: 32/64
    channels, 4 latent channels, scale factor 2; CLIP text encoder: width 32, 2 layers,
    4 heads, 16 tokens; DDIM scheduler with Stable Diffusion's betas.

    Args:
        folder: Where to write the pipeline folder.
        seed: Seed of the random weights.
        safety_checker: Ship a (random, 32 px) CLIP safety checker and its feature extractor;
            otherwise the folder has none, as `safety_checker=None` pipelines are saved.
        variant: Save the weights as this variant (e.g. "fp16", cast to float16).

    Returns:
        `folder`.
    """
    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import (
        CLIPConfig,
        CLIPImageProcessor,
        CLIPTextConfig,
        CLIPTextModel,
        CLIPTokenizer,
    )

    tokenizer_dir = folder.parent / f"{folder.name}-tokenizer-source"
    vocab = write_tiny_clip_tokenizer_files(tokenizer_dir)
    tokenizer = CLIPTokenizer.from_pretrained(tokenizer_dir, model_max_length=16)
    with torch.random.fork_rng():  # leave the caller's global RNG alone
        torch.manual_seed(seed)
        unet = UNet2DConditionModel(
            sample_size=16,
            in_channels=4,
            out_channels=4,
            block_out_channels=(32, 64),
            layers_per_block=1,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
            cross_attention_dim=32,
            norm_num_groups=32,
        )
        vae = AutoencoderKL(
            in_channels=3,
            out_channels=3,
            block_out_channels=(32, 64),
            down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
            up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
            latent_channels=4,
            norm_num_groups=32,
            sample_size=32,
        )
        text_encoder = CLIPTextModel(
            CLIPTextConfig(
                vocab_size=1000,
                hidden_size=32,
                intermediate_size=37,
                num_hidden_layers=2,
                num_attention_heads=4,
                max_position_embeddings=16,
                bos_token_id=vocab["<|startoftext|>"],
                eos_token_id=vocab["<|endoftext|>"],
                pad_token_id=vocab["<|endoftext|>"],
            )
        )
        checker = None
        if safety_checker:
            checker = StableDiffusionSafetyChecker(
                CLIPConfig(
                    text_config={
                        "vocab_size": 1000,
                        "hidden_size": 32,
                        "intermediate_size": 37,
                        "num_hidden_layers": 2,
                        "num_attention_heads": 4,
                        "bos_token_id": vocab["<|startoftext|>"],
                        "eos_token_id": vocab["<|endoftext|>"],
                        "pad_token_id": vocab["<|endoftext|>"],
                    },
                    vision_config={
                        "image_size": 32,
                        "patch_size": 8,
                        "hidden_size": 32,
                        "intermediate_size": 37,
                        "num_hidden_layers": 2,
                        "num_attention_heads": 4,
                    },
                    projection_dim=32,
                )
            )
    feature_extractor = (
        CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
        if safety_checker
        else None
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=checker,
        feature_extractor=feature_extractor,
        requires_safety_checker=safety_checker,
    )
    if variant == "fp16":
        pipe.to(dtype=torch.float16)
    pipe.save_pretrained(folder, variant=variant)
    return folder
