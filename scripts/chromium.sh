#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the browser tests, and print its path.
#
#   scripts/chromium.sh        # installs `chromium` with apt-get if it is missing
#
# The Playwright tests drive this system browser (executable_path); `playwright install`,
# which downloads its own browser build from the internet, is never used.
set -euo pipefail

find_chromium() {
  command -v chromium 2>/dev/null || { [ -x /usr/bin/chromium ] && echo /usr/bin/chromium; }
}

if ! path=$(find_chromium); then
  echo "installing Chromium from Debian packages..." >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >&2
  path=$(find_chromium) || { echo "chromium is still missing after apt-get install" >&2; exit 1; }
fi
"$path" --version 2>/dev/null | grep -i chromium >&2 || true
echo "$path"
