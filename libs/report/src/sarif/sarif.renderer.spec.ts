// SARIF 2.1.0 output for config and image findings.
//
// Inputs. @vigil/report is an engine and may not depend on @vigil/config-audit here (it is not among its package
// dependencies or tsconfig references, and is not linked into node_modules), so the config findings below are
// written by hand exactly as config-audit's auditManifests returns them for the corpus case
// k8s/cases/kube-linter/privileged-container (Deployment/default/app1 and DeploymentConfig/default/app2): same
// ids, titles, severities, PCI ids, locations, evidence and detection. Their ids are re-derived with the
// contracts' findingId to show they are the engine's, and the manifest is read to show the location is real.
// The image findings are hand-built in the shape issue 3 specifies (file paths in the image, package, CVSS).
//
// Schema. Two checks: (1) the whole log against the real SARIF 2.1.0 JSON schema
// (../shared/schemas/sarif/2.1.0, draft-04) with ajv 6 from the repository root; (2) by hand, the schema's
// required properties and enums that matter here:
//   sarifLog: version = "2.1.0", runs (array)            run: tool                     tool: driver
//   toolComponent: name                                  reportingDescriptor: id
//   result: message                                      message: text (or id)
//   result.level in none|note|warning|error              artifactLocation.uri is a URI reference
//   region.startLine >= 1                                 result.ruleIndex indexes driver.rules with that id
//   location.id and relatedLocations ids are unique non-negative integers within a result
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import {
  AssetKind,
  ExceptionKind,
  ExceptionUseSchema,
  FindingSchema,
  FindingSource,
  MatchType,
  Severity,
  create,
  findingId,
  type Finding,
} from '@vigil/contracts';
import {
  FINGERPRINT_KEY,
  SARIF_SCHEMA_URI,
  comparePciIds,
  securitySeverity,
  toSarif,
} from './sarif.renderer.js';
import type { SarifLog, SarifResult } from './sarif.types.js';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'nx.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('no nx.json above the spec');
    dir = up;
  }
  return dir;
}

const shared = join(repoRoot(), '..', 'shared');
const caseDir = join(shared, 'corpus', 'k8s', 'cases', 'kube-linter', 'privileged-container', 'input');
const manifest = join(caseDir, 'manifests.yaml');

const ajv = new Ajv({ allErrors: true, schemaId: 'auto', format: 'full', logger: false });
ajv.addMetaSchema(
  JSON.parse(
    readFileSync(join(repoRoot(), 'node_modules', 'ajv', 'lib', 'refs', 'json-schema-draft-04.json'), 'utf8'),
  ) as object,
);
const validateSarif = ajv.compile(
  JSON.parse(
    readFileSync(join(shared, 'schemas', 'sarif', '2.1.0', 'sarif-schema-2.1.0.json'), 'utf8'),
  ) as object,
);

const seen = { seconds: 1767323045n, nanos: 0 };

function configFinding(o: {
  id: string;
  ruleId: string;
  title: string;
  description: string;
  severity: Severity;
  pci: string[];
  supporting?: string[];
  kind: string;
  name: string;
  field: string;
  where: string;
  summary: string;
  patch: object;
  evidence: [string, string][];
  expected: string;
  actual: string;
}): Finding {
  const asset = {
    kind: AssetKind.WORKLOAD,
    cluster: 'corpus',
    namespace: 'default',
    name: o.name,
    resourceKind: o.kind,
  };
  return create(FindingSchema, {
    id: o.id,
    source: FindingSource.CONFIG,
    ruleId: o.ruleId,
    title: o.title,
    description: o.description,
    severity: o.severity,
    pciRequirements: o.pci,
    supportingPciRequirements: o.supporting ?? [],
    asset,
    locations: [o.field, o.where],
    remediation: { summary: o.summary, patch: JSON.stringify(o.patch, null, 2) },
    evidence: [
      ['resource', `${o.kind}/default/${o.name}`],
      ['container', 'app'],
      ['source', o.where],
      ...o.evidence,
    ].map(([key, value]) => ({ key, value })),
    firstSeen: seen,
    lastSeen: seen,
    detection: {
      matchType: MatchType.CHECK,
      unit: { id: o.ruleId, version: 1 },
      field: o.field,
      expected: o.expected,
      actual: o.actual,
    },
  });
}

const PRIVILEGED = {
  ruleId: 'k8s/privileged',
  title: 'Privileged container',
  severity: Severity.CRITICAL,
  pci: ['2.2.6', '2.2.3', '2.2.1', '7.2.5', 'A1.1.2', 'A1.1.3'],
  field: 'spec.template.spec.containers[name=app].securityContext.privileged',
  summary: 'Set securityContext.privileged to false; grant only the specific capability the container needs.',
  patch: {
    spec: { template: { spec: { containers: [{ name: 'app', securityContext: { privileged: false } }] } } },
  },
  evidence: [['pci-mapping-key', 'k8s.privileged_hostns_hostpath']] as [string, string][],
  expected: 'false or unset',
  actual: 'true',
};
const why =
  "it has every capability and the host's devices, so a compromise of it is a compromise of the node.";

function corpusFindings(): Finding[] {
  const app1 = `${manifest}:27 (document 2)`;
  return [
    configFinding({
      ...PRIVILEGED,
      id: 'config-9007c1804874da63e9ed0f361691bbf9',
      description: `Deployment/default/app1: container app runs privileged: ${why}`,
      kind: 'Deployment',
      name: 'app1',
      where: app1,
    }),
    configFinding({
      ...PRIVILEGED,
      id: 'config-8243933acb6a5b85d5bf481105141470',
      description: `DeploymentConfig/default/app2: container app runs privileged: ${why}`,
      kind: 'DeploymentConfig',
      name: 'app2',
      where: `${manifest}:40 (document 3)`,
    }),
    configFinding({
      id: 'config-2b30fc9af81d3a93fdd3b1f30735baf1',
      ruleId: 'k8s/run-as-root',
      title: 'Container may run as root',
      description:
        "Deployment/default/app1: container app may run as uid 0: neither runAsNonRoot: true nor a runAsUser is set, so the image's user (often root) is used.",
      severity: Severity.MEDIUM,
      pci: ['2.2.6', '7.2.5', '2.2.1'],
      kind: 'Deployment',
      name: 'app1',
      field: 'spec.template.spec.containers[name=app].securityContext',
      where: app1,
      summary:
        'Set runAsNonRoot: true and a non-zero runAsUser (and runAsGroup) in the container securityContext.',
      patch: {
        spec: {
          template: {
            spec: {
              containers: [
                { name: 'app', securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001 } },
              ],
            },
          },
        },
      },
      evidence: [['pci-mapping-key', 'k8s.run_as_root']],
      expected: 'runAsNonRoot: true or runAsUser > 0, and runAsGroup not 0',
      actual: 'runAsNonRoot=unset (unset), runAsUser=unset (unset), runAsGroup=unset (unset)',
    }),
    ...(['memory', 'cpu'] as const).map((limit) =>
      configFinding({
        id:
          limit === 'memory'
            ? 'config-e7c6619d5a426b7ce74201790bc987e1'
            : 'config-55769e582af40de289df8fabeb015be4',
        ruleId: 'k8s/no-resource-limits',
        title: 'Container has no memory or CPU limit',
        description: `Deployment/default/app1: container app has no ${limit} limit, so one compromised or runaway container can starve the node.`,
        severity: Severity.LOW,
        pci: [],
        kind: 'Deployment',
        name: 'app1',
        field: `spec.template.spec.containers[name=app].resources.limits.${limit}`,
        where: app1,
        summary: 'Set resources.limits.memory and resources.limits.cpu sized to the workload.',
        patch: {
          spec: {
            template: {
              spec: {
                containers: [
                  { name: 'app', resources: { limits: { [limit]: limit === 'memory' ? '256Mi' : '500m' } } },
                ],
              },
            },
          },
        },
        supporting: ['2.2.1'],
        evidence: [['pci-mapping-key', 'k8s.run_as_root']],
        expected: `a ${limit} limit`,
        actual: 'unset',
      }),
    ),
  ];
}

const DIGEST = `sha256:${'5e'.repeat(32)}`;
const imageAsset = {
  kind: AssetKind.IMAGE,
  cluster: 'default',
  name: 'registry.example.com/shop/payment-api',
  imageRef: 'registry.example.com/shop/payment-api:1.4.2',
  imageDigest: DIGEST,
};

function imageFindings(): Finding[] {
  return [
    create(FindingSchema, {
      id: 'image-0d1f8a9b2c3e4f5061728394a5b6c7d8',
      source: FindingSource.IMAGE,
      ruleId: 'CVE-2023-5678',
      aliases: ['DSA-5532-1'],
      title: 'openssl: excessive time spent in DH check / generation with large Q parameter value',
      description: 'libssl3 3.0.11-1~deb12u1 is affected by CVE-2023-5678; fixed in 3.0.11-1~deb12u2.',
      severity: Severity.MEDIUM,
      cvss: {
        version: '3.1',
        vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L',
        score: 5.3,
        source: 'nvd',
      },
      pciRequirements: ['6.3.1', '11.3.1'],
      asset: imageAsset,
      package: {
        ecosystem: 'deb',
        name: 'libssl3',
        version: '3.0.11-1~deb12u1',
        purl: 'pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64&distro=debian-12&upstream=openssl',
        sourceName: 'openssl',
        sourceVersion: '3.0.11-1~deb12u1',
        fixedVersion: '3.0.11-1~deb12u2',
      },
      locations: ['/usr/lib/x86_64-linux-gnu/libssl.so.3', '/usr/lib/x86_64-linux-gnu/engines-3/afalg.so'],
      remediation: { summary: 'apt-get install -y libssl3=3.0.11-1~deb12u2' },
      references: ['https://security-tracker.debian.org/tracker/CVE-2023-5678'],
    }),
    // The distro rates it high although NVD's CVSS says critical: the alert's number stays in the high band.
    create(FindingSchema, {
      id: 'image-a1b2c3d4e5f60718293a4b5c6d7e8f90',
      source: FindingSource.IMAGE,
      ruleId: 'CVE-2023-4911',
      title: 'glibc: buffer overflow in ld.so leading to privilege escalation',
      description: 'libc6 2.36-9+deb12u1 is affected by CVE-2023-4911; fixed in 2.36-9+deb12u3.',
      severity: Severity.HIGH,
      cvss: {
        version: '3.1',
        vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H',
        score: 9.8,
        source: 'nvd',
      },
      pciRequirements: ['6.3.1', '6.3.3', '11.3.1'],
      asset: imageAsset,
      package: { ecosystem: 'deb', name: 'libc6', version: '2.36-9+deb12u1', fixedVersion: '2.36-9+deb12u3' },
      locations: ['/lib/x86_64-linux-gnu/libc.so.6'],
      remediation: { summary: 'apt-get install -y libc6=2.36-9+deb12u3' },
    }),
    create(FindingSchema, {
      id: 'image-ffeeddccbbaa00998877665544332211',
      source: FindingSource.IMAGE,
      ruleId: 'GHSA-xxxx-unknown',
      title: 'an advisory without severity',
      severity: Severity.UNKNOWN,
      pciRequirements: ['6.3.1'],
      asset: imageAsset,
      locations: ['app/package-lock.json'],
    }),
  ];
}

function run(log: SarifLog) {
  assert.equal(log.runs.length, 1);
  return log.runs[0]!;
}

function resultFor(log: SarifLog, id: string): SarifResult {
  const r = run(log).results.find((x) => x.partialFingerprints[FINGERPRINT_KEY] === id);
  assert.ok(r, `no result for ${id}`);
  return r;
}

/** The required-property rules listed at the top of this file. */
function checkRequired(log: SarifLog): void {
  const doc = JSON.parse(JSON.stringify(log)) as SarifLog;
  assert.equal(doc.version, '2.1.0');
  assert.ok(Array.isArray(doc.runs));
  for (const r of doc.runs) {
    assert.ok(r.tool?.driver?.name, 'run.tool.driver.name');
    for (const rule of r.tool.driver.rules) assert.ok(rule.id, 'reportingDescriptor.id');
    for (const res of r.results) {
      assert.ok(res.message?.text, 'result.message.text');
      assert.ok(['none', 'note', 'warning', 'error'].includes(res.level));
      assert.equal(r.tool.driver.rules[res.ruleIndex]?.id, res.ruleId, 'ruleIndex points at the rule');
      const ids = [...res.locations, ...(res.relatedLocations ?? [])]
        .map((l) => l.id)
        .filter((i) => i !== undefined);
      assert.equal(new Set(ids).size, ids.length, 'location ids unique');
      for (const l of [...res.locations, ...(res.relatedLocations ?? [])]) {
        const a = l.physicalLocation?.artifactLocation;
        if (a) assert.doesNotThrow(() => new URL(a.uri, 'file:///base/'), `uri ${a.uri}`);
        if (l.physicalLocation?.region) assert.ok(l.physicalLocation.region.startLine >= 1);
      }
    }
  }
}

function assertSchemaValid(log: SarifLog): void {
  const ok = validateSarif(JSON.parse(JSON.stringify(log)));
  assert.ok(ok, `not valid SARIF 2.1.0: ${ajv.errorsText(validateSarif.errors, { separator: '\n' })}`);
  checkRequired(log);
}

describe('SARIF renderer', () => {
  it('uses the engine ids and a real manifest location', () => {
    for (const f of corpusFindings()) {
      assert.equal(
        findingId({ source: f.source, ruleId: f.ruleId, asset: f.asset!, location: f.locations[0]! }),
        f.id,
        `${f.ruleId} ${f.locations[0]}`,
      );
    }
    // Document 2 of the manifest (counting from 0) is Deployment app1; config-audit puts it at line 27.
    const lines = readFileSync(manifest, 'utf8').split('\n');
    assert.ok(lines.slice(26, 32).includes('  name: app1'), lines.slice(26, 32).join('\n'));
  });

  it('renders config findings: rules, levels, manifest and resource locations, fingerprints', () => {
    const log = toSarif(corpusFindings(), {
      toolVersion: '0.1.0',
      informationUri: 'https://example.invalid/vigil',
      artifactBase: shared,
    });
    assertSchemaValid(log);
    assert.equal(log.$schema, SARIF_SCHEMA_URI);
    const r = run(log);
    assert.equal(r.tool.driver.name, 'vigil');
    assert.equal(r.tool.driver.version, '0.1.0');
    assert.equal(r.tool.driver.semanticVersion, '0.1.0');
    assert.deepEqual(
      r.tool.driver.rules.map((x) => x.id),
      ['k8s/no-resource-limits', 'k8s/privileged', 'k8s/run-as-root'],
    );
    assert.equal(r.results.length, 5);
    assert.deepEqual(r.originalUriBaseIds, { SRCROOT: { uri: `file://${shared}/` } });

    const privileged = r.tool.driver.rules[1]!;
    assert.equal(privileged.shortDescription.text, 'Privileged container');
    assert.equal(privileged.defaultConfiguration.level, 'error');
    assert.equal(privileged.properties['security-severity'], '9.5');
    assert.deepEqual(privileged.properties['pci-dss-requirements'], [
      '2.2.1',
      '2.2.3',
      '2.2.6',
      '7.2.5',
      'A1.1.2',
      'A1.1.3',
    ]);
    assert.ok((privileged.properties['tags'] as string[]).includes('PCI-DSS-A1.1.2'));
    assert.equal(
      privileged.help.text,
      'Remediation: Set securityContext.privileged to false; grant only the specific capability the container needs.\n\n' +
        'PCI DSS v4.0.1 requirements: 2.2.1, 2.2.3, 2.2.6, 7.2.5, A1.1.2, A1.1.3.',
    );

    const limits = r.tool.driver.rules[0]!;
    assert.equal(limits.defaultConfiguration.level, 'note');
    assert.deepEqual(limits.properties['pci-dss-requirements'], []);
    assert.deepEqual(limits.properties['pci-dss-supporting-requirements'], ['2.2.1']);
    assert.match(limits.help.text, /Supports PCI DSS v4\.0\.1 requirements: 2\.2\.1\./);
    assert.equal(r.tool.driver.rules[2]!.defaultConfiguration.level, 'warning');

    const app1 = resultFor(log, 'config-9007c1804874da63e9ed0f361691bbf9');
    assert.equal(app1.ruleId, 'k8s/privileged');
    assert.equal(app1.ruleIndex, 1);
    assert.equal(app1.level, 'error');
    assert.deepEqual(app1.locations, [
      {
        physicalLocation: {
          artifactLocation: {
            uri: 'corpus/k8s/cases/kube-linter/privileged-container/input/manifests.yaml',
            uriBaseId: 'SRCROOT',
          },
          region: { startLine: 27 },
        },
        logicalLocations: [
          {
            name: 'Deployment/default/app1',
            fullyQualifiedName: 'corpus/Deployment/default/app1',
            kind: 'resource',
          },
          {
            name: 'spec.template.spec.containers[name=app].securityContext.privileged',
            fullyQualifiedName:
              'corpus/Deployment/default/app1:spec.template.spec.containers[name=app].securityContext.privileged',
            kind: 'property',
          },
        ],
      },
    ]);
    assert.match(
      app1.message.text,
      /^Deployment\/default\/app1: container app runs privileged: .* Fix: Set securityContext/,
    );
    assert.equal(app1.properties['severity'], 'CRITICAL');
    assert.deepEqual(app1.properties['detection'], {
      field: PRIVILEGED.field,
      expected: 'false or unset',
      actual: 'true',
    });
    assert.match(app1.properties['remediation-patch'] as string, /"privileged": false/);
    assert.equal(
      resultFor(log, 'config-8243933acb6a5b85d5bf481105141470').locations[0]!.physicalLocation!.region!
        .startLine,
      40,
    );

    // Without a base the manifest is an absolute file: URI.
    const bare = toSarif(corpusFindings(), { toolVersion: '0.1.0' });
    assertSchemaValid(bare);
    assert.equal(run(bare).originalUriBaseIds, undefined);
    assert.equal(
      resultFor(bare, 'config-9007c1804874da63e9ed0f361691bbf9').locations[0]!.physicalLocation!
        .artifactLocation.uri,
      `file://${manifest}`,
    );
  });

  it('renders image findings: files in the image, the image as a logical location, security-severity bands', () => {
    const log = toSarif(imageFindings(), { toolName: 'vigil-image', toolVersion: '0.1.0-dev+abc' });
    assertSchemaValid(log);
    assert.equal(run(log).tool.driver.name, 'vigil-image');
    const ssl = resultFor(log, 'image-0d1f8a9b2c3e4f5061728394a5b6c7d8');
    assert.equal(ssl.level, 'warning');
    assert.equal(ssl.properties['security-severity'], '5.3');
    const where = `in registry.example.com/shop/payment-api:1.4.2@${DIGEST}`;
    assert.deepEqual(ssl.locations, [
      {
        physicalLocation: {
          artifactLocation: { uri: 'usr/lib/x86_64-linux-gnu/libssl.so.3', description: { text: where } },
        },
        logicalLocations: [
          {
            name: 'registry.example.com/shop/payment-api:1.4.2',
            fullyQualifiedName: `registry.example.com/shop/payment-api:1.4.2@${DIGEST}`,
            kind: 'module',
          },
        ],
      },
    ]);
    assert.deepEqual(ssl.relatedLocations, [
      {
        id: 1,
        physicalLocation: {
          artifactLocation: {
            uri: 'usr/lib/x86_64-linux-gnu/engines-3/afalg.so',
            description: { text: where },
          },
        },
      },
    ]);
    assert.deepEqual(ssl.properties['package'], {
      ecosystem: 'deb',
      name: 'libssl3',
      version: '3.0.11-1~deb12u1',
      purl: 'pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64&distro=debian-12&upstream=openssl',
      fixedVersion: '3.0.11-1~deb12u2',
    });
    assert.deepEqual(ssl.properties['aliases'], ['DSA-5532-1']);
    const sslRule = run(log).tool.driver.rules[ssl.ruleIndex]!;
    assert.equal(sslRule.helpUri, 'https://security-tracker.debian.org/tracker/CVE-2023-5678');
    assert.match(
      sslRule.help.text,
      /^Remediation: apt-get install -y libssl3=3\.0\.11-1~deb12u2\n\nPCI DSS v4\.0\.1 requirements: 6\.3\.1, 11\.3\.1\.$/,
    );

    const glibc = resultFor(log, 'image-a1b2c3d4e5f60718293a4b5c6d7e8f90');
    assert.equal(glibc.level, 'error');
    assert.equal(glibc.properties['security-severity'], '8.0');

    const unknown = resultFor(log, 'image-ffeeddccbbaa00998877665544332211');
    assert.equal(unknown.level, 'note');
    assert.equal(unknown.properties['security-severity'], undefined);
    assert.equal(unknown.locations[0]!.physicalLocation!.artifactLocation.uri, 'app/package-lock.json');
  });

  it('is deterministic: the same findings in any order give the same log', () => {
    const all = [...imageFindings(), ...corpusFindings()];
    const a = JSON.stringify(toSarif(all, { toolVersion: '0.1.0', artifactBase: shared }));
    const b = JSON.stringify(toSarif([...all].reverse(), { toolVersion: '0.1.0', artifactBase: shared }));
    assert.equal(a, b);
    const log = JSON.parse(a) as SarifLog;
    assertSchemaValid(log);
    const rules = run(log).tool.driver.rules.map((r) => r.id);
    assert.deepEqual(rules, [...rules].sort());
    assert.equal(run(log).results.length, all.length);
  });

  it('refuses findings without a rule id and options without a version', () => {
    assert.throws(
      () => toSarif([create(FindingSchema, { id: 'x-1', severity: Severity.LOW })], { toolVersion: '0.1.0' }),
      /finding x-1 has no ruleId/,
    );
    assert.throws(() => toSarif([], { toolVersion: '' }), /toolVersion is required/);
    assert.throws(
      () => toSarif([], { toolVersion: '1.0.0', artifactBase: 'rel/dir' }),
      /not an absolute directory/,
    );
    const empty = toSarif([], { toolVersion: '1.0.0' });
    assertSchemaValid(empty);
    assert.deepEqual(run(empty).results, []);
  });

  it("carries the deployment's evidence key fingerprint in run.properties when given, and only then", () => {
    const fingerprint = 'sha256:' + 'ab'.repeat(32);
    const log = toSarif(imageFindings(), { toolVersion: '0.1.0', evidenceKeyFingerprint: fingerprint });
    assertSchemaValid(log);
    assert.deepEqual(run(log).properties, {
      'vigil-sarif-version': 1,
      'vigil-evidence-key-fingerprint': fingerprint,
    });
    assert.deepEqual(run(toSarif(imageFindings(), { toolVersion: '0.1.0' })).properties, {
      'vigil-sarif-version': 1,
    });
  });

  it('writes an accepted external suppression on each finding an exception of the snapshot covers', () => {
    const [first, ...rest] = imageFindings();
    const exceptions = [
      create(ExceptionUseSchema, {
        exceptionId: 'exc-openssl',
        kind: ExceptionKind.COMPENSATING_CONTROL,
        owner: 'payments-platform',
        justification: 'TLS terminates at the mesh sidecar',
        approvers: [{ name: 'ciso@acme.example' }],
        expiresAt: { seconds: 1_800_000_000n, nanos: 0 },
        coveredFindingIds: [first!.id],
      }),
    ];
    const log = toSarif([first!, ...rest], { toolVersion: '0.1.0', exceptions });
    assertSchemaValid(log);
    const byId = new Map(run(log).results.map((r) => [r.partialFingerprints[FINGERPRINT_KEY], r]));
    assert.deepEqual(byId.get(first!.id)!.suppressions, [
      {
        kind: 'external',
        status: 'accepted',
        justification:
          'compensating control exc-openssl (owner payments-platform): TLS terminates at the mesh sidecar',
        properties: {
          'vigil-exception-id': 'exc-openssl',
          expires: '2027-01-15T08:00:00.000Z',
          approvers: ['ciso@acme.example'],
        },
      },
    ]);
    assert.ok(rest.length > 0);
    for (const f of rest) assert.equal(byId.get(f.id)!.suppressions, undefined);
  });

  it('orders PCI ids as the catalog does and bands security-severity by the finding severity', () => {
    assert.deepEqual(['A1.1.2', '12.5.1', '2.2.10', '2.2.9', '11.3.1', '2.2'].sort(comparePciIds), [
      '2.2',
      '2.2.9',
      '2.2.10',
      '11.3.1',
      '12.5.1',
      'A1.1.2',
    ]);
    const f = (severity: Severity, score?: number) =>
      create(FindingSchema, { severity, ...(score === undefined ? {} : { cvss: { score } }) });
    assert.equal(securitySeverity(f(Severity.CRITICAL, 9.8)), '9.8');
    assert.equal(securitySeverity(f(Severity.CRITICAL)), '9.5');
    assert.equal(securitySeverity(f(Severity.LOW, 7.5)), '2.0');
    assert.equal(securitySeverity(f(Severity.HIGH, 7.0)), '7.0');
    assert.equal(securitySeverity(f(Severity.UNKNOWN, 5)), undefined);
  });
});
