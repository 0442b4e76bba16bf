// Runs the analyzers over one filesystem: the OS first (package ecosystems and purls depend on it), then every
// package analyzer on the files it concerns.
import { CONTENT_HEAD_BYTES, type ExtractedPackage, type FileEntry, type OsRelease } from './analyzer.js';
import { analyzers, osAnalyzers, packageAnalyzers } from './registry.js';

export interface ExtractOptions {
  /** Distribution facts known from elsewhere (a scan request, a base image), used when no release file says. */
  os?: OsRelease | null;
}

export interface ExtractResult {
  os: OsRelease | null;
  packages: ExtractedPackage[];
}

function normalizePath(p: string): string {
  return p
    .replace(/\\/g, '/')
    .replace(/^(\.\/)+/, '')
    .replace(/^\/+/, '');
}

export async function extractPackages(
  files: FileEntry[],
  options: ExtractOptions = {},
): Promise<ExtractResult> {
  const normalized: FileEntry[] = files.map((f) => {
    const n: FileEntry = { path: normalizePath(f.path), read: () => f.read() };
    if (f.mode !== undefined) n.mode = f.mode;
    return n;
  });
  const byPath = new Map(normalized.map((f) => [f.path, f]));
  let os: OsRelease | null = null;
  for (const a of osAnalyzers) {
    const mine = normalized.filter((f) => a.concerns(f.path));
    if (mine.length) os = (await a.analyze(mine)) ?? os;
    if (os) break;
  }
  if (!os) os = options.os ?? null;
  const packages: ExtractedPackage[] = [];
  for (const a of packageAnalyzers) {
    const mine = normalized.filter((f) => a.concerns(f.path));
    if (a.concernsContent) {
      // Files no analyzer names by path are here because the reader kept them for their content: ask again.
      for (const f of normalized) {
        if (mine.includes(f) || analyzers.some((other) => other.concerns(f.path))) continue;
        const head = (await f.read()).subarray(0, CONTENT_HEAD_BYTES);
        // Without a known mode, judge by content alone.
        if (a.concernsContent(f.path, f.mode ?? 0o755, head)) mine.push(f);
      }
    }
    if (mine.length === 0) continue;
    packages.push(...(await a.analyze(mine, { os, file: (p) => byPath.get(normalizePath(p)) })));
  }
  return { os, packages };
}
