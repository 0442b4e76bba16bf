#!/usr/bin/env node
// bench/contracts/decode: decoding FindingReported envelopes with @bufbuild/protobuf's fromBinary and with
// @vigil/contracts' readEnvelope (the one-pass reader decodeEnvelope uses), in the same process over the same bytes.
// The findings are image vulnerabilities shaped as bench/reporting's generator makes them (package with installed
// and fixed version, CVSS, layer evidence, PCI DSS ids), the bulk of what the reporting projection consumes.
// Not a test: it prints figures. Runs against the compiled package (npx tsc -b libs/contracts first).
//
//   node --expose-gc bench/contracts/decode.mjs                      # 20,000 envelopes, 7 rounds, batches of 500
//   ENVELOPES=50000 ROUNDS=3 BATCH=5000 node --expose-gc bench/contracts/decode.mjs
//
// Envelopes are decoded a batch at a time and each batch's results are held until the batch is done, as the
// reporting projection holds what it consumed until it is written. Without --expose-gc it still runs, but garbage
// from one pass is collected during the next.
import { deepStrictEqual } from 'node:assert/strict';
import {
  AssetKind,
  EventEnvelopeSchema,
  FindingSchema,
  FindingSource,
  Severity,
  create,
  encodeEnvelope,
  findingId,
  fromBinary,
  newEnvelope,
  readEnvelope,
  timestampFromDate,
} from '@vigil/contracts';

const int = (name, dflt) => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isInteger(v) || v < 1) {
    console.error(`bench/contracts/decode: ${name} must be a positive integer, got "${process.env[name]}"`);
    process.exit(2);
  }
  return v;
};
const ENVELOPES = int('ENVELOPES', 20_000);
const ROUNDS = int('ROUNDS', 7);
const BATCH = int('BATCH', 500);

// A small deterministic generator (mulberry32), so every run decodes the same bytes.
let seed = 7;
function rand() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (list) => list[Math.floor(rand() * list.length)];
const hex = (n) => {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(rand() * 16).toString(16);
  return s;
};

const CLUSTER = 'bench';
const SCOPE = { tenant: '', cluster: CLUSTER };
const PRODUCER = { service: 'image-scanner', version: '0', instance: 'bench' };
const SEVERITIES = [
  Severity.CRITICAL,
  Severity.HIGH,
  Severity.HIGH,
  Severity.MEDIUM,
  Severity.LOW,
  Severity.UNKNOWN,
];
const SCORES = { [Severity.CRITICAL]: 9.8, [Severity.HIGH]: 7.5 };
const DEB = ['libssl3', 'openssl', 'libc6', 'libexpat1', 'zlib1g', 'libcurl4', 'libxml2', 'perl-base', 'tar'];
const NPM = ['lodash', 'minimist', 'jsonwebtoken', 'semver', 'express', 'axios', 'ws', 'tough-cookie'];
const IMAGES = Array.from({ length: 40 }, (_, i) => ({
  ref: `registry.example.com/team-${i % 8}/svc-${i}:1.${i % 9}.${i % 5}`,
  digest: `sha256:${hex(64)}`,
}));

/** One image vulnerability: the package as the image scanner reports it, with or without a fixed version. */
function imageFinding(i, at) {
  const image = IMAGES[i % IMAGES.length];
  const npm = rand() < 0.4;
  const name = npm ? pick(NPM) : pick(DEB);
  const version = npm ? `1.2.${i % 9}` : `3.0.${i % 9}-1~deb12u1`;
  const fixed = rand() < 0.7 ? `3.0.${(i % 9) + 1}-1~deb12u1` : '';
  const ruleId = `CVE-${2019 + (i % 7)}-${10000 + i}`;
  const severity = pick(SEVERITIES);
  const asset = {
    kind: AssetKind.IMAGE,
    cluster: CLUSTER,
    name: image.ref.slice(0, image.ref.lastIndexOf(':')),
    imageRef: image.ref,
    imageDigest: image.digest,
  };
  const evidence = [
    { key: 'layer', value: `sha256:${hex(64)}` },
    { key: 'fix-state', value: fixed ? 'fixed' : 'affected' },
  ];
  if (i % 3 === 0) evidence.push({ key: 'epss', value: `0.${(i % 97) + 1} (percentile 0.9, 2026-11-01)` });
  return create(FindingSchema, {
    id: findingId({
      source: FindingSource.IMAGE,
      ruleId,
      asset,
      location: npm ? `pkg:npm/${name}` : `pkg:deb/debian/${name}`,
    }),
    source: FindingSource.IMAGE,
    ruleId,
    aliases: [`DSA-${5000 + (i % 900)}-1`],
    title: `${ruleId}: ${name} ${fixed ? 'has a fixed version' : 'has no fix yet'}`,
    description: `A flaw in ${name} allows a remote attacker to cause a denial of service or read memory.`,
    severity,
    cvss: { score: SCORES[severity] ?? 5.3, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N' },
    pciRequirements: ['6.3.1', '6.3.3', '11.3.1'],
    asset,
    package: {
      ecosystem: npm ? 'npm' : 'Debian:12',
      name,
      version,
      fixedVersion: fixed,
      purl: npm ? `pkg:npm/${name}@${version}` : `pkg:deb/debian/${name}@${version}?arch=amd64`,
    },
    locations: [npm ? `/app/node_modules/${name}/package.json` : '/var/lib/dpkg/status'],
    remediation: {
      summary: fixed ? `upgrade ${name} to ${fixed}` : `no fixed version of ${name} yet; mitigate or accept`,
    },
    evidence,
    firstSeen: timestampFromDate(at),
    lastSeen: timestampFromDate(at),
    references: [`https://nvd.nist.gov/vuln/detail/${ruleId}`],
  });
}

let clockMs = Date.parse('2026-11-20T00:00:00Z');
const encoded = [];
let totalBytes = 0;
for (let i = 0; i < ENVELOPES; i++) {
  const at = new Date((clockMs += 1));
  const finding = imageFinding(i, at);
  const bytes = encodeEnvelope(
    newEnvelope({
      payload: { case: 'findingReported', value: { scanId: `image-${i % 8}`, finding } },
      subjectKey: finding.id,
      scope: SCOPE,
      producer: PRODUCER,
      clock: () => at,
      newId: () => `bench-${i + 1}`,
    }),
  );
  // As the Kafka client hands them over.
  encoded.push(Buffer.from(bytes));
  totalBytes += bytes.byteLength;
}

// The figures mean nothing unless both give the same envelopes and the reader handled every one itself.
for (let i = 0; i < encoded.length; i++) {
  const fast = readEnvelope(encoded[i]);
  if (fast === undefined) {
    console.error(`bench/contracts/decode: readEnvelope left envelope ${i} to fromBinary`);
    process.exit(1);
  }
  if (i % 97 === 0) deepStrictEqual(fast, fromBinary(EventEnvelopeSchema, encoded[i]));
}

const mb = (n) => `${(n / 1024 / 1024).toFixed(1)} MB`;
const gc = globalThis.gc ?? (() => {});
gc();
// What the process holds before decoding anything: the encoded inputs, the runtime, the descriptors.
const baseHeap = process.memoryUsage().heapUsed;
const decoders = {
  fromBinary: (b) => fromBinary(EventEnvelopeSchema, b),
  readEnvelope: (b) => readEnvelope(b),
};

/**
 * One pass over every envelope, a batch at a time; returns µs per envelope. The heap is sampled at the end of each
 * batch (the batch's results still held), outside the timed part.
 */
function pass(decode, stats) {
  gc();
  let ns = 0;
  let cases = 0;
  for (let from = 0; from < encoded.length; from += BATCH) {
    const to = Math.min(from + BATCH, encoded.length);
    const out = new Array(to - from);
    const t0 = process.hrtime.bigint();
    for (let i = from; i < to; i++) out[i - from] = decode(encoded[i]);
    ns += Number(process.hrtime.bigint() - t0);
    stats.peakHeap = Math.max(stats.peakHeap, process.memoryUsage().heapUsed);
    // Touch the results so the pass cannot be optimized away.
    for (const env of out) if (env.payload.case === 'findingReported') cases++;
  }
  if (cases !== encoded.length) throw new Error(`decoded ${cases} FindingReported of ${encoded.length}`);
  return ns / 1000 / encoded.length;
}

const stats = Object.fromEntries(Object.keys(decoders).map((name) => [name, { times: [], peakHeap: 0 }]));
// The first round warms both up (JIT, plan building) and is not counted.
for (let round = 0; round <= ROUNDS; round++) {
  // Alternating which goes first keeps a slow neighbour on the machine from favouring one.
  const order = round % 2 === 0 ? ['fromBinary', 'readEnvelope'] : ['readEnvelope', 'fromBinary'];
  for (const name of order) {
    const us = pass(decoders[name], stats[name]);
    if (round > 0) stats[name].times.push(us);
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `bench/contracts/decode: ${ENVELOPES} FindingReported envelopes, ${(totalBytes / ENVELOPES).toFixed(0)} bytes ` +
    `each on average, batches of ${BATCH}, ${ROUNDS} rounds; heap used before decoding ${mb(baseHeap)}` +
    (globalThis.gc ? '' : ' (no --expose-gc: heap figures include garbage)'),
);
for (const [name, s] of Object.entries(stats)) {
  console.log(
    `  ${name.padEnd(12)} median ${median(s.times).toFixed(2)} µs/envelope, best ${Math.min(...s.times).toFixed(2)}, ` +
      `${Math.round(1e6 / median(s.times)).toLocaleString('en')}/s; peak heap used ${mb(s.peakHeap)}`,
  );
}
const ratio = median(stats.fromBinary.times) / median(stats.readEnvelope.times);
console.log(`  readEnvelope is ${ratio.toFixed(2)}x faster than fromBinary (medians)`);
