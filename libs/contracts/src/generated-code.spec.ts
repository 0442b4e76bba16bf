import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// The generated code is committed so builds need no codegen; this keeps it honest: regenerating from proto/ with
// the pinned buf and protoc-gen-es must reproduce src/gen byte for byte.
const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = join(pkgDir, '../..');
const require = createRequire(import.meta.url);
const bufBin = join(dirname(require.resolve('@bufbuild/buf/package.json')), 'bin');
const esBin = join(dirname(require.resolve('@bufbuild/protoc-gen-es/package.json')), 'bin');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

test('src/gen is what `npm run codegen` makes from proto/', () => {
  const out = mkdtempSync(join(tmpdir(), 'vigil-codegen-'));
  try {
    const r = spawnSync(join(bufBin, 'buf'), ['generate', '--output', out], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${esBin}${delimiter}${process.env.PATH ?? ''}` },
    });
    assert.equal(r.status, 0, `buf generate failed: ${r.stderr}`);
    const fresh = join(out, 'libs/contracts/src/gen');
    const committed = join(pkgDir, 'src/gen');
    assert.deepEqual(files(fresh), files(committed));
    for (const f of files(fresh)) {
      assert.equal(
        readFileSync(join(committed, f), 'utf8'),
        readFileSync(join(fresh, f), 'utf8'),
        `src/gen/${f} is stale: run npm run codegen in libs/contracts`,
      );
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
