#!/usr/bin/env bash
# Renders the before/after pictures of docs/transform.md: every operation applied by `imgpipe transform` to one photo
# of ../shared/images, each shrunk to 240x180 first so the pictures stay small (JPEG quality 80, a few KiB each), and
# prints the Markdown table the document shows (four pictures a row). The crops around detections run on the full photo (the faces and
# objects are detected in this process, with the models in IMGPIPE_MODELS_DIR) and are shrunk afterwards.
#   bash scripts/transform-gallery.sh [photo]     (default ../shared/images/photos/person.jpg)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$(bash infra/bin/ensure-node.sh):$PATH"
PHOTO="${1:-${IMGPIPE_SHARED_DIR:-../shared}/images/photos/person.jpg}"   # crop:faces: astronaut.png, a clear face
export IMGPIPE_MODELS_DIR="${IMGPIPE_MODELS_DIR:-${IMGPIPE_SHARED_DIR:-../shared}/models}"
OUT=docs/transform
SMALL='resize:240x180:cover'
TAIL='format:jpeg:80'
mkdir -p "$OUT"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

SHARED="${IMGPIPE_SHARED_DIR:-../shared}"
# name|recipe (the operation shown, in the document's words)|full recipe run[|another photo]
gallery=(
  "original|(none)|$SMALL/$TAIL"
  "resize-contain|resize:240x120:contain:0:lanczos3:centre:ffffff|resize:240x120:contain:0:lanczos3:centre:ffffff/$TAIL"
  "crop-box|crop:0.25:0.1:0.5:0.5|crop:0.25:0.1:0.5:0.5/$SMALL/$TAIL"
  "crop-smart|crop:400x300:smart|crop:400x300:smart/$SMALL/$TAIL"
  "crop-faces|crop:faces:0.4|crop:faces:0.4/resize:240x180/$TAIL|$SHARED/images/photos/astronaut.png"
  "crop-objects|crop:objects:person|crop:objects:person/resize:240x180/$TAIL"
  "rotate|rotate:15:ffffff|$SMALL/rotate:15:ffffff/$TAIL"
  "flip|flip|$SMALL/flip/$TAIL"
  "flop|flop|$SMALL/flop/$TAIL"
  "blur|blur:3|$SMALL/blur:3/$TAIL"
  "gaussian-blur|gaussian-blur:2.5|$SMALL/gaussian-blur:2.5/$TAIL"
  "median|median:7|$SMALL/median:7/$TAIL"
  "sharpen|sharpen:2|$SMALL/sharpen:2/$TAIL"
  "edge-sobel|edge:sobel|$SMALL/edge:sobel/$TAIL"
  "edge-laplacian|edge:laplacian|$SMALL/edge:laplacian/$TAIL"
  "emboss|emboss|$SMALL/emboss/$TAIL"
  "contour|contour|$SMALL/contour/$TAIL"
  "grayscale|grayscale|$SMALL/grayscale/$TAIL"
  "sepia|sepia|$SMALL/sepia/$TAIL"
  "negate|negate|$SMALL/negate/$TAIL"
  "threshold|threshold:110|$SMALL/threshold:110/$TAIL"
  "pixelate|pixelate:10|$SMALL/pixelate:10/$TAIL"
  "brightness|brightness:1.4|$SMALL/brightness:1.4/$TAIL"
  "contrast|contrast:1.6|$SMALL/contrast:1.6/$TAIL"
  "saturation|saturation:2|$SMALL/saturation:2/$TAIL"
  "hue|hue:90|$SMALL/hue:90/$TAIL"
  "gamma|gamma:1.8|$SMALL/gamma:1.8/$TAIL"
  "sharpness|sharpness:3|$SMALL/sharpness:3/$TAIL"
  "auto-level|auto-level|$SMALL/auto-level/$TAIL"
  "clahe|clahe:16:16:3|$SMALL/clahe:16:16:3/$TAIL"
)

cells=()
for entry in "${gallery[@]}"; do
  IFS='|' read -r name shown recipe photo <<<"$entry"
  rm -rf "$work/out" && mkdir -p "$work/out"
  node apps/cli/bin/imgpipe.js transform "${photo:-$PHOTO}" --recipe "$recipe" --out "$work/out" >/dev/null
  produced="$(find "$work/out" -type f | head -n 1)"
  mv "$produced" "$OUT/$name.jpg"
  cells+=("![$name](transform/$name.jpg)<br>\`$shown\`")
done
# Four pictures a row.
echo "| | | | |"
echo "| --- | --- | --- | --- |"
for ((i = 0; i < ${#cells[@]}; i += 4)); do
  echo "| ${cells[i]} | ${cells[i + 1]:-} | ${cells[i + 2]:-} | ${cells[i + 3]:-} |"
done
