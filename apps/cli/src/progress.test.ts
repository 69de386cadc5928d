import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createProgress, formatDuration, progressLine } from './progress.ts';

const CLEAR = '\r\x1b[2K';

/** A terminal stand-in that keeps what was written, and a clock the test moves by hand. */
function fakeTerminal(columns = 80, isTTY = true) {
  const writes: string[] = [];
  let time = 1_000;
  return {
    writes,
    stream: { isTTY, columns, write: (text: string) => writes.push(text) },
    now: () => time,
    advance(ms: number) {
      time += ms;
    },
    /** What the line shows now: the text after the last clear. */
    screen: () => writes.join('').split(CLEAR).at(-1) ?? '',
  };
}

describe('progress bar on a terminal', () => {
  test('shows count, percentage, rate and time left from the clock', () => {
    const term = fakeTerminal();
    const progress = createProgress({ total: 40, unit: 'images', stream: term.stream, now: term.now });
    assert.match(term.screen(), /^\[-+\] {2} 0\/40 {4}0% {2}- images\/s {2}--:-- left$/);

    term.advance(5_000);
    progress.tick(10);
    // 10 images in 5 s: 2 per second; 30 left at that rate take 15 s.
    assert.match(term.screen(), / 10\/40 {3}25% {2}2\.00 images\/s {2}0:15 left$/);

    term.advance(5_000);
    progress.tick(10);
    assert.match(term.screen(), / 20\/40 {3}50% {2}2\.00 images\/s {2}0:10 left$/);
    const bar = /^\[(#*)(-*)\]/.exec(term.screen());
    assert.ok(bar, term.screen());
    assert.equal(bar[1]!.length, bar[2]!.length, 'half the bar filled at 50%');

    term.advance(2_000);
    progress.tick(20);
    // 40 in 12 s.
    assert.match(term.screen(), /^\[#+\] {2}40\/40 {2}100% {2}3\.33 images\/s {2}done$/);
  });

  test('redraws at most once per interval, but always the first and the last unit', () => {
    const term = fakeTerminal();
    const progress = createProgress({ total: 5, stream: term.stream, now: term.now, redrawMs: 100 });
    const draws = () => term.writes.filter((text) => text.startsWith(CLEAR) && text.length > CLEAR.length).length;
    assert.equal(draws(), 1);
    term.advance(10);
    progress.tick();
    assert.equal(draws(), 2, 'the first unit draws');
    term.advance(10);
    progress.tick();
    term.advance(10);
    progress.tick();
    assert.equal(draws(), 2, 'within 100 ms of the last draw nothing is redrawn');
    assert.match(term.screen(), /1\/5/);
    term.advance(100);
    progress.tick();
    assert.equal(draws(), 3);
    assert.match(term.screen(), /4\/5/);
    term.advance(1);
    progress.tick();
    assert.equal(draws(), 4, 'the last unit draws');
    assert.match(term.screen(), /5\/5 +100%/);
  });

  test('output printed above the bar never mixes with it, and done() clears the line', () => {
    const term = fakeTerminal();
    const progress = createProgress({ total: 3, stream: term.stream, now: term.now });
    term.advance(1_000);
    progress.tick();
    term.writes.length = 0;
    progress.printAbove(() => term.stream.write('result line\n'));
    assert.equal(term.writes[0], CLEAR, 'the bar is cleared first');
    assert.equal(term.writes[1], 'result line\n');
    const redrawn = term.writes[2] ?? '';
    assert.ok(redrawn.startsWith(CLEAR), 'then drawn again below the result');
    assert.match(redrawn.slice(CLEAR.length), /^\[.* 1\/3 /);

    progress.done();
    assert.equal(term.writes.at(-1), CLEAR);
    const before = term.writes.length;
    progress.tick();
    progress.printAbove(() => term.stream.write('late\n'));
    progress.done();
    assert.deepEqual(term.writes.slice(before), ['late\n'], 'nothing is drawn after done()');
  });

  test('fits a narrow terminal', () => {
    for (const columns of [100, 60, 40, 20]) {
      const term = fakeTerminal(columns);
      const progress = createProgress({ total: 1000, unit: 'images', stream: term.stream, now: term.now });
      term.advance(3_000);
      progress.tick(7);
      assert.ok(term.screen().length <= columns - 1, `${columns} columns: "${term.screen()}"`);
    }
  });
});

test('nothing is drawn when the stream is not a terminal', () => {
  const term = fakeTerminal(80, false);
  const progress = createProgress({ total: 3, stream: term.stream, now: term.now });
  progress.tick();
  let printed = false;
  progress.printAbove(() => {
    printed = true;
  });
  progress.tick(2);
  progress.done();
  assert.equal(printed, true, 'output still goes through');
  assert.deepEqual(term.writes, []);
});

test('progressLine and formatDuration', () => {
  assert.equal(formatDuration(0), '0:00');
  assert.equal(formatDuration(59.2), '1:00');
  assert.equal(formatDuration(754), '12:34');
  assert.equal(formatDuration(3_725), '1:02:05');
  const line = progressLine({ completed: 3, total: 12, elapsedMs: 1_500, unit: 'images', width: 60 });
  // 2 per second, 9 left: 4.5 s, shown as 0:05. 59 columns in all: the bar gets the 18 the text leaves, a quarter
  // of them (4.5, rounded) filled.
  assert.equal(line, `[${'#'.repeat(5)}${'-'.repeat(13)}]   3/12   25%  2.00 images/s  0:05 left`);
  assert.equal(line.length, 59);
  assert.match(
    progressLine({ completed: 0, total: 12, elapsedMs: 0, unit: 'images' }),
    /0\/12 +0% +- images\/s +--:-- left$/,
  );
});
