// Real: Postgres (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres) holding the embedded event
// log, the embedded adapter, pg and its OpenTelemetry instrumentation, NestJS over HTTP. Spans stay in memory.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { setLogLevel, shutdownTelemetry, startTelemetry, withSpan } from '@vigil/telemetry';
import { composeServiceModules, createServiceResources, serviceKitOptions } from './index.js';
import { loadConfig } from '@vigil/config';

const ADMIN_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const exporter = new InMemorySpanExporter();
// Before anything loads pg: the kit loads the adapters lazily, so this is what a service's main does too.
startTelemetry({
  serviceName: 'kit-int-spec',
  serviceVersion: '0.0.0',
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
setLogLevel('warn');
after(() => shutdownTelemetry());
// Static imports run before the line above, so the store (and with it pg) is imported here, after telemetry.
const { createDatabase, dropDatabase, withDatabase } = await import('@vigil/store');

test('embedded log from configuration: ready with the database answering, and pg is traced', async () => {
  const name = `vigil_kit_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await createDatabase(ADMIN_URL, name);
  try {
    const config = loadConfig(serviceKitOptions, {
      env: { EVENT_LOG: 'embedded', DATABASE_URL: withDatabase(ADMIN_URL, name) },
    });
    const resources = await createServiceResources(config, 'kit-int-spec');
    assert.ok(resources.sql, 'DATABASE_URL gives the service its database');
    const root = composeServiceModules(
      {
        identity: { service: 'kit-int-spec', version: '0', instance: 'i' },
        eventLog: resources.eventLog,
        sql: resources.sql,
        onShutdown: () => resources.close(),
      },
      [],
    );
    const app = await NestFactory.create(root, { logger: false });
    await app.listen(0, '127.0.0.1');
    try {
      const { port } = app.getHttpServer().address() as { port: number };
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      const body = (await ready.json()) as { details: Record<string, { status: string }> };
      assert.equal(ready.status, 200, JSON.stringify(body));
      assert.equal(body.details['eventLog']?.status, 'up');
      assert.equal(body.details['database']?.status, 'up');

      await withSpan('probe', () => resources.sql!.query('select 1 as one'));
      const probe = exporter.getFinishedSpans().find((s) => s.name === 'probe')!;
      const query = exporter
        .getFinishedSpans()
        .find(
          (s) => s.name.startsWith('pg.query') && s.parentSpanContext?.spanId === probe.spanContext().spanId,
        );
      assert.ok(
        query,
        `the pg instrumentation saw the query; spans: ${exporter
          .getFinishedSpans()
          .map((s) => s.name)
          .join(', ')}`,
      );
    } finally {
      await app.close();
    }
  } finally {
    await dropDatabase(ADMIN_URL, name);
  }
});
