"""Reads images with RapidOCR (PP-OCRv4 ONNX models, the same family as imgpipe's).

Paths come on the command line, or one a line on stdin (ocr-compare.ts asks one at a time, interleaving RapidOCR's
runs with imgpipe's). Prints one JSON object per image and line: {"file", "lines": [text, ...] in RapidOCR's order,
"ms"}. Run by ocr-compare.sh from its throwaway venv; default settings (angle classifier on, as RapidOCR ships).
"""
import json
import sys
import time

from rapidocr_onnxruntime import RapidOCR

engine = RapidOCR()
paths = sys.argv[1:] or (line.rstrip("\n") for line in sys.stdin)
for path in paths:
    started = time.perf_counter()
    result, _ = engine(path)
    ms = (time.perf_counter() - started) * 1000
    lines = [text for _box, text, _score in (result or [])]
    print(json.dumps({"file": path, "lines": lines, "ms": round(ms, 1)}), flush=True)
