import { writeFileSync } from 'node:fs';
import { renderErrorDocs } from '../packages/core/src/error-docs.ts';

const target = new URL('../docs/errors.md', import.meta.url);
writeFileSync(target, renderErrorDocs());
console.log(`wrote ${target.pathname}`);
