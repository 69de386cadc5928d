import type { Migration } from 'kysely/migration';
import * as results from './0001-results.ts';
import * as api from './0002-api.ts';
import * as textOrientation from './0003-text-orientation.ts';
import * as attributes from './0004-attributes.ts';
import * as accounts from './0005-accounts.ts';
import * as renditions from './0006-renditions.ts';
import * as perceptualHashSegments from './0007-perceptual-hash-segments.ts';
import * as textCodes from './0008-text-codes.ts';
import * as batches from './0009-batches.ts';
import * as features from './0010-features.ts';
import * as textCodesIndex from './0011-text-codes-index.ts';
import * as requestedOcrModel from './0012-requested-ocr-model.ts';
import * as requestedOcrLanguages from './0013-requested-ocr-languages.ts';

/**
 * Every migration in order, listed in code rather than read from a folder so that nothing depends on the working
 * directory or on a bundler keeping the files. Names are stable: they are the rows of kysely_migration.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-results': results,
  '0002-api': api,
  '0003-text-orientation': textOrientation,
  '0004-attributes': attributes,
  '0005-accounts': accounts,
  '0006-renditions': renditions,
  '0007-perceptual-hash-segments': perceptualHashSegments,
  '0008-text-codes': textCodes,
  '0009-batches': batches,
  '0010-features': features,
  '0011-text-codes-index': textCodesIndex,
  '0012-requested-ocr-model': requestedOcrModel,
  '0013-requested-ocr-languages': requestedOcrLanguages,
};
