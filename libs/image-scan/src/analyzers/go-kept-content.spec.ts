// What an image reader keeps of a Go program: the build info alone, cut from the real executables on this machine
// (buf and its plugins from the repo's node_modules, gcc-linked pre-1.18 layout), giving the same packages as the
// whole file, and an image of Go programs squashed with only those bytes held.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot, writeTestImage } from '@vigil/testing';
import { openImage } from '../image/open-image.js';
import { squashImage } from '../image/squash.js';
import type { FileEntry } from './analyzer.js';
import { extractPackages } from './extract.js';
import { buildInfoBlob, readBuildInfo, readBuildInfoBlob } from './go-binary.analyzer.js';
import { isWanted, isWantedContent } from './registry.js';

const bin = join(repoRoot(), 'node_modules/@bufbuild/buf-linux-x64/bin');
const programs = ['buf', 'protoc-gen-buf-breaking', 'protoc-gen-buf-lint'].map((n) => join(bin, n));
const file = (path: string, bytes: Uint8Array): FileEntry => ({ path, mode: 0o755, read: async () => bytes });
const packagesOf = async (path: string, bytes: Uint8Array) =>
  (await extractPackages([file(path, bytes)])).packages.map(
    (p) => `${p.name}@${p.version} ${p.installedFiles}`,
  );

const work = mkdtempSync(join(tmpdir(), 'vigil-gokept-'));
after(() => rmSync(work, { recursive: true, force: true }));

describe('Go programs kept by their build info', () => {
  it('buf and its plugins: the kept bytes are a few KiB and give every package the whole file gives', async (t) => {
    if (!existsSync(programs[0]!)) return t.skip(`${bin} is installed only on linux-x64`);
    for (const exe of programs) {
      const bytes = new Uint8Array(readFileSync(exe));
      const kept = isWantedContent('usr/local/bin/app', 0o755, bytes);
      assert.ok(kept instanceof Uint8Array, `${exe}: kept as its build info`);
      assert.ok(kept.length < 64 * 1024, `${exe}: ${kept.length} bytes kept of ${bytes.length}`);
      assert.deepEqual(readBuildInfoBlob(kept), readBuildInfo(bytes));
      const whole = await packagesOf('usr/local/bin/app', bytes);
      assert.ok(whole.length > 50, `${exe}: ${whole.length} packages`);
      assert.deepEqual(await packagesOf('usr/local/bin/app', kept), whole);
    }
  });

  it('the pre-1.18 layout: pointed-to strings are copied into the kept bytes', async (t) => {
    const gcc = spawnSync('gcc', ['--version']);
    if (gcc.error || gcc.status !== 0) return t.skip('gcc is not installed');
    const mod =
      '0w\\257\\f\\222t\\b\\002A\\341\\301\\007\\346\\326\\030\\346' +
      'path\\texample.com/old/cmd/old\\nmod\\texample.com/old\\tv1.4.2\\th1:abc=\\n' +
      'dep\\tgolang.org/x/text\\tv0.3.0\\th1:y=\\n=>\\tgolang.org/x/text\\tv0.3.8\\th1:z=\\n' +
      '\\3712C1\\206\\030 r\\000\\202B\\020A\\026\\330\\362';
    const source = `
struct gostring { const char *p; long n; };
static const char version[] = "go1.16.15";
static const char modinfo[] = "${mod}";
struct gostring version_s = { version, sizeof version - 1 };
struct gostring modinfo_s = { modinfo, sizeof modinfo - 1 };
struct buildinfo { char magic[14]; unsigned char ptrsize; unsigned char flags; struct gostring *v; struct gostring *m; };
__attribute__((section(".go.buildinfo"), aligned(16), used)) struct buildinfo bi = { "\\377 Go buildinf:", 8, 0, &version_s, &modinfo_s };
int main(void) { return bi.ptrsize == 8 ? 0 : 1; }
`;
    writeFileSync(join(work, 'old.c'), source);
    const r = spawnSync('gcc', ['-no-pie', '-O0', '-o', join(work, 'old'), join(work, 'old.c')], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const bytes = new Uint8Array(readFileSync(join(work, 'old')));
    const blob = buildInfoBlob(bytes)!;
    assert.ok(blob.length < 512, `${blob.length} bytes`);
    const info = readBuildInfoBlob(blob);
    assert.deepEqual(info, readBuildInfo(bytes));
    assert.equal(info.goVersion, 'go1.16.15');
    assert.deepEqual(await packagesOf('app/old', blob), [
      'example.com/old@v1.4.2 app/old',
      'golang.org/x/text@v0.3.8 app/old',
      'stdlib@v1.16.15 app/old',
    ]);
  });

  it('a Go program whose build info is broken is kept whole, so the error still names it', async (t) => {
    if (!existsSync(programs[0]!)) return t.skip('needs buf');
    const bytes = readFileSync(programs[0]!);
    const at = bytes.indexOf(Buffer.from('\xff Go buildinf:', 'latin1'));
    const truncated = new Uint8Array(bytes.subarray(0, at + 64));
    assert.equal(isWantedContent('opt/buf', 0o755, truncated), true);
    assert.equal(
      isWantedContent('usr/bin/node', 0o755, new Uint8Array(readFileSync(process.execPath))),
      false,
    );
    assert.throws(() => readBuildInfoBlob(truncated), /not a build info blob/);
  });

  it('an image of Go programs holds only their build info and reports the same packages', async (t) => {
    if (!existsSync(programs[0]!)) return t.skip('needs buf');
    const files = programs.map((p, i) => ({
      path: `usr/local/bin/go-${i}`,
      content: new Uint8Array(readFileSync(p)),
      mode: 0o755,
    }));
    const out = join(work, 'go-image.tar');
    await writeTestImage(out, { format: 'docker-archive', layers: [{ files, compression: 'gzip' }] });
    const source = await openImage(out);
    try {
      const squashed = await squashImage(source, { wanted: isWanted, wantedContent: isWantedContent });
      const held = await Promise.all(squashed.files.map(async (f) => (await f.read()).length));
      assert.equal(squashed.files.length, programs.length);
      assert.ok(
        held.every((n) => n < 64 * 1024),
        `held ${held.join(', ')} bytes`,
      );
      const got = (await extractPackages(squashed.files)).packages.map(
        (p) => `${p.name}@${p.version} ${p.installedFiles}`,
      );
      const want = (await Promise.all(files.map((f) => packagesOf(f.path, f.content)))).flat();
      assert.deepEqual(got.sort(), want.sort());
    } finally {
      await source.close();
    }
  });
});
