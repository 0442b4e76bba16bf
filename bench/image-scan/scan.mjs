#!/usr/bin/env node
// bench/image-scan/scan: reading a ~500 MB image made of this machine's real files (see generate.mjs), beside
// `tar -xzf layer -O > /dev/null` over the same layers in the same run, and the scan's peak RSS.
// Targets (issue 3): scan time within 1.5x of the raw decompression; peak RSS under 512 MB whatever the image size.
// Not a test: it prints figures. Runs against the compiled packages (npm run build first).
//
//   node bench/image-scan/scan.mjs                  # ~500 MB image, 3 runs
//   node bench/image-scan/scan.mjs --size-mb 100 --runs 5
//   node bench/image-scan/scan.mjs --regenerate     # rebuild the cached image
//
// Each scan runs in its own child process, so its max RSS is the scan's alone:
//   read   openImage + squashImage(isWanted, isWantedContent) + extractPackages + matchPackages, timed per phase
//   full   openImage + scanImage (the same plus layer attribution, findings and image checks)
// Both use a MemoryAdvisoryStore loaded with the corpus's OSV records (loaded before the clock starts).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

function usage(problem) {
  console.error(`bench/image-scan/scan: ${problem}\nusage: node bench/image-scan/scan.mjs [--size-mb N] [--runs N] [--regenerate]`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { sizeMb: 500, runs: 3, regenerate: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) usage(`${a} needs a positive integer, got "${argv[i]}"`);
      return v;
    };
    if (a === '--size-mb') opts.sizeMb = num();
    else if (a === '--runs') opts.runs = num();
    else if (a === '--regenerate') opts.regenerate = true;
    else usage(`unknown argument "${a}"`);
  }
  return opts;
}

// --- child: one scan, figures as JSON on stdout ---------------------------------------------------------------
async function child(mode, archive) {
  const lib = await import('@vigil/image-scan');
  const { corpusPath } = await import('@vigil/testing');
  const store = new lib.MemoryAdvisoryStore();
  await store.loadDump(corpusPath('image', 'advisories', 'records'));
  const baseRssKb = process.resourceUsage().maxRSS;
  const phases = {};
  const t0 = process.hrtime.bigint();
  let t = t0;
  const lap = (name) => {
    const now = process.hrtime.bigint();
    phases[name] = Number(now - t) / 1e6;
    t = now;
  };
  const source = await lib.openImage(archive);
  lap('open');
  let result;
  if (mode === 'read') {
    const squashed = await lib.squashImage(source, { wanted: lib.isWanted, wantedContent: lib.isWantedContent });
    lap('squash');
    const { packages } = await lib.extractPackages(squashed.files);
    lap('extract');
    const matches = await lib.matchPackages(packages, store, { now: new Date() });
    lap('match');
    // A file reached through symlinks is listed under each path that reaches it; its bytes are held once.
    const held = new Map(squashed.files.map((f) => [`${f.layer}:${f.realPath}`, f.size]));
    const keptBytes = [...held.values()].reduce((s, n) => s + n, 0);
    result = {
      packages: packages.length,
      matches: matches.length,
      keptFiles: squashed.files.length,
      keptBytes,
      heldFiles: held.size,
      entries: squashed.entriesSeen,
      byType: countBy(packages.map((p) => p.foundBy.id)),
    };
  } else {
    const report = await lib.scanImage(source, { cluster: 'bench', advisories: store });
    lap('scan');
    result = { packages: report.packages.length, matches: report.matches.length, findings: report.findings.length };
  }
  const totalMs = ms(t0);
  await source.close?.();
  process.stdout.write(
    JSON.stringify({ mode, totalMs, phases, ...result, baseRssKb, maxRssKb: process.resourceUsage().maxRSS }) + '\n',
  );
}

function countBy(list) {
  const out = {};
  for (const k of list) out[k] = (out[k] ?? 0) + 1;
  return out;
}

// --- parent --------------------------------------------------------------------------------------------------
function timeTar(layers) {
  let total = 0;
  for (const l of layers) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync('sh', ['-c', 'tar -xzf "$1" -O > /dev/null', 'sh', l.path], { stdio: ['ignore', 'ignore', 'pipe'] });
    total += ms(t0);
    if (r.status !== 0) throw new Error(`tar -xzf ${l.path} failed: ${r.stderr}`);
  }
  return total;
}

function runChild(mode, archive) {
  const r = spawnSync(process.execPath, [self, '--child', mode, archive], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`scan child (${mode}) exited with ${r.status ?? r.signal}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const sec = (m) => `${(m / 1000).toFixed(2)} s`;

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const { ensureImage } = await import('./generate.mjs');
  const image = await ensureImage(opts.sizeMb, { regenerate: opts.regenerate });
  console.log(`bench/image-scan/scan: ${image.archive}`);
  console.log(
    `  image: ${image.layers.length} gzip layers, ${mb(image.contentBytes)} of files, ` +
      `${image.layers.reduce((s, l) => s + l.files, 0)} tar entries, archive ${mb(image.archiveBytes)}`,
  );
  for (const [i, l] of image.layers.entries()) {
    console.log(`    layer ${i}: ${mb(l.bytes).padStart(9)} files, ${mb(l.size).padStart(9)} gzip  ${l.createdBy}`);
  }
  const tar = [];
  const read = [];
  const full = [];
  for (let i = 0; i < opts.runs; i++) {
    tar.push(timeTar(image.layers));
    read.push(runChild('read', image.archive));
    full.push(runChild('full', image.archive));
    console.log(
      `  run ${i + 1}: tar ${sec(tar[i])}, read ${sec(read[i].totalMs)} (${mb(read[i].maxRssKb * 1024)}), ` +
        `scanImage ${sec(full[i].totalMs)} (${mb(full[i].maxRssKb * 1024)}); ` +
        `read/tar ${(read[i].totalMs / tar[i]).toFixed(2)}x, scanImage/tar ${(full[i].totalMs / tar[i]).toFixed(2)}x`,
    );
  }
  const tarMs = median(tar);
  const readMs = median(read.map((r) => r.totalMs));
  const fullMs = median(full.map((r) => r.totalMs));
  const phase = (name) => median(read.map((r) => r.phases[name]));
  // Each run's scan over the same run's tar: on a shared machine both see the same load, so the paired ratio
  // is steadier than a ratio of medians.
  const ratio = (times) => `${median(times.map((t, i) => t / tar[i])).toFixed(2)}x`;
  const rss = Math.max(...read.map((r) => r.maxRssKb), ...full.map((r) => r.maxRssKb)) * 1024;
  const last = read[read.length - 1];
  const rows = [
    ['tar -xzf layer -O > /dev/null (sum of layers)', sec(tarMs), '1.00x', ''],
    ['read: open+squash+extract+match', sec(readMs), ratio(read.map((r) => r.totalMs)), 'target ≤ 1.50x'],
    ['  openImage', sec(phase('open')), '', ''],
    ['  squashImage', sec(phase('squash')), ratio(read.map((r) => r.phases.squash)), ''],
    ['  extractPackages', sec(phase('extract')), '', ''],
    ['  matchPackages (corpus records)', sec(phase('match')), '', ''],
    ['full: openImage + scanImage', sec(fullMs), ratio(full.map((r) => r.totalMs)), 'target ≤ 1.50x'],
    ['peak RSS of a scan (max of all runs)', mb(rss), '', `target < 512 MB: ${rss < 512 * 1024 * 1024 ? 'met' : 'MISSED'}`],
    ['  of which before the scan (node, library, store)', mb(median(read.map((r) => r.baseRssKb)) * 1024), '', ''],
  ];
  console.log(`\n  medians of ${opts.runs} runs (image of ${mb(image.contentBytes)}; ratio: median of per-run scan/tar):`);
  for (const [what, value, ratio, note] of rows) {
    console.log(`  ${what.padEnd(48)} ${value.padStart(10)} ${ratio.padStart(7)}  ${note}`);
  }
  console.log(
    `\n  packages: ${last.packages} (${Object.entries(last.byType)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}); matches: ${last.matches}; findings (scanImage): ${full[full.length - 1].findings}`,
  );
  console.log(
    `  kept: ${last.keptFiles} wanted paths, ${last.heldFiles} distinct files, ${mb(last.keptBytes)} held; ` +
      `tar entries seen: ${last.entries}`,
  );
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4]);
} else {
  await main();
}
