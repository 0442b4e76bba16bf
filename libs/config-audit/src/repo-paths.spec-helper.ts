// Where the repository and the shared corpus are, for tests. Engines may not import @vigil/testing (lint boundary),
// so the walk up to nx.json lives here.
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

/** `<repo>/../shared/corpus/<parts>`, read in place (never copied into the repository). */
export function corpusPath(...parts: string[]): string {
  const path = resolve(repoRoot(), '..', 'shared', 'corpus', ...parts);
  if (!existsSync(path))
    throw new Error(`corpusPath: ${path} does not exist (the shared corpus sits beside the repository)`);
  return path;
}
