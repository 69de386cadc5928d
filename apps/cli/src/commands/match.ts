import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createInProcessExecutor,
  createWorkerPool,
  DETECTORS,
  decodeFeatureImage,
  detectKeypointsHandler,
  matchFeaturesHandler,
  matchPicture,
  projectPoint,
} from '@imgpipe/vision/features';
import { UsageError, wholeNumber } from '../cli-args.ts';
import { featureOptionsFromFlags } from '../feature-flags.ts';
import { type Command, EXIT } from '../command.ts';

const HELP = `Usage: imgpipe match <a> <b> [options]

Matches two images in this process (no services needed): keypoints of each (SIFT or ORB), Lowe's ratio-test
matches from A to B, and the homography most of them agree on (RANSAC, 3 px). Prints the matches, the inliers
(matches the homography explains), whether the images match (at least 10 inliers) and where A's corners land in
B. Coordinates are pixels of the original images. The same as POST /v1/match (docs/features.md).

Options:
  --detector <name>     ${DETECTORS.join(' or ')} (default sift)
  --nfeatures <n>       keep the best n keypoints per image (SIFT default 0 = all, ORB default 500)
  --param <name=value>  any other detector parameter, repeatable (as imgpipe features)
  --max-side <px>       detect on copies whose long side is at most this (default 1280; 0 = full size)
  --ratio <r>           Lowe's ratio, > 0 and <= 1 (default 0.75)
  --out <file>          write the annotated side-by-side picture: inliers green, other matches red, A's outline
                        in B blue; JPEG for .jpg/.jpeg, PNG otherwise
  --workers <n>         worker threads (default 2; 0 = this thread)
  --json                one JSON object: a, b, detector, params, ratio, matches, inliers, matched, homography,
                        corners, timings
  -h, --help            this help

Exit code 0 when both images were read (matched or not: see "matched"), 1 when one could not be, 2 for usage
errors.`;

export const command: Command = {
  summary: 'Match two images: ratio-test keypoint matches, a RANSAC homography and its inliers',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        detector: { type: 'string', default: 'sift' },
        nfeatures: { type: 'string' },
        param: { type: 'string', multiple: true, default: [] },
        'max-side': { type: 'string', default: '1280' },
        ratio: { type: 'string', default: '0.75' },
        out: { type: 'string' },
        workers: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help || positionals.length !== 2) {
      if (!values.help && positionals.length !== 2) console.error('imgpipe match: give exactly two images');
      console.log(HELP);
      return values.help ? EXIT.ok : EXIT.usage;
    }
    const options = featureOptionsFromFlags(values);
    const ratio = Number(values.ratio);
    if (!/^\d*\.?\d+$/.test(values.ratio) || !(ratio > 0 && ratio <= 1)) {
      throw new UsageError(`--ratio must be > 0 and <= 1 (got '${values.ratio}')`);
    }
    const maxSide = wholeNumber('--max-side', values['max-side'], 0);
    const workers = values.workers === undefined ? 2 : wholeNumber('--workers', values.workers, 0);
    const files = positionals as [string, string];

    const executor = workers === 0 ? createInProcessExecutor() : createWorkerPool({ size: workers });
    try {
      const started = performance.now();
      const bytes = await Promise.all(files.map((file) => readFile(file)));
      const features = await Promise.all(
        bytes.map(async (data) =>
          executor.run(detectKeypointsHandler, await decodeFeatureImage(data, { maxSide }), options),
        ),
      );
      const featuresMs = performance.now() - started;
      const [a, b] = features as [(typeof features)[0], (typeof features)[0]];
      const found = await executor.run(matchFeaturesHandler, a, b, { ratio });
      const matchMs = performance.now() - started - featuresMs;
      const corners = found.homography
        ? [
            { x: 0, y: 0 },
            { x: a.width - 1, y: 0 },
            { x: a.width - 1, y: a.height - 1 },
            { x: 0, y: a.height - 1 },
          ].map((corner) => {
            const p = projectPoint(found.homography!, corner);
            return { x: round(p.x, 2), y: round(p.y, 2) };
          })
        : null;
      if (values.out) {
        const jpeg = /^\.jpe?g$/i.test(extname(values.out));
        const picture = await matchPicture(
          { bytes: bytes[0]!, keypoints: a.keypoints },
          { bytes: bytes[1]!, keypoints: b.keypoints },
          found,
          { format: jpeg ? 'jpeg' : 'png' },
        );
        await writeFile(values.out, picture);
      }
      const side = (file: string, f: typeof a) => ({
        file,
        width: f.width,
        height: f.height,
        count: f.keypoints.length,
      });
      if (values.json) {
        console.log(
          JSON.stringify({
            a: side(files[0], a),
            b: side(files[1], b),
            detector: options.detector,
            params: a.params,
            ratio,
            matches: found.matches.length,
            inliers: found.inliers.length,
            matched: found.matched,
            homography: found.homography ?? null,
            corners,
            timings: { featuresMs: round(featuresMs, 1), matchMs: round(matchMs, 1) },
            ...(values.out ? { picture: values.out } : {}),
          }),
        );
      } else {
        const lines = [
          `A  ${files[0]}  ${a.width}x${a.height}  ${a.keypoints.length} keypoints`,
          `B  ${files[1]}  ${b.width}x${b.height}  ${b.keypoints.length} keypoints`,
          `${options.detector}  ratio ${ratio}  ${found.matches.length} matches  ${found.inliers.length} inliers  ${found.matched ? 'MATCHED' : 'not matched'} (>= 10 inliers)`,
        ];
        if (found.homography) {
          const h = found.homography.map((v) => Number(v.toPrecision(5)));
          lines.push(
            `homography A->B  [${h.slice(0, 3).join(', ')}; ${h.slice(3, 6).join(', ')}; ${h.slice(6).join(', ')}]`,
          );
        }
        if (corners)
          lines.push(`A's corners in B  ${corners.map((c) => `(${c.x.toFixed(1)}, ${c.y.toFixed(1)})`).join('  ')}`);
        if (values.out) lines.push(`picture  ${values.out}`);
        console.log(lines.join('\n'));
      }
      return EXIT.ok;
    } finally {
      await executor.close();
    }
  },
};

const round = (value: number, digits: number) => Number(value.toFixed(digits));
