import { ERROR_CATALOGUE } from './errors.ts';

const GROUPS: [prefix: RegExp, heading: string][] = [
  [/^IMAGE_/, 'Image input'],
  [/^(RECIPE|TRANSFORM|RENDITION)_/, 'Image operations (recipes, renditions)'],
  [/^(MODEL|OCR)_/, 'Models'],
  [/^(CODEC|SCHEMA)_/, 'Events and schemas'],
  [/^(STAGE|EVENT)_/, 'Pipeline stages'],
  [/^(STORAGE|DATABASE|CACHE|KAFKA)_/, 'Services'],
  [/^(CONFIG|STACK)_/, 'Configuration and the local stack'],
  [/^(AUTH|REQUEST|MATCH|RESOURCE|URL|IDEMPOTENCY|UPLOAD|REDRIVE|API|WEBHOOK)_/, 'HTTP API and webhooks'],
];

/** docs/errors.md, rendered from the catalogue so the published list cannot drift from the code. */
export function renderErrorDocs(): string {
  const lines = [
    '# Error codes',
    '',
    '<!-- Generated from packages/core/src/errors.ts by `node scripts/generate-error-docs.ts`; a test keeps it current. -->',
    '',
    'Every error imgpipe reports carries one of these stable codes: in `imgpipe analyze` output and exit messages,',
    "in each stage's `error.code` of a result, in dead letters (`errorCode` and the `imgpipe-error-code` header) and",
    "in the HTTP API's problem details (`code`). Codes are never renamed or reused; new ones are only added.",
    '',
    '**Retriable** errors are transient: a stage retries them with exponential backoff (IMGPIPE_MAX_ATTEMPTS,',
    'default 5) and dead-letters the message only when attempts run out. Other errors are deterministic: the message',
    "goes to the stage's dead-letter topic at once, the image's stage is marked failed with the code, and the",
    'partition moves on.',
    '',
  ];
  const entries = Object.entries(ERROR_CATALOGUE);
  const placed = new Set<string>();
  for (const [prefix, heading] of GROUPS) {
    const group = entries.filter(([code]) => prefix.test(code) && !placed.has(code));
    if (group.length === 0) continue;
    lines.push(`## ${heading}`, '', '| code | HTTP | retriable | meaning |', '| --- | --- | --- | --- |');
    for (const [code, definition] of group) {
      placed.add(code);
      lines.push(
        `| \`${code}\` | ${definition.httpStatus} | ${definition.retriable ? 'yes' : 'no'} | ${definition.title} |`,
      );
    }
    lines.push('');
  }
  const unplaced = entries.filter(([code]) => !placed.has(code)).map(([code]) => code);
  if (unplaced.length > 0) throw new Error(`error codes with no documentation group: ${unplaced.join(', ')}`);
  return lines.join('\n');
}
