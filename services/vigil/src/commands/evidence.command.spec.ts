// The evidence signing key's life on disk (created once 0600 in the data dir, reused, refused when others can read
// it, or read from a given path such as a Secret mount) and verify's input errors (exit 2, naming the input).
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parsePublicKey, publicKeyFingerprint } from '@vigil/report';
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
  it('a bundle that does not exist or is not a ZIP', async () => {
    await assert.rejects(verify(join(tmp, 'missing.zip'), pub), usage(/missing\.zip: no such file/));
    await assert.rejects(verify(notZip, pub), usage(/notes\.zip: no ZIP end-of-central-directory record/));
  });
  it('a private key or a non-key given as --key', async () => {
    const priv = join(tmp, 'priv.pem');
    writeFileSync(priv, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await assert.rejects(verify(notZip, priv), usage(/priv\.pem: holds a private key/));
    const junk = join(tmp, 'junk.pub');
    writeFileSync(junk, readFileSync(notZip));
    await assert.rejects(verify(notZip, junk), usage(/junk\.pub: not a PEM public key/));
  });
});
