#!/usr/bin/env bash
# Train (or resume) the candidate next bundled model: a FastGAN at 128 px on Noto + Twemoji
# with the held-out split kept out (docs/MODEL_CARD.md, "The next model"). Meant for a lent
# GPU in one prepared call; it runs on a CPU too, at 1.7 images/s on this 2-core machine.
#
#   scripts/train_fastgan_model.sh [SECONDS]    # train for at most SECONDS (default: to the end)
#
# SIGTERM (and the SECONDS limit) finish the step, checkpoint and export the model, so the
# next call resumes exactly, on any device. Paths: ATELIER_DATA (default
# /work/atelier-data/mixed128), ATELIER_RUN (default /work/atelier-train/fastgan128),
# PYTHON (default REPO/.venv/bin/python), DEVICE (default auto: a GPU when torch sees one).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$REPO/.venv/bin/python}"
DATA="${ATELIER_DATA:-/work/atelier-data/mixed128}"
RUN="${ATELIER_RUN:-/work/atelier-train/fastgan128}"
DEVICE="${DEVICE:-auto}"
SECONDS_LIMIT="${1:-0}"

# The run's config. Changing any trajectory-shaping value here makes --resume refuse the
# existing checkpoint; total_steps and the *_every_* intervals may be changed freely.
TRAIN_ARGS=(
  --architecture fastgan --image-size 128 --latent-dim 128 --g-channels 64 --d-channels 64
  --batch-size 32 --g-lr 0.0002 --d-lr 0.0002 --betas 0.5 0.999 --ema-decay 0.999
  --augment-policy color translation cutout --random-flip true --seed 0 --recon-weight 1.0
  --total-steps 100000
  --checkpoint-every-seconds 120 --sample-every-steps 1000 --log-every-steps 100
  --export-dtype float16 --min-images 20
)

if [[ ! -f "$DATA/manifest.json" ]]; then
  "$PYTHON" "$REPO/scripts/build_training_set.py" --out "$DATA" --size 128 \
    --sets noto twemoji --hold-out
fi
mkdir -p "$RUN"
command=("$PYTHON" "$REPO/scripts/train_gan.py" --data "$DATA/images" --out "$RUN" --resume
  --device "$DEVICE" --precision auto --threads "$(nproc)" --no-progress-bar "${TRAIN_ARGS[@]}")
if [[ "$SECONDS_LIMIT" -gt 0 ]]; then
  # SIGTERM at the limit: the step finishes and a checkpoint is written; SIGKILL 60 s later.
  timeout -s TERM -k 60 "$SECONDS_LIMIT" "${command[@]}" || [[ $? -eq 124 ]]
else
  "${command[@]}"
fi
"$PYTHON" "$REPO/scripts/model_quality.py" --data "$DATA/images" --held-out-dir "$DATA/held_out" \
  --model "$RUN/model" --out "$RUN/quality.json" --samples 2000
