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
 * Whether some analyzer wants a file by its content: asked by an image reader about each regular file `isWanted`
 * declined, with the tar entry's mode and the file's first bytes (at least CONTENT_HEAD_BYTES of them, or the whole
 * file when shorter). A file wanted here is handed to the analyzers like any other. Given the whole file, the answer
 * can be bytes instead of true: what to keep in its place (a Go program's build info rather than the program), when
 * the one analyzer that wants it needs no more; files several analyzers want are kept whole.
 */
export function isWantedContent(path: string, mode: number, head: Uint8Array): boolean | Uint8Array {
  const wanting = packageAnalyzers.filter((a) => a.concernsContent?.(path, mode, head) ?? false);
  if (wanting.length !== 1) return wanting.length > 1;
  return wanting[0]!.keptContent?.(path, head) ?? true;
}

/**
 * Of a file an image reader keeps for its path, what to keep in its place (a jar's metadata entries rather than the
 * jar), asked with the file's path and the paths of the links known to reach it. Only when every analyzer that will
 * be handed the file under those paths is one and the same, which can say what it needs; otherwise, or when that
 * analyzer needs the whole file, undefined: keep the file whole.
 */
export function keptContentOf(paths: readonly string[], bytes: Uint8Array): Uint8Array | undefined {
  const concerned = analyzers.filter((a) => paths.some((p) => a.concerns(p)));
  if (concerned.length !== 1 || concerned[0]!.kind !== 'packages') return undefined;
  const analyzer = concerned[0]!;
  const path = paths.find((p) => analyzer.concerns(p))!;
  return analyzer.keptContent?.(path, bytes);
}
