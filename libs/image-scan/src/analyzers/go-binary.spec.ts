// Go build info from real executables: Go programs on this machine (buf from the repo's own node_modules, Debian's
// skopeo and CNI plugins when installed), the pre-1.18 pointer layout linked by gcc into a real ELF, and the 1.18+
// layout placed in a real PE file's .data section.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '@vigil/testing';
import { type FileEntry, MalformedInputError } from './analyzer.js';
import { openExecutable } from './executable.js';
import { extractPackages } from './extract.js';
import { readBuildInfo, stdlibVersion } from './go-binary.analyzer.js';
import { isWanted, isWantedContent } from './registry.js';

const INFO_START = Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex');
const INFO_END = Buffer.from('f932433186182072008242104116d8f2', 'hex');

/**
 * The module info read the way `strings` would find it, without the header or the executable format: the text
 * between cmd/go's two 16-byte markers. The reference the analyzer's result is checked against.
 */
function modInfoByMarkers(bytes: Buffer): { path?: string; main?: string; deps: string[] } {
  const start = bytes.indexOf(INFO_START);
  const end = bytes.indexOf(INFO_END, start);
  assert.ok(start >= 0 && end > start, 'module info markers present');
  const lines = bytes
    .subarray(start + 16, end)
    .toString('utf8')
    .split('\n');
  const out: { path?: string; main?: string; deps: string[] } = { deps: [] };
  lines.forEach((l, i) => {
    const [kind, path, version] = l.split('\t');
    if (kind === 'path') out.path = path;
    if (kind === 'mod') out.main = `${path}@${version}`;
    if (kind !== 'dep') return;
    const next = lines[i + 1]?.split('\t');
    if (next?.[0] === '=>') {
      if (next[2] && next[2] !== '(devel)') out.deps.push(`${next[1]}@${next[2]}`);
    } else out.deps.push(`${path}@${version}`);
  });
  return out;
}

const file = (path: string, bytes: Uint8Array, mode = 0o755): FileEntry => ({
  path,
  mode,
  read: async () => bytes,
});

const work = mkdtempSync(join(tmpdir(), 'vigil-gobin-'));
after(() => rmSync(work, { recursive: true, force: true }));

describe('Go binaries', () => {
  const buf = join(repoRoot(), 'node_modules/@bufbuild/buf-linux-x64/bin/buf');
  it('buf (Go >= 1.18, inline build info): every module the markers hold, plus stdlib', async (t) => {
    if (!existsSync(buf)) return t.skip(`${buf} is installed only on linux-x64`);
    const bytes = readFileSync(buf);
    const reference = modInfoByMarkers(bytes);
    const info = readBuildInfo(new Uint8Array(bytes))!;
    assert.match(info.goVersion, /^go1\.\d+/);
    // `strings` shows the version right after the 32-byte header, as a varint-prefixed string.
    const header = bytes.indexOf(Buffer.from('\xff Go buildinf:', 'latin1'));
    assert.equal(bytes.subarray(header + 33, header + 33 + bytes[header + 32]!).toString(), info.goVersion);
    assert.equal(info.path, 'github.com/bufbuild/buf/cmd/buf');
    assert.equal(reference.main, 'github.com/bufbuild/buf@(devel)');
    const { packages } = await extractPackages([file('usr/local/bin/buf', new Uint8Array(bytes))]);
    assert.deepEqual(
      packages.filter((p) => p.relationship === 'unknown').map((p) => `${p.name}@${p.version}`),
      reference.deps,
    );
    assert.ok(reference.deps.length > 50, `${reference.deps.length} dependencies`);
    const root = packages.find((p) => p.relationship === 'root')!;
    assert.deepEqual([root.name, root.version], ['github.com/bufbuild/buf', '']);
    const std = packages.find((p) => p.name === 'stdlib')!;
    assert.equal(std.version, `v${info.goVersion.slice(2)}`);
    assert.equal(std.ecosystem, 'Go');
    assert.equal(std.purl, `pkg:golang/stdlib@${std.version}`);
    for (const p of packages) {
      assert.equal(p.foundBy.id, 'go-binary');
      assert.deepEqual(p.installedFiles, ['usr/local/bin/buf']);
      assert.equal(p.location, 'usr/local/bin/buf');
    }
    const dep = packages.find((p) => p.name === 'google.golang.org/protobuf')!;
    assert.equal(dep.purl, `pkg:golang/google.golang.org/protobuf@${dep.version}`);
  });

  it("Debian's Go programs: built in GOPATH mode, only the Go version and package path", async (t) => {
    const debian = ['/usr/bin/skopeo', '/usr/bin/docker-registry', '/usr/lib/cni/bridge'].filter((p) =>
      existsSync(p),
    );
    if (debian.length === 0)
      return t.skip('none of skopeo, docker-registry, containernetworking-plugins installed');
    for (const p of debian) {
      const bytes = readFileSync(p);
      const info = readBuildInfo(new Uint8Array(bytes))!;
      const reference = modInfoByMarkers(bytes);
      assert.equal(info.main, undefined, `${p}: no mod line`);
      assert.equal(reference.main, undefined);
      assert.deepEqual(info.deps, []);
      assert.equal(info.path, reference.path);
      const { packages } = await extractPackages([file(p.slice(1), new Uint8Array(bytes))]);
      assert.deepEqual(
        packages.map((x) => x.name),
        ['stdlib'],
        `${p}: the toolchain is all a GOPATH build records`,
      );
      assert.equal(packages[0]!.version, stdlibVersion(info.goVersion));
    }
    if (existsSync('/usr/bin/skopeo')) {
      // Verified by hand with `strings /usr/bin/skopeo | grep -A1 'Go buildinf'` on Debian 12 (skopeo 1.9.3).
      const info = readBuildInfo(new Uint8Array(readFileSync('/usr/bin/skopeo')))!;
      assert.equal(info.path, 'github.com/containers/skopeo/cmd/skopeo');
      assert.ok(info.settings.some(([k, v]) => k === 'GOOS' && v === 'linux'));
    }
  });

  it('Go < 1.18 layout: pointers to string headers, resolved through the ELF program headers', (t) => {
    const gcc = spawnSync('gcc', ['--version']);
    if (gcc.error || gcc.status !== 0) return t.skip('gcc is not installed');
    const mod = Buffer.concat([
      INFO_START,
      Buffer.from(
        'path\texample.com/old/cmd/old\n' +
          'mod\texample.com/old\tv1.4.2\th1:abc=\n' +
          'dep\tgithub.com/pkg/errors\tv0.9.1\th1:x=\n' +
          'dep\tgolang.org/x/text\tv0.3.0\th1:y=\n' +
          '=>\tgolang.org/x/text\tv0.3.8\th1:z=\n' +
          'dep\texample.com/local\tv0.0.0\n' +
          '=>\t../local\t\n',
      ),
      INFO_END,
    ]);
    const cString = (b: Buffer): string =>
      `"${[...b].map((c) => `\\${c.toString(8).padStart(3, '0')}`).join('')}"`;
    for (const section of ['.go.buildinfo', '.data']) {
      // Go 1.13 to 1.17 wrote this header: magic, pointer size, flags 0 (little-endian, not inline), two pointers.
      const source = `
struct gostring { const char *p; long n; };
static const char version[] = "go1.16.15";
static const char modinfo[] = ${cString(mod)};
struct gostring version_s = { version, sizeof version - 1 };
struct gostring modinfo_s = { modinfo, sizeof modinfo - 1 };
struct buildinfo { char magic[14]; unsigned char ptrsize; unsigned char flags; struct gostring *v; struct gostring *m; };
__attribute__((section("${section}"), aligned(16), used)) struct buildinfo bi = { "\\377 Go buildinf:", 8, 0, &version_s, &modinfo_s };
int main(void) { return bi.ptrsize == 8 ? 0 : 1; }
`;
      const c = join(work, 'old.c');
      const exe = join(work, `old${section}`);
      writeFileSync(c, source);
      const r = spawnSync('gcc', ['-no-pie', '-O0', '-o', exe, c], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(spawnSync(exe).status, 0, 'the fixture runs');
      const info = readBuildInfo(new Uint8Array(readFileSync(exe)))!;
      assert.ok(info, `build info found (${section})`);
      assert.equal(info.goVersion, 'go1.16.15');
      assert.equal(info.path, 'example.com/old/cmd/old');
      assert.deepEqual(info.main, { path: 'example.com/old', version: 'v1.4.2', sum: 'h1:abc=' });
      assert.deepEqual(info.deps[1], {
        path: 'golang.org/x/text',
        version: 'v0.3.0',
        sum: 'h1:y=',
        replace: { path: 'golang.org/x/text', version: 'v0.3.8', sum: 'h1:z=' },
      });
    }
  });

  it('reports replacements, skips directory replacements, names the binary', async (t) => {
    const exe = join(work, 'old.go.buildinfo');
    if (!existsSync(exe)) return t.skip('needs the gcc fixture');
    const { packages } = await extractPackages([file('app/old', new Uint8Array(readFileSync(exe)))]);
    assert.deepEqual(
      packages.map((p) => [p.name, p.version, p.relationship]),
      [
        ['example.com/old', 'v1.4.2', 'root'],
        ['github.com/pkg/errors', 'v0.9.1', 'unknown'],
        ['golang.org/x/text', 'v0.3.8', 'unknown'],
        ['stdlib', 'v1.16.15', 'direct'],
      ],
    );
  });

  it('Go >= 1.18 layout inside a PE file: found through the .data section', (t) => {
    const pe = join(
      process.env['HOME'] ?? '/root',
      '.pyenv/versions/3.13.0/lib/python3.13/site-packages/pip/_vendor/distlib/w64.exe',
    );
    const objdump = spawnSync('objdump', ['-h', pe], { encoding: 'utf8' });
    if (!existsSync(pe) || objdump.status !== 0) return t.skip("needs pip's w64.exe launcher and objdump");
    // objdump: "  2 .data  00001400  0000000140013000  0000000140013000  00011600  2**4"
    const m = /\s\.data\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)/.exec(objdump.stdout)!;
    const vma = BigInt(`0x${m[2]}`);
    const fileOff = parseInt(m[3]!, 16);
    const bytes = new Uint8Array(readFileSync(pe));
    const exe = openExecutable(bytes);
    assert.equal(exe.format, 'pe');
    assert.equal(exe.buildInfoAddr, vma);
    const version = Buffer.from('go1.21.13');
    const mod = Buffer.concat([INFO_START, Buffer.from('path\tx.io/w\nmod\tx.io/w\tv0.1.0\t\n'), INFO_END]);
    const header = Buffer.alloc(32);
    header.write('\xff Go buildinf:', 0, 'latin1');
    header[14] = 8;
    header[15] = 2;
    const patch = Buffer.concat([
      header,
      Buffer.from([version.length]),
      version,
      Buffer.from([mod.length]),
      mod,
    ]);
    bytes.set(patch, fileOff);
    const info = readBuildInfo(bytes)!;
    assert.equal(info.goVersion, 'go1.21.13');
    assert.deepEqual(info.main, { path: 'x.io/w', version: 'v0.1.0' });
  });

  it('other executables give nothing; a truncated Go binary is an error naming it', async (t) => {
    const { packages } = await extractPackages([
      file('usr/bin/node', new Uint8Array(readFileSync(process.execPath))),
    ]);
    assert.deepEqual(packages, []);
    if (!existsSync(buf)) return t.skip('needs buf');
    const bytes = readFileSync(buf);
    const at = bytes.indexOf(Buffer.from('\xff Go buildinf:', 'latin1'));
    await assert.rejects(
      extractPackages([file('opt/buf', new Uint8Array(bytes.subarray(0, at + 64)))]),
      (e: unknown) => e instanceof MalformedInputError && /^opt\/buf: Go build info: /.test(e.message),
    );
  });

  it('the image reader keeps executables by content', () => {
    const elf = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
    const macho = new Uint8Array([0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1]);
    const pe = new Uint8Array([0x4d, 0x5a, 0x90, 0]);
    const script = new TextEncoder().encode('#!/bin/sh\necho hi\n');
    assert.equal(isWanted('usr/local/bin/app'), false);
    assert.equal(isWantedContent('usr/local/bin/app', 0o100755, elf), true);
    assert.equal(isWantedContent('app', 0o700, macho), true);
    assert.equal(isWantedContent('usr/lib/libx.so.1', 0o644, elf), false, 'not executable');
    assert.equal(isWantedContent('usr/local/bin/run', 0o755, script), false, 'a script');
    assert.equal(isWantedContent('Files/app.exe', 0o644, pe), true, 'Windows layers keep no exec bits');
    assert.equal(isWantedContent('x', 0o755, new Uint8Array([0x7f])), false, 'too short to tell');
  });

  it('stdlib versions from Go version strings', () => {
    assert.equal(stdlibVersion('go1.22.5'), 'v1.22.5');
    assert.equal(stdlibVersion('go1.20'), 'v1.20.0');
    assert.equal(stdlibVersion('go1.21rc2'), 'v1.21.0-rc.2');
    assert.equal(stdlibVersion('go1.21.11 X:nocoverageredesign'), 'v1.21.11');
    assert.equal(
      stdlibVersion('go1.22-20231128-RC02 cl/586117301 +6111acc8e6 X:fieldtrack,boringcrypto'),
      undefined,
    );
    assert.equal(stdlibVersion('devel go1.23-abcdef'), undefined);
  });
});
