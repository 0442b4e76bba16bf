// What every analyzer shares. An analyzer reads a few files of a filesystem (an image's merged layers, an unpacked
// root, a source tree) and reports the operating system or the packages they record. `concerns` must stay cheap:
// the image reader calls it on every path to decide which file contents to keep.

export interface FileEntry {
  /** Path relative to the filesystem root, "/"-separated, no leading "/" (`var/lib/dpkg/status`). */
  path: string;
  read(): Promise<Uint8Array>;
  /** Permission bits (tar header or stat); absent when the source does not know them. */
  mode?: number;
}

export interface OsRelease {
  id?: string;
  id_like?: string[];
  name?: string;
  pretty_name?: string;
  version?: string;
  version_id?: string;
  version_codename?: string;
  variant?: string;
  variant_id?: string;
  cpe_name?: string;
  build_id?: string;
}

export type Relationship = 'root' | 'direct' | 'indirect' | 'unknown';

export interface ExtractedPackage {
  /** OSV ecosystem name (`Debian:12`, `Alpine:v3.18`, `npm`, `PyPI`); a distro without a known release has none. */
  ecosystem: string;
  name: string;
  version: string;
  /** Source package (dpkg Source:, apk origin), which distro advisories are written against. */
  sourceName?: string;
  sourceVersion?: string;
  epoch?: number;
  arch?: string;
  purl: string;
  /** Files the package installed, relative to the root. */
  installedFiles: string[];
  /** The file that recorded the package (database, lockfile, manifest). */
  location: string;
  /** 1-based first and last line of the entry in that file, where the format has lines. */
  lines?: [number, number];
  dev?: boolean;
  relationship?: Relationship;
  licenses?: string[];
  /** A transitional/dummy package: it installs no code of its own. */
  transitional?: boolean;
  /** rpm MODULARITYLABEL (`nodejs:18:9020020230510:rhel9`): the module stream a package came from. */
  modularityLabel?: string;
  /** Analyzer that reported it, for the finding's `detection`. */
  foundBy: { id: string; version: number };
}

export interface AnalyzerContext {
  os: OsRelease | null;
  /** Reads one file the analyzer concerns by path, or undefined when the filesystem has none. */
  file(path: string): FileEntry | undefined;
}

/** How many leading bytes of a file `concernsContent` is shown. */
export const CONTENT_HEAD_BYTES = 64;

export interface PackageAnalyzer {
  readonly kind: 'packages';
  readonly id: string;
  readonly version: number;
  concerns(path: string): boolean;
  /**
   * For files no fixed name finds (a Go program can be called anything): asked about regular files `concerns`
   * declined, with the file's mode (permission bits at least) and its first bytes (up to CONTENT_HEAD_BYTES, fewer
   * when the file is shorter). True keeps the file for `analyze`, which must still cope with files that turn out
   * not to be what the head suggested. Must stay cheap: the reader calls it on every regular file.
   */
  concernsContent?(path: string, mode: number, head: Uint8Array): boolean;
  /**
   * Of a whole file concerns or concernsContent accepted, the bytes analyze needs, when that is far less than the
   * file (a Go program's build info, a jar's manifest and pom.properties): an image reader keeps these instead, and
   * they must in turn satisfy concernsContent (the path is unchanged, so concerns still holds) and give analyze the
   * same result. Undefined keeps the whole file.
   */
  keptContent?(path: string, bytes: Uint8Array): Uint8Array | undefined;
  /** Called once per filesystem with every file it concerns. */
  analyze(files: FileEntry[], context: AnalyzerContext): Promise<ExtractedPackage[]>;
}

export interface OsAnalyzer {
  readonly kind: 'os';
  readonly id: string;
  readonly version: number;
  concerns(path: string): boolean;
  analyze(files: FileEntry[]): Promise<OsRelease | null>;
}

export type Analyzer = PackageAnalyzer | OsAnalyzer;

/** An input in a format that exists but this build cannot read (a Berkeley DB rpmdb); names the file and the format. */
export class UnsupportedInputError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = 'UnsupportedInputError';
  }
}

/** An input that cannot be read as what its name says; the message names the file and the problem. */
export class MalformedInputError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = 'MalformedInputError';
  }
}

export async function readText(file: FileEntry): Promise<string> {
  const bytes = await file.read();
  // UTF-16 with a byte-order mark appears in requirements files written on Windows.
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  return new TextDecoder('utf-8').decode(bytes).replace(/^\uFEFF/, '');
}
