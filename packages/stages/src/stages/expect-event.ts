import type { EventMap, EventType } from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import type { DecodedMessage } from '@imgpipe/contracts';

/** Narrows a decoded message to the event a stage consumes; anything else on its topic is a contract breach. */
export function expectEvent<T extends EventType>(message: DecodedMessage, eventType: T): EventMap[T] {
  if (message.eventType !== eventType) {
    throw new ImgpipeError('CODEC_INVALID_PAYLOAD', `expected ${eventType}, got ${message.eventType}`);
  }
  return message.value as EventMap[T];
}
