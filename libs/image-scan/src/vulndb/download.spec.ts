// downloadOsvDump against a local node:http server that serves a zip in OSV's layout (/<Ecosystem>/all.zip of
// <ID>.json records from the corpus): a connection cut half way, the Range + If-Range resume, If-None-Match
// revalidation, a changed ETag, and a server that does not answer.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { corpusPath } from '@vigil/testing';
import { DownloadError, downloadOsvDump, dumpPath } from './download.js';
import { MemoryAdvisoryStore } from './memory-store.js';
import { buildZip } from './zip-fixture.js';

const recordsDir = corpusPath('image', 'advisories', 'records');
const debianFiles = readdirSync(recordsDir).filter((f) => /^(DLA|DSA)-/.test(f));
const zip = buildZip(
  debianFiles.map((f) => ({ name: f.replace(/_/g, ':'), data: readFileSync(join(recordsDir, f)) })),
);
let etag = `"${createHash('sha256').update(zip).digest('hex').slice(0, 16)}"`;

let server: Server;
let base: string;
let cutNext = false;
const seen: { range?: string; ifRange?: string; ifNoneMatch?: string; status: number }[] = [];

function handle(req: IncomingMessage, res: import('node:http').ServerResponse): void {
  if (req.url !== '/Debian/all.zip') {
    res.writeHead(404).end();
    return;
  }
  const range = req.headers['range'];
  const ifRange = req.headers['if-range'] as string | undefined;
  const ifNoneMatch = req.headers['if-none-match'];
  const log = (status: number) =>
    seen.push({
      ...(range ? { range } : {}),
      ...(ifRange ? { ifRange } : {}),
      ...(ifNoneMatch ? { ifNoneMatch } : {}),
      status,
    });
  if (ifNoneMatch === etag) {
    log(304);
    res.writeHead(304, { etag }).end();
    return;
  }
  const m = typeof range === 'string' ? /^bytes=(\d+)-$/.exec(range) : null;
  if (m && ifRange === etag) {
    const from = Number(m[1]);
    log(206);
    res.writeHead(206, {
      etag,
      'content-type': 'application/zip',
      'content-length': String(zip.length - from),
      'content-range': `bytes ${from}-${zip.length - 1}/${zip.length}`,
    });
    res.end(zip.subarray(from));
    return;
  }
  log(200);
  res.writeHead(200, {
    etag,
    'content-type': 'application/zip',
    'content-length': String(zip.length),
    'accept-ranges': 'bytes',
  });
  if (cutNext) {
    cutNext = false;
    // The cut comes well after the half was flushed: the client must have read those bytes, even on a busy machine.
    res.write(zip.subarray(0, Math.floor(zip.length / 2)), () =>
      setTimeout(() => res.socket?.destroy(), 400),
    );
    return;
  }
  res.end(zip);
}

before(async () => {
  server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

describe('downloadOsvDump', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-osv-dl-'));

  it('resumes a download cut half way with Range + If-Range, then revalidates with If-None-Match', async () => {
    cutNext = true;
    await assert.rejects(
      downloadOsvDump('Debian', { dir, baseUrl: base }),
      (err: Error) =>
        err instanceof DownloadError && /Debian\/all\.zip: download (interrupted|ended)/.test(err.message),
    );
    const path = dumpPath(dir, 'Debian');
    assert.equal(existsSync(path), false, 'nothing is renamed into place before the download completes');
    const partial = readFileSync(`${path}.part`).length;
    assert.equal(partial, Math.floor(zip.length / 2));

    const done = await downloadOsvDump('Debian', { dir, baseUrl: base });
    assert.equal(done.resumedFrom, partial);
    assert.equal(done.notModified, false);
    assert.deepEqual(seen.at(-1), { range: `bytes=${partial}-`, ifRange: etag, status: 206 });
    assert.ok(readFileSync(path).equals(zip), 'the resumed file is byte for byte the served zip');
    assert.equal(existsSync(`${path}.part`), false);

    const store = new MemoryAdvisoryStore();
    const summary = await store.loadDump(path);
    assert.equal(summary.records, debianFiles.length);
    assert.deepEqual(
      (await store.lookup([{ ecosystem: 'Debian:9', name: 'dpkg' }])).map((r) => (r as { id: string }).id),
      ['DLA-3022-1'],
    );

    const again = await downloadOsvDump('Debian', { dir, baseUrl: base });
    assert.equal(again.notModified, true);
    assert.deepEqual(seen.at(-1), { ifNoneMatch: etag, status: 304 });
  });

  it('a changed dump is downloaded whole again; a stale partial is not resumed against it', async () => {
    const path = dumpPath(dir, 'Debian');
    writeFileSync(`${path}.part`, zip.subarray(0, 100));
    writeFileSync(`${path}.part.json`, JSON.stringify({ url: `${base}/Debian/all.zip`, etag: '"old"' }));
    etag = '"changed"';
    const r = await downloadOsvDump('Debian', { dir, baseUrl: base });
    // The Range was sent with If-Range "old"; the server ignored it and sent the whole new representation.
    assert.deepEqual(seen.at(-1), { range: 'bytes=100-', ifRange: '"old"', status: 200 });
    assert.equal(r.resumedFrom, 0);
    assert.ok(readFileSync(path).equals(zip));
  });

  it('no answer: a clear offline error and the zip on disk untouched', async () => {
    const path = dumpPath(dir, 'Debian');
    const before = readFileSync(path);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await assert.rejects(
      downloadOsvDump('Debian', { dir, baseUrl: `http://127.0.0.1:${port}` }),
      (err: Error) =>
        err instanceof DownloadError &&
        err.offline &&
        new RegExp(`127\\.0\\.0\\.1:${port}/Debian/all\\.zip: cannot download`).test(err.message),
    );
    assert.ok(readFileSync(path).equals(before));
  });

  it('HTTP errors name the URL and the status', async () => {
    await assert.rejects(
      downloadOsvDump('NoSuchEcosystem', { dir, baseUrl: base }),
      (err: Error) =>
        err instanceof DownloadError &&
        !err.offline &&
        /NoSuchEcosystem\/all\.zip: HTTP 404/.test(err.message),
    );
  });
});
