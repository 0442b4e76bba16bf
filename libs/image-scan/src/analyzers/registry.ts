// Every analyzer, explicitly. Ids are stable and kebab-case; bump `version` when an analyzer's output changes
// (it is part of what a cached scan result depends on).
import type { Analyzer, OsAnalyzer, PackageAnalyzer } from './analyzer.js';
import { apkAnalyzer } from './apk.analyzer.js';
import { cargoAnalyzer, composerAnalyzer, gemfileAnalyzer } from './cargo-gem-composer.analyzer.js';
import { dpkgAnalyzer } from './dpkg.analyzer.js';
import { gemspecAnalyzer } from './gemspec.analyzer.js';
import { goBinaryAnalyzer } from './go-binary.analyzer.js';
import { goAnalyzer } from './go.analyzer.js';
import { javaAnalyzer } from './java.analyzer.js';
import { npmAnalyzer } from './npm.analyzer.js';
import { osReleaseAnalyzer } from './os-release.analyzer.js';
import { pythonAnalyzer } from './python.analyzer.js';
import { rpmAnalyzer } from './rpm.analyzer.js';

export const osAnalyzers: readonly OsAnalyzer[] = [osReleaseAnalyzer];

export const packageAnalyzers: readonly PackageAnalyzer[] = [
  dpkgAnalyzer,
  apkAnalyzer,
  rpmAnalyzer,
  npmAnalyzer,
  pythonAnalyzer,
  goAnalyzer,
  goBinaryAnalyzer,
  cargoAnalyzer,
  gemfileAnalyzer,
  gemspecAnalyzer,
  composerAnalyzer,
  javaAnalyzer,
];

export const analyzers: readonly Analyzer[] = [...osAnalyzers, ...packageAnalyzers];

/** True when some analyzer wants this file: what an image reader keeps. */
export function isWanted(path: string): boolean {
  return analyzers.some((a) => a.concerns(path));
}

/**
 * True when some analyzer wants a file by its content: asked by an image reader about each regular file `isWanted`
 * declined, with the tar entry's mode and the file's first bytes (at least CONTENT_HEAD_BYTES of them, or the whole
 * file when shorter). A file wanted here is handed to the analyzers like any other.
 */
export function isWantedContent(path: string, mode: number, head: Uint8Array): boolean {
  return packageAnalyzers.some((a) => a.concernsContent?.(path, mode, head) ?? false);
}
