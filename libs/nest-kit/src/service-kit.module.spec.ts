// Real: NestJS over HTTP (express), terminus, the kit's supervisor and health checks, prom-client.
// Fake: the EventLog (in memory, switchable unreachable) — the Kafka path is the services' integration test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Inject,
  Injectable,
  Module,
  type INestApplication,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TOPICS } from '@vigil/contracts';
import { setLogLevel } from '@vigil/telemetry';
import { ConsumerSupervisor, EVENT_LOG, composeServiceModules, createServiceContext } from './index.js';
import { InMemoryEventLog } from './in-memory-event-log.fixture.js';

setLogLevel('silent');
const identity = { service: 'kit-spec', version: '0.0.0', instance: 'spec-1' };

@Injectable()
class SpecConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(EVENT_LOG) private readonly log: InMemoryEventLog,
    @Inject(ConsumerSupervisor) private readonly supervisor: ConsumerSupervisor,
  ) {}
  onApplicationBootstrap(): void {
    this.supervisor.run({
      eventLog: this.log,
      group: 'vigil.kit-spec',
      topics: [TOPICS.scans],
      handler: async () => undefined,
    });
  }
}

@Module({ providers: [SpecConsumer] })
class SpecModule {}

async function until(probe: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function startApp(
  log: InMemoryEventLog,
  onShutdown?: () => Promise<void>,
): Promise<{ app: INestApplication; base: string }> {
  const root = composeServiceModules(
    { identity, eventLog: log, logDescription: 'fake log', ...(onShutdown ? { onShutdown } : {}) },
    [SpecModule],
  );
  const app = await NestFactory.create(root, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, base: `http://127.0.0.1:${port}` };
}

test('readiness is false while the log is unreachable and turns true by itself when it answers', async () => {
  const log = new InMemoryEventLog();
  log.reachable = false;
  const { app, base } = await startApp(log);
  try {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const down = await fetch(`${base}/readyz`);
    assert.equal(down.status, 503);
    const body = (await down.json()) as { error: Record<string, { status: string }> };
    assert.equal(body.error['eventLog']?.status, 'down');
    assert.equal(body.error['consumers']?.status, 'down');
    assert.ok(!log.calls.some((c) => c.startsWith('subscribe')), 'no subscription while the log is down');

    log.reachable = true;
    assert.ok(
      await until(async () => (await fetch(`${base}/readyz`)).status === 200, 5_000),
      'ready once the log answers',
    );
    assert.deepEqual(
      log.calls.filter((c) => c !== 'ensureTopics'),
      ['subscribe vigil.kit-spec'],
    );
    assert.ok(
      log.topics.has(TOPICS.scans) && log.topics.get(TOPICS.scanRequests.image) === 6,
      'topics created with their partitions',
    );

    const metrics = await fetch(`${base}/metrics`);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await metrics.text();
    assert.match(text, /^vigil_consumer_ready\{group="vigil\.kit-spec"\} 1$/m);
    assert.match(text, /^vigil_event_log_unreachable_total [1-9]\d*$/m);
  } finally {
    await app.close();
  }
});

test('shutdown stops the consumers before the log is closed', async () => {
  const log = new InMemoryEventLog();
  const { app, base } = await startApp(log, () => log.close());
  assert.ok(await until(async () => (await fetch(`${base}/readyz`)).status === 200, 5_000));
  await app.close();
  assert.deepEqual(log.calls.slice(-2), ['stop vigil.kit-spec', 'close']);
});

test('the one-shot context runs the same modules without any HTTP server', async () => {
  const log = new InMemoryEventLog();
  const ctx = await createServiceContext({ identity, eventLog: log, modules: [SpecModule] });
  const supervisor = ctx.get(ConsumerSupervisor);
  assert.ok(await until(async () => supervisor.allReady(), 5_000));
  assert.deepEqual(supervisor.status(), [
    { group: 'vigil.kit-spec', topics: [TOPICS.scans], state: 'ready' },
  ]);
  await ctx.close();
  assert.equal(
    log.calls.at(-1),
    'stop vigil.kit-spec',
    'the caller owns the log: the context does not close it',
  );
});
