// An rpm header as the rpmdb stores it (rpm's lib/header.c, "headerImport"): the 8-byte magic of a package file's
// header is not stored, so the blob starts with two big-endian int32s, the index entry count and the data store
// length, then the index entries (tag, type, offset, count; 16 bytes each), then the data store.

export const TAG = {
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  VENDOR: 1011,
  LICENSE: 1014,
  ARCH: 1022,
  OLDFILENAMES: 1027,
  SOURCERPM: 1044,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
  MODULARITYLABEL: 5096,
} as const;

const TYPE = {
  NULL: 0,
  CHAR: 1,
  INT8: 2,
  INT16: 3,
  INT32: 4,
  INT64: 5,
  STRING: 6,
  BIN: 7,
  STRING_ARRAY: 8,
  I18NSTRING: 9,
} as const;

// rpm's own limits (HEADER_TAGS_MAX, HEADER_DATA_MAX): a header past them is corrupt, not large.
const MAX_ENTRIES = 0xffff;
const MAX_DATA = 0x0fffffff;

interface Entry {
  type: number;
  offset: number;
  count: number;
}

export class RpmHeaderError extends Error {}

export class RpmHeader {
  private readonly entries = new Map<number, Entry>();
  private readonly data: Uint8Array;
  private readonly view: DataView;

  constructor(blob: Uint8Array) {
    if (blob.length < 8)
      throw new RpmHeaderError(`header of ${blob.length} bytes is shorter than its 8-byte intro`);
    const intro = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const il = intro.getUint32(0);
    const dl = intro.getUint32(4);
    if (il < 1 || il > MAX_ENTRIES) throw new RpmHeaderError(`index entry count ${il} is out of range`);
    if (dl > MAX_DATA) throw new RpmHeaderError(`data length ${dl} is out of range`);
    const dataStart = 8 + il * 16;
    if (dataStart + dl > blob.length)
      throw new RpmHeaderError(
        `${il} index entries and ${dl} data bytes need ${dataStart + dl} bytes, the header has ${blob.length}`,
      );
    this.data = blob.subarray(dataStart, dataStart + dl);
    this.view = new DataView(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    for (let i = 0; i < il; i++) {
      const at = 8 + i * 16;
      const tag = intro.getUint32(at);
      const entry = {
        type: intro.getUint32(at + 4),
        offset: intro.getInt32(at + 8),
        count: intro.getUint32(at + 12),
      };
      if (entry.type > TYPE.I18NSTRING) throw new RpmHeaderError(`tag ${tag} has unknown type ${entry.type}`);
      if (entry.offset < 0 || entry.offset > dl)
        throw new RpmHeaderError(
          `tag ${tag} points at offset ${entry.offset} outside the ${dl}-byte data store`,
        );
      if (!this.entries.has(tag)) this.entries.set(tag, entry);
    }
  }

  has(tag: number): boolean {
    return this.entries.has(tag);
  }

  string(tag: number): string | undefined {
    const e = this.entries.get(tag);
    if (!e) return undefined;
    if (e.type !== TYPE.STRING && e.type !== TYPE.I18NSTRING && e.type !== TYPE.STRING_ARRAY)
      throw new RpmHeaderError(`tag ${tag} has type ${e.type}, expected a string`);
    // An i18n string's first entry is the untranslated (C locale) text.
    return this.strings(e, tag, 1)[0];
  }

  stringArray(tag: number): string[] {
    const e = this.entries.get(tag);
    if (!e) return [];
    if (e.type !== TYPE.STRING_ARRAY && e.type !== TYPE.I18NSTRING)
      throw new RpmHeaderError(`tag ${tag} has type ${e.type}, expected a string array`);
    return this.strings(e, tag, e.count);
  }

  int32Array(tag: number): number[] {
    const e = this.entries.get(tag);
    if (!e) return [];
    if (e.type !== TYPE.INT32) throw new RpmHeaderError(`tag ${tag} has type ${e.type}, expected int32`);
    if (e.offset % 4 !== 0)
      throw new RpmHeaderError(`tag ${tag}: int32 data at unaligned offset ${e.offset}`);
    if (e.offset + e.count * 4 > this.data.length)
      throw new RpmHeaderError(`tag ${tag}: ${e.count} int32 values run past the data store`);
    const out: number[] = [];
    for (let i = 0; i < e.count; i++) out.push(this.view.getInt32(e.offset + i * 4));
    return out;
  }

  int32(tag: number): number | undefined {
    return this.entries.has(tag) ? this.int32Array(tag)[0] : undefined;
  }

  private strings(e: Entry, tag: number, count: number): string[] {
    const out: string[] = [];
    const decoder = new TextDecoder('utf-8');
    let at = e.offset;
    for (let i = 0; i < count; i++) {
      const end = this.data.indexOf(0, at);
      if (end < 0) throw new RpmHeaderError(`tag ${tag}: string ${i + 1} of ${count} is not terminated`);
      out.push(decoder.decode(this.data.subarray(at, end)));
      at = end + 1;
    }
    return out;
  }
}
