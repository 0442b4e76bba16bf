#!/usr/bin/env node
// bench/image-scan/match: matching 2,000 packages against 100,000 advisories, in the memory store and in Postgres.
// The advisories are generated from the corpus's real OSV records (../shared/corpus/image/advisories/records):
// each is a copy of a real record of the same ecosystem with a new id, a new CVE alias and a package name from a
// pool, so its affected[] entries (every release it covers), ranges, versions lists, severities and Ubuntu
// cves_maps keep their real shapes. About a third of the
// advisories name a package of the "image"; the rest name packages it does not have, as in a real database.
// Not a test: it prints figures (target: matchPackages under one second). Runs against the compiled packages.
//
//   node bench/image-scan/match.mjs
//   ADVISORIES=200000 PACKAGES=5000 node bench/image-scan/match.mjs
//
// Postgres is timed three ways: the plain store (every match is cold: the two-step look-up moves the candidates'
// match entries, then the records that hit, chunk by chunk while the chunk before is matched), the same store
// asked in one step (lookup: every candidate's whole record, as before the two-step look-up), and behind
// CachedAdvisoryStore (a scanner's per-process cache for one DB build: its first run fills it, the median is
// warm).
// Each store's matches are digested; the digests must agree, or the line says which differs.
//
// Environment: DATABASE_URL (admin URL, default postgresql://postgres@127.0.0.1:5432/postgres), ADVISORIES,
// PACKAGES, RUNS (timed match runs per store, default 3), SEED, SKIP=memory,postgres,pg-one-step,pg+cache, KEEP_DB
// (keep the database and stop after the look-ups), REUSE_DB (the URL KEEP_DB printed, same ADVISORIES and SEED:
// no import, the database is kept).
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  CachedAdvisoryStore,
  MemoryAdvisoryStore,
  advisoryRow,
  matchPackages,
  parseOsvRecord,
  versionScheme,
} from '@vigil/image-scan';
import {
  createAdvisoryStore,
  createDatabase,
  createSql,
  dropDatabase,
  runMigrations,
  withDatabase,
} from '@vigil/store';
import { corpusPath } from '@vigil/testing';

const int = (name, dflt) => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isInteger(v) || v < 1) {
    console.error(`bench/image-scan/match: ${name} must be a positive integer, got "${process.env[name]}"`);
    process.exit(2);
  }
  return v;
};
const ADVISORIES = int('ADVISORIES', 100_000);
const PACKAGES = int('PACKAGES', 2_000);
const RUNS = int('RUNS', 3);
const skip = new Set((process.env.SKIP ?? '').split(',').filter(Boolean));
const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

// A small deterministic PRNG, so two runs generate the same data.
let seed = int('SEED', 42);
const rand = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const pick = (list) => list[Math.floor(rand() * list.length)];

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const fmt = (n) => `${n.toFixed(0).padStart(7)} ms`;

// --- templates: every corpus record entry whose ecosystem has a version scheme -------------------------------
const dir = corpusPath('image', 'advisories', 'records');
const byEcosystem = new Map();
for (const f of readdirSync(dir)) {
  const record = parseOsvRecord(readFileSync(join(dir, f)), f);
  if (record.withdrawn) continue;
  for (const a of record.affected) {
    if (!a.package) continue;
    try {
      versionScheme(a.package.ecosystem);
    } catch {
      continue;
    }
    const list = byEcosystem.get(a.package.ecosystem) ?? [];
    list.push({ record, entry: a });
    byEcosystem.set(a.package.ecosystem, list);
  }
}
const ecosystems = [...byEcosystem.keys()].sort();
// Drawing a record first and then one of its entries keeps the ecosystems in the proportions the real records
// have; drawing an ecosystem first would favour the records that list a dozen Alpine branches.
const templates = [...new Set([...byEcosystem.values()].flat().map((t) => t.record))];
const drawEntry = () => {
  const record = pick(templates);
  const entries = record.affected.filter((a) => a.package && byEcosystem.has(a.package.ecosystem));
  return { record, entry: pick(entries) };
};

function versionFrom(entry) {
  const options = [...entry.versions];
  for (const r of entry.ranges)
    for (const e of r.events) {
      if (e.introduced && e.introduced !== '0') options.push(e.introduced);
      if (e.fixed) options.push(e.fixed);
      if (e.last_affected) options.push(e.last_affected);
    }
  return options.length ? pick(options) : null;
}

// --- the image's packages -----------------------------------------------------------------------------------
const packages = [];
while (packages.length < PACKAGES) {
  const t = drawEntry();
  const ecosystem = t.entry.package.ecosystem;
  const version = versionFrom(t.entry);
  if (!version) continue;
  const name = `bench-${packages.length}-${t.entry.package.name}`;
  packages.push({
    ecosystem,
    name,
    version,
    sourceName: name,
    sourceVersion: version,
    purl: `pkg:generic/${name}@${version}`,
    installedFiles: [],
    location: 'bench',
    foundBy: { id: 'bench', version: 1 },
  });
}

// --- the advisories -----------------------------------------------------------------------------------------
function advisory(i) {
  const inImage = rand() < 0.33;
  let ecosystem;
  let name;
  if (inImage) {
    const p = pick(packages);
    ecosystem = p.ecosystem;
    name = p.name;
  } else {
    ecosystem = drawEntry().entry.package.ecosystem;
    name = `absent-${Math.floor(rand() * 50_000)}`;
  }
  const t = pick(byEcosystem.get(ecosystem));
  const cve = `CVE-2090-${String(i).padStart(6, '0')}`;
  const prefix = t.record.id.split('-')[0];
  return {
    ...t.record,
    id: `${prefix}-BENCH-${i}`,
    aliases: [cve],
    upstream: [],
    related: [],
    modified: t.record.modified,
    // Every entry of the real record (other releases, other ecosystems) renamed to the one package, as a real
    // record names the same source package for each release it covers.
    affected: t.record.affected.map((a) => (a.package ? { ...a, package: { ...a.package, name } } : a)),
  };
}
let t0 = process.hrtime.bigint();
const records = [];
for (let i = 0; i < ADVISORIES; i++) records.push(advisory(i));
const entries = records.reduce((n, r) => n + r.affected.length, 0);
console.log(
  `bench/image-scan/match: ${ADVISORIES} advisories (copies of ${templates.length} real records in ${ecosystems.length} ecosystems, ${(entries / ADVISORIES).toFixed(1)} affected[] entries each on average), ${PACKAGES} packages; generated in ${ms(t0).toFixed(0)} ms`,
);

/** The store with the wall time spent in its look-ups (rows from Postgres, parsed by the driver) added up. */
function timedStore(store) {
  const timed = { spent: 0, byMethod: {}, info: () => store.info() };
  for (const method of ['lookup', 'lookupCandidates', 'lookupRecords'])
    if (store[method])
      timed[method] = async (...args) => {
        const t = process.hrtime.bigint();
        try {
          return await store[method](...args);
        } finally {
          timed.spent += ms(t);
          timed.byMethod[method] = (timed.byMethod[method] ?? 0) + ms(t);
        }
      };
  return timed;
}

async function timeMatches(label, plain) {
  const store = timedStore(plain);
  const times = [];
  const cpu = [];
  const lookups = [];
  const split = [];
  let matches = [];
  let problems = 0;
  for (let run = 0; run <= RUNS; run++) {
    const t = process.hrtime.bigint();
    const c = process.cpuUsage();
    store.spent = 0;
    store.byMethod = {};
    matches = await matchPackages(packages, store, { onProblem: () => problems++ });
    const used = process.cpuUsage(c);
    if (run > 0) {
      times.push(ms(t));
      cpu.push((used.user + used.system) / 1000);
      lookups.push(store.spent);
      split.push(store.byMethod);
    } else console.log(`  ${label.padEnd(10)} match, first run   ${fmt(ms(t))}`);
  }
  const mid = (list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)];
  const median = mid(times);
  console.log(
    `  ${label.padEnd(10)} match, median CPU   ${fmt(mid(cpu))}  (this process, all threads; the wall time below includes waiting for a shared machine)`,
  );
  console.log(
    `  ${label.padEnd(10)} look-ups        ${fmt(mid(lookups))}  (median wall time from each look-up to its answer; a chunked second step overlaps the matching${
      split.some((m) => Object.keys(m).length > 1)
        ? `: ${Object.keys(split[0])
            .map((k) => `${k} ${mid(split.map((m) => m[k] ?? 0)).toFixed(0)} ms`)
            .join(', ')}`
        : ''
    })`,
  );
  const matched = new Set(matches.map((m) => m.package.name)).size;
  const digest = createHash('sha256').update(JSON.stringify(matches)).digest('hex').slice(0, 16);
  digests.set(label, digest);
  const same = [...digests.values()].every((d) => d === digest);
  console.log(
    `  ${label.padEnd(10)} match, median of ${RUNS} ${fmt(median)}  (${matches.length} matches on ${matched} packages; ${problems / (RUNS + 1)} problems per run)  ${median < 1000 ? 'under' : 'OVER'} the 1 s target`,
  );
  console.log(
    `  ${label.padEnd(10)} matches digest  ${digest}  ${same ? 'same as every store before' : `DIFFERS from ${[...digests].map(([l, d]) => `${l} ${d}`).join(', ')}`}`,
  );
}
const digests = new Map();

// --- memory store -------------------------------------------------------------------------------------------
if (!skip.has('memory')) {
  const store = new MemoryAdvisoryStore();
  t0 = process.hrtime.bigint();
  // parseOsvRecord as an import would, so the load figure includes validation.
  store.add(
    records.map((r) => parseOsvRecord(r, r.id)),
    'bench',
  );
  console.log(`  memory     load                ${fmt(ms(t0))}`);
  await timeMatches('memory', store);
}

// --- Postgres -----------------------------------------------------------------------------------------------
if (!skip.has('postgres')) {
  const reuse = process.env.REUSE_DB;
  const name = `bench_match_${randomBytes(4).toString('hex')}`;
  if (!reuse) await createDatabase(adminUrl, name);
  const url = reuse ?? withDatabase(adminUrl, name);
  const sql = createSql(url, { max: 4, applicationName: 'bench:match' });
  try {
    await runMigrations(url);
    const store = createAdvisoryStore(sql);
    t0 = process.hrtime.bigint();
    function* batches() {
      for (let i = 0; i < records.length; i += 1000)
        yield records.slice(i, i + 1000).map((r) => advisoryRow(parseOsvRecord(r, r.id)));
    }
    if (!reuse) {
      const r = await store.importSource('bench', batches());
      console.log(`  postgres   import              ${fmt(ms(t0))}  (${r.inserted} rows in one transaction)`);
    }
    // A scanner on Postgres holds no records between scans: drop the generated ones before timing.
    records.length = 0;
    await sql.query('ANALYZE');
    // The look-ups alone (rows from Postgres, JSON parsed by the driver), to tell them apart from matching.
    const keys = [
      ...new Map(
        packages.map((p) => [`${p.ecosystem}\u0000${p.name}`, { ecosystem: p.ecosystem, name: p.name }]),
      ).values(),
    ];
    t0 = process.hrtime.bigint();
    const rows = await store.lookup(keys);
    console.log(
      `  postgres   lookup, whole records ${fmt(ms(t0))}  (${rows.length} records, ${(JSON.stringify(rows).length / 1e6).toFixed(1)} MB as JSON)`,
    );
    rows.length = 0;
    t0 = process.hrtime.bigint();
    const candidates = await store.lookupCandidates(keys);
    console.log(
      `  postgres   lookup, candidates  ${fmt(ms(t0))}  (${candidates.length} (record, key) pairs, ${(JSON.stringify(candidates).length / 1e6).toFixed(1)} MB as JSON)`,
    );
    candidates.length = 0;
    if (process.env.KEEP_DB) {
      console.log(`  kept ${url}`);
      process.exit(0);
    }
    await timeMatches('postgres', store);
    if (!skip.has('pg-one-step'))
      await timeMatches('pg 1-step', { lookup: (k) => store.lookup(k), info: () => store.info() });
    if (!skip.has('pg+cache')) {
      const cached = new CachedAdvisoryStore(store);
      await timeMatches('pg+cache', cached);
      console.log(`  pg+cache   records held        ${String(cached.size).padStart(7)}`);
    }
  } finally {
    await sql.close();
    if (!reuse) await dropDatabase(adminUrl, name);
  }
}
