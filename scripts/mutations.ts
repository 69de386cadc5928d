/**
 * What `npm run mutate` (scripts/mutate.ts) mutates: the pure modules, each with the unit tests that must catch a
 * deliberate bug in it, and a hand-written list of named one-line bugs that the tests must kill.
 *
 * `files` are the sources mutated; `tests` the test files run against each mutant (no service may be needed: the
 * runner neither starts nor locks the local stack). Paths are relative to the repository root; globs allowed.
 */

export interface MutationModule {
  name: string;
  files: readonly string[];
  tests: readonly string[];
}

export interface NamedMutation {
  /** Short name, shown in the report. */
  name: string;
  module: string;
  file: string;
  /** Text that occurs exactly once in the file (the runner refuses a list that has drifted from the code). */
  find: string;
  replace: string;
}

export const MODULES: readonly MutationModule[] = [
  {
    name: 'contracts',
    files: [
      'packages/contracts/src/wire-format.ts',
      'packages/contracts/src/avro-body.ts',
      'packages/contracts/src/event-rules.ts',
      'packages/contracts/src/schema-compatibility.ts',
      'packages/contracts/src/topics.ts',
    ],
    tests: ['packages/contracts/src/*.test.ts'],
  },
  {
    name: 'egress',
    files: ['packages/egress/src/address-ranges.ts', 'packages/egress/src/ssrf-guard.ts'],
    tests: ['packages/egress/src/*.test.ts'],
  },
  {
    name: 'vision-geometry',
    files: ['packages/vision/src/geometry/boxes.ts', 'packages/vision/src/geometry/letterbox.ts'],
    // The detectors' tests exercise the box helpers and the letterbox too (with tiny hand-built models).
    tests: [
      'packages/vision/src/geometry/*.test.ts',
      'packages/vision/src/detect/detect-objects.test.ts',
      'packages/vision/src/faces/detect-faces.test.ts',
    ],
  },
  {
    name: 'vision-ocr-postprocess',
    files: [
      'packages/vision/src/ocr/reading-order.ts',
      'packages/vision/src/ocr/merge-lines.ts',
      'packages/vision/src/ocr/db-postprocess.ts',
      'packages/vision/src/ocr/geometry.ts',
      'packages/vision/src/ocr/ctc-decode.ts',
    ],
    tests: [
      'packages/vision/src/ocr/reading-order.test.ts',
      'packages/vision/src/ocr/merge-lines.test.ts',
      'packages/vision/src/ocr/db-postprocess.test.ts',
      'packages/vision/src/ocr/geometry.test.ts',
      'packages/vision/src/ocr/ctc-decode.test.ts',
    ],
  },
  {
    name: 'http-api-auth',
    // api-keys.ts is left out: its hashing lives inside the PostgreSQL-backed key store.
    files: [
      'packages/http-api/src/auth/authenticator.ts',
      'packages/http-api/src/auth/token-claims.ts',
      'packages/http-api/src/auth/dev-tokens.ts',
      'packages/http-api/src/roles.ts',
    ],
    tests: [
      'packages/http-api/src/auth/*.test.ts',
      'packages/http-api/src/roles.test.ts',
      // parseDuration's cases live with the other small parsers.
      'packages/http-api/src/image-intake.test.ts',
    ],
  },
  {
    // The token-bucket arithmetic. rate-limiter.ts holds the same steps as a Redis Lua script, held to this file by
    // rate-limiter.test.ts, which needs Redis and so is no unit test to run against every mutant.
    name: 'http-api-rate-limiter',
    files: ['packages/http-api/src/rate-limiter-bucket.ts'],
    tests: ['packages/http-api/src/rate-limiter-bucket.test.ts'],
  },
  {
    name: 'webhooks-signature',
    files: ['packages/webhooks/src/signature.ts'],
    tests: ['packages/webhooks/src/signature.test.ts'],
  },
];

/** Deliberate one-line bugs from the audit in issue 9: each must be killed. */
export const NAMED_MUTATIONS: readonly NamedMutation[] = [
  {
    name: 'SSRF: 172.16.0.0/12 narrowed to /16',
    module: 'egress',
    file: 'packages/egress/src/address-ranges.ts',
    find: "network: '172.16.0.0', prefix: 12",
    replace: "network: '172.16.0.0', prefix: 16",
  },
  {
    name: 'IoU: the union forgets to subtract the intersection',
    module: 'vision-geometry',
    file: 'packages/vision/src/geometry/boxes.ts',
    find: '(b.x2 - b.x1) * (b.y2 - b.y1) - intersection',
    replace: '(b.x2 - b.x1) * (b.y2 - b.y1)',
  },
  {
    name: 'OCR reading order: row tolerance doubled',
    module: 'vision-ocr-postprocess',
    file: 'packages/vision/src/ocr/reading-order.ts',
    find: 'Math.min(extent.height, anchor.height) / 2',
    replace: 'Math.min(extent.height, anchor.height)',
  },
  {
    name: 'Webhook signature: any future timestamp accepted',
    module: 'webhooks-signature',
    file: 'packages/webhooks/src/signature.ts',
    find: 'Math.abs(now - timestamp) >',
    replace: 'now - timestamp >',
  },
];
