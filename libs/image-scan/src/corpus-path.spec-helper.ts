// Where ../shared/corpus is, for tests: the repository root is the nearest directory above holding nx.json.
// (Engines may not import @vigil/testing, so the walk lives here.)
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function corpusPath(...parts: string[]): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'nx.json'))) {
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('corpusPath: no nx.json above the test; run the tests from inside the repository');
    dir = parent;
  }
  const path = join(dir, '..', 'shared', 'corpus', ...parts);
  if (!existsSync(path))
    throw new Error(`corpusPath: ${path} does not exist (the shared corpus sits beside the repository)`);
  return path;
}
