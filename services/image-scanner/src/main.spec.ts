// Real: this service's dist/main.js as a child process (config loading, telemetry, Nest, the Kafka adapter).
// No broker is needed: these cases are a bad configuration and a broker that cannot be reached (127.0.0.1:1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

interface Running {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(env: Record<string, string>, args: string[] = []): Running {
  // A clean environment: nothing from the developer's shell (KAFKA_BROKERS, PORT...) leaks into the case.
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  let outRest = '';
  let errRest = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (outRest + chunk).split('\n');
    outRest = parts.pop()!;
    stdout.push(...parts);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (errRest + chunk).split('\n');
    errRest = parts.pop()!;
    stderr.push(...parts);
  });
  const exited = once(child, 'exit').then(([code, signal]) => {
    if (outRest) stdout.push(outRest);
    if (errRest) stderr.push(errRest);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null };
  });
  return { child, stdout, stderr, exited };
}

function jsonLines(lines: string[]): Record<string, unknown>[] {
  return lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  ms: number,
  what: string,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a bad value in the environment: one line on stderr naming it, exit code 2', async () => {
  const run = start({ PORT: 'eighty' });
  const { code } = await run.exited;
  assert.equal(code, 2);
  assert.deepEqual(run.stderr, [
    'image-scanner: config: option port (env PORT): must be an integer from 0 to 65535, got "eighty"',
  ]);
  assert.deepEqual(run.stdout, []);
});

test('a missing conditional value and a bad flag are named the same way', async () => {
  const embedded = start({ EVENT_LOG: 'embedded' });
  assert.equal((await embedded.exited).code, 2);
  assert.deepEqual(embedded.stderr, [
    'image-scanner: config: option databaseUrl (env DATABASE_URL or flag --database-url or file key database.url): is required when EVENT_LOG=embedded but not set',
  ]);
  const flag = start({}, ['--event-log', 'rabbitmq']);
  assert.equal((await flag.exited).code, 2);
  assert.deepEqual(flag.stderr, [
    'image-scanner: config: option eventLog (flag --event-log): must be one of kafka|embedded, got "rabbitmq"',
  ]);
});

test('an unreachable broker: the service stays up, live but not ready, and says it is retrying', async () => {
  const run = start({
    KAFKA_BROKERS: '127.0.0.1:1',
    PORT: '0',
    HOST: '127.0.0.1',
    SERVICE_INSTANCE_ID: 'spec-unreachable',
  });
  try {
    const port = await waitFor(
      () =>
        jsonLines(run.stdout).find(
          (l) => typeof l['msg'] === 'string' && l['msg'].includes('listening on'),
        )?.['port'] as number | undefined,
      15_000,
      'the listening line',
    );
    const base = `http://127.0.0.1:${port}`;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 503);
    const body = (await ready.json()) as { error: Record<string, { status: string }> };
    assert.equal(body.error['eventLog']?.status, 'down');

    const clear = await waitFor(
      () =>
        jsonLines(run.stdout).find((l) =>
          String(l['msg']).startsWith('event log not reachable yet (Kafka brokers 127.0.0.1:1)'),
        ),
      10_000,
      'the not-reachable line',
    );
    assert.equal(clear['level'], 'warn');
    // Retries back off: the second attempt waits longer than the first.
    const retries = await waitFor(
      () => {
        const r = jsonLines(run.stdout).filter((l) =>
          String(l['msg']).startsWith('event log unreachable (Kafka brokers 127.0.0.1:1)'),
        );
        return r.length >= 2 ? r : undefined;
      },
      15_000,
      'two retry lines',
    );
    assert.ok((retries[1]!['retryInMs'] as number) > (retries[0]!['retryInMs'] as number), 'backoff grows');
    assert.match(String(retries[0]!['msg']), /not ready, retrying in \d+\.\d s \(attempt 1\)$/);

    assert.equal(run.child.exitCode, null, 'still running: no crash');
    assert.equal(
      jsonLines(run.stdout).filter((l) => String(l['msg']).includes('starting')).length,
      1,
      'started once: no crash loop',
    );
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 503);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^vigil_event_log_unreachable_total\{service="image-scanner"\} [1-9]\d*$/m);
    assert.match(
      metrics,
      /^vigil_consumer_ready\{group="vigil\.image-scanner",service="image-scanner"\} 0$/m,
    );
  } finally {
    run.child.kill('SIGTERM');
    const { code, signal } = await run.exited;
    assert.ok(code === 0 || signal === 'SIGTERM', `exited after SIGTERM (code ${code}, signal ${signal})`);
  }
});
