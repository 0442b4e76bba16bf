#!/usr/bin/env node
// `buf breaking` for proto/ against the last committed version of the contracts: HEAD when proto/ or buf.yaml has
// uncommitted changes (a developer checking their edit), else HEAD~1 (CI on a merged commit). Set
// BUF_BREAKING_AGAINST to any buf input (".git#branch=main") to choose another baseline. Skips, with a line saying
// why, when the baseline has no contracts yet (the commit that introduces proto/) or is not in a shallow clone.
import { spawnSync } from 'node:child_process';

const git = (...args) => spawnSync('git', args, { encoding: 'utf8' });
const top = git('rev-parse', '--show-toplevel');
if (top.status !== 0) {
  console.error(`buf-breaking: not inside a git work tree: ${top.stderr.trim()}`);
  process.exit(2);
}
const root = top.stdout.trim();
const inRoot = (...args) => spawnSync('git', ['-C', root, ...args], { encoding: 'utf8' });

let against = process.env.BUF_BREAKING_AGAINST;
if (!against) {
  const dirty = inRoot('status', '--porcelain', '--', 'proto', 'buf.yaml').stdout.trim() !== '';
  const ref = dirty ? 'HEAD' : 'HEAD~1';
  const commit = inRoot('rev-parse', '--verify', '--quiet', `${ref}^{commit}`);
  if (commit.status !== 0) {
    console.log(`buf-breaking: skipped: ${ref} does not exist here (first commit or shallow clone)`);
    process.exit(0);
  }
  const sha = commit.stdout.trim();
  for (const path of ['buf.yaml', 'proto/vigil/v1']) {
    if (inRoot('cat-file', '-e', `${sha}:${path}`).status !== 0) {
      console.log(
        `buf-breaking: skipped: ${ref} (${sha.slice(0, 12)}) has no ${path} yet, nothing to be compatible with`,
      );
      process.exit(0);
    }
  }
  against = `.git#ref=${sha}`;
  console.log(`buf-breaking: proto/ against ${ref} (${sha.slice(0, 12)})`);
}
const r = spawnSync('buf', ['breaking', '--against', against], { cwd: root, stdio: 'inherit' });
if (r.error) {
  console.error(`buf-breaking: cannot run buf: ${r.error.message}`);
  process.exit(2);
}
process.exit(r.status ?? 1);
