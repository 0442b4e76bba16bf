// A deliberately small ustar writer and reader, enough to assemble and read back the example image's layers
// without Docker or any npm package. Both sides follow POSIX.1-1988 ustar: 512-byte headers, octal numeric
// fields, long names split into prefix (155) + name (100), and two zero blocks at the end.

const BLOCK = 512;
const encoder = new TextEncoder();

// Every header field this writer fills, as [offset, length].
const FIELD = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  checksum: [148, 8],
  type: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  version: [263, 2],
  uname: [265, 32],
  gname: [297, 32],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
};

export const TYPE_FILE = '0';
export const TYPE_SYMLINK = '2';
export const TYPE_DIRECTORY = '5';

function putString(header, field, value) {
  const [offset, length] = FIELD[field];
  const bytes = encoder.encode(value);
  if (bytes.length > length) {
    throw new Error(`tar: ${field} "${value}" is longer than the ${length} bytes ustar allows`);
  }
  header.set(bytes, offset);
}

function putOctal(header, field, value) {
  const length = FIELD[field][1];
  // length-1 octal digits followed by a NUL, the form GNU tar and Go's archive/tar both write.
  const digits = value.toString(8).padStart(length - 1, '0');
  if (digits.length > length - 1) throw new Error(`tar: ${field} ${value} does not fit in ${length} bytes`);
  putString(header, field, digits);
}

// Splits a path into ustar's prefix and name parts; the split has to fall on a "/".
function splitPath(path) {
  if (encoder.encode(path).length <= 100) return { prefix: '', name: path };
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (encoder.encode(prefix).length <= 155 && encoder.encode(name).length <= 100 && name.length > 0) {
      return { prefix, name };
    }
  }
  throw new Error(`tar: path "${path}" cannot be stored in a ustar header`);
}

/**
 * Builds an uncompressed tar archive.
 * @param {Array<{path: string, type?: string, mode?: number, content?: Uint8Array|string, linkname?: string}>} entries
 *   written in the order given; directories end in "/". Owner is always 0:0 (root), mtime is `mtime`.
 * @param {{mtime: number}} options seconds since the epoch, the same for every entry so output is reproducible
 * @returns {Buffer}
 */
export function writeTar(entries, { mtime }) {
  const chunks = [];
  for (const entry of entries) {
    const type = entry.type ?? TYPE_FILE;
    const content =
      typeof entry.content === 'string'
        ? encoder.encode(entry.content)
        : (entry.content ?? new Uint8Array(0));
    if (type !== TYPE_FILE && content.length > 0)
      throw new Error(`tar: ${entry.path} is not a file but has content`);
    const header = new Uint8Array(BLOCK);
    const { prefix, name } = splitPath(entry.path);
    putString(header, 'name', name);
    putString(header, 'prefix', prefix);
    putOctal(header, 'mode', entry.mode ?? (type === TYPE_DIRECTORY ? 0o755 : 0o644));
    putOctal(header, 'uid', 0);
    putOctal(header, 'gid', 0);
    putOctal(header, 'size', content.length);
    putOctal(header, 'mtime', mtime);
    putString(header, 'type', type);
    putString(header, 'linkname', entry.linkname ?? '');
    putString(header, 'magic', 'ustar\0');
    putString(header, 'version', '00');
    putString(header, 'uname', 'root');
    putString(header, 'gname', 'root');
    putOctal(header, 'devmajor', 0);
    putOctal(header, 'devminor', 0);
    // The checksum is computed with its own field read as eight spaces.
    header.fill(0x20, FIELD.checksum[0], FIELD.checksum[0] + FIELD.checksum[1]);
    const sum = header.reduce((acc, byte) => acc + byte, 0);
    header.set(encoder.encode(sum.toString(8).padStart(6, '0') + '\0 '), FIELD.checksum[0]);
    chunks.push(header, content);
    const padding = (BLOCK - (content.length % BLOCK)) % BLOCK;
    if (padding) chunks.push(new Uint8Array(padding));
  }
  chunks.push(new Uint8Array(BLOCK * 2));
  return Buffer.concat(chunks);
}

function readString(block, field) {
  const [offset, length] = FIELD[field];
  const slice = block.subarray(offset, offset + length);
  const end = slice.indexOf(0);
  return Buffer.from(end === -1 ? slice : slice.subarray(0, end)).toString('utf8');
}

function readOctal(block, field, where) {
  const text = readString(block, field).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new Error(`${where}: ${field} field "${text}" is not octal`);
  return parseInt(text, 8);
}

/**
 * Reads a ustar archive written by writeTar (or any plain ustar archive without pax or GNU extensions).
 * @param {Uint8Array} archive
 * @param {string} where names the archive in error messages
 * @returns {Array<{path: string, type: string, mode: number, uid: number, gid: number, mtime: number, linkname: string, content: Buffer}>}
 */
export function readTar(archive, where) {
  const entries = [];
  let offset = 0;
  while (offset + BLOCK <= archive.length) {
    const block = archive.subarray(offset, offset + BLOCK);
    if (block.every((byte) => byte === 0)) return entries;
    const stored = readOctal(block, 'checksum', where);
    const copy = Uint8Array.from(block);
    copy.fill(0x20, FIELD.checksum[0], FIELD.checksum[0] + FIELD.checksum[1]);
    const actual = copy.reduce((acc, byte) => acc + byte, 0);
    if (stored !== actual)
      throw new Error(`${where}: header at byte ${offset} has checksum ${stored}, computed ${actual}`);
    const magic = readString(block, 'magic');
    if (magic !== 'ustar')
      throw new Error(`${where}: header at byte ${offset} is not ustar (magic "${magic}")`);
    const prefix = readString(block, 'prefix');
    const name = readString(block, 'name');
    const size = readOctal(block, 'size', where);
    const start = offset + BLOCK;
    if (start + size > archive.length)
      throw new Error(`${where}: ${name} claims ${size} bytes past the end of the archive`);
    entries.push({
      path: prefix ? `${prefix}/${name}` : name,
      type: readString(block, 'type') || TYPE_FILE,
      mode: readOctal(block, 'mode', where),
      uid: readOctal(block, 'uid', where),
      gid: readOctal(block, 'gid', where),
      mtime: readOctal(block, 'mtime', where),
      linkname: readString(block, 'linkname'),
      content: Buffer.from(archive.subarray(start, start + size)),
    });
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  throw new Error(`${where}: archive ends without the two zero blocks that close a tar file`);
}
