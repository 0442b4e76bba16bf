// Runs the analyzers over one filesystem: the OS first (package ecosystems and purls depend on it), then every
// package analyzer on the files it concerns.
import type { ExtractedPackage, FileEntry, OsRelease } from './analyzer.js';
import { osAnalyzers, packageAnalyzers } from './registry.js';

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
  const normalized = files.map((f) => ({ path: normalizePath(f.path), read: () => f.read() }));
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
    if (mine.length === 0) continue;
    packages.push(...(await a.analyze(mine, { os, file: (p) => byPath.get(normalizePath(p)) })));
  }
  return { os, packages };
}
