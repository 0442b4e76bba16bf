// What an image reader keeps of a jar (war, ear): only the entries the Java analyzer reads, written as a small zip
// of its own. An app server image holds hundreds of megabytes of jars whose classes say nothing about packages;
// their manifests and pom.properties, and those of the jars nested inside them, are a few KiB. Being a zip with
// the same entry names in the same order, the kept bytes are read by jarPackages exactly as the jar was.
import { crc32 } from 'node:zlib';
import { baseName } from './lockfile.js';
import { readZip } from './zip.js';

/** How deep jarPackages opens jars inside jars; the jars below that depth are not read, so not kept. */
export const MAX_JAR_DEPTH = 4;

export const isPomProperties = (name: string): boolean => baseName(name) === 'pom.properties';
export const isManifest = (name: string): boolean => name.toUpperCase() === 'META-INF/MANIFEST.MF';
export const isNestedArchive = (name: string): boolean => /\.(jar|war|ear)$/i.test(name);

// The zip format caps a central directory without zip64 at this many entries.
const MAX_ENTRIES = 0xffff;

interface KeptEntry {
  name: Uint8Array;
  data: Uint8Array;
}

/**
 * The entries of a jar jarPackages reads (every pom.properties, the manifest, the nested archives cut down the same
 * way while they are within MAX_JAR_DEPTH) as a stored zip. Throws what readZip or an entry's read throws, so a jar
 * that cannot be parsed can be kept whole instead and reported by the analyzer against its own path.
 */
export function jarMetadataBlob(bytes: Uint8Array, label: string, depth = 0): Uint8Array {
  const kept: KeptEntry[] = [];
  const encoder = new TextEncoder();
  for (const e of readZip(bytes, label)) {
    let data: Uint8Array;
    if (isPomProperties(e.name) || isManifest(e.name)) data = e.read();
    else if (isNestedArchive(e.name) && depth < MAX_JAR_DEPTH)
      data = jarMetadataBlob(e.read(), `${label}!${e.name}`, depth + 1);
    else continue;
    kept.push({ name: encoder.encode(e.name), data });
  }
  if (kept.length > MAX_ENTRIES)
    throw new Error(`${label}: ${kept.length} metadata entries, over the zip limit`);
  return writeStoredZip(kept);
}

/** A zip of stored (uncompressed) entries with UTF-8 names: local headers, central directory, end record. */
function writeStoredZip(entries: KeptEntry[]): Uint8Array {
  const size = entries.reduce((s, e) => s + 30 + 46 + 2 * e.name.length + e.data.length, 22);
  const out = Buffer.alloc(size);
  const central: { at: number; crc: number; entry: KeptEntry }[] = [];
  let p = 0;
  for (const entry of entries) {
    const crc = crc32(entry.data);
    central.push({ at: p, crc, entry });
    out.writeUInt32LE(0x04034b50, p);
    out.writeUInt16LE(20, p + 4); // version needed: 2.0
    out.writeUInt16LE(0x0800, p + 6); // names are UTF-8
    out.writeUInt16LE(0, p + 8); // stored
    out.writeUInt32LE(0, p + 10); // DOS time and date: none
    out.writeUInt32LE(crc, p + 14);
    out.writeUInt32LE(entry.data.length, p + 18);
    out.writeUInt32LE(entry.data.length, p + 22);
    out.writeUInt16LE(entry.name.length, p + 26);
    out.writeUInt16LE(0, p + 28);
    out.set(entry.name, p + 30);
    out.set(entry.data, p + 30 + entry.name.length);
    p += 30 + entry.name.length + entry.data.length;
  }
  const directory = p;
  for (const { at, crc, entry } of central) {
    out.writeUInt32LE(0x02014b50, p);
    out.writeUInt16LE(20, p + 4); // made by: 2.0, MS-DOS attributes
    out.writeUInt16LE(20, p + 6);
    out.writeUInt16LE(0x0800, p + 8);
    out.writeUInt16LE(0, p + 10);
    out.writeUInt32LE(0, p + 12);
    out.writeUInt32LE(crc, p + 16);
    out.writeUInt32LE(entry.data.length, p + 20);
    out.writeUInt32LE(entry.data.length, p + 24);
    out.writeUInt16LE(entry.name.length, p + 28);
    // extra, comment, disk number, internal and external attributes: all zero (Buffer.alloc zeroed them)
    out.writeUInt32LE(at, p + 42);
    out.set(entry.name, p + 46);
    p += 46 + entry.name.length;
  }
  out.writeUInt32LE(0x06054b50, p);
  out.writeUInt16LE(entries.length, p + 8);
  out.writeUInt16LE(entries.length, p + 10);
  out.writeUInt32LE(p - directory, p + 12);
  out.writeUInt32LE(directory, p + 16);
  return out;
}
