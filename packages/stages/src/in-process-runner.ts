import { toImgpipeError } from '@imgpipe/core';
import type { Logger } from '@imgpipe/telemetry';
import type { DecodedMessage, OutputEvent, Stage, StageContext } from '@imgpipe/contracts';

/**
 * Runs the pipeline's stages in this process, like Apache Beam's DirectRunner: every output event is delivered to
 * the stages that consume its topic, exactly as Kafka would route it, so embedded and distributed modes share the
 * same handlers and topology. Stages that consume the same event run concurrently.
 */
export class InProcessRunner {
  readonly #stages: readonly Stage[];
  readonly #logger: Logger;
  readonly #abort = new AbortController();

  constructor(stages: readonly Stage[], logger: Logger) {
    this.#stages = stages;
    this.#logger = logger;
  }

  /** Delivers `event` and everything it causes; returns every event emitted along the way, in order of emission. */
  async run(event: OutputEvent): Promise<OutputEvent[]> {
    const emitted: OutputEvent[] = [];
    let wave: OutputEvent[] = [event];
    while (wave.length > 0) {
      const next = await Promise.all(
        wave.flatMap((output) =>
          this.#stages
            .filter((stage) => stage.inputs.includes(output.topic))
            .map((stage) => this.#deliver(stage, output)),
        ),
      );
      wave = next.flat();
      emitted.push(...wave);
    }
    return emitted;
  }

  async #deliver(stage: Stage, output: OutputEvent): Promise<OutputEvent[]> {
    const message: DecodedMessage = { eventType: output.eventType, value: output.value };
    const ctx: StageContext = {
      logger: this.#logger.child({ stage: stage.name, imageId: output.key }),
      attempt: 1,
      source: { topic: output.topic, partition: 0, offset: '0', key: output.key },
      signal: this.#abort.signal,
    };
    try {
      const outputs = await stage.handle(message, ctx);
      if (outputs.length > 0) await stage.onOutputsDurable?.(message, outputs, ctx);
      return outputs;
    } catch (thrown) {
      const error = toImgpipeError(thrown);
      ctx.logger.debug({ code: error.code, err: error.message }, 'stage failed');
      return (await stage.onFailure?.(message, error, ctx)) ?? [];
    }
  }
}
