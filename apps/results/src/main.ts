import { createRedis, ResultsService } from '@imgpipe/results';
import { runStageProcessUntilSignalled, startStageProcess } from '@imgpipe/stream';
import { type Logger, reportBreakerStates } from '@imgpipe/telemetry';
import { sql } from 'kysely';
import { webhookDispatcherFrom } from '@imgpipe/webhooks';
import { loadResultsConfig } from './config.ts';

/**
 * The results service: materialises every pipeline outcome into PostgreSQL and the latest view of each image into
 * Redis, and runs the deadline sweep so nothing stays pending forever (all in @imgpipe/results). This file wires it
 * to its Kafka stage process and to the webhook dispatcher.
 */
export async function runResults(): Promise<number> {
  const config = loadResultsConfig();
  const results = await ResultsService.open(config.results);
  // Webhooks on completion: queued in PostgreSQL, sent in the background, signed and retried (packages/webhooks).
  let webhookLogger: Logger | undefined;
  const webhooks = webhookDispatcherFrom(results.db, config.webhooks, {
    onError: (error) => webhookLogger?.warn({ err: (error as Error).message }, 'webhook delivery pass failed'),
    onDelivery: (outcome) => webhookLogger?.[outcome.ok ? 'info' : 'warn'](outcome, 'webhook attempt'),
  });
  results.onChange((change) => webhooks.onChange(change));
  // The receivers' circuits (one per host) in imgpipe_circuit_breaker_state{breaker="webhooks"}, as the API reports its own.
  const stopReporting = reportBreakerStates({
    report: () => [{ name: 'webhooks', counts: webhooks.breakers.counts() }],
  });

  // Readiness probes PostgreSQL and Redis; Redis on a connection of its own that fails fast (the service's own
  // connection queues commands while it reconnects).
  const probeRedis = createRedis(config.results.redisUrl);
  const running = startStageProcess({
    service: 'results',
    config: config.process,
    checks: {
      postgres: () => sql`select 1`.execute(results.db),
      redis: () => probeRedis.ping(),
    },
    // A receiver that is down is the receiver's problem, not a reason to unroute the results service: detail only.
    details: () => ({
      breakers: { webhooks: { ...webhooks.breakers.counts(), unhealthy: webhooks.breakers.unhealthy() } },
    }),
    createStage: async () => webhooks.observe(results.stage),
    onStop: async () => {
      stopReporting();
      await webhooks.stop();
      await results.close();
      probeRedis.disconnect();
    },
  });
  const stageProcess = await running;
  webhookLogger = stageProcess.logger;
  webhooks.start();
  results.startSweep(stageProcess.logger);
  return runStageProcessUntilSignalled(running);
}
