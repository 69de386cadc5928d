/** The handler contract lives in @imgpipe/contracts (so stage handlers need no runtime); the runtime re-uses it. */
export type {
  BatchContext,
  BatchItem,
  BatchResult,
  MessageSource,
  OutputEvent,
  Stage,
  StageContext,
} from '@imgpipe/contracts';
