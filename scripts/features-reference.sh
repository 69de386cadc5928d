#!/usr/bin/env bash
# Runs scripts/features-reference.py with OpenCV from PyPI in a throwaway venv under /tmp (created on first use).
#   scripts/features-reference.sh fixtures        rewrite packages/vision/src/features/fixtures/*.json
#   scripts/features-reference.sh time FILE...    OpenCV's SIFT/ORB timings as JSON (used by bench:features)
# IMGPIPE_FEATURES_VENV overrides the venv's place; OPENCV_VERSION the opencv-python-headless version.
set -euo pipefail
venv="${IMGPIPE_FEATURES_VENV:-/tmp/imgpipe-features-venv}"
version="${OPENCV_VERSION:-5.0.0.93}"
if ! "$venv/bin/python" -c "import cv2, numpy" 2>/dev/null || \
   [ "$("$venv/bin/pip" show opencv-python-headless 2>/dev/null | sed -n 's/^Version: //p')" != "$version" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "opencv-python-headless==$version" numpy >&2
fi
exec "$venv/bin/python" "$(dirname "$0")/features-reference.py" "$@"
