import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  DEFAULT_RESTART_POLICY,
  describeSupervisorEvent,
  restartDelay,
  type ServiceSpec,
  type SupervisorEvent,
  supervise,
} from './supervisor.ts';

const dir = mkdtempSync(join(tmpdir(), 'imgpipe-supervisor-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A tiny child process: it appends its pid to `<dir>/<name>.starts` (an independent count of how often it was
 * started), does `behaviour`, where `starts` is how many times it had started before this one, and, if still
 * there, prints `started N`.
 */
function child(name: string, behaviour: string): ServiceSpec {
  const file = join(dir, `${name}.starts`);
  const script = `
    const fs = require('node:fs');
    const starts = fs.existsSync(${JSON.stringify(file)})
      ? fs.readFileSync(${JSON.stringify(file)}, 'utf8').split('\\n').filter(Boolean).length
      : 0;
    fs.appendFileSync(${JSON.stringify(file)}, process.pid + '\\n');
    ${behaviour}
    console.log('started ' + (starts + 1));`;
  return { name, args: [], command: [process.execPath, '-e', script] };
}
const STAY_UP = 'setInterval(() => {}, 60_000);';

function startsOf(name: string): number[] {
  const file = join(dir, `${name}.starts`);
  if (!existsSync(file)) return []; // the child has not started yet
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `condition` every 10 ms until it holds; fails with `what` after the deadline. */
async function waitFor(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const FAST = { initialDelayMs: 5, maxDelayMs: 20, healthyAfterMs: 60_000 };

test('restartDelay doubles from the initial delay up to the cap', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6].map((previous) => restartDelay(previous)),
    [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000],
  );
  assert.deepEqual(DEFAULT_RESTART_POLICY, { initialDelayMs: 1_000, maxDelayMs: 30_000, healthyAfterMs: 60_000 });
});

describe('supervise', () => {
  test('restarts processes that exit or crash, counts the restarts, and stops them all', async () => {
    const events: SupervisorEvent[] = [];
    const lines: string[] = [];
    const supervisor = supervise(
      [
        // Exits with code 3 on its first three starts, then stays up.
        child('exits', `if (starts < 3) process.exit(3); ${STAY_UP}`),
        // Throws (an uncaught exception: exit code 1) on its first two starts, then stays up.
        child('crashes', `if (starts < 2) throw new Error('boom'); ${STAY_UP}`),
        child('steady', STAY_UP),
        // Ignores SIGTERM: only SIGKILL ends it.
        child('stubborn', `process.on('SIGTERM', () => console.log('ignoring SIGTERM')); ${STAY_UP}`),
        // Refuses its configuration: never restarted.
        child('misconfigured', 'process.exit(78);'),
      ],
      {
        policy: FAST,
        stopGraceMs: 500,
        onLine: (service, line) => lines.push(`${service}: ${line}`),
        onEvent: (event) => events.push(event),
      },
    );
    await waitFor(
      'every process to reach its steady state',
      () =>
        startsOf('exits').length === 4 &&
        startsOf('crashes').length === 3 &&
        lines.includes('exits: started 4') &&
        lines.includes('crashes: started 3') &&
        lines.includes('steady: started 1') &&
        lines.includes('stubborn: started 1') &&
        events.some((event) => event.type === 'gave-up'),
    );

    // Restarts as counted by the supervisor equal the starts the children recorded themselves, less the first.
    assert.equal(supervisor.restarts('exits'), 3);
    assert.equal(supervisor.restarts('crashes'), 2);
    assert.equal(supervisor.restarts('steady'), 0);
    assert.equal(supervisor.restarts('misconfigured'), 0);
    assert.equal(startsOf('misconfigured').length, 1);
    assert.equal(supervisor.current('misconfigured'), undefined);
    assert.equal(supervisor.pendingRestarts(), 0);

    const exited = events.filter((event) => event.type === 'exited' && event.service === 'exits');
    assert.deepEqual(
      exited.map((event) => (event.type === 'exited' ? [event.exit.code, event.restart, event.delayMs] : [])),
      [
        [3, 1, 5],
        [3, 2, 10],
        [3, 3, 20],
      ],
      'backoff doubles from 5 ms, capped at 20 ms',
    );
    const crashed = events.filter((event) => event.type === 'exited' && event.service === 'crashes');
    assert.deepEqual(
      crashed.map((event) => (event.type === 'exited' ? event.exit.code : undefined)),
      [1, 1],
    );
    assert.ok(lines.some((line) => line.startsWith('crashes: Error: boom')));

    const pids = ['exits', 'crashes', 'steady', 'stubborn', 'misconfigured'].flatMap(startsOf);
    const exits = await supervisor.stop();
    assert.deepEqual(exits.get('steady'), { code: null, signal: 'SIGTERM' });
    assert.deepEqual(exits.get('stubborn'), { code: null, signal: 'SIGKILL' }, 'SIGKILL after the grace period');
    assert.ok(lines.includes('stubborn: ignoring SIGTERM'));
    assert.deepEqual(
      pids.filter((pid) => alive(pid)),
      [],
      'no child left running',
    );
    assert.equal(supervisor.restarts('steady'), 0, 'a process stopped by stop() is not restarted');
    assert.equal(supervisor.pendingRestarts(), 0);
  });

  test('a process that ran healthily for a while restarts after the initial delay again', async () => {
    const events: SupervisorEvent[] = [];
    let clock = 0;
    const supervisor = supervise([child('flaky', `if (starts < 3) process.exit(1); ${STAY_UP}`)], {
      policy: FAST,
      now: () => clock,
      onLine: () => {},
      onEvent: (event) => {
        events.push(event);
        // The second restart's run lasts 61 s by this clock: healthy.
        if (event.type === 'restarted' && event.restart === 2) clock += 61_000;
      },
    });
    await waitFor('three restarts', () => supervisor.restarts('flaky') === 3 && startsOf('flaky').length === 4);
    const delays = events.flatMap((event) => (event.type === 'exited' ? [event.delayMs] : []));
    assert.deepEqual(delays, [5, 10, 5]);
    const uptimes = events.flatMap((event) => (event.type === 'exited' ? [event.uptimeMs] : []));
    assert.deepEqual(uptimes, [0, 0, 61_000]);
    await supervisor.stop();
  });

  test('stop() cancels a restart that is waiting for its delay', async () => {
    const events: SupervisorEvent[] = [];
    const supervisor = supervise([child('once', 'process.exit(2);')], {
      policy: { initialDelayMs: 600_000 },
      onLine: () => {},
      onEvent: (event) => events.push(event),
    });
    await waitFor('the exit', () => events.length === 1);
    assert.equal(supervisor.pendingRestarts(), 1);
    const exits = await supervisor.stop();
    assert.equal(supervisor.pendingRestarts(), 0);
    assert.equal(exits.size, 0, 'nothing was running');
    assert.equal(supervisor.restarts('once'), 0);
    assert.equal(startsOf('once').length, 1);
  });

  test('exhausted settles once every service gave up', async () => {
    const supervisor = supervise(
      [child('bad-config-1', 'process.exit(78);'), child('bad-config-2', 'process.exit(78);')],
      {
        onLine: () => {},
      },
    );
    await supervisor.exhausted;
    assert.equal(startsOf('bad-config-1').length + startsOf('bad-config-2').length, 2);
    await supervisor.stop();
  });
});

test('describeSupervisorEvent gives the restart count', () => {
  assert.equal(
    describeSupervisorEvent({
      type: 'exited',
      service: 'detect',
      exit: { code: null, signal: 'SIGKILL' },
      uptimeMs: 42_300,
      restart: 3,
      delayMs: 4_000,
    }),
    'exited (signal SIGKILL) after 42 s; restart #3 in 4.0 s',
  );
  assert.equal(
    describeSupervisorEvent({ type: 'restarted', service: 'detect', restart: 3, pid: 1234 }),
    'restarted (restart #3, pid 1234)',
  );
  assert.match(
    describeSupervisorEvent({ type: 'gave-up', service: 'api', exit: { code: 78, signal: null }, uptimeMs: 300 }),
    /code 78: bad configuration.*not restarting/,
  );
});
