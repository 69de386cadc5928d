import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';

/**
 * infra/bin/ensure-system-packages.sh run with a PATH of stand-ins only, so each case decides what is installed,
 * who the user is and whether sudo works; apt-get and sudo stand-ins record how they were called.
 */
const SCRIPT = fileURLToPath(new URL('../../infra/bin/ensure-system-packages.sh', import.meta.url));
const ALL = [
  'redis-server',
  'postgresql',
  'pgbouncer',
  'openjdk-17-jre-headless',
  'maven',
  'python3',
  'python3-pip',
  'python3-venv',
  'chromium',
  'fonts-dejavu-core',
  'fonts-droid-fallback',
];
const root = mkdtempSync(join(tmpdir(), 'imgpipe-system-packages-'));
after(() => rmSync(root, { recursive: true, force: true }));

interface Case {
  uid: number;
  /**
   * Commands present besides id (redis-server, pg_ctlcluster, pgbouncer, java, mvn, python3 with pip, chromium),
   * and 'fonts' for the two font files the OCR tests render with.
   */
  present?: string[];
  /** 'none': no sudo; 'password': sudo -n refuses; 'works': sudo -n runs the command. */
  sudo?: 'none' | 'password' | 'works';
  aptFails?: boolean;
}

let caseNumber = 0;
function run(options: Case) {
  const bin = join(root, `case-${++caseNumber}`);
  mkdirSync(bin);
  const log = join(bin, 'calls.log');
  const stub = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  // What the script (and the sudo stand-in) need from coreutils when it installs.
  for (const tool of ['mktemp', 'cat', 'rm', 'env', 'true']) symlinkSync(which(tool), join(bin, tool));
  stub('id', `echo ${options.uid}`);
  const fonts = join(bin, 'fonts');
  for (const command of options.present ?? []) {
    if (command !== 'fonts') {
      stub(command, 'exit 0');
      continue;
    }
    for (const font of ['dejavu/DejaVuSans.ttf', 'droid/DroidSansFallbackFull.ttf']) {
      mkdirSync(join(fonts, 'truetype', font, '..'), { recursive: true });
      writeFileSync(join(fonts, 'truetype', font), '');
    }
  }
  stub(
    'apt-get',
    `echo "apt-get $*" >> ${log}; ${options.aptFails ? 'echo "E: no such package" >&2; exit 100' : 'exit 0'}`,
  );
  if (options.sudo === 'password') stub('sudo', 'echo "sudo: a password is required" >&2; exit 1');
  if (options.sudo === 'works') stub('sudo', `echo "sudo $*" >> ${log}; [ "$1" = -n ] && shift; exec "$@"`);
  // IMGPIPE_SBIN_DIR: where the script looks for pgbouncer besides PATH (the machine's /usr/sbin otherwise);
  // IMGPIPE_FONTS_DIR: where it looks for the fonts (the machine's /usr/share/fonts otherwise).
  const result = spawnSync('/bin/bash', [SCRIPT], {
    env: { PATH: bin, HOME: root, IMGPIPE_SBIN_DIR: bin, IMGPIPE_FONTS_DIR: fonts },
    encoding: 'utf8',
  });
  return { ...result, calls: existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [] };
}

function which(tool: string): string {
  for (const dir of ['/usr/bin', '/bin']) if (existsSync(join(dir, tool))) return join(dir, tool);
  throw new Error(`${tool} not found`);
}

const ALL_COMMANDS = ['redis-server', 'pg_ctlcluster', 'pgbouncer', 'java', 'mvn', 'python3', 'chromium', 'fonts'];

test('nothing missing: silent, installs nothing, whoever runs it', () => {
  for (const uid of [0, 1000]) {
    const result = run({ uid, present: ALL_COMMANDS });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, '');
    assert.deepEqual(result.calls, []);
  }
});

test('not root and no sudo: one message naming the packages and the command, exit 1, nothing run', () => {
  for (const sudo of ['none', 'password'] as const) {
    const result = run({ uid: 1000, present: ['java', 'mvn'], sudo });
    assert.equal(result.status, 1);
    assert.equal(result.stdout, '');
    assert.deepEqual(result.calls, [], 'apt-get never called');
    // java and mvn are present: every package but theirs is missing, in the script's order.
    const missing = ALL.filter((name) => name !== 'openjdk-17-jre-headless' && name !== 'maven');
    assert.match(result.stderr, new RegExp(`missing: ${missing.join(' ')}\\.`));
    assert.ok(
      result.stderr.includes(`  apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}\n`),
      result.stderr,
    );
    assert.equal(result.stderr.trim().split('\n').length, 3, 'one message');
  }
});

test('root: apt-get installs exactly the missing packages', () => {
  const result = run({
    uid: 0,
    present: ['redis-server', 'pg_ctlcluster', 'pgbouncer', 'python3', 'chromium', 'fonts'],
  });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(result.calls, [
    'apt-get update -qq',
    'apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless maven',
  ]);
  assert.equal(result.stderr, 'imgpipe: installing Debian packages: openjdk-17-jre-headless maven\n');
  assert.equal(result.stdout, '');
});

test('the fonts the OCR tests render with are installed when their files are missing', () => {
  const result = run({ uid: 0, present: ALL_COMMANDS.filter((command) => command !== 'fonts') });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(result.calls, [
    'apt-get update -qq',
    'apt-get install -y -qq --no-install-recommends fonts-dejavu-core fonts-droid-fallback',
  ]);
});

test('not root with password-less sudo: through sudo -n', () => {
  const result = run({ uid: 1000, sudo: 'works' });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(result.calls, [
    'sudo -n true',
    'sudo -n env DEBIAN_FRONTEND=noninteractive apt-get update -qq',
    'apt-get update -qq',
    `sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${ALL.join(' ')}`,
    `apt-get install -y -qq --no-install-recommends ${ALL.join(' ')}`,
  ]);
  assert.match(result.stderr, /\(with sudo\)/);
});

test('apt-get failing: its output, then the command to run, exit 1', () => {
  const result = run({
    uid: 0,
    present: ['redis-server', 'pg_ctlcluster', 'pgbouncer', 'java', 'python3', 'chromium', 'fonts'],
    aptFails: true,
  });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /E: no such package/);
  assert.match(
    result.stderr,
    /could not install maven .*apt-get update && apt-get install -y --no-install-recommends maven$/m,
  );
});
