// Two vigil processes on one data dir: a one-shot scan while `vigil up` runs attaches to the embedded Postgres
// that `vigil up` started (one postmaster, never two), its scan lands in the same deployment, and SIGTERM stops
// `vigil up` cleanly, taking its postmaster with it.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  VIGIL_BIN,
  cliEnv,
  explain,
  freshTempDir,
  httpStatus,
  postmastersFor,
  startBackground,
  vigilJson,
  waitFor,
  type Background,
} from './vigil-cli.js';
import type { Json } from './vigil-cli.js';

describe('vigil up and a one-shot command on one data dir', () => {
  const tmp = freshTempDir('two-processes');
  const dataDir = tmp.dataDir;
  let up: Background | undefined;
  let baseUrl = '';

  after(async () => {
    if (up) await up.stop('SIGKILL', 5_000);
    // A postmaster this file's vigil processes left behind (the failure the last test looks for) is stopped
    // here by its pid, so a failing run does not leave a server running on a deleted directory.
    for (const { pid } of postmastersFor(dataDir)) process.kill(pid, 'SIGTERM');
    await waitFor(
      'leftover postmasters to exit',
      () => (postmastersFor(dataDir).length === 0 ? true : undefined),
      15_000,
    ).catch(() => undefined);
    tmp.remove();
  });

  test('vigil up --port 0 serves /readyz on the port it picked', async () => {
    up = startBackground('vigil up', VIGIL_BIN, ['up', '--port', '0', '--data-dir', dataDir], cliEnv());
    const started = up;
    baseUrl = await waitFor(
      'vigil up to say where it serves',
      () => {
        if (started.child.exitCode !== null)
          throw new Error(`vigil up exited ${started.child.exitCode}: ${started.output().stderr}`);
        return /serving (http:\/\/[^\s]+?)\s/.exec(started.output().stderr)?.[1]?.replace(/\/$/, '');
      },
      120_000,
    );
    assert.match(baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(new URL(baseUrl).port, '0', 'a real port was picked');
    await waitFor(
      '/readyz to answer 200',
      async () => ((await httpStatus(`${baseUrl}/readyz`)) === 200 ? true : undefined),
      60_000,
    );
    assert.equal(await httpStatus(`${baseUrl}/healthz`), 200);
    assert.equal(postmastersFor(dataDir).length, 1, "vigil up runs the data dir's postmaster");
  });

  test('a one-shot scan attaches to it instead of starting a second postmaster', async () => {
    assert.ok(up, 'vigil up is running');
    const pidsBefore = postmastersFor(dataDir).map((p) => p.pid);
    const scan = vigilJson([
      'scan',
      'k8s',
      'examples/payments/k8s',
      '--data-dir',
      dataDir,
      '--format',
      'json',
    ]);
    // Sample the process table while the one-shot runs: at no point a second postmaster for the data dir.
    const seen = new Set<number>(pidsBefore);
    let running = true;
    const sampler = (async () => {
      while (running) {
        for (const p of postmastersFor(dataDir)) seen.add(p.pid);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    let scanJson: Json;
    try {
      ({ json: scanJson } = await scan);
    } finally {
      running = false;
      await sampler;
    }
    assert.deepEqual(
      [...seen],
      pidsBefore,
      `only vigil up's postmaster ever ran: ${JSON.stringify(postmastersFor(dataDir))}`,
    );
    assert.equal(scanJson.scanner, 'config');
    assert.equal(scanJson.status, 'ok', 'the config-audit engine answered through the running deployment');
    assert.ok((scanJson.findings as Json[]).length > 0);

    const { json: report } = await vigilJson(['report', '--data-dir', dataDir, '--format', 'json']);
    assert.equal(report.snapshotVersion, 1, 'the scan made the first snapshot of the deployment');
    const { json: list } = await vigilJson(['report', '--list', '--data-dir', dataDir, '--format', 'json']);
    assert.equal((list.snapshots as Json[]).length, 1);
    assert.equal((list.snapshots as Json[])[0]?.contentHash, report.contentHash);
    assert.deepEqual(
      postmastersFor(dataDir).map((p) => p.pid),
      pidsBefore,
      "the one-shot left vigil up's postmaster running",
    );
    assert.equal(
      await httpStatus(`${baseUrl}/readyz`),
      200,
      'vigil up is still ready after the one-shot left',
    );
  });

  test('SIGTERM stops vigil up with exit 0 and no postmaster left behind', async () => {
    assert.ok(up, 'vigil up is running');
    const r = await up.stop('SIGTERM', 30_000);
    up = undefined;
    assert.equal(
      r.signal,
      null,
      `vigil up exited by itself, not killed by the signal: ${explain(['up'], r)}`,
    );
    assert.equal(r.code, 0, explain(['up'], r));
    await waitFor(
      'the postmaster to exit',
      () => (postmastersFor(dataDir).length === 0 ? true : undefined),
      15_000,
    );
  });
});
