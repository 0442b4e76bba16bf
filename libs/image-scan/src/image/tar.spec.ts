// The tar reader against archives written by GNU tar itself in its three formats (GNU long names and links, pax
// headers, ustar name prefixes), through both drivers: streaming and indexing by offset.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync, symlinkSync, writeFileSync, linkSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { type TarHeader, TarFormatError, indexTarFile, readTarStream } from './tar.js';
import { resolvePath, SymlinkError } from './symlinks.js';
import { type Node } from './tree.js';

let dir: string;
const longDir = `${'a'.repeat(70)}/${'b'.repeat(70)}`;
const longName = `${longDir}/${'c'.repeat(80)}.txt`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-tar-'));
  const root = join(dir, 'root');
  mkdirSync(join(root, longDir), { recursive: true });
  writeFileSync(join(root, longName), 'long\n');
  writeFileSync(join(root, 'short.txt'), 'short\n');
  symlinkSync(`/${longName}`, join(root, 'link'));
  linkSync(join(root, 'short.txt'), join(root, 'hard.txt'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function make(format: string): string {
  const out = join(dir, `${format}.tar`);
  const run = spawnSync('tar', [
    `--format=${format}`,
    '--sort=name',
    '-cf',
    out,
    '-C',
    join(dir, 'root'),
    '.',
  ]);
  // ustar cannot hold the long link target: GNU tar leaves that member out and exits 2, the rest is written.
  assert.ok(run.status === 0 || (format === 'ustar' && run.status === 2), run.stderr.toString());
  return out;
}

async function streamed(path: string): Promise<(TarHeader & { body: string })[]> {
  const out: (TarHeader & { body: string })[] = [];
  for await (const e of readTarStream(createReadStream(path))) {
    const { read, ...header } = e;
    out.push({ ...header, body: e.type === 'file' ? (await read(1 << 20)).toString() : '' });
  }
  return out;
}

describe('tar reader', () => {
  for (const format of ['gnu', 'pax', 'ustar'] as const) {
    it(`reads GNU tar's ${format} format`, async () => {
      const path = make(format);
      const entries = await streamed(path);
      const byName = new Map(entries.map((e) => [e.name.replace(/^\.\//, ''), e]));
      assert.equal(byName.get(longName)?.body, 'long\n');
      assert.equal(byName.get(longName)?.type, 'file');
      // Sorted by name, hard.txt carries the bytes and short.txt is the hardlink to it.
      assert.equal(byName.get('hard.txt')?.body, 'short\n');
      assert.equal(byName.get('short.txt')?.type, 'hardlink');
      assert.equal(byName.get('short.txt')?.linkName.replace(/^\.\//, ''), 'hard.txt');
      assert.equal(byName.get(`${longDir}/`)?.type, 'dir');
      if (format !== 'ustar') assert.equal(byName.get('link')?.linkName, `/${longName}`);
      const fh = await open(path, 'r');
      try {
        const indexed = await indexTarFile(fh, (await fh.stat()).size);
        assert.deepEqual(
          indexed.map((e) => [e.name, e.type, e.size, e.linkName]),
          entries.map((e) => [e.name, e.type, e.size, e.linkName]),
        );
      } finally {
        await fh.close();
      }
    });
  }

  it('fails on a stream cut inside a member', async () => {
    const bytes = (await import('node:fs')).readFileSync(make('pax'));
    await assert.rejects(
      (async () => {
        for await (const e of readTarStream(Readable.from([bytes.subarray(0, 1200)]))) void e;
      })(),
      (err: Error) => err instanceof TarFormatError && /truncated/.test(err.message),
    );
  });
});

describe('symlink resolution', () => {
  const nodes = new Map<string, Node>([
    ['', { kind: 'dir', layer: 0, children: new Map(), opaque: false }],
    ['usr', { kind: 'dir', layer: 0, children: new Map(), opaque: false }],
    ['usr/lib', { kind: 'dir', layer: 0, children: new Map(), opaque: false }],
    [
      'usr/lib/os-release',
      { kind: 'file', layer: 0, mode: 0o644, size: 1, path: 'usr/lib/os-release', earlier: [] },
    ],
    ['lib', { kind: 'symlink', layer: 0, target: 'usr/lib' }],
    ['etc', { kind: 'dir', layer: 0, children: new Map(), opaque: false }],
    ['etc/os-release', { kind: 'symlink', layer: 0, target: '../lib/os-release' }],
    ['etc/abs', { kind: 'symlink', layer: 0, target: '/lib/../lib/./os-release' }],
    ['etc/up', { kind: 'symlink', layer: 0, target: '../../../x' }],
    ['loop', { kind: 'symlink', layer: 0, target: 'loop/x' }],
  ]);
  const lookup = (p: string) => nodes.get(p);

  it('follows relative, absolute and directory links inside the root', () => {
    assert.equal(resolvePath('etc/os-release', lookup).path, 'usr/lib/os-release');
    assert.equal(resolvePath('etc/abs', lookup).path, 'usr/lib/os-release');
    assert.equal(resolvePath('lib/os-release', lookup).node?.kind, 'file');
    assert.equal(resolvePath('etc/os-release', lookup, { followLast: false }).node?.kind, 'symlink');
    assert.equal(
      resolvePath('/../../lib/os-release', lookup).path,
      'usr/lib/os-release',
      'a written "/.." stays at the root',
    );
    assert.equal(resolvePath('lib/missing', lookup).node, undefined);
  });

  it('refuses a link that climbs above the root, and stops loops', () => {
    assert.throws(
      () => resolvePath('etc/up', lookup),
      (e: Error) =>
        e instanceof SymlinkError && /etc\/up -> ..\/..\/..\/x points outside the image root/.test(e.message),
    );
    assert.throws(
      () => resolvePath('loop', lookup),
      (e: Error) => e instanceof SymlinkError && /more than 40 symlinks/.test(e.message),
    );
  });
});
