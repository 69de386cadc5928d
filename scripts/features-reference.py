#!/usr/bin/env python3
"""OpenCV's own SIFT and ORB on a few shared images: the reference imgpipe's TypeScript detectors are tested against.

Run through scripts/features-reference.sh (a throwaway venv under /tmp with opencv-python-headless from PyPI):

  scripts/features-reference.sh fixtures            # rewrite packages/vision/src/features/fixtures/*.json
  scripts/features-reference.sh time FILE... [--repeat 5] [--threads 1]   # JSON timings (wall and CPU ms)

Fixtures are made by OpenCV, never by imgpipe's code. Each image is read the way imgpipe reads it (decoded to RGB,
then OpenCV's BGR2GRAY), so both sides see the same grey pixels; the SHA-256 of those pixels is stored and the
tests check that imgpipe's grey conversion reproduces it before comparing anything. Images are used at their own
size (all <= 640 px), so no resampling differs between the two sides.

Per image and detector the fixture keeps the keypoint count and the top N keypoints by response (ties broken by
position) with their descriptors, base64 of the raw uint8 rows (SIFT's float descriptors are whole numbers 0-255).
Keypoint rows: [x, y, size, angle, response, octave] with OpenCV's packed octave.
"""

import argparse
import base64
import hashlib
import json
import os
import sys
import time

import cv2
import numpy as np

SHARED = os.environ.get('IMGPIPE_SHARED_DIR') or os.path.join(os.path.dirname(__file__), '..', '..', 'shared')
FIXTURES = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', 'packages', 'vision', 'src', 'features', 'fixtures'))

# Chosen because imgpipe's decoder (sharp) and OpenCV's give identical grey pixels for them (checked by SHA-256).
IMAGES = [
    'photos/chelsea.png',
    'coco/000000000139.jpg',
    'coco/000000001268.jpg',
    'coco/000000001532.jpg',
]
TOP_N = 300
# Non-default parameters: only keypoint counts are kept, for the first image, to check the parameters act as OpenCV's.
PARAM_CASES = [
    ('sift', {'nOctaveLayers': 1}),
    ('sift', {'nOctaveLayers': 6, 'sigma': 4}),
    ('sift', {'contrastThreshold': 0.02, 'edgeThreshold': 20}),
    ('sift', {'sigma': 0.8}),
    ('orb', {'nlevels': 1}),
    ('orb', {'scoreType': 'fast'}),
    ('orb', {'nfeatures': 2000, 'scaleFactor': 1.1, 'nlevels': 12, 'edgeThreshold': 15, 'fastThreshold': 10}),
]

SIFT_PARAMS = {'nfeatures': 0, 'nOctaveLayers': 3, 'contrastThreshold': 0.04, 'edgeThreshold': 10, 'sigma': 1.6}
ORB_PARAMS = {
    'nfeatures': 500,
    'scaleFactor': 1.2,
    'nlevels': 8,
    'edgeThreshold': 31,
    'firstLevel': 0,
    'WTA_K': 2,
    'patchSize': 31,
    'fastThreshold': 20,
}


def grey(path, max_side=640):
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        sys.exit(f'cannot read {path}')
    if max_side and max(image.shape[:2]) > max_side:
        sys.exit(f'{path} is larger than 640 px; pick images that need no resampling')
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def sift(overrides=None):
    p = {**SIFT_PARAMS, **(overrides or {})}
    return cv2.SIFT_create(p['nfeatures'], p['nOctaveLayers'], p['contrastThreshold'], p['edgeThreshold'], p['sigma'])


def orb(overrides=None):
    p = {**ORB_PARAMS, **(overrides or {})}
    return cv2.ORB_create(
        nfeatures=p['nfeatures'],
        scaleFactor=p['scaleFactor'],
        nlevels=p['nlevels'],
        edgeThreshold=p['edgeThreshold'],
        firstLevel=p['firstLevel'],
        WTA_K=p['WTA_K'],
        scoreType=cv2.ORB_FAST_SCORE if p.get('scoreType') == 'fast' else cv2.ORB_HARRIS_SCORE,
        patchSize=p['patchSize'],
        fastThreshold=p['fastThreshold'],
    )


def top(keypoints, descriptors, n):
    order = sorted(range(len(keypoints)), key=lambda i: (-keypoints[i].response, keypoints[i].pt[0], keypoints[i].pt[1]))
    order = order[:n] if n else order
    rows = [
        [
            round(float(keypoints[i].pt[0]), 3),
            round(float(keypoints[i].pt[1]), 3),
            round(float(keypoints[i].size), 3),
            round(float(keypoints[i].angle), 3),
            float(f'{keypoints[i].response:.6g}'),
            int(keypoints[i].octave),
        ]
        for i in order
    ]
    table = np.asarray(descriptors[order], dtype=np.float32)
    if not np.array_equal(table, np.clip(np.round(table), 0, 255)):
        sys.exit('descriptors are not whole numbers 0-255; the fixture format assumes they are')
    return rows, base64.b64encode(table.astype(np.uint8).tobytes()).decode('ascii')


def fixture(name):
    gray = grey(os.path.join(SHARED, 'images', name))
    entry = {
        'image': name,
        'madeBy': f'OpenCV {cv2.__version__} (opencv-python-headless), scripts/features-reference.py',
        'grey': {
            'width': int(gray.shape[1]),
            'height': int(gray.shape[0]),
            'sha256': hashlib.sha256(gray.tobytes()).hexdigest(),
        },
    }
    for detector, params, create, n in (('sift', SIFT_PARAMS, sift, TOP_N), ('orb', ORB_PARAMS, orb, TOP_N)):
        keypoints, descriptors = create().detectAndCompute(gray, None)
        rows, encoded = top(keypoints, descriptors, n)
        entry[detector] = {
            'params': params,
            'count': len(keypoints),
            'top': len(rows),
            'descriptorSize': int(descriptors.shape[1]),
            'keypoints': rows,
            'descriptors': encoded,
        }
    return entry


def param_counts(name):
    gray = grey(os.path.join(SHARED, 'images', name))
    counts = []
    for detector, overrides in PARAM_CASES:
        create = sift if detector == 'sift' else orb
        counts.append({'detector': detector, 'params': overrides, 'count': len(create(overrides).detect(gray, None))})
    return counts


def write_fixtures():
    os.makedirs(FIXTURES, exist_ok=True)
    for index, name in enumerate(IMAGES):
        entry = fixture(name)
        if index == 0:
            entry['paramCounts'] = param_counts(name)
        out = os.path.join(FIXTURES, os.path.splitext(os.path.basename(name))[0] + '.json')
        with open(out, 'w') as handle:
            json.dump(entry, handle, separators=(',', ':'))
            handle.write('\n')
        print(f"{os.path.relpath(out)}: sift {entry['sift']['count']} keypoints (kept {entry['sift']['top']}), orb {entry['orb']['count']}")


def time_files(files, repeat, threads):
    cv2.setNumThreads(threads)
    results = []
    for path in files:
        gray = grey(path, max_side=0)
        row = {'file': path, 'width': int(gray.shape[1]), 'height': int(gray.shape[0])}
        for detector, create in (('sift', sift), ('orb', orb)):
            instance = create()
            instance.detectAndCompute(gray, None)  # warm-up
            timings = []
            cpu = []
            count = 0
            for _ in range(repeat):
                started = time.perf_counter()
                started_cpu = time.process_time()
                keypoints, _ = instance.detectAndCompute(gray, None)
                cpu.append((time.process_time() - started_cpu) * 1000)
                timings.append((time.perf_counter() - started) * 1000)
                count = len(keypoints)
            timings.sort()
            cpu.sort()
            row[detector] = {'ms': timings[(len(timings) - 1) // 2], 'cpuMs': cpu[(len(cpu) - 1) // 2], 'keypoints': count}
        results.append(row)
    json.dump({'opencv': cv2.__version__, 'threads': cv2.getNumThreads(), 'images': results}, sys.stdout)
    sys.stdout.write('\n')


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='command', required=True)
    sub.add_parser('fixtures', help='rewrite the committed reference fixtures')
    timing = sub.add_parser('time', help='median ms of SIFT and ORB detectAndCompute per file, as JSON')
    timing.add_argument('files', nargs='+')
    timing.add_argument('--repeat', type=int, default=5)
    timing.add_argument('--threads', type=int, default=1, help='cv2.setNumThreads (default 1: one core, like one worker)')
    args = parser.parse_args()
    if args.command == 'fixtures':
        write_fixtures()
    else:
        time_files(args.files, args.repeat, args.threads)


if __name__ == '__main__':
    main()
