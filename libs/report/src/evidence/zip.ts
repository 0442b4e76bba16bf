import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';

// A small ZIP (PKWARE APPNOTE 6.3) writer and reader over bytes, enough for evidence bundles: deflate or stored
// entries, UTF-8 names, no ZIP64 (a bundle over 4 GiB or 65,535 entries is refused), no encryption. The writer is
// deterministic: the same entries and time give the same bytes, so a bundle can be rebuilt and compared.

export interface ZipEntryInput {
  readonly name: string;
  readonly data: Uint8Array;
}

export interface ZipEntry {
  readonly name: string;
  readonly data: Uint8Array;
}

/** A problem with one entry of an otherwise readable archive (its data does not match its CRC, say). */
export interface ZipEntryProblem {
  readonly name: string;
  readonly problem: string;
}

export interface ReadZipResult {
  readonly entries: ZipEntry[];
  readonly problems: ZipEntryProblem[];
}

/** The bytes are not a ZIP archive at all (or its directory is damaged beyond reading entries). */
export class ZipFormatError extends Error {
  override readonly name = 'ZipFormatError';
}

const LOCAL_SIG = 0x04034b50;
const CENTRAL_SIG = 0x02014b50;
const END_SIG = 0x06054b50;
const UTF8_FLAG = 0x0800;
const STORED = 0;
const DEFLATE = 8;
const MAX32 = 0xffffffff;

export function writeZip(entries: readonly ZipEntryInput[], modified: Date): Uint8Array {
  if (entries.length > 0xffff)
    throw new Error(`writeZip: ${entries.length} entries (at most 65535 without ZIP64)`);
  const { time, date } = dosTime(modified);
  const seen = new Set<string>();
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    checkName(e.name);
    if (seen.has(e.name)) throw new Error(`writeZip: entry "${e.name}" given twice`);
    seen.add(e.name);
    const name = Buffer.from(e.name, 'utf8');
    const data = Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength);
    const crc = crc32(data);
    const packed = deflateRawSync(data, { level: 9 });
    // Small or incompressible files are stored: deflate would only add bytes.
    const method = packed.length < data.length ? DEFLATE : STORED;
    const body = method === DEFLATE ? packed : data;
    if (data.length > MAX32 || offset + 30 + name.length + body.length > MAX32)
      throw new Error(`writeZip: entry "${e.name}" does not fit in a ZIP without ZIP64`);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL_SIG, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(UTF8_FLAG, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, body);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(CENTRAL_SIG, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, spec 2.0
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(UTF8_FLAG, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(time, 12);
    central.writeUInt16LE(date, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(0, 30); // extra
    central.writeUInt16LE(0, 32); // comment
    central.writeUInt16LE(0, 34); // disk
    central.writeUInt16LE(0, 36); // internal attributes
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // a regular file, rw-r--r--
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END_SIG, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, directory, end]));
}

/**
 * Reads every entry through the central directory. An archive whose directory cannot be read throws
 * ZipFormatError; an entry whose data is damaged (bad CRC, unreadable deflate stream, local header that disagrees
 * with the directory) is left out of `entries` and named in `problems`, so a verifier can say which file changed.
 */
export function readZip(bytes: Uint8Array): ReadZipResult {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const endAt = findEnd(buf);
  const count = buf.readUInt16LE(endAt + 10);
  const dirSize = buf.readUInt32LE(endAt + 12);
  const dirOffset = buf.readUInt32LE(endAt + 16);
  if (dirOffset + dirSize > endAt) throw new ZipFormatError('the central directory lies outside the archive');
  const entries: ZipEntry[] = [];
  const problems: ZipEntryProblem[] = [];
  let p = dirOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > endAt || buf.readUInt32LE(p) !== CENTRAL_SIG)
      throw new ZipFormatError(`central directory entry ${i + 1} of ${count} is damaged`);
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const packedSize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const localAt = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    const bad = (problem: string) => problems.push({ name, problem });
    if (flags & 0x1) {
      bad('is encrypted');
      continue;
    }
    if (localAt + 30 > buf.length || buf.readUInt32LE(localAt) !== LOCAL_SIG) {
      bad('its local header is missing or damaged');
      continue;
    }
    const localName = buf.toString('utf8', localAt + 30, localAt + 30 + buf.readUInt16LE(localAt + 26));
    if (localName !== name) {
      bad(`its local header names "${localName}"`);
      continue;
    }
    const dataAt = localAt + 30 + buf.readUInt16LE(localAt + 26) + buf.readUInt16LE(localAt + 28);
    if (dataAt + packedSize > buf.length) {
      bad('its data runs past the end of the archive');
      continue;
    }
    const body = buf.subarray(dataAt, dataAt + packedSize);
    let data: Buffer;
    try {
      if (method === STORED) data = body;
      else if (method === DEFLATE) data = inflateRawSync(body);
      else {
        bad(`uses compression method ${method} (only stored and deflate are read)`);
        continue;
      }
    } catch (err) {
      bad(`its compressed data is damaged (${(err as Error).message})`);
      continue;
    }
    if (data.length !== size) {
      bad(`holds ${data.length} bytes, the directory says ${size}`);
      continue;
    }
    if (crc32(data) !== crc) {
      bad('its data does not match its CRC-32');
      continue;
    }
    entries.push({ name, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
  }
  return { entries, problems };
}

function findEnd(buf: Buffer): number {
  // The end record is the last 22 bytes plus a comment of at most 65,535 bytes.
  const lowest = Math.max(0, buf.length - 22 - 0xffff);
  for (let i = buf.length - 22; i >= lowest; i--) {
    if (buf.readUInt32LE(i) === END_SIG) return i;
  }
  throw new ZipFormatError('no ZIP end-of-central-directory record (not a ZIP archive, or truncated)');
}

function checkName(name: string): void {
  if (
    !name ||
    name.startsWith('/') ||
    name.includes('\\') ||
    name.split('/').some((s) => s === '..' || s === '')
  )
    throw new Error(`writeZip: "${name}" is not a relative path of plain segments`);
}

// MS-DOS date and time, the resolution ZIP headers have (two seconds), in UTC so the bytes do not depend on the
// machine's time zone.
function dosTime(d: Date): { time: number; date: number } {
  if (Number.isNaN(d.getTime())) throw new Error('writeZip: the modification time is not a valid date');
  const year = Math.min(Math.max(d.getUTCFullYear(), 1980), 2107);
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}
