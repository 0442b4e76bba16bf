#!/usr/bin/env node
// Runs one test tier of the project in the current directory from its compiled output (tsc keeps the decorator
// metadata NestJS needs, so tests run exactly the code that ships). Tiers by suffix: *.spec.js (unit),
// *.int.spec.js (integration, real Kafka and Postgres), *.e2e.spec.js (the all-in-one vigil).
import { spawnSync } from 'node:child_process';
import { readdirSync, mkdtempSync, readFileSync, appendFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';

const tier = process.argv[2] ?? 'unit';
const suffix = { unit: '.spec.js', int: '.int.spec.js', e2e: '.e2e.spec.js' }[tier];
if (!suffix) {
  console.error(`run-tests: unknown tier "${tier}" (expected unit, int or e2e)`);
  process.exit(2);
}

function walk(dir, out = []) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith(suffix)) {
      const isInt = e.name.endsWith('.int.spec.js');
      const isE2e = e.name.endsWith('.e2e.spec.js');
      if (tier === 'unit' && (isInt || isE2e)) continue;
      out.push(p);
    }
  }
  return out;
}

const files = walk(join(process.cwd(), 'dist')).sort();
const project = relative(process.env.NX_WORKSPACE_ROOT ?? join(process.cwd(), '../..'), process.cwd());
if (files.length === 0) {
  console.log(`run-tests: ${project} has no ${tier} tests`);
  process.exit(0);
}

const tapDir = mkdtempSync(join(tmpdir(), 'vigil-tap-'));
const tap = join(tapDir, 'out.tap');
const args = [
  '--enable-source-maps',
  '--test',
  `--test-concurrency=${tier === 'unit' ? 2 : 1}`,
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  '--test-reporter=tap',
  `--test-reporter-destination=${tap}`,
  ...files,
];
const r = spawnSync(process.execPath, args, { stdio: 'inherit', env: process.env });

// Counts go to the summary file test-all reads, so the whole run can close on one line.
const text = readFileSync(tap, 'utf8');
const count = (k) => Number((text.match(new RegExp(`^# ${k} (\\d+)$`, 'm')) ?? [0, 0])[1]);
const summary = {
  project,
  tier,
  pass: count('pass'),
  fail: count('fail'),
  skipped: count('skipped'),
  todo: count('todo'),
  failures: failuresOf(text),
};
if (process.env.VIGIL_TEST_SUMMARY)
  appendFileSync(process.env.VIGIL_TEST_SUMMARY, JSON.stringify(summary) + '\n');
rmSync(tapDir, { recursive: true, force: true });
process.exit(r.status ?? 1);

/**
 * The failed tests of a TAP stream, each with its suites, location and error: the summary repeats them at the end
 * of the whole run, where a CI log cut to its tail still shows them. A suite failing only because a test inside it
 * failed is left out (its test is listed).
 */
function failuresOf(tapText) {
  const lines = tapText.split('\n');
  const failures = [];
  const subtests = []; // the "# Subtest:" names open at each depth
  for (let i = 0; i < lines.length; i++) {
    const sub = /^(\s*)# Subtest: (.*)$/.exec(lines[i]);
    if (sub) {
      const depth = sub[1].length / 4;
      subtests.length = depth;
      subtests[depth] = sub[2];
      continue;
    }
    const notOk = /^(\s*)not ok \d+ - (.*?)(?: # .*)?$/.exec(lines[i]);
    if (!notOk) continue;
    const depth = notOk[1].length / 4;
    const yaml = [];
    for (let j = i + 1; j < lines.length && !/^\s*\.\.\.$/.test(lines[j]); j++) yaml.push(lines[j]);
    const field = (k) => {
      const at = yaml.findIndex((l) => l.trimStart().startsWith(`${k}: `));
      if (at < 0) return undefined;
      const value = yaml[at].trimStart().slice(k.length + 2);
      if (value !== '|-' && value !== '|') return value.replace(/^'(.*)'$/, '$1').replace(/''/g, "'");
      const indent = /^\s*/.exec(yaml[at])[0].length;
      const block = [];
      for (let j = at + 1; j < yaml.length && /^\s*/.exec(yaml[j])[0].length > indent; j++)
        block.push(yaml[j].trim());
      return block.join('\n');
    };
    if (field('failureType') === 'subtestsFailed') continue;
    const error = (field('error') ?? '').split('\n').slice(0, 4).join(' | ').slice(0, 400);
    failures.push({
      name: [...subtests.slice(0, depth), notOk[2]].join(' > '),
      location: field('location'),
      error,
    });
  }
  return failures;
}
