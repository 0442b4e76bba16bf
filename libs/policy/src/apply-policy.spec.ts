import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alpineImage, findingFromOsv } from './corpus.spec-helper.js';
import {
  applyPolicy,
  globMatches,
  parseIgnoreFile,
  ruleMatches,
  splitImageRef,
  type IgnoreRule,
} from './index.js';

const prod = { cluster: 'prod', namespace: 'payments', workload: 'payment-api' };
const qs = findingFromOsv('GHSA-hrpp-h998-j3pp', {
  ...prod,
  version: '6.10.1',
  location: 'app/node_modules/qs/package.json',
});
const xnet = findingFromOsv('GHSA-vvpx-j8f3-3w6h', {
  ...prod,
  workload: 'ledger',
  version: '0.6.0',
  location: 'usr/local/bin/ledger',
});
const rda = findingFromOsv('GHSA-mc8h-8q98-g5hr', {
  ...prod,
  version: '0.7.0',
  location: 'usr/local/bin/payment-api',
});
const qsStaging = findingFromOsv('GHSA-hrpp-h998-j3pp', {
  cluster: 'staging',
  namespace: 'payments',
  workload: 'payment-api',
  version: '6.10.1',
  location: 'app/node_modules/qs/package.json',
});
const all = [qs, xnet, rda, qsStaging];

function rules(yaml: string): readonly IgnoreRule[] {
  return parseIgnoreFile(yaml, 'test.yaml').rules;
}
function rule(fields: string): IgnoreRule {
  const [r] = rules(`ignores:\n  - reason: accepted for the test\n${fields.replace(/^/gm, '    ')}\n`);
  assert.ok(r);
  return r;
}

const NOW = new Date('2026-04-01T09:00:00Z');

describe('applyPolicy', () => {
  it('keeps everything and passes without threshold or ignores', () => {
    const r = applyPolicy(all, { now: NOW });
    assert.deepEqual(r.kept, all);
    assert.deepEqual([r.failed, r.exitCode, r.ignored.length], [false, 0, 0]);
  });

  it('fails with exit code 1 when a kept finding reaches the threshold', () => {
    const r = applyPolicy(all, { now: NOW, threshold: 'HIGH' });
    assert.deepEqual([r.failed, r.exitCode], [true, 1]);
    assert.deepEqual(applyPolicy(all, { now: NOW, threshold: 'CRITICAL' }).exitCode, 0);
  });

  it('passes once the high findings are accepted, and reports what it ignored', () => {
    const ignores = rules(
      [
        'ignores:',
        '  - id: CVE-2022-24999', // qs, by its CVE rule id
        '    reason: qs only parses trusted build input',
        '    owner: payments-team',
        '  - id: ghsa-vvpx-j8f3-3w6h', // x/net, by its advisory alias, in another case
        '    reason: HTTP/2 server not reachable',
        '  - id: CVE-2020-26235',
        '    reason: time crate is not in this image',
      ].join('\n'),
    );
    const r = applyPolicy(all, { now: NOW, threshold: 'HIGH', ignores });
    assert.deepEqual(r.kept, [rda]);
    assert.deepEqual(
      r.ignored.map((i) => [i.finding.id, i.rule.id]),
      [
        [qs.id, 'CVE-2022-24999'],
        [xnet.id, 'ghsa-vvpx-j8f3-3w6h'],
        [qsStaging.id, 'CVE-2022-24999'],
      ],
    );
    assert.deepEqual(
      r.unusedRules.map((u) => u.id),
      ['CVE-2020-26235'],
    );
    assert.deepEqual([r.failed, r.exitCode, r.expiredRules.length], [false, 0, 0]);
  });

  it('matches a finding by its own id too', () => {
    assert.equal(ruleMatches(rule(`id: "${qs.id}"`), qs), true);
    assert.equal(ruleMatches(rule(`id: "${qs.id}"`), qsStaging), false);
  });

  describe('expiry', () => {
    const ignores = rules(
      'ignores:\n  - id: CVE-2022-24999\n    reason: until the upgrade lands\n    expires: 2026-04-01\n',
    );
    const at = (iso: string) => applyPolicy([qs], { now: new Date(iso), threshold: 'HIGH', ignores });

    it('applies until the last millisecond before the expiry instant', () => {
      const r = at('2026-03-31T23:59:59.999Z');
      assert.deepEqual([r.kept.length, r.ignored.length, r.expiredRules.length, r.exitCode], [0, 1, 0, 0]);
    });
    it('no longer applies from the expiry instant on, and is reported as expired, not unused', () => {
      for (const iso of ['2026-04-01T00:00:00.000Z', '2026-04-01T00:00:00.001Z', '2027-01-01T00:00:00Z']) {
        const r = at(iso);
        assert.deepEqual([r.kept, r.ignored.length, r.exitCode], [[qs], 0, 1], iso);
        assert.deepEqual(
          r.expiredRules.map((e) => e.expires),
          ['2026-04-01'],
          iso,
        );
        assert.deepEqual(r.unusedRules, [], iso);
      }
    });
    it('honours the zone of a date-time expiry', () => {
      const zoned = rules(
        'ignores:\n  - id: CVE-2022-24999\n    reason: x\n    expires: 2026-04-01T08:00:00+02:00\n',
      );
      assert.equal(
        applyPolicy([qs], { now: new Date('2026-04-01T05:59:59Z'), ignores: zoned }).ignored.length,
        1,
      );
      assert.equal(
        applyPolicy([qs], { now: new Date('2026-04-01T06:00:00Z'), ignores: zoned }).ignored.length,
        0,
      );
    });
    it('needs a valid clock', () => {
      assert.throws(() => applyPolicy([qs], { now: new Date('not a date') }), {
        message: 'applyPolicy: "now" must be a valid Date',
      });
    });
  });

  describe('scope', () => {
    const cve = 'id: CVE-2022-24999';
    const cases: [string, string, boolean, boolean][] = [
      // fields, description, matches prod qs, matches staging qs
      [`${cve}\ncluster: prod`, 'cluster', true, false],
      [`${cve}\ncluster: [staging, dev]`, 'cluster list', false, true],
      [`${cve}\nnamespace: payments`, 'namespace', true, true],
      [`${cve}\nnamespace: ledger`, 'other namespace', false, false],
      [`${cve}\nworkload: payment-api`, 'workload by name', true, true],
      [`${cve}\nworkload: deployment/payment-api`, 'workload by kind/name', true, true],
      [`${cve}\nworkload: StatefulSet/payment-api`, 'workload with other kind', false, false],
      [`${cve}\nname: payment-api\ncluster: prod`, 'name and cluster', true, false],
      [`${cve}\nimage: alpine:3.11`, 'image by tag', true, true],
      [`${cve}\nimage: docker.io/library/alpine`, 'image by long repository, any tag', true, true],
      [`${cve}\nimage: alpine:3.12`, 'image with other tag', false, false],
      [`${cve}\nimage: "${alpineImage().digest}"`, 'image by digest', true, true],
      [`${cve}\nimage: "alpine@${alpineImage().digest}"`, 'image by repository@digest', true, true],
      [`${cve}\nimage: "sha256:${'0'.repeat(64)}"`, 'image by other digest', false, false],
      [`${cve}\npackage: qs`, 'package by name', true, true],
      [`${cve}\npackage: pkg:npm/qs`, 'package by purl without version', true, true],
      [`${cve}\npackage: pkg:npm/qs@6.10.1`, 'package by purl with version', true, true],
      [`${cve}\npackage: pkg:npm/qs@6.10.3`, 'package by purl with other version', false, false],
      [`${cve}\npackage: pkg:npm/express`, 'other package', false, false],
      [`${cve}\npath: "app/node_modules/**"`, 'path glob **', true, true],
      [`${cve}\npath: "/app/*/qs/package.json"`, 'path glob * with leading slash', true, true],
      [`${cve}\npath: "app/*/package.json"`, 'path glob * stays within a segment', false, false],
      [`${cve}\npath: "**/package.json"`, 'path glob **/ at the start', true, true],
      [
        `${cve}\ncluster: prod\nnamespace: payments\nworkload: payment-api\nimage: alpine:3.11\npackage: qs\npath: "app/**"`,
        'every field',
        true,
        false,
      ],
      [`id: CVE-2022-41723\nnamespace: payments`, 'other rule id', false, false],
    ];
    for (const [fields, name, matchesProd, matchesStaging] of cases) {
      it(name, () => {
        const r = rule(fields);
        assert.equal(ruleMatches(r, qs), matchesProd, 'prod');
        assert.equal(ruleMatches(r, qsStaging), matchesStaging, 'staging');
      });
    }

    it('does not match a scoped rule against a finding without that asset field', () => {
      const hostFinding = {
        id: 'host:node-1:sshd-root',
        ruleId: 'CVE-2022-24999',
        severity: 'HIGH',
        source: 'host',
      };
      assert.equal(ruleMatches(rule(`${cve}\nnamespace: payments`), hostFinding), false);
      assert.equal(ruleMatches(rule(cve), hostFinding), true);
    });
  });

  it('gives the same result for the same input (pure)', () => {
    const ignores = rules('ignores:\n  - id: CVE-2022-24999\n    reason: x\n    cluster: prod\n');
    const a = applyPolicy(all, { now: NOW, threshold: 'MEDIUM', ignores });
    const b = applyPolicy(all, { now: NOW, threshold: 'MEDIUM', ignores });
    assert.deepEqual(a, b);
    assert.deepEqual(a.kept, [xnet, rda, qsStaging]);
  });
});

describe('helpers', () => {
  it('splits image references', () => {
    assert.deepEqual(splitImageRef('alpine:3.11'), { repository: 'docker.io/library/alpine', tag: '3.11' });
    assert.deepEqual(splitImageRef('localhost:5000/pay/api@sha256:ab'), {
      repository: 'localhost:5000/pay/api',
      digest: 'sha256:ab',
    });
    assert.deepEqual(splitImageRef('ghcr.io/acme/api:1.2@sha256:ab'), {
      repository: 'ghcr.io/acme/api',
      tag: '1.2',
      digest: 'sha256:ab',
    });
  });
  it('matches globs', () => {
    assert.equal(globMatches('usr/lib/**', 'usr/lib/x/y.so'), true);
    assert.equal(globMatches('usr/lib/*.so', 'usr/lib/x/y.so'), false);
    assert.equal(globMatches('etc/ssl/cert?.pem', 'etc/ssl/cert1.pem'), true);
    assert.equal(globMatches('a.b', 'axb'), false);
  });
});
