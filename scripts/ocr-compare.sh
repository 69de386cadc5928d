#!/usr/bin/env bash
# imgpipe's OCR against RapidOCR (PyPI rapidocr-onnxruntime, in a throwaway venv under /tmp created on first use) on
# the same generated images; prints CER per kind with ms per image, then images/s of whole-folder runs of each
# (`imgpipe analyze --analyses ocr` against RapidOCR). See scripts/ocr-compare.ts.
# IMGPIPE_OCR_COMPARE_VENV overrides the venv's place; RAPIDOCR_VERSION the rapidocr-onnxruntime version.
set -euo pipefail
venv="${IMGPIPE_OCR_COMPARE_VENV:-/tmp/imgpipe-ocr-compare-venv}"
version="${RAPIDOCR_VERSION:-1.4.4}"
if ! "$venv/bin/python" -c "import rapidocr_onnxruntime" 2>/dev/null || \
   [ "$("$venv/bin/pip" show rapidocr-onnxruntime 2>/dev/null | sed -n 's/^Version: //p')" != "$version" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "rapidocr-onnxruntime==$version" >&2
fi
exec node "$(dirname "$0")/ocr-compare.ts" --python "$venv/bin/python" "$@"
