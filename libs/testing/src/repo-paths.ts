// Where the repository and the shared corpus are, from wherever a compiled test or script runs.
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

/** The repository root: the nearest directory above this module (or above `from`) that holds nx.json. */
export function repoRoot(from?: string): string {
  if (from === undefined && cachedRoot) return cachedRoot;
  const start = resolve(from ?? dirname(fileURLToPath(import.meta.url)));
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'nx.json'))) break;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`repoRoot: no nx.json in ${start} or any directory above it`);
    dir = parent;
  }
  if (from === undefined) cachedRoot = dir;
  return dir;
}

/**
 * A path inside the shared corpus, `<repo>/../shared/corpus/<parts>`. The corpus is read in place and never
 * copied into the repo, so a clone without ../shared beside it cannot run corpus-fed tests: say so plainly.
 */
export function corpusPath(...parts: string[]): string {
  const corpus = join(repoRoot(), '..', 'shared', 'corpus');
  if (!existsSync(corpus) || !statSync(corpus).isDirectory()) {
    throw new Error(
      `corpusPath: the shared corpus is missing at ${corpus}; corpus-fed tests read ../shared/corpus beside the repository`,
    );
  }
  const full = resolve(corpus, ...parts);
  if (full !== corpus && !full.startsWith(corpus + '/')) {
    throw new Error(`corpusPath: ${JSON.stringify(parts.join('/'))} points outside the corpus`);
  }
  return full;
}
