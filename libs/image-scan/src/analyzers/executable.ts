// Just enough of ELF, PE and Mach-O to find where a program's initialised data starts and to turn a virtual address
// into a file offset: what reading a Go binary's build info needs (Go's debug/buildinfo does the same).

export type ExecutableFormat = 'elf' | 'pe' | 'macho';

/** The executable format a file's first bytes announce, or undefined. */
export function executableFormat(head: Uint8Array): ExecutableFormat | undefined {
  if (head.length < 4) return undefined;
  const [a, b, c, d] = head as unknown as [number, number, number, number];
  if (a === 0x7f && b === 0x45 && c === 0x4c && d === 0x46) return 'elf';
  if (a === 0x4d && b === 0x5a) return 'pe';
  const magic = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  if ([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe].includes(magic)) return 'macho';
  return undefined;
}

interface Region {
  addr: bigint;
  offset: number;
  size: number;
}

export class ExecutableError extends Error {}

export interface Executable {
  format: ExecutableFormat;
  /** Virtual address where Go's linker puts the build info: its own section, else the start of writable data. */
  buildInfoAddr: bigint | undefined;
  /** Up to `length` bytes at a virtual address (fewer at the end of its region), or undefined when unmapped. */
  read(addr: bigint, length: number): Uint8Array | undefined;
}

class Reader {
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    public little: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private check(at: number, n: number): void {
    if (at < 0 || at + n > this.bytes.length)
      throw new ExecutableError(
        `header field at offset ${at} lies past the end of the ${this.bytes.length}-byte file`,
      );
  }
  u16(at: number): number {
    this.check(at, 2);
    return this.view.getUint16(at, this.little);
  }
  u32(at: number): number {
    this.check(at, 4);
    return this.view.getUint32(at, this.little);
  }
  u64(at: number): bigint {
    this.check(at, 8);
    return this.view.getBigUint64(at, this.little);
  }
  word(at: number, wide: boolean): bigint {
    return wide ? this.u64(at) : BigInt(this.u32(at));
  }
  name(at: number, max: number): string {
    this.check(at, max);
    const raw = this.bytes.subarray(at, at + max);
    const end = raw.indexOf(0);
    return new TextDecoder('latin1').decode(end < 0 ? raw : raw.subarray(0, end));
  }
}

function offsetOf(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ExecutableError(`${what} ${value} is out of range`);
  return Number(value);
}

function elf(r: Reader): { regions: Region[]; dataAddr: bigint | undefined } {
  const wide = r.bytes[4] === 2;
  if (r.bytes[4] !== 1 && !wide) throw new ExecutableError(`unknown ELF class ${r.bytes[4]}`);
  if (r.bytes[5] !== 1 && r.bytes[5] !== 2) throw new ExecutableError(`unknown ELF byte order ${r.bytes[5]}`);
  r.little = r.bytes[5] === 1;
  const phoff = offsetOf(r.word(wide ? 0x20 : 0x1c, wide), 'program header offset');
  const shoff = offsetOf(r.word(wide ? 0x28 : 0x20, wide), 'section header offset');
  const phentsize = r.u16(wide ? 0x36 : 0x2a);
  const phnum = r.u16(wide ? 0x38 : 0x2c);
  const shentsize = r.u16(wide ? 0x3a : 0x2e);
  const shnum = r.u16(wide ? 0x3c : 0x30);
  const shstrndx = r.u16(wide ? 0x3e : 0x32);
  const regions: Region[] = [];
  let firstData: bigint | undefined;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    const type = r.u32(at);
    if (type !== 1) continue; // PT_LOAD
    const flags = wide ? r.u32(at + 4) : r.u32(at + 24);
    const offset = offsetOf(r.word(wide ? at + 8 : at + 4, wide), 'segment offset');
    const vaddr = r.word(wide ? at + 16 : at + 8, wide);
    const filesz = offsetOf(r.word(wide ? at + 32 : at + 16, wide), 'segment size');
    regions.push({ addr: vaddr, offset, size: filesz });
    // Writable and not executable: the data segment.
    if (firstData === undefined && (flags & 3) === 2) firstData = vaddr;
  }
  let section: bigint | undefined;
  if (shoff !== 0 && shnum > 0 && shstrndx < shnum) {
    const strtab = offsetOf(
      r.word(shoff + shstrndx * shentsize + (wide ? 24 : 16), wide),
      'string table offset',
    );
    for (let i = 0; i < shnum; i++) {
      const at = shoff + i * shentsize;
      const nameAt = strtab + r.u32(at);
      if (nameAt >= r.bytes.length) continue;
      if (r.name(nameAt, Math.min(32, r.bytes.length - nameAt)) === '.go.buildinfo')
        section = r.word(wide ? at + 16 : at + 12, wide);
    }
  }
  return { regions, dataAddr: section ?? firstData };
}

function pe(r: Reader): { regions: Region[]; dataAddr: bigint | undefined } {
  const lfanew = r.u32(0x3c);
  if (r.u32(lfanew) !== 0x00004550) throw new ExecutableError('MZ file without a PE signature');
  const sections = r.u16(lfanew + 6);
  const optSize = r.u16(lfanew + 20);
  const opt = lfanew + 24;
  const magic = r.u16(opt);
  if (magic !== 0x10b && magic !== 0x20b)
    throw new ExecutableError(`unknown PE optional header magic ${magic}`);
  const imageBase = magic === 0x20b ? r.u64(opt + 24) : BigInt(r.u32(opt + 28));
  const regions: Region[] = [];
  let dataAddr: bigint | undefined;
  for (let i = 0; i < sections; i++) {
    const at = opt + optSize + i * 40;
    const virtualSize = r.u32(at + 8);
    const va = r.u32(at + 12);
    const rawSize = r.u32(at + 16);
    const rawAt = r.u32(at + 20);
    const characteristics = r.u32(at + 36);
    const addr = imageBase + BigInt(va);
    regions.push({ addr, offset: rawAt, size: Math.min(virtualSize || rawSize, rawSize) });
    // Initialised data, readable and writable: .data, where Go's linker puts the build info on Windows.
    const wanted = 0x40 | 0x40000000 | 0x80000000;
    if (
      dataAddr === undefined &&
      va !== 0 &&
      rawSize !== 0 &&
      (characteristics & wanted) >>> 0 === wanted >>> 0
    )
      dataAddr = addr;
  }
  return { regions, dataAddr };
}

function macho(r: Reader): { regions: Region[]; dataAddr: bigint | undefined } {
  const m = r.view.getUint32(0, false);
  r.little = m === 0xcefaedfe || m === 0xcffaedfe;
  const wide = m === 0xfeedfacf || m === 0xcffaedfe;
  const ncmds = r.u32(16);
  let at = wide ? 32 : 28;
  const regions: Region[] = [];
  let segment: bigint | undefined;
  let section: bigint | undefined;
  for (let i = 0; i < ncmds; i++) {
    const cmd = r.u32(at);
    const size = r.u32(at + 4);
    if (size < 8) throw new ExecutableError(`Mach-O load command ${i} has size ${size}`);
    if (cmd === (wide ? 0x19 : 0x1)) {
      const segname = r.name(at + 8, 16);
      const vmaddr = r.word(at + 24, wide);
      const fileoff = offsetOf(r.word(at + (wide ? 40 : 32), wide), 'segment offset');
      const filesize = offsetOf(r.word(at + (wide ? 48 : 36), wide), 'segment size');
      regions.push({ addr: vmaddr, offset: fileoff, size: filesize });
      if (segname === '__DATA' && segment === undefined) segment = vmaddr;
      const nsects = r.u32(at + (wide ? 64 : 48));
      for (let s = 0; s < nsects; s++) {
        const sect = at + (wide ? 72 + s * 80 : 56 + s * 68);
        if (r.name(sect, 16) === '__go_buildinfo') section = r.word(sect + 32, wide);
      }
    }
    at += size;
  }
  return { regions, dataAddr: section ?? segment };
}

export function openExecutable(bytes: Uint8Array): Executable {
  const format = executableFormat(bytes);
  if (!format) throw new ExecutableError('not an ELF, PE or Mach-O file');
  const r = new Reader(bytes, true);
  const { regions, dataAddr } = format === 'elf' ? elf(r) : format === 'pe' ? pe(r) : macho(r);
  return {
    format,
    buildInfoAddr: dataAddr,
    read(addr, length) {
      for (const reg of regions) {
        if (addr < reg.addr || addr >= reg.addr + BigInt(reg.size)) continue;
        const start = reg.offset + Number(addr - reg.addr);
        const end = Math.min(start + length, reg.offset + reg.size, bytes.length);
        return start < end ? bytes.subarray(start, end) : undefined;
      }
      return undefined;
    },
  };
}
