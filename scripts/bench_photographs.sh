#!/usr/bin/env bash
# The photographs bench/identify_bench.py registers as its "photographs" kind (issue 14):
# 24 photographs from two Debian packages, both GPL-2+ (their copyright files are copied
# beside them), one file per photograph, the largest size each package ships.
#
#   scripts/bench_photographs.sh OUT_DIR
#
# mate-backgrounds 1.26.0-1: the 12 photographs of its nature/ folder.
# plasma-workspace-wallpapers 4:5.27.5-2: the 12 of its wallpapers that are photographs
# (its drawn ones, Autumn, Flow, Honeywave, PastelHills, SafeLanding, Shell and the PNGs,
# are left out).
set -euo pipefail

out=${1:?usage: scripts/bench_photographs.sh OUT_DIR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download -qq mate-backgrounds=1.26.0-1 plasma-workspace-wallpapers=4:5.27.5-2 >/dev/null
for deb in ./*.deb; do dpkg-deb -x "$deb" root; done

mkdir -p "$out"
cp root/usr/share/backgrounds/mate/nature/*.jpg "$out/"
cp root/usr/share/doc/mate-backgrounds/copyright "$out/COPYRIGHT.mate-backgrounds"
for name in BytheWater ColdRipple ColorfulCups DarkestHour EveningGlow FallenLeaf Grey Kite \
  OneStandsOut Path Volna summer_1am; do
  images=root/usr/share/wallpapers/$name/contents/images
  # the largest size shipped (the file names are WIDTHxHEIGHT.jpg)
  largest=$(ls "$images"/*.jpg | awk -F/ '{split($NF, s, /[x.]/); print s[1] * s[2], $0}' |
    sort -n | tail -1 | cut -d' ' -f2)
  cp "$largest" "$out/plasma-$name.jpg"
done
cp root/usr/share/doc/plasma-workspace-wallpapers/copyright \
  "$out/COPYRIGHT.plasma-workspace-wallpapers"
echo "$(ls "$out"/*.jpg | wc -l) photographs in $out"
