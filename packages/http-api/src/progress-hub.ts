import type { Redis } from 'ioredis';

type Listener = (message: string) => void;

/**
 * One Redis subscriber connection shared by every live stream of this process: a channel is SUBSCRIBEd while at least
 * one stream listens to it, so a thousand open SSE streams cost one connection, not a thousand.
 */
export class ProgressHub {
  readonly #subscriber: Redis;
  readonly #listeners = new Map<string, Set<Listener>>();

  constructor(subscriber: Redis) {
    this.#subscriber = subscriber;
    subscriber.on('message', (channel: string, message: string) => {
      for (const listener of this.#listeners.get(channel) ?? []) listener(message);
    });
  }

  /** Resolves once Redis confirms the subscription; the returned function unsubscribes. */
  async subscribe(channel: string, listener: Listener): Promise<() => Promise<void>> {
    let listeners = this.#listeners.get(channel);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(channel, listeners);
    }
    listeners.add(listener);
    if (listeners.size === 1) await this.#subscriber.subscribe(channel);
    return async () => {
      const current = this.#listeners.get(channel);
      if (!current?.delete(listener) || current.size > 0) return;
      this.#listeners.delete(channel);
      await this.#subscriber.unsubscribe(channel).catch(() => undefined);
    };
  }

  get channelCount(): number {
    return this.#listeners.size;
  }
}
