import type { DeadLetter } from '@imgpipe/contracts';
import type { ImgpipeError } from '@imgpipe/core';
import type { IHeaders, KafkaMessage } from 'kafkajs';

export const DEAD_LETTER_HEADERS = {
  stage: 'imgpipe-stage',
  errorCode: 'imgpipe-error-code',
  attempt: 'imgpipe-attempt',
  sourceTopic: 'imgpipe-source-topic',
  sourcePartition: 'imgpipe-source-partition',
  sourceOffset: 'imgpipe-source-offset',
} as const;

export type { DeadLetter };

export function flattenHeaders(headers: IHeaders | undefined): { key: string; value?: Buffer }[] {
  const flat: { key: string; value?: Buffer }[] = [];
  for (const [key, value] of Object.entries(headers ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) {
      flat.push(item === undefined ? { key } : { key, value: Buffer.from(item) });
    }
  }
  return flat;
}

export function toDeadLetter(input: {
  stage: string;
  error: ImgpipeError;
  attempt: number;
  traceId: string | undefined;
  /** The tenant, when the message decoded far enough to name it. */
  tenantId?: string;
  topic: string;
  partition: number;
  message: KafkaMessage;
}): DeadLetter {
  const { message } = input;
  const key = message.key ?? undefined;
  return {
    ...(key && key.length > 0 ? { imageId: key.toString() } : {}),
    ...(input.tenantId ? { tenantId: input.tenantId } : {}),
    sourceTopic: input.topic,
    partition: input.partition,
    offset: Number(message.offset),
    ...(key ? { key } : {}),
    ...(message.value ? { value: message.value } : {}),
    headers: flattenHeaders(message.headers),
    stage: input.stage as DeadLetter['stage'],
    errorCode: input.error.code,
    errorMessage: input.error.message,
    retriable: input.error.retriable,
    attempt: input.attempt,
    failedAt: Date.now(),
    ...(input.traceId ? { traceId: input.traceId } : {}),
  };
}

/** Headers on the dead-letter record itself, so tools can filter without decoding the value. */
export function deadLetterHeaders(letter: DeadLetter): Record<string, string> {
  return {
    [DEAD_LETTER_HEADERS.stage]: letter.stage,
    [DEAD_LETTER_HEADERS.errorCode]: letter.errorCode,
    [DEAD_LETTER_HEADERS.attempt]: String(letter.attempt),
    [DEAD_LETTER_HEADERS.sourceTopic]: letter.sourceTopic,
    [DEAD_LETTER_HEADERS.sourcePartition]: String(letter.partition),
    [DEAD_LETTER_HEADERS.sourceOffset]: String(letter.offset),
  };
}

/** The original record rebuilt from a dead letter, for redrive to its source topic. */
export function originalRecord(letter: DeadLetter): { topic: string; key?: Buffer; value?: Buffer; headers: IHeaders } {
  const headers: IHeaders = {};
  for (const { key, value } of letter.headers) {
    if (value === undefined) continue;
    const existing = headers[key];
    headers[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  return { topic: letter.sourceTopic, key: letter.key, value: letter.value, headers };
}
