// Just enough of the zip format to read jar metadata: the central directory, stored and deflated entries, with a
// size cap per entry so a hostile archive cannot inflate without bound.
import { inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  read(): Uint8Array;
}

const MAX_ENTRY = 64 * 1024 * 1024;

export function readZip(bytes: Uint8Array, label: string): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${label}: not a zip archive (no end of central directory)`);
  const count = view.getUint16(eocd + 10, true);
  let p = view.getUint32(eocd + 16, true);
  const out: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== 0x02014b50)
      throw new Error(`${label}: corrupt central directory entry ${n}`);
    const method = view.getUint16(p + 10, true);
    const compressed = view.getUint32(p + 20, true);
    const size = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const local = view.getUint32(p + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
    out.push({
      name,
      read: () => {
        if (size > MAX_ENTRY)
          throw new Error(`${label}!${name}: entry of ${size} bytes is over the ${MAX_ENTRY}-byte limit`);
        if (view.getUint32(local, true) !== 0x04034b50)
          throw new Error(`${label}!${name}: corrupt local header`);
        const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
        const data = bytes.subarray(start, start + compressed);
        if (method === 0) return data;
        if (method === 8) return new Uint8Array(inflateRawSync(data, { maxOutputLength: MAX_ENTRY }));
        throw new Error(`${label}!${name}: unsupported compression method ${method}`);
      },
    });
  }
  return out;
}
