// Where the repository and ../shared/corpus are, for tests. Engines may not import @vigil/testing (the module
// boundary rule), so the walk up to nx.json lives here.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'nx.json'))) {
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('repoRoot: no nx.json above the test; run the tests from inside the repository');
    dir = parent;
  }
  return dir;
}

/** `<repo>/../shared/corpus/<parts>`, read in place; says plainly when the corpus is not beside the repository. */
export function corpusPath(...parts: string[]): string {
  const corpus = resolve(repoRoot(), '..', 'shared', 'corpus');
  const path = resolve(corpus, ...parts);
  if (!path.startsWith(corpus)) throw new Error(`corpusPath: ${parts.join('/')} points outside the corpus`);
  if (!existsSync(path))
    throw new Error(`corpusPath: ${path} does not exist (the shared corpus sits beside the repository)`);
  return path;
}

/** A clock pinned to one instant, so outputs that use the clock are exact. */
export function fixedClock(iso: string): () => Date {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`fixedClock: "${iso}" is not a date`);
  return () => new Date(t);
}
