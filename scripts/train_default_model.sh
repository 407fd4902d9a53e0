#!/usr/bin/env bash
# Start, or resume, the training run of Atelier's bundled default GAN (64 px emoji).
# Idempotent: if the run is already going it says so and exits; otherwise it builds the
# training set if missing and starts `train_gan.py --resume` in the background (nohup).
#
#   scripts/train_default_model.sh            # start or resume
#   scripts/train_default_model.sh status     # is it running? latest progress
#   scripts/train_default_model.sh stop       # SIGTERM: finish the step, checkpoint, exit
#
# Paths can be overridden: ATELIER_DATA (default /work/atelier-data/emoji64),
# ATELIER_RUN (default /work/atelier-train/emoji64), PYTHON (default REPO/.venv/bin/python).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$REPO/.venv/bin/python}"
DATA="${ATELIER_DATA:-/work/atelier-data/emoji64}"
RUN="${ATELIER_RUN:-/work/atelier-train/emoji64}"
PIDFILE="$RUN/train.pid"
LOG="$RUN/train.log"

# The run's config. Changing any trajectory-shaping value here makes --resume refuse the
# existing checkpoint; total_steps and the *_every_* intervals may be changed freely.
TRAIN_ARGS=(
  --image-size 64 --latent-dim 128 --g-channels 32 --d-channels 32 --max-channels 512
  --batch-size 64 --g-lr 0.0002 --d-lr 0.0002 --betas 0.5 0.999 --ema-decay 0.999
  --augment-policy color translation cutout --random-flip true --seed 0
  --total-steps 125000
  --checkpoint-every-seconds 300 --sample-every-steps 1000 --log-every-steps 100
  --export-dtype float16 --threads 1
)

running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid; pid="$(cat "$PIDFILE")"
  if kill -0 "$pid" 2>/dev/null && grep -q "train_gan.py" "/proc/$pid/cmdline" 2>/dev/null; then
    echo "$pid"; return 0
  fi
  return 1
}

case "${1:-start}" in
  status)
    if pid="$(running_pid)"; then echo "running (pid $pid)"; else echo "not running"; fi
    [[ -f "$RUN/progress.json" ]] && cat "$RUN/progress.json"
    exit 0 ;;
  stop)
    if pid="$(running_pid)"; then kill -TERM "$pid"; echo "sent SIGTERM to $pid"; else echo "not running"; fi
    exit 0 ;;
  start) ;;
  *) echo "usage: $0 [start|status|stop]" >&2; exit 2 ;;
esac

if pid="$(running_pid)"; then
  echo "already running (pid $pid); log: $LOG"
  exit 0
fi

if [[ ! -f "$DATA/manifest.json" ]]; then
  "$PYTHON" "$REPO/scripts/build_training_set.py" --out "$DATA" --size 64
fi

mkdir -p "$RUN"
cd "$REPO"
nohup "$PYTHON" "$REPO/scripts/train_gan.py" --data "$DATA/images" --out "$RUN" --resume \
  "${TRAIN_ARGS[@]}" >>"$LOG" 2>&1 &
echo $! >"$PIDFILE"
echo "started (pid $!); log: $LOG; checkpoints, samples and model in $RUN"
