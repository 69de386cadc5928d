/**
 * Writes schemas/<EventType>.avsc from packages/contracts/src/event-schemas.ts, the schemas' source of truth (the
 * result contract's records in them come from the shapes in packages/contracts/src/results.ts).
 * Run after changing an event: `node scripts/generate-schemas.ts`, then `imgpipe schemas check` before merging.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SCHEMAS_DIR, EVENT_TYPE_NAMES, schemaFileName, schemaFileText } from '@imgpipe/contracts';

for (const eventType of EVENT_TYPE_NAMES) {
  const path = join(DEFAULT_SCHEMAS_DIR, schemaFileName(eventType));
  writeFileSync(path, schemaFileText(eventType));
  console.log(`wrote ${path}`);
}
