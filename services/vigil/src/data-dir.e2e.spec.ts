// A mistyped --data-dir through the real `vigil` binary: the commands that only read (report, snapshots, diff,
// exception list, token list, evidence export, db status) refuse a data dir that does not exist or holds no
// deployment with one line and exit 2, and leave nothing behind (they used to start a fresh 47 MB Postgres cluster
// there and say "no snapshot yet"); a data dir that is a file is one line naming it, exit 2, for every command; once
// a deployment is there, the reading commands run. Also `vigil evidence verify` of a truncated bundle: exit 1.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { writeZip } from '@vigil/report';
import { vigilCli } from './vigil-cli.spec-helper.js';

const tmp = mkdtempSync(join(tmpdir(), 'vigil-data-dir-e2e-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const READERS: [string, string[]][] = [
  ['vigil report', ['report']],
  ['vigil snapshots', ['snapshots']],
  ['vigil diff', ['diff', '1', '2']],
  ['vigil exception list', ['exception', 'list']],
  ['vigil token list', ['token', 'list']],
  ['vigil evidence export', ['evidence', 'export', '-o', join(tmp, 'bundle.zip')]],
  ['vigil db status', ['db', 'status']],
];

describe('a data dir that holds no deployment, through the vigil binary', { timeout: 180_000 }, () => {
  it('a missing one: each reading command refuses it in one line, exit 2, and creates nothing', async () => {
    const dir = join(tmp, 'x', 'y');
    const vigil = vigilCli(dir);
    for (const [name, args] of READERS) {
      const r = await vigil(...args);
      assert.equal(r.code, 2, `${name}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.equal(
        r.stderr,
        `${name}: --data-dir ${dir} does not exist, so it holds no vigil deployment (run a scan there first, or check the path)\n`,
      );
    }
    assert.equal(existsSync(join(tmp, 'x')), false, 'nothing was created on the way');
    assert.equal(existsSync(join(tmp, 'bundle.zip')), false);
  });

  it('an empty one: refused the same way, and left empty', async () => {
    const dir = join(tmp, 'empty');
    mkdirSync(dir);
    const vigil = vigilCli(dir);
    for (const [name, args] of READERS) {
      const r = await vigil(...args);
      assert.equal(r.code, 2, `${name}: ${r.stdout}${r.stderr}`);
      assert.equal(
        r.stderr,
        `${name}: --data-dir ${dir} holds no vigil deployment (run a scan there first, or check the path)\n`,
      );
    }
    assert.deepEqual(readdirSync(dir), []);
  });

  it('a file: one line naming it, exit 2, for reading and writing commands alike', async () => {
    const file = join(tmp, 'hostname');
    writeFileSync(file, 'node-1\n');
    const commands: [string, string[]][] = [
      READERS[0]!,
      READERS[5]!,
      ['vigil scan k8s', ['scan', 'k8s', 'examples/payments/k8s']],
      ['vigil evidence key', ['evidence', 'key']],
      ['vigil token create', ['token', 'create', '--role', 'viewer', '--all-clusters']],
    ];
    for (const [name, args] of commands) {
      const r = await vigilCli(file)(...args);
      assert.equal(r.code, 2, `${name}: ${r.stdout}${r.stderr}`);
      assert.equal(
        r.stderr,
        `${name}: --data-dir ${file} is a file, not a directory (the data dir holds the deployment)\n`,
      );
      const under = join(file, 'data');
      const r2 = await vigilCli(under)(...args);
      assert.equal(r2.code, 2, `${name}: ${r2.stdout}${r2.stderr}`);
      assert.equal(r2.stderr, `${name}: --data-dir ${under} cannot be a directory: ${file} is a file\n`);
    }
  });

  it('once a deployment is there, the reading commands run', async () => {
    const dir = join(tmp, 'deployed');
    const vigil = vigilCli(dir);
    const migrated = await vigil('db', 'migrate');
    assert.equal(migrated.code, 0, migrated.stderr);
    const listed = await vigil('snapshots', '--format', 'json');
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual((JSON.parse(listed.stdout) as { snapshots: unknown[] }).snapshots, []);
  });
});

describe('vigil evidence verify of a truncated bundle, through the vigil binary', () => {
  it('is a failed verification: exit 1, one line naming the file; a missing file or key stays exit 2', async () => {
    const pub = join(tmp, 'vigil.pub');
    writeFileSync(pub, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    const zip = writeZip([{ name: 'manifest.json', data: Buffer.alloc(50_000, '{}') }], new Date());
    const truncated = join(tmp, 't.zip');
    writeFileSync(truncated, zip.subarray(0, Math.floor(zip.length / 2)));
    const vigil = vigilCli(join(tmp, 'unused'));
    const r = await vigil('evidence', 'verify', truncated, '--key', pub);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      r.stdout,
      `NOT verified ${truncated}: no ZIP end-of-central-directory record (not a ZIP archive, or truncated)\n`,
    );
    assert.equal(r.stderr, '');
    const gone = await vigil('evidence', 'verify', join(tmp, 'gone.zip'), '--key', pub);
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, /gone\.zip: no such file or directory\n$/);
    const noKey = await vigil('evidence', 'verify', truncated, '--key', join(tmp, 'gone.pub'));
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /--key .*gone\.pub: no such file or directory\n$/);
    assert.equal(existsSync(join(tmp, 'unused')), false, 'verify does not touch the data dir');
  });
});
