// Bad input through the real CLI: exit code 2, nothing on stdout, one line on stderr that names the input and the
// problem — and whatever the data dir held before is still there afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { explain, freshTempDir, runVigil, vigilJson } from './vigil-cli.js';
import type { Json } from './vigil-cli.js';

describe('bad input', () => {
  const tmp = freshTempDir('bad-input');
  const dataDir = tmp.dataDir;
  const brokenIgnoreFile = join(tmp.dir, 'accepted-risks.yaml');
  // Inputs a scanner accepts as paths but cannot read: the scan fails, which is an input error too.
  const garbageImage = join(tmp.dir, 'garbage.tar');
  const yamlBomb = join(tmp.dir, 'bomb.yaml');
  const emptyRoot = join(tmp.dir, 'not-a-node');
  let before1: Json;
  // A port something else already listens on, for `vigil up`.
  const busy = createServer();
  let busyPort = 0;

  before(async () => {
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as AddressInfo).port;
    writeFileSync(garbageImage, Buffer.alloc(256 * 1024, 0x5a));
    // Nine levels of aliases, each nine times the one before: billions of nodes if expanded.
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    writeFileSync(yamlBomb, levels.join('\n') + '\n');
    mkdirSync(emptyRoot);
    // With advisory data, so an image scan gets as far as reading its archive.
    const imported = await runVigil(['db', 'import', 'examples/payments/advisories', '--data-dir', dataDir]);
    assert.equal(imported.code, 0, imported.stderr);
    // An unclosed flow sequence: a YAML syntax error on line 3, not merely a wrong shape.
    writeFileSync(
      brokenIgnoreFile,
      'ignores:\n  - id: CVE-2023-0001\n    scope: [default\n    reason: accepted\n',
    );
    // Something stored that the bad commands must not lose: two snapshots of the default scope.
    await vigilJson(['scan', 'k8s', 'examples/payments/k8s', '--data-dir', dataDir, '--format', 'json']);
    await vigilJson([
      'scan',
      'host',
      '--root',
      'examples/payments/node/files',
      '--node',
      'pay-worker-1',
      '--data-dir',
      dataDir,
      '--format',
      'json',
    ]);
    ({ json: before1 } = await vigilJson(['report', '--list', '--data-dir', dataDir, '--format', 'json']));
    assert.equal((before1.snapshots as Json[]).length, 2);
  });
  after(() => {
    busy.close();
    tmp.remove();
  });

  // Each case: the arguments, and what its one line must say (the input it names and the problem).
  const cases: { name: string; args: () => string[]; says: RegExp[] }[] = [
    { name: 'an unknown command', args: () => ['frobnicate'], says: [/"frobnicate"/, /unknown command/] },
    {
      name: 'a port already in use',
      args: () => ['up', '--port', String(busyPort)],
      says: [new RegExp(`^vigil up: 127\\.0\\.0\\.1:\\d+ is already in use \\(give another --port\\)$`)],
    },
    {
      name: 'an empty --data-dir',
      args: () => ['report', '--data-dir', ''],
      says: [/--data-dir/, /is empty/],
    },
    {
      name: 'an image archive path that does not exist',
      args: () => ['scan', 'image', './no-such-image.tar'],
      says: [/no-such-image\.tar/, /does not exist/],
    },
    {
      name: 'a flag given without its value',
      args: () => ['report', '--cluster', '--list'],
      says: [/--cluster/, /needs a value/],
    },
    {
      name: 'two report modes at once',
      args: () => ['report', '--list', '--diff', '1..2'],
      says: [/--list/, /--diff/, /give one/],
    },
    {
      name: 'vigil scan image without an image',
      args: () => ['scan', 'image'],
      says: [/scan image/, /image reference or archive/],
    },
    {
      name: 'a manifest path that does not exist',
      args: () => ['scan', 'k8s', '/does/not/exist'],
      says: [/\/does\/not\/exist/, /does not exist/],
    },
    {
      name: 'a host root that is a file',
      args: () => ['scan', 'host', '--root', '/etc/passwd'],
      says: [/\/etc\/passwd/, /not a directory/],
    },
    {
      name: 'an unknown --format',
      args: () => ['report', '--format', 'xml'],
      says: [/^vigil report: --format xml is not one of table\|json/],
    },
    {
      name: 'an unknown --fail-on severity',
      args: () => ['scan', 'k8s', 'examples/payments/k8s', '--fail-on', 'severe'],
      says: [/^vigil scan k8s: --fail-on severe is not one of critical\|/],
    },
    {
      name: 'an ignore file with a YAML syntax error',
      args: () => ['scan', 'k8s', 'examples/payments/k8s', '--ignore-file', brokenIgnoreFile],
      says: [new RegExp(brokenIgnoreFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')), /YAML/i, /line \d+/],
    },
    {
      name: 'an image archive that is not a tar',
      args: () => ['scan', 'image', garbageImage],
      // The target once: the engine's error names it already.
      says: [/^vigil scan image: /, /garbage\.tar/, /^(?!.*garbage\.tar.*garbage\.tar)/],
    },
    {
      name: 'a registry reference whose registry cannot be reached',
      // Port 1 on loopback: nothing listens there, and no request leaves the machine.
      args: () => ['scan', 'image', '127.0.0.1:1/acme/app:1'],
      says: [
        /^vigil scan image: 127\.0\.0\.1:1\/acme\/app:1: /,
        /cannot reach registry 127\.0\.0\.1:1/,
        /^(?!.*acme\/app:1.*acme\/app:1)/,
      ],
    },
    {
      name: 'a manifest that is a YAML alias bomb',
      args: () => ['scan', 'k8s', yamlBomb],
      says: [/^vigil scan k8s: /, /bomb\.yaml/],
    },
    {
      name: 'a host root with no etc/ in it',
      args: () => ['scan', 'host', '--root', emptyRoot, '--node', 'pay-worker-9'],
      says: [/^vigil scan host: /, /pay-worker-9|not-a-node/],
    },
    {
      name: 'a snapshot version that does not exist',
      args: () => ['report', '--snapshot', '99'],
      says: [/\b99\b/, /no snapshot/, /default/],
    },
    {
      name: 'a diff range that is not FROM..TO',
      args: () => ['report', '--diff', '3-1'],
      says: [/--diff/, /"3-1"/, /\.\./],
    },
  ];

  for (const c of cases) {
    test(`${c.name}: exit 2 and one line naming it`, async () => {
      // A case about the data dir itself brings its own; every other one acts on the deployment made above.
      const args = c.args().includes('--data-dir') ? c.args() : [...c.args(), '--data-dir', dataDir];
      const r = await runVigil(args);
      assert.equal(r.code, 2, explain(args, r));
      assert.equal(r.stdout, '', `nothing on stdout: ${explain(args, r)}`);
      const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
      assert.equal(lines.length, 1, `exactly one line on stderr: ${explain(args, r)}`);
      for (const re of c.says) assert.match(lines[0]!, re);
      assert.doesNotMatch(lines[0]!, /^\s+at |Error: /, 'a message, not a stack trace');
    });
  }

  test('after the bad commands, the snapshots made before are all still there, unchanged', async () => {
    const { json } = await vigilJson(['report', '--list', '--data-dir', dataDir, '--format', 'json']);
    assert.deepEqual(json, before1);
  });
});
