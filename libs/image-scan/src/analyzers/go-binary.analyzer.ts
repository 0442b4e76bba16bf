// Go modules compiled into a Go program, from the build info the linker embeds (what `go version -m` prints): a
// 32-byte header starting "\xff Go buildinf:", then the Go version and the module info text. Go >= 1.18 writes both
// strings inline after the header as varint-length strings; older releases wrote two pointers to Go string headers
// elsewhere in the data, which need the executable's address map. The Go version becomes a "stdlib" package, as
// in the Go vulnerability database; the main module and each dependency (after `=>` replacements) a Go package.
import {
  CONTENT_HEAD_BYTES,
  type ExtractedPackage,
  type FileEntry,
  MalformedInputError,
  type PackageAnalyzer,
} from './analyzer.js';
import { ExecutableError, executableFormat, openExecutable } from './executable.js';
import { type LockEntry, toPackage } from './lockfile.js';

const ID = 'go-binary';
const VERSION = 1;
const FOUND_BY = { id: ID, version: VERSION };

const MAGIC = Buffer.from([0xff, ...new TextEncoder().encode(' Go buildinf:')]);
const HEADER = 32;
const ALIGN = 16;
// How far past the start of the data Go's own reader looks for the header.
const SEARCH = 64 * 1024;
// cmd/go wraps the module info in these 16-byte markers so it can be found in a binary without parsing it.
const MARKER = 16;

export interface GoModule {
  path: string;
  version: string;
  sum?: string;
  replace?: GoModule;
}

export interface GoBuildInfo {
  goVersion: string;
  /** Package path of the main package (`path` line). */
  path?: string;
  main?: GoModule;
  deps: GoModule[];
  settings: [string, string][];
}

function indexOfMagic(data: Uint8Array, from: number): number {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).indexOf(MAGIC, from);
}

function uvarint(data: Uint8Array, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = at; i < data.length && i < at + 10; i++) {
    const b = data[i]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, i + 1];
    scale *= 128;
  }
  throw new ExecutableError('build info string length is not a valid varint');
}

const decoder = new TextDecoder('utf-8');

function parseModule(fields: string[]): GoModule {
  const m: GoModule = { path: fields[1] ?? '', version: fields[2] ?? '' };
  if (fields[3]) m.sum = fields[3];
  return m;
}

/** The module info text of runtime/debug.BuildInfo: tab-separated `path`, `mod`, `dep`, `=>` and `build` lines. */
export function parseModInfo(goVersion: string, text: string): GoBuildInfo {
  const info: GoBuildInfo = { goVersion, deps: [], settings: [] };
  let last: GoModule | undefined;
  for (const line of text.split('\n')) {
    const fields = line.split('\t');
    switch (fields[0]) {
      case 'path':
        info.path = fields[1];
        break;
      case 'mod':
        info.main = last = parseModule(fields);
        break;
      case 'dep':
        last = parseModule(fields);
        info.deps.push(last);
        break;
      case '=>':
        if (last) last.replace = parseModule(fields);
        break;
      case 'build': {
        const eq = (fields[1] ?? '').indexOf('=');
        if (eq > 0) info.settings.push([fields[1]!.slice(0, eq), fields[1]!.slice(eq + 1)]);
        break;
      }
      default:
        break;
    }
  }
  return info;
}

/** The two strings of a build info: the Go version and the module info text still wrapped in its markers. */
interface BuildInfoStrings {
  version: Uint8Array;
  mod: Uint8Array;
}

function locateBuildInfo(bytes: Uint8Array): BuildInfoStrings | undefined {
  const exe = openExecutable(bytes);
  if (exe.buildInfoAddr === undefined) return undefined;
  const data = exe.read(exe.buildInfoAddr, SEARCH);
  if (!data) return undefined;
  // The linker aligns the header's address; Go's reader checks alignment from the data start, which its own linker
  // aligns too. Checking the address itself also holds for data segments other linkers start unaligned.
  const misalign = Number(exe.buildInfoAddr % BigInt(ALIGN));
  let at = indexOfMagic(data, 0);
  while (at >= 0 && (misalign + at) % ALIGN !== 0) at = indexOfMagic(data, at + 1);
  if (at < 0 || data.length - at < HEADER) return undefined;
  const ptrSize = data[at + 14]!;
  const flags = data[at + 15]!;
  let version: Uint8Array;
  let mod: Uint8Array;
  if (flags & 2) {
    // Go >= 1.18: both strings inline.
    const [vlen, vAt] = uvarint(data, at + HEADER);
    const vEnd = vAt + vlen;
    const [mlen, mAt] = uvarint(data, vEnd);
    if (mAt + mlen > data.length) throw new ExecutableError('build info strings run past the data section');
    version = data.subarray(vAt, vEnd);
    mod = data.subarray(mAt, mAt + mlen);
  } else {
    if (ptrSize !== 4 && ptrSize !== 8) throw new ExecutableError(`build info pointer size ${ptrSize}`);
    const little = (flags & 1) === 0;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const ptr = (v: DataView, o: number): bigint =>
      ptrSize === 8 ? v.getBigUint64(o, little) : BigInt(v.getUint32(o, little));
    const goString = (addr: bigint): Uint8Array | undefined => {
      const header = exe.read(addr, ptrSize * 2);
      if (!header || header.length < ptrSize * 2) return undefined;
      const hv = new DataView(header.buffer, header.byteOffset, header.byteLength);
      const len = Number(ptr(hv, ptrSize));
      const body = exe.read(ptr(hv, 0), len);
      if (!body || body.length < len) return undefined;
      return body;
    };
    if (at + 16 + ptrSize * 2 > data.length) return undefined;
    const v = goString(ptr(view, at + 16));
    if (v === undefined) throw new ExecutableError('build info version pointer leads outside the file');
    version = v;
    mod = goString(ptr(view, at + 16 + ptrSize)) ?? new Uint8Array();
  }
  return { version, mod };
}

function decodeBuildInfo({ version, mod }: BuildInfoStrings): GoBuildInfo {
  // The markers must be there, the last one after a newline; anything else is a binary built without modules.
  const text =
    mod.length >= 2 * MARKER + 1 && mod[mod.length - MARKER - 1] === 0x0a
      ? decoder.decode(mod.subarray(MARKER, mod.length - MARKER))
      : '';
  return parseModInfo(decoder.decode(version), text);
}

/** The build info of a Go executable, or undefined when the file is no Go program (or was built without one). */
export function readBuildInfo(bytes: Uint8Array): GoBuildInfo | undefined {
  const strings = locateBuildInfo(bytes);
  return strings && decodeBuildInfo(strings);
}

const startsWithMagic = (bytes: Uint8Array): boolean =>
  bytes.length >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b);

function putUvarint(out: number[], n: number): void {
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

/**
 * The build info of a Go executable on its own, in the layout Go >= 1.18 writes (header, then both strings inline
 * as varint-length strings): what an image reader keeps of a Go program instead of the whole executable, often tens
 * of megabytes, so an image full of Go binaries stays small in memory. Older builds' pointed-to strings are copied
 * in. Undefined when the file is no Go program with build info. Throws ExecutableError as readBuildInfo does.
 */
export function buildInfoBlob(bytes: Uint8Array): Uint8Array | undefined {
  const strings = locateBuildInfo(bytes);
  if (!strings) return undefined;
  const head: number[] = [...MAGIC, 8, 2];
  while (head.length < HEADER) head.push(0);
  putUvarint(head, strings.version.length);
  const mid: number[] = [];
  putUvarint(mid, strings.mod.length);
  return Buffer.concat([Buffer.from(head), strings.version, Buffer.from(mid), strings.mod]);
}

/** Reads a blob buildInfoBlob made. */
export function readBuildInfoBlob(blob: Uint8Array): GoBuildInfo {
  if (!startsWithMagic(blob) || blob.length < HEADER || (blob[15]! & 2) === 0)
    throw new ExecutableError('not a build info blob (magic, then inline strings)');
  const [vlen, vAt] = uvarint(blob, HEADER);
  const vEnd = vAt + vlen;
  const [mlen, mAt] = uvarint(blob, vEnd);
  if (mAt + mlen > blob.length) throw new ExecutableError('build info strings run past the blob');
  return decodeBuildInfo({ version: blob.subarray(vAt, vEnd), mod: blob.subarray(mAt, mAt + mlen) });
}

/** go1.22.5 -> v1.22.5, go1.20 -> v1.20.0, go1.21rc2 -> v1.21.0-rc.2; toolchains of no release (devel, RCs of
 * Google's internal builds) -> undefined, as no advisory range can place them. */
export function stdlibVersion(goVersion: string): string | undefined {
  const m = /^go(\d+)\.(\d+)(?:\.(\d+))?(?:(rc|beta)(\d+))?(?=$|\s)/.exec(goVersion);
  if (!m) return undefined;
  const pre = m[4] ? `-${m[4]}.${m[5]}` : '';
  return `v${m[1]}.${m[2]}.${m[3] ?? '0'}${pre}`;
}

export function buildInfoEntries(info: GoBuildInfo): LockEntry[] {
  const out: LockEntry[] = [];
  if (info.main?.path) {
    // "(devel)" is what a build from a source checkout says: no released version to match.
    const v = info.main.version === '(devel)' ? '' : info.main.version;
    out.push({ name: info.main.path, version: v, relationship: 'root' });
  }
  for (const dep of info.deps) {
    const mod = dep.replace ?? dep;
    // Replaced by a directory (no version): code of the main module's tree, not a downloaded module.
    if (!mod.version || mod.version === '(devel)') continue;
    out.push({ name: mod.path, version: mod.version, relationship: 'unknown' });
  }
  const std = stdlibVersion(info.goVersion);
  if (std) out.push({ name: 'stdlib', version: std, relationship: 'direct' });
  return out;
}

const EXEC_BITS = 0o111;

export const goBinaryAnalyzer: PackageAnalyzer = {
  kind: 'packages',
  id: ID,
  version: VERSION,
  concerns: () => false,
  // Given the whole file (an image reader holds it anyway), the build-info magic must be in it too, so the
  // thousands of other executables of a distro image are not kept.
  concernsContent: (path, mode, head) =>
    ((mode & EXEC_BITS) !== 0 || /\.exe$/i.test(path)) &&
    // A blob keptContent made stands for the executable it was cut from.
    (startsWithMagic(head) ||
      (executableFormat(head) !== undefined &&
        (head.length <= CONTENT_HEAD_BYTES || indexOfMagic(head, 0) >= 0))),
  keptContent(_path, bytes) {
    try {
      return buildInfoBlob(bytes);
    } catch (e) {
      // Kept whole, so analyze reports the broken build info against the file as it always did.
      if (e instanceof ExecutableError) return undefined;
      throw e;
    }
  },
  async analyze(files: FileEntry[]) {
    const out: ExtractedPackage[] = [];
    for (const f of files) {
      const bytes = await f.read();
      const blob = startsWithMagic(bytes);
      if (!blob && !executableFormat(bytes)) continue;
      // Most executables of an image are not Go programs; look for the magic before parsing any headers.
      if (!blob && indexOfMagic(bytes, 0) < 0) continue;
      let info: GoBuildInfo | undefined;
      try {
        info = blob ? readBuildInfoBlob(bytes) : readBuildInfo(bytes);
      } catch (e) {
        if (!(e instanceof ExecutableError)) throw e;
        throw new MalformedInputError(f.path, `Go build info: ${e.message}`);
      }
      if (!info) continue;
      for (const e of buildInfoEntries(info)) {
        const pkg = toPackage('Go', e, f.path, FOUND_BY);
        pkg.installedFiles = [f.path];
        out.push(pkg);
      }
    }
    return out;
  },
};
