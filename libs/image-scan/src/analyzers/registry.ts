// Every analyzer, explicitly. Ids are stable and kebab-case; bump `version` when an analyzer's output changes
// (it is part of what a cached scan result depends on).
import type { Analyzer, OsAnalyzer, PackageAnalyzer } from './analyzer.js';
import { apkAnalyzer } from './apk.analyzer.js';
import { cargoAnalyzer, composerAnalyzer, gemfileAnalyzer } from './cargo-gem-composer.analyzer.js';
import { dpkgAnalyzer } from './dpkg.analyzer.js';
import { goAnalyzer } from './go.analyzer.js';
import { javaAnalyzer } from './java.analyzer.js';
import { npmAnalyzer } from './npm.analyzer.js';
import { osReleaseAnalyzer } from './os-release.analyzer.js';
import { pythonAnalyzer } from './python.analyzer.js';

export const osAnalyzers: readonly OsAnalyzer[] = [osReleaseAnalyzer];

export const packageAnalyzers: readonly PackageAnalyzer[] = [
  dpkgAnalyzer,
  apkAnalyzer,
  npmAnalyzer,
  pythonAnalyzer,
  goAnalyzer,
  cargoAnalyzer,
  gemfileAnalyzer,
  composerAnalyzer,
  javaAnalyzer,
];

export const analyzers: readonly Analyzer[] = [...osAnalyzers, ...packageAnalyzers];

/** True when some analyzer wants this file: what an image reader keeps. */
export function isWanted(path: string): boolean {
  return analyzers.some((a) => a.concerns(path));
}
