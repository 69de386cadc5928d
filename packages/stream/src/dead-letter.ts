import type { ImgpipeError } from '@imgpipe/core';
import type { IHeaders, KafkaMessage } from 'kafkajs';

/** The DeadLetter event (schemas/DeadLetter.avsc): the failed message kept whole, with why and where it failed. */
export interface DeadLetter {
  stage: string;
  errorCode: string;
  errorMessage: string;
  attempt: number;
  failedAt: number;
  traceId: string | null;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: number;
  originalKey: Buffer | null;
  originalValue: Buffer | null;
  originalHeaders: { key: string; value: Buffer | null }[];
}

export const DEAD_LETTER_HEADERS = {
  stage: 'imgpipe-stage',
  errorCode: 'imgpipe-error-code',
  attempt: 'imgpipe-attempt',
  sourceTopic: 'imgpipe-source-topic',
  sourcePartition: 'imgpipe-source-partition',
  sourceOffset: 'imgpipe-source-offset',
} as const;

export function flattenHeaders(headers: IHeaders | undefined): { key: string; value: Buffer | null }[] {
  const flat: { key: string; value: Buffer | null }[] = [];
  for (const [key, value] of Object.entries(headers ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) {
      flat.push({ key, value: item === undefined ? null : Buffer.from(item) });
    }
  }
  return flat;
}

export function toDeadLetter(input: {
  stage: string;
  error: ImgpipeError;
  attempt: number;
  traceId: string | undefined;
  topic: string;
  partition: number;
  message: KafkaMessage;
}): DeadLetter {
  return {
    stage: input.stage,
    errorCode: input.error.code,
    errorMessage: input.error.message,
    attempt: input.attempt,
    failedAt: Date.now(),
    traceId: input.traceId ?? null,
    sourceTopic: input.topic,
    sourcePartition: input.partition,
    sourceOffset: Number(input.message.offset),
    originalKey: input.message.key,
    originalValue: input.message.value,
    originalHeaders: flattenHeaders(input.message.headers),
  };
}

/** Headers on the dead-letter record itself, so tools can filter without decoding the value. */
export function deadLetterHeaders(letter: DeadLetter): Record<string, string> {
  return {
    [DEAD_LETTER_HEADERS.stage]: letter.stage,
    [DEAD_LETTER_HEADERS.errorCode]: letter.errorCode,
    [DEAD_LETTER_HEADERS.attempt]: String(letter.attempt),
    [DEAD_LETTER_HEADERS.sourceTopic]: letter.sourceTopic,
    [DEAD_LETTER_HEADERS.sourcePartition]: String(letter.sourcePartition),
    [DEAD_LETTER_HEADERS.sourceOffset]: String(letter.sourceOffset),
  };
}

/** The original record rebuilt from a dead letter, for redrive to its source topic. */
export function originalRecord(letter: DeadLetter): { topic: string; key: Buffer | null; value: Buffer | null; headers: IHeaders } {
  const headers: IHeaders = {};
  for (const { key, value } of letter.originalHeaders) {
    if (value === null) continue;
    const existing = headers[key];
    headers[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  return { topic: letter.sourceTopic, key: letter.originalKey, value: letter.originalValue, headers };
}
