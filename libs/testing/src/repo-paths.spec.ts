import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { corpusPath, repoRoot } from './repo-paths.js';

describe('repoRoot', () => {
  it('is the directory holding nx.json and this package', () => {
    const root = repoRoot();
    assert.ok(existsSync(join(root, 'nx.json')));
    assert.ok(existsSync(join(root, 'libs/testing/package.json')));
  });

  it('walks up from a nested directory, and fails naming the start when there is no nx.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-root-'));
    try {
      mkdirSync(join(dir, 'a/b/c'), { recursive: true });
      writeFileSync(join(dir, 'a/nx.json'), '{}');
      assert.equal(repoRoot(join(dir, 'a/b/c')), join(dir, 'a'));
      assert.throws(() => repoRoot(dir), new RegExp(`no nx.json in ${dir} or any directory above it`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('corpusPath', () => {
  const corpus = join(repoRoot(), '..', 'shared', 'corpus');

  it(
    'points into ../shared/corpus beside the repository',
    { skip: !existsSync(corpus) && 'no ../shared/corpus here' },
    () => {
      assert.equal(corpusPath('k8s'), join(corpus, 'k8s'));
      assert.ok(existsSync(corpusPath()));
    },
  );

  it(
    'refuses paths that climb out of the corpus',
    { skip: !existsSync(corpus) && 'no ../shared/corpus here' },
    () => {
      assert.throws(() => corpusPath('..', 'design'), /points outside the corpus/);
    },
  );
});
