#!/usr/bin/env node
// bench/config-audit/audit: the configuration audit of a large synthetic cluster (see generate.mjs): 10,000
// workloads, 2,000 NetworkPolicies and 5,000 RBAC bindings over ~200 namespaces at scale 1.
// Targets (issue 4): the full audit under 30 s and under 1 GiB peak RSS on the 2-core bench machine.
// Not a test: it prints figures. Runs against the compiled packages (build libs/config-audit first).
//
//   node bench/config-audit/audit.mjs                    # full size
//   node bench/config-audit/audit.mjs --scale 0.1        # a tenth, for quick runs
//   node bench/config-audit/audit.mjs --cpu-prof         # also profile both children; lists the hot functions by TS source line
//   node bench/config-audit/audit.mjs --dir /tmp/x       # audit manifests already written there (generate.mjs --out)
//   node bench/config-audit/audit.mjs --skip rbac/x,net/y # leave checks out (to measure the rest while one is slow)
//   node bench/config-audit/audit.mjs --timeout-s 300    # give up on a child after that long (default 900)
//
// Each measurement runs in its own child process so its max RSS is its own and not the generator's:
//   full   auditManifests over the directory (load + every check), the figure the targets are about
//   parts  loadManifests, then auditObjects on the loaded objects restricted to the net/* checks, the rbac/* checks
//          and the remaining (workload) checks, each timed on its own (each call also rebuilds the audit context
//          and inventory, so the three do not add up to the checks' share of the full audit)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeCluster } from './generate.mjs';

const self = fileURLToPath(import.meta.url);
const repo = resolve(self, '../../..');
const GIB = 1024 ** 3;
const TARGET_MS = 30_000;
const CLUSTER = 'bench';
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

function usage(problem) {
  console.error(
    `bench/config-audit/audit: ${problem}\nusage: node bench/config-audit/audit.mjs [--scale X] [--seed N] [--dir DIR] [--keep] [--cpu-prof] [--skip ID,...] [--timeout-s N]`,
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { scale: 1, seed: 42, dir: undefined, keep: false, cpuProf: false, skip: [], timeoutS: 900 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--scale') {
      opts.scale = Number(argv[++i]);
      if (!(opts.scale > 0)) usage(`--scale needs a positive number, got "${argv[i]}"`);
    } else if (a === '--seed') {
      opts.seed = Number(argv[++i]);
      if (!Number.isInteger(opts.seed)) usage(`--seed needs an integer, got "${argv[i]}"`);
    } else if (a === '--dir') opts.dir = argv[++i] ?? usage('--dir needs a directory');
    else if (a === '--keep') opts.keep = true;
    else if (a === '--cpu-prof') opts.cpuProf = true;
    else if (a === '--skip')
      opts.skip = (argv[++i] ?? usage('--skip needs check ids')).split(',').filter(Boolean);
    else if (a === '--timeout-s') {
      opts.timeoutS = Number(argv[++i]);
      if (!(opts.timeoutS > 0)) usage(`--timeout-s needs a positive number, got "${argv[i]}"`);
    } else usage(`unknown argument "${a}"`);
  }
  return opts;
}

// --- children ----------------------------------------------------------------------------------------------------

/**
 * Samples RSS on an interval. The checks run synchronously, so samples land only between files while loading and
 * around the check phase; maxRSS from the kernel is the real peak, the samples show when memory grew.
 */
function rssSampler() {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

/** The check ids to run: all registered ones but the skipped (unknown skipped ids are an error, not a no-op). */
function selectChecks(lib, skip) {
  const ids = lib.CHECKS.map((c) => c.id);
  const unknown = skip.filter((id) => !ids.includes(id));
  if (unknown.length)
    throw new Error(`--skip names unknown check ids: ${unknown.join(', ')} (known: ${ids.join(', ')})`);
  return ids.filter((id) => !skip.includes(id));
}

async function childFull(dir, skip) {
  const lib = await import('@vigil/config-audit');
  const checks = selectChecks(lib, skip);
  const baseRssKb = process.resourceUsage().maxRSS;
  const sampler = rssSampler();
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  // As the config-auditor service runs it: findings, passing results and inventory, no per-check verdict list.
  const result = await lib.auditManifests({
    paths: [dir],
    cluster: CLUSTER,
    keepOutcomes: false,
    ...(skip.length ? { checks } : {}),
  });
  const fullMs = ms(t0);
  const cpu = process.cpuUsage(cpu0);
  // CPU time (all threads, GC helpers included) is steadier than wall time on a machine shared with other work.
  const fullCpuMs = (cpu.user + cpu.system) / 1000;
  const sampledPeak = sampler.stop();
  return {
    fullMs,
    fullCpuMs,
    files: result.files.length,
    errors: result.errors.length,
    firstErrors: result.errors.slice(0, 3).map((e) => `${relative(dir, e.file)}#${e.document}: ${e.message}`),
    findings: result.findings.length,
    passing: result.passing.length,
    counts: { ...result.counts },
    byFamily: countBy(result.findings.map((f) => f.ruleId.split('/')[0])),
    baseRssKb,
    sampledPeakRss: sampledPeak,
    maxRssKb: process.resourceUsage().maxRSS,
  };
}

async function childParts(dir, skip) {
  const lib = await import('@vigil/config-audit');
  const selected = selectChecks(lib, skip);
  const sampler = rssSampler();
  let t0 = process.hrtime.bigint();
  const loaded = await lib.loadManifests([dir]);
  const loadMs = ms(t0);
  // Retained heap (after a full GC) says what the loaded objects and each result hold, apart from transient garbage.
  const heap = () => {
    globalThis.gc?.();
    return process.memoryUsage().heapUsed;
  };
  const heapBase = heap();
  const ids = (prefix) => selected.filter((id) => id.startsWith(prefix));
  const families = { net: ids('net/'), rbac: ids('rbac/'), workload: ids('k8s/') };
  const out = {
    loadMs,
    objects: loaded.objects.length,
    kinds: countBy(loaded.objects.map((o) => o.raw.kind)),
    heapAfterLoad: heapBase,
  };
  for (const [name, checks] of Object.entries(families)) {
    t0 = process.hrtime.bigint();
    const r = lib.auditObjects(loaded.objects, { cluster: CLUSTER, checks });
    const elapsed = ms(t0);
    out[name] = {
      ms: elapsed,
      checks: checks.length,
      findings: r.findings.length,
      outcomes: r.outcomes.length,
      resultHeap: heap() - heapBase,
      byRule: countBy(r.findings.map((f) => f.ruleId)),
    };
  }
  // Any check outside the three families would be missing from the split; say so rather than hide it.
  out.unsplit = selected.filter((id) => !Object.values(families).flat().includes(id));
  out.sampledPeakRss = sampler.stop();
  out.maxRssKb = process.resourceUsage().maxRSS;
  return out;
}

function countBy(list) {
  const out = {};
  for (const k of list) out[k] = (out[k] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

// --- CPU profile summary -----------------------------------------------------------------------------------------

/** The functions with the most self time and the most inclusive time in a .cpuprofile, by name and location. */
function summarizeProfile(file, top = 15) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const maps = new Map();
  // Compiled files are named by their TypeScript source and line, which is what the owner of the file reads.
  const original = (file, line, column) => {
    if (!maps.has(file)) {
      const mapFile = `${file}.map`;
      maps.set(
        file,
        existsSync(mapFile) ? new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8'))) : undefined,
      );
    }
    const entry = maps.get(file)?.findEntry(line, column);
    if (!entry || entry.originalSource === undefined) return undefined;
    const src = entry.originalSource.startsWith('file://')
      ? fileURLToPath(entry.originalSource)
      : resolve(file, '..', entry.originalSource);
    return `${relative(repo, src)}:${entry.originalLine + 1}`;
  };
  const where = (n) => {
    const f = n.callFrame;
    if (!f.url.startsWith('file://')) return `${f.functionName || '(anonymous)'}  ${f.url || '(native)'}`;
    const file = fileURLToPath(f.url);
    const loc = original(file, f.lineNumber, f.columnNumber) ?? `${relative(repo, file)}:${f.lineNumber + 1}`;
    return `${f.functionName || '(anonymous)'}  ${loc}`;
  };
  const selfMs = new Map();
  const totalMs = new Map();
  let sum = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    sum += dt;
    const node = byId.get(id);
    const k = where(node);
    selfMs.set(k, (selfMs.get(k) ?? 0) + dt);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const key = where(byId.get(cur));
      if (seen.has(key)) continue; // recursion counts once
      seen.add(key);
      totalMs.set(key, (totalMs.get(key) ?? 0) + dt);
    }
  });
  const list = (m, keep = () => true) =>
    [...m.entries()]
      .filter(([k]) => !/^\((root|program|idle)\)/.test(k) && keep(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => `  ${v.toFixed(0).padStart(7)} ms  ${((v / sum) * 100).toFixed(1).padStart(5)}%  ${k}`)
      .join('\n');
  return (
    `profile ${file} (${sum.toFixed(0)} ms sampled)\n self time:\n${list(selfMs)}\n inclusive time:\n${list(totalMs)}` +
    // The same without the YAML parser and the bench itself: which check or engine function the time is under.
    `\n inclusive time, engine code only:\n${list(totalMs, (k) => / libs\//.test(k) && !/ libs\/[^/]+\/src\/load\//.test(k))}`
  );
}

// --- parent --------------------------------------------------------------------------------------------------------

function runChild(mode, dir, opts, nodeArgs = []) {
  const r = spawnSync(process.execPath, [...nodeArgs, self, '--child', mode, dir, opts.skip.join(',')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
    timeout: opts.timeoutS * 1000,
    killSignal: 'SIGKILL',
  });
  if (r.error?.code === 'ETIMEDOUT' || r.signal === 'SIGKILL')
    throw new Error(
      `audit child (${mode}) did not finish within ${opts.timeoutS} s (--timeout-s); profile it with --cpu-prof at a smaller --scale`,
    );
  if (r.status !== 0) throw new Error(`audit child (${mode}) exited with ${r.status ?? r.signal}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const sec = (m) => `${(m / 1000).toFixed(2)} s`;

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  let dir = opts.dir;
  let generated = false;
  if (!dir) {
    dir = mkdtempSync(join(tmpdir(), 'vigil-bench-config-audit-'));
    generated = true;
    const t0 = process.hrtime.bigint();
    const g = writeCluster(dir, { scale: opts.scale, seed: opts.seed });
    console.log(
      `generated (scale ${opts.scale}, seed ${opts.seed}): ${g.namespaces} namespaces (${g.cdeNamespaces} pci-scope=cde), ${g.sizes.workloads} workloads, ` +
        `${g.sizes.networkPolicies} NetworkPolicies, ${g.sizes.bindings} bindings; ${g.objects} objects in ${g.files} files, ` +
        `${(g.bytes / 1e6).toFixed(1)} MB, in ${sec(ms(t0))} -> ${dir}`,
    );
  }
  try {
    const profDir = opts.cpuProf ? mkdtempSync(join(tmpdir(), 'vigil-bench-config-audit-prof-')) : undefined;
    const prof = (mode) =>
      profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${mode}.cpuprofile`] : [];
    if (opts.skip.length)
      console.log(`skipped checks     ${opts.skip.join(', ')} (every figure below is without them)`);
    const full = runChild('full', dir, opts, prof('full'));
    const parts = runChild('parts', dir, opts, ['--expose-gc', ...prof('parts')]);

    console.log(
      `objects            ${parts.objects} (${Object.entries(parts.kinds)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')})`,
    );
    console.log(
      `files              ${full.files}, load errors ${full.errors}${full.firstErrors.length ? `: ${full.firstErrors.join('; ')}` : ''}`,
    );
    console.log(
      `findings           ${full.findings} (critical ${full.counts.critical}, high ${full.counts.high}, medium ${full.counts.medium}, low ${full.counts.low}); ` +
        `by family ${JSON.stringify(full.byFamily)}; ${full.passing} passing results`,
    );
    console.log(`load time          ${sec(parts.loadMs)}  (loadManifests alone)`);
    console.log(
      `full audit time    ${sec(full.fullMs)}  (auditManifests: load + all checks; ${sec(full.fullCpuMs)} CPU)  target < ${sec(TARGET_MS)}: ${full.fullMs < TARGET_MS ? 'met' : 'MISSED'}`,
    );
    for (const name of ['net', 'rbac', 'workload'])
      console.log(
        `${`${name} checks`.padEnd(19)}${sec(parts[name].ms)}  (${parts[name].checks} checks on the loaded objects; ${parts[name].findings} findings, ` +
          `${parts[name].outcomes} outcomes, result holds ${mb(parts[name].resultHeap)} of heap: ${JSON.stringify(parts[name].byRule)})`,
      );
    if (parts.unsplit.length) console.log(`not in the split   ${parts.unsplit.join(', ')}`);
    const peak = full.maxRssKb * 1024;
    console.log(
      `peak RSS           ${mb(peak)} (maxRSS of the full audit; interval samples peaked at ${mb(full.sampledPeakRss)}, ` +
        `${mb(full.baseRssKb * 1024)} before auditing)  target < 1 GiB: ${peak < GIB ? 'met' : 'MISSED'}`,
    );
    console.log(
      `parts child RSS    ${mb(parts.maxRssKb * 1024)} (load + the three check families, objects held throughout; ` +
        `the loaded objects hold ${mb(parts.heapAfterLoad)} of heap)`,
    );
    if (profDir) {
      // parts runs each check family alone, so its inclusive times split the checks' cost by check.
      for (const f of readdirSync(profDir)
        .filter((x) => x.endsWith('.cpuprofile'))
        .sort())
        console.log(summarizeProfile(join(profDir, f)));
    }
  } finally {
    if (generated && !opts.keep) rmSync(dir, { recursive: true, force: true });
    else if (generated) console.log(`kept ${dir}`);
  }
}

if (process.argv[2] === '--child') {
  const [, , , mode, dir, skip = ''] = process.argv;
  const run = mode === 'full' ? childFull : mode === 'parts' ? childParts : undefined;
  if (!run) {
    console.error(`bench/config-audit/audit: unknown child mode "${mode}"`);
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(await run(dir, skip.split(',').filter(Boolean))) + '\n');
} else {
  await main();
}
