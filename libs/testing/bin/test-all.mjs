#!/usr/bin/env node
// The README's test command: every tier in order, with the real servers the integration and e2e tiers need.
// Prints each tier's time against its budget (CI allows 90 minutes in all) and closes on one count line.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const summaryFile = join(mkdtempSync(join(tmpdir(), 'vigil-tests-')), 'summary.jsonl');
const nx = join(root, 'node_modules/.bin/nx');
const baseEnv = {
  ...process.env,
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
  VIGIL_TEST_SUMMARY: summaryFile,
};

const tiers = [];
function run(name, budgetSeconds, argv, env = baseEnv) {
  const started = Date.now();
  console.log(`\n=== tier ${name} ===`);
  const r = spawnSync(argv[0], argv.slice(1), { cwd: root, stdio: 'inherit', env });
  const seconds = (Date.now() - started) / 1000;
  tiers.push({ name, seconds, budgetSeconds, ok: r.status === 0 });
  return r.status === 0;
}
const runMany = (target, parallel) => [
  nx,
  'run-many',
  '-t',
  target,
  `--parallel=${parallel}`,
  '--outputStyle=stream',
  '--skipNxCache',
];

let ok = run('build+lint', 600, [
  nx,
  'run-many',
  '-t',
  'build',
  'lint',
  '--parallel=2',
  '--outputStyle=stream',
  // A clean run compiles and lints for real: a cache hit from another checkout proves nothing about this one.
  '--skipNxCache',
]);
if (ok) ok = run('unit', 900, runMany('test', 2));
let servers;
if (ok) {
  const started = Date.now();
  const { acquireServers } = await import(join(root, 'libs/testing/dist/servers.js'));
  try {
    servers = await acquireServers({ log: (line) => console.log(`[servers] ${line}`) });
  } catch (err) {
    console.error(`[servers] could not start the real servers the integration tests need: ${err.message}`);
    ok = false;
  }
  tiers.push({ name: 'servers', seconds: (Date.now() - started) / 1000, budgetSeconds: 300, ok });
}
if (ok) {
  const env = { ...baseEnv, ...servers.env };
  ok = run('integration', 1800, runMany('test:int', 1), env);
  if (ok) ok = run('e2e', 1200, runMany('test:e2e', 1), env);
}
if (servers) await servers.stop();

const counts = { pass: 0, fail: 0, skipped: 0, todo: 0 };
const failures = [];
if (existsSync(summaryFile)) {
  for (const line of readFileSync(summaryFile, 'utf8').split('\n').filter(Boolean)) {
    const s = JSON.parse(line);
    for (const k of Object.keys(counts)) counts[k] += s[k];
    for (const f of s.failures ?? []) failures.push({ ...f, where: `${s.project} (${s.tier})` });
  }
}
if (failures.length > 0) {
  console.log('\n=== failed tests ===');
  for (const f of failures) {
    console.log(`${f.where}: ${f.name}${f.location ? `  [${f.location}]` : ''}`);
    if (f.error) console.log(`    ${f.error}`);
  }
}
console.log('\n=== time per tier (budget) ===');
for (const t of tiers) {
  const over = t.seconds > t.budgetSeconds ? '  OVER BUDGET' : '';
  console.log(
    `${t.name.padEnd(12)} ${t.seconds.toFixed(1).padStart(7)} s  (${t.budgetSeconds} s)  ${t.ok ? 'ok' : 'FAILED'}${over}`,
  );
}
if (!ok && counts.fail === 0) counts.fail = 1; // a tier that failed before counting still fails the run
console.log(`tests: ${counts.pass} passed, ${counts.fail} failed, ${counts.skipped} skipped`);
process.exit(ok && counts.fail === 0 ? 0 : 1);
