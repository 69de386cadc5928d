import type { Consumer } from 'kafkajs';

type State = 'starting' | 'joined' | 'rebalancing' | 'crashed' | 'stopping' | 'stopped';

/**
 * The consumer's real state, built from kafkajs instrumentation events: live unless it crashed for good, ready
 * only while it is a member of its group with partitions to work on.
 */
export class ConsumerHealth {
  #state: State = 'starting';
  #lastError: string | undefined;
  #since = Date.now();
  #joins = 0;
  #partitions: Record<string, number[]> = {};

  watch(consumer: Consumer): void {
    const { GROUP_JOIN, REBALANCING, CRASH, STOP, DISCONNECT } = consumer.events;
    consumer.on(GROUP_JOIN, (event) => {
      this.#joins += 1;
      this.#partitions = Object.fromEntries(
        Object.entries(event.payload?.memberAssignment ?? {}).map(([topic, numbers]) => [
          topic,
          [...numbers].sort((a, b) => a - b),
        ]),
      );
      this.#set('joined');
    });
    consumer.on(REBALANCING, () => this.#set('rebalancing'));
    consumer.on(CRASH, (event) => {
      this.#lastError = event.payload.error.message;
      // kafkajs restarts itself after retriable crashes; only a crash it will not restart from is fatal.
      this.#set(event.payload.restart ? 'rebalancing' : 'crashed');
    });
    consumer.on(STOP, () => this.#set(this.#state === 'stopping' ? 'stopping' : 'stopped'));
    consumer.on(DISCONNECT, () => this.#set('stopped'));
  }

  stopping(): void {
    this.#set('stopping');
  }

  /** Times this consumer joined its group: more than one means it went through rebalances. */
  get joins(): number {
    return this.#joins;
  }

  get state(): State {
    return this.#state;
  }

  report(): { live: boolean; ready: boolean; details: Record<string, unknown> } {
    return {
      live: this.#state !== 'crashed',
      ready: this.#state === 'joined',
      details: {
        consumer: this.#state,
        since: new Date(this.#since).toISOString(),
        lastError: this.#lastError,
        // Which partitions of each input topic the group gave this process at its last join.
        partitions: this.#partitions,
      },
    };
  }

  #set(state: State): void {
    if (this.#state === 'crashed' && state !== 'joined') return;
    this.#state = state;
    this.#since = Date.now();
  }
}
