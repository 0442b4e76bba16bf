// The evidence signing key's life on disk (created once 0600 in the data dir, reused, refused when others can read
// it, or read from a given path such as a Secret mount), verify's input errors (exit 2, naming the input) and a file
// that is no readable bundle (truncated, not a ZIP, damaged): a failed verification (exit 1), naming the file.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parsePublicKey, publicKeyFingerprint, writeZip } from '@vigil/report';
import type { Output } from '../output.js';
import { UsageError } from '../usage-error.js';
import { SIGNING_KEY_FILE, evidenceKey, evidenceVerify, loadSigningKey } from './evidence.command.js';

const tmp = mkdtempSync(join(tmpdir(), 'vigil-evidence-cmd-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function capture(): Output & { results: string[]; warnings: string[] } {
  const results: string[] = [];
  const warnings: string[] = [];
  return {
    results,
    warnings,
    result: (t) => results.push(t),
    progress: () => undefined,
    warn: (l) => warnings.push(l),
  };
}

describe('evidence signing key', () => {
  it('is generated once in the data dir with mode 0600, then reused', async () => {
    const dataDir = join(tmp, 'd1');
    const first = await loadSigningKey({ dataDir });
    assert.equal(first.created, true);
    assert.equal(first.path, join(dataDir, SIGNING_KEY_FILE));
    assert.equal(statSync(first.path).mode & 0o777, 0o600);
    const second = await loadSigningKey({ dataDir });
    assert.equal(second.created, false);
    assert.equal(second.fingerprint, first.fingerprint);
    assert.match(first.fingerprint, /^sha256:[0-9a-f]{64}$/);
  });

  it('two processes starting at once end with one key', async () => {
    const dataDir = join(tmp, 'd2');
    const keys = await Promise.all([
      loadSigningKey({ dataDir }),
      loadSigningKey({ dataDir }),
      loadSigningKey({ dataDir }),
    ]);
    assert.equal(new Set(keys.map((k) => k.fingerprint)).size, 1);
    assert.equal(keys.filter((k) => k.created).length, 1);
  });

  it('refuses a data dir key others can read', async () => {
    const dataDir = join(tmp, 'd3');
    const k = await loadSigningKey({ dataDir });
    chmodSync(k.path, 0o644);
    await assert.rejects(
      loadSigningKey({ dataDir }),
      (e: Error) => e instanceof UsageError && /readable by others \(mode 644\)/.test(e.message),
    );
  });

  it('names the command it loads the key for in its errors: vigil evidence by default', async () => {
    const dataDir = join(tmp, 'd5');
    const k = await loadSigningKey({ dataDir });
    chmodSync(k.path, 0o640);
    await assert.rejects(
      loadSigningKey({ dataDir, command: 'vigil report' }),
      (e: Error) =>
        e instanceof UsageError &&
        e.message.startsWith(`vigil report: signing key ${k.path} is readable by others (mode 640)`),
    );
    await assert.rejects(
      loadSigningKey({ dataDir: tmp, keyPath: join(tmp, 'nope.pem'), command: 'vigil up' }),
      (e: Error) => e.message === `vigil up: signing key ${join(tmp, 'nope.pem')}: no such file or directory`,
    );
    await assert.rejects(
      loadSigningKey({ dataDir, keyPath: ' ' }),
      (e: Error) => e.message === 'vigil evidence: --signing-key is empty',
    );
  });

  it('reads a key given by path (a Secret mount) as is, and names a bad one', async () => {
    const path = join(tmp, 'secret.pem');
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o644 });
    const k = await loadSigningKey({ dataDir: join(tmp, 'unused'), keyPath: path });
    assert.equal(k.fingerprint, publicKeyFingerprint(publicKey));
    const rsa = join(tmp, 'rsa.pem');
    writeFileSync(
      rsa,
      generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    await assert.rejects(
      loadSigningKey({ dataDir: tmp, keyPath: rsa }),
      /rsa\.pem: is a rsa key, evidence is signed with Ed25519/,
    );
    await assert.rejects(
      loadSigningKey({ dataDir: tmp, keyPath: join(tmp, 'nope.pem') }),
      /nope\.pem: no such file or directory/,
    );
  });

  it('`evidence key` exports the public key whose fingerprint the bundles print', async () => {
    const k = await loadSigningKey({ dataDir: join(tmp, 'd4') });
    const out = capture();
    await evidenceKey({ signingKey: k, out });
    const pub = parsePublicKey(out.results[0]!, 'stdout');
    assert.equal(publicKeyFingerprint(pub), k.fingerprint);
    assert.deepEqual(out.warnings, [
      `created the deployment's evidence signing key ${k.path}`,
      `fingerprint ${k.fingerprint}`,
    ]);
    assert.doesNotMatch(out.results[0]!, /PRIVATE/);
  });
});

describe('evidence verify input errors', () => {
  const pub = join(tmp, 'good.pub');
  writeFileSync(pub, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
  const notZip = join(tmp, 'notes.zip');
  writeFileSync(notZip, 'not a zip at all');
  const verify = (bundlePath: string, keyPath: string | undefined) =>
    evidenceVerify({ bundlePath, keyPath, format: 'table', out: capture() });
  const usage = (re: RegExp) => (e: Error) => e instanceof UsageError && re.test(e.message);

  it('no --key: refused, saying why the key must come from elsewhere', async () => {
    await assert.rejects(verify(notZip, undefined), usage(/--key names the deployment's public key/));
  });
  it('a bundle that does not exist: a usage error (exit 2)', async () => {
    await assert.rejects(verify(join(tmp, 'missing.zip'), pub), usage(/missing\.zip: no such file/));
  });
  it('a missing --key stays a usage error even when the bundle is unreadable', async () => {
    await assert.rejects(
      verify(notZip, join(tmp, 'missing.pub')),
      usage(/--key .*missing\.pub: no such file/),
    );
  });
});

describe('evidence verify of a file that is no readable bundle: verification failed (exit 1)', () => {
  const pub = join(tmp, 'verify.pub');
  const publicKey = generateKeyPairSync('ed25519').publicKey;
  writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
  const fingerprint = publicKeyFingerprint(publicKey);
  const zip = Buffer.from(
    writeZip(
      [
        { name: 'manifest.json', data: Buffer.from('{"kind":"vigil.evidence-bundle"}') },
        { name: 'findings.csv', data: Buffer.alloc(200_000, 'a,b,c\n') },
      ],
      new Date('2026-01-01T00:00:00Z'),
    ),
  );
  const cases: [string, Buffer, RegExp][] = [
    [
      'truncated',
      zip.subarray(0, 100),
      /no ZIP end-of-central-directory record \(not a ZIP archive, or truncated\)/,
    ],
    ['not a ZIP', Buffer.from('not a zip at all'), /no ZIP end-of-central-directory record/],
    ['with a damaged central directory', damagedDirectory(zip), /central directory entry 1 of 2 is damaged/],
  ];
  for (const [what, bytes, reason] of cases) {
    it(`${what}: one line naming the file and why, in table and json`, async () => {
      const path = join(tmp, `${what.replace(/\W+/g, '-')}.zip`);
      writeFileSync(path, bytes);
      const table = capture();
      assert.equal(await evidenceVerify({ bundlePath: path, keyPath: pub, format: 'table', out: table }), 1);
      assert.equal(table.results.length, 1);
      assert.ok(table.results[0]!.startsWith(`NOT verified ${path}: `), table.results[0]);
      assert.match(table.results[0]!, reason);
      assert.doesNotMatch(table.results[0]!, /\n/);
      const json = capture();
      assert.equal(await evidenceVerify({ bundlePath: path, keyPath: pub, format: 'json', out: json }), 1);
      const r = JSON.parse(json.results[0]!) as {
        bundle: string;
        ok: boolean;
        keyFingerprint: string;
        problems: { file?: string; problem: string }[];
      };
      assert.equal(r.bundle, path);
      assert.equal(r.ok, false);
      assert.equal(r.keyFingerprint, fingerprint);
      assert.equal(r.problems.length, 1);
      assert.equal(r.problems[0]!.file, undefined);
      assert.match(r.problems[0]!.problem, reason);
    });
  }
  it('an archive whose entries are damaged names them (exit 1)', async () => {
    const damaged = Buffer.from(zip);
    damaged[40] = (damaged[40] ?? 0) ^ 0xff; // in manifest.json's local header
    const path = join(tmp, 'damaged-entry.zip');
    writeFileSync(path, damaged);
    const out = capture();
    assert.equal(await evidenceVerify({ bundlePath: path, keyPath: pub, format: 'table', out }), 1);
    assert.match(out.results[0]!, /manifest\.json: damaged in the archive/);
  });
});

/** The archive with its first central directory entry's signature broken. */
function damagedDirectory(zip: Buffer): Buffer {
  const copy = Buffer.from(zip);
  const at = copy.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  assert.ok(at > 0);
  copy[at + 3] = 0x09;
  return copy;
}

describe('evidence verify key errors', () => {
  const pub = join(tmp, 'good2.pub');
  writeFileSync(pub, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
  const notZip = join(tmp, 'notes2.zip');
  writeFileSync(notZip, 'not a zip at all');
  const verify = (bundlePath: string, keyPath: string | undefined) =>
    evidenceVerify({ bundlePath, keyPath, format: 'table', out: capture() });
  const usage = (re: RegExp) => (e: Error) => e instanceof UsageError && re.test(e.message);
  it('a private key or a non-key given as --key', async () => {
    const priv = join(tmp, 'priv.pem');
    writeFileSync(priv, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await assert.rejects(verify(notZip, priv), usage(/priv\.pem: holds a private key/));
    const junk = join(tmp, 'junk.pub');
    writeFileSync(junk, readFileSync(notZip));
    await assert.rejects(verify(notZip, junk), usage(/junk\.pub: not a PEM public key/));
  });
});
