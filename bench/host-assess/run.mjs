#!/usr/bin/env node
// bench/host-assess: a full assessment of this machine's own root filesystem — every host check (kubelet, sshd,
// password policy, sysctl, time, audit, world-writable system files) and the OS package vulnerability check
// (dpkg/apk/rpm through @vigil/image-scan against an in-memory advisory store of the corpus's OSV records) — timed
// per phase, with the peak RSS of the process that ran it.
// Not a test: it prints figures. Runs against the compiled packages (npm run build first).
//
//   node bench/host-assess/run.mjs                # assess /, 3 runs
//   node bench/host-assess/run.mjs --root /host --runs 5
//
// Each run is its own child process, so its max RSS is that assessment's alone. The advisory records are loaded
// before the clock starts (a deployment reads them from Postgres per look-up).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const RECORDS = fileURLToPath(new URL('../../../shared/corpus/image/advisories/records', import.meta.url));
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

function usage(problem) {
  console.error(
    `bench/host-assess: ${problem}\nusage: node bench/host-assess/run.mjs [--root PATH] [--runs N]`,
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { root: '/', runs: 3, child: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--root') {
      opts.root = argv[++i] ?? usage('--root needs a path');
      let st;
      try {
        st = statSync(opts.root);
      } catch (err) {
        usage(`--root ${opts.root}: ${err.message}`);
      }
      if (!st.isDirectory()) usage(`--root ${opts.root} is not a directory`);
    } else if (a === '--runs') {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) usage(`--runs needs a positive integer, got "${argv[i]}"`);
      opts.runs = v;
    } else if (a === '--child') opts.child = true;
    else usage(`unknown argument "${a}"`);
  }
  return opts;
}

async function child(root) {
  const { assessHost } = await import('@vigil/host-assess');
  const { scanHostPackages } = await import('@vigil/host-assessor');
  const { MemoryAdvisoryStore, parseOsvRecord } = await import('@vigil/image-scan');
  const { CheckStatus } = await import('@vigil/contracts');
  const store = new MemoryAdvisoryStore();
  const files = readdirSync(RECORDS).filter((f) => f.endsWith('.json'));
  store.add(
    files.map((f) => parseOsvRecord(JSON.parse(readFileSync(join(RECORDS, f), 'utf8')), f)),
    'corpus',
  );
  const t0 = process.hrtime.bigint();
  const assessment = await assessHost({ root, node: 'bench' });
  const checksMs = ms(t0);
  const t1 = process.hrtime.bigint();
  const packages = await scanHostPackages({ root, asset: assessment.asset, advisories: store });
  const packagesMs = ms(t1);
  const s = assessment.summary;
  process.stdout.write(
    JSON.stringify({
      checksMs,
      packagesMs,
      totalMs: ms(t0),
      maxRssKb: process.resourceUsage().maxRSS,
      checks: `${s.total} checks: ${s.pass} pass, ${s.fail} fail, ${s.notApplicable} not applicable, ${s.error} error`,
      packageCheck: packages.check
        ? `${CheckStatus[packages.check.status].toLowerCase()}: ${packages.check.actual}`
        : `not tested: ${packages.scan.reason}`,
      packages: packages.packages.length,
      findings: packages.findings.length,
      records: files.length,
    }),
  );
}

const opts = parseArgs(process.argv.slice(2));
if (opts.child) {
  await child(opts.root);
} else {
  console.log(`host assessment of ${opts.root}, ${opts.runs} runs (each in its own process)`);
  const runs = [];
  for (let i = 0; i < opts.runs; i++) {
    const r = spawnSync(process.execPath, [self, '--child', '--root', opts.root], { encoding: 'utf8' });
    if (r.status !== 0) {
      console.error(`run ${i + 1} failed (exit ${r.status}):\n${r.stderr}`);
      process.exit(1);
    }
    runs.push(JSON.parse(r.stdout));
  }
  const first = runs[0];
  console.log(first.checks);
  console.log(
    `packages: ${first.packages} OS packages, ${first.findings} findings against ${first.records} OSV records`,
  );
  console.log(`package check: ${first.packageCheck}`);
  const fmt = (xs) =>
    `median ${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;
  console.log(`host checks     ${fmt(runs.map((r) => r.checksMs))}`);
  console.log(`package scan    ${fmt(runs.map((r) => r.packagesMs))}`);
  console.log(`total           ${fmt(runs.map((r) => r.totalMs))}`);
  console.log(
    `peak RSS        ${(Math.max(...runs.map((r) => r.maxRssKb)) / 1024).toFixed(1)} MB (max over runs)`,
  );
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
