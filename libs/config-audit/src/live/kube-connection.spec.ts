import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { connect } from './kube-connection.js';

test('with no kubeconfig anywhere it says what to give, in the words of the command line', () => {
  const home = mkdtempSync(join(tmpdir(), 'vigil-kube-home-'));
  const saved = { HOME: process.env['HOME'], KUBECONFIG: process.env['KUBECONFIG'] };
  process.env['HOME'] = home;
  delete process.env['KUBECONFIG'];
  try {
    assert.throws(
      () => connect({}),
      new RegExp(
        `^Error: kubeconfig ${join(home, '.kube', 'config').replace(/[.]/g, '\\.')}: no such file and KUBECONFIG is not set ` +
          '\\(give a kubeconfig file: vigil scan k8s --live --kubeconfig PATH, or run inside a pod to use its service account\\)$',
      ),
    );
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(home, { recursive: true, force: true });
  }
});
