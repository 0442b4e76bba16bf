import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '@vigil/config';
import { runtimeIngestOptions } from './runtime-ingest.options.js';
import { workerCount, workerExecArgv } from './workers.js';

test('RUNTIME_INGEST_WORKERS: a count, or auto for one per CPU; anything else is refused naming it', () => {
  assert.equal(workerCount('1', 2), 1);
  assert.equal(workerCount('3', 2), 3);
  assert.equal(workerCount('auto', 2), 2);
  assert.equal(workerCount('auto', 0), 1);
  for (const bad of ['0', '-1', '1.5', 'two', '', ' 2'])
    assert.throws(
      () => workerCount(bad, 2),
      new RegExp(`RUNTIME_INGEST_WORKERS must be "auto" or a positive whole number, got "${bad}"`),
    );
  const env = (v: string) => ({ RUNTIME_INGEST_WORKERS: v });
  assert.equal(loadConfig(runtimeIngestOptions, { env: {} }).ingestWorkers, '1');
  assert.equal(loadConfig(runtimeIngestOptions, { env: env('auto') }).ingestWorkers, 'auto');
  assert.throws(() => loadConfig(runtimeIngestOptions, { env: env('lots') }), /RUNTIME_INGEST_WORKERS/);
});

test('workers run with larger young-generation semi-spaces unless the operator sized them', () => {
  assert.deepEqual(workerExecArgv([]), ['--max-semi-space-size=64']);
  assert.deepEqual(workerExecArgv(['--enable-source-maps']), [
    '--enable-source-maps',
    '--max-semi-space-size=64',
  ]);
  assert.deepEqual(workerExecArgv(['--max-semi-space-size=16']), ['--max-semi-space-size=16']);
  assert.deepEqual(workerExecArgv(['--max_semi_space_size=8']), ['--max_semi_space_size=8']);
  assert.deepEqual(workerExecArgv([], '--max-old-space-size=512  --max-semi-space-size=32'), []);
});
