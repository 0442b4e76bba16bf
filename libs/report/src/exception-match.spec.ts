import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AssetKind,
  FindingSchema,
  FindingSource,
  FindingSelectorSchema,
  MatchType,
  Severity,
  create,
  findingId,
  type Finding,
  type MessageInitShape,
} from '@vigil/contracts';
import {
  ExceptionMatcher,
  exceptionViews,
  packageMatches,
  pathMatches,
  purlWithoutVersion,
  selectorMatches,
} from './exception-match.js';
import { fold, scopeStateOf } from './scope-state.js';
import { Events, misconfig, vuln } from './events.spec-helper.js';

// The finding shapes are the ones the engines emit (see libs/image-scan, libs/config-audit's toFinding,
// libs/host-assess's toFinding, libs/runtime-rules' to-findings): the same asset kinds, rule ids and the same
// location lists, for resources of the Acme Pay example (examples/payments).

const sel = (s: MessageInitShape<typeof FindingSelectorSchema>) => create(FindingSelectorSchema, s);

// An OS package whose binary name differs from its source package, as dpkg reports libssl3 built from openssl.
function libssl(): Finding {
  const asset = {
    kind: AssetKind.IMAGE,
    cluster: 'prod',
    imageRef: 'registry.example.com/acme/payment-api:1.4.2',
    imageDigest: 'sha256:9b2e4c6d8f0a1b3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c',
  };
  return create(FindingSchema, {
    id: findingId({
      source: FindingSource.IMAGE,
      ruleId: 'CVE-2024-5535',
      asset,
      location: 'pkg:deb/debian/libssl3',
    }),
    source: FindingSource.IMAGE,
    ruleId: 'CVE-2024-5535',
    aliases: ['DSA-5770-1'],
    severity: Severity.MEDIUM,
    pciRequirements: ['6.3.1', '11.3.1'],
    asset,
    package: {
      ecosystem: 'deb',
      name: 'libssl3',
      version: '3.0.13-1~deb12u1',
      purl: 'pkg:deb/debian/libssl3@3.0.13-1~deb12u1?arch=amd64&distro=debian-12',
      sourceName: 'openssl',
      sourceVersion: '3.0.13-1~deb12u1',
      fixedVersion: '3.0.14-1~deb12u2',
    },
    locations: ['/var/lib/dpkg/status'],
    detection: { matchType: MatchType.SOURCE_PACKAGE, unit: { id: 'dpkg-matcher', version: 1 } },
  });
}

function privilegedAgent(): Finding {
  const asset = {
    kind: AssetKind.WORKLOAD,
    cluster: 'prod',
    namespace: 'monitoring',
    name: 'node-agent',
    resourceKind: 'DaemonSet',
  };
  const field = 'spec.template.spec.containers[0].securityContext.privileged';
  return create(FindingSchema, {
    id: findingId({ source: FindingSource.CONFIG, ruleId: 'workload/privileged', asset, location: field }),
    source: FindingSource.CONFIG,
    ruleId: 'workload/privileged',
    severity: Severity.HIGH,
    pciRequirements: ['2.2.1'],
    asset,
    locations: [field, 'examples/payments/k8s/50-monitoring.yaml:31 (document 3)'],
    detection: { matchType: MatchType.CHECK, unit: { id: 'workload/privileged', version: 1 } },
  });
}

function clusterAdminBinding(): Finding {
  const asset = {
    kind: AssetKind.RESOURCE,
    cluster: 'prod',
    name: 'ci-deployer-cluster-admin',
    resourceKind: 'ClusterRoleBinding',
  };
  return create(FindingSchema, {
    id: findingId({
      source: FindingSource.CONFIG,
      ruleId: 'rbac/cluster-admin-binding',
      asset,
      location: 'roleRef',
    }),
    source: FindingSource.CONFIG,
    ruleId: 'rbac/cluster-admin-binding',
    severity: Severity.HIGH,
    pciRequirements: ['7.2.1', '7.2.2'],
    asset,
    locations: ['roleRef', 'examples/payments/k8s/10-rbac.yaml:63 (document 5)'],
    detection: { matchType: MatchType.CHECK, unit: { id: 'rbac/cluster-admin-binding', version: 1 } },
  });
}

function sshRootLogin(): Finding {
  const asset = { kind: AssetKind.NODE, cluster: 'prod', node: 'pay-worker-1', name: 'pay-worker-1' };
  return create(FindingSchema, {
    id: findingId({
      source: FindingSource.HOST,
      ruleId: 'ssh.root-login-disabled',
      asset,
      location: '/etc/ssh/sshd_config',
    }),
    source: FindingSource.HOST,
    ruleId: 'ssh.root-login-disabled',
    severity: Severity.HIGH,
    pciRequirements: ['8.2.2', '2.2.2'],
    asset,
    locations: ['/etc/ssh/sshd_config', 'PermitRootLogin'],
    detection: { matchType: MatchType.CHECK, unit: { id: 'ssh.root-login-disabled', version: 1 } },
  });
}

function shellInContainer(): Finding {
  const asset = {
    kind: AssetKind.CONTAINER,
    cluster: 'prod',
    namespace: 'payments',
    name: 'payment-api',
    resourceKind: 'Deployment',
    container: 'api',
    node: 'pay-worker-1',
    imageRef: 'registry.example.com/acme/payment-api:1.4.2',
  };
  return create(FindingSchema, {
    id: findingId({ source: FindingSource.RUNTIME, ruleId: 'falco:Terminal shell in container', asset }),
    source: FindingSource.RUNTIME,
    ruleId: 'falco:Terminal shell in container',
    aliases: ['Terminal shell in container'],
    severity: Severity.MEDIUM,
    pciRequirements: ['10.2.1', '11.5.1'],
    asset,
    locations: ['/bin/bash'],
    detection: { matchType: MatchType.RUNTIME_RULE, unit: { id: 'falco-normalizer', version: 1 } },
  });
}

describe('selectorMatches: packages', () => {
  it('matches an image vulnerability by package name, source package name or versionless purl', () => {
    const f = libssl();
    assert.equal(selectorMatches(sel({ packages: ['libssl3'] }), f), true);
    assert.equal(selectorMatches(sel({ packages: ['openssl'] }), f), true);
    assert.equal(selectorMatches(sel({ packages: ['pkg:deb/debian/libssl3'] }), f), true);
    // The binary's own purl type and namespace with the source name: an advisory filed against "openssl".
    assert.equal(selectorMatches(sel({ packages: ['pkg:deb/debian/openssl'] }), f), true);
    assert.equal(selectorMatches(sel({ packages: ['libssl'] }), f), false);
    assert.equal(selectorMatches(sel({ packages: ['pkg:apk/alpine/libssl3'] }), f), false);
  });

  it('ignores a version written in the criterion, so a rebuild that bumps it stays covered', () => {
    const f = vuln({
      cve: 'CVE-2023-45853',
      pkg: 'zlib1g',
      installed: '1:1.2.13.dfsg-1',
      imageRef: 'registry.example.com/acme/payment-api:1.4.2',
      digest: 'sha256:aa',
      severity: Severity.CRITICAL,
    });
    assert.equal(selectorMatches(sel({ packages: ['pkg:deb/debian/zlib1g@1:1.2.11.dfsg-2'] }), f), true);
  });

  it('never matches a finding without a package (config, RBAC, host, runtime)', () => {
    for (const f of [privilegedAgent(), clusterAdminBinding(), sshRootLogin(), shellInContainer()])
      assert.equal(selectorMatches(sel({ packages: ['openssl'] }), f), false, f.ruleId);
  });

  it('ANDs packages with the other criteria', () => {
    const f = libssl();
    assert.equal(selectorMatches(sel({ packages: ['openssl'], ruleIds: ['CVE-2024-5535'] }), f), true);
    assert.equal(selectorMatches(sel({ packages: ['openssl'], ruleIds: ['CVE-2024-0727'] }), f), false);
    assert.equal(
      selectorMatches(
        sel({ packages: ['openssl'], imageRepository: 'registry.example.com/acme/payment-api' }),
        f,
      ),
      true,
    );
  });
});

describe('selectorMatches: paths', () => {
  it('matches a config check by its field path or by the manifest it came from', () => {
    const f = privilegedAgent();
    assert.equal(
      selectorMatches(sel({ paths: ['spec.template.spec.containers[0].securityContext.privileged'] }), f),
      true,
    );
    assert.equal(
      selectorMatches(sel({ paths: ['examples/payments/k8s/50-monitoring.yaml:31 (document 3)'] }), f),
      true,
    );
    assert.equal(selectorMatches(sel({ paths: ['examples/payments/k8s/'] }), f), true);
    assert.equal(selectorMatches(sel({ paths: ['examples/payments/k8s'] }), f), false);
  });

  it('matches an RBAC finding scoped to its manifest directory and rule', () => {
    const f = clusterAdminBinding();
    assert.equal(
      selectorMatches(sel({ paths: ['examples/payments/k8s/'], ruleIds: ['rbac/cluster-admin-binding'] }), f),
      true,
    );
    assert.equal(
      selectorMatches(sel({ paths: ['infra/'], ruleIds: ['rbac/cluster-admin-binding'] }), f),
      false,
    );
  });

  it('matches a host check by the file it read, exact or under a directory', () => {
    const f = sshRootLogin();
    assert.equal(selectorMatches(sel({ paths: ['/etc/ssh/sshd_config'] }), f), true);
    assert.equal(selectorMatches(sel({ paths: ['/etc/ssh/'] }), f), true);
    assert.equal(selectorMatches(sel({ paths: ['/etc/ssh'] }), f), false);
    assert.equal(selectorMatches(sel({ paths: ['/etc/ssh/sshd_config.d/'] }), f), false);
  });

  it('matches a runtime detection by its process path, within a workload', () => {
    const f = shellInContainer();
    const workload = { namespace: 'payments', name: 'payment-api', resourceKind: 'Deployment' };
    assert.equal(selectorMatches(sel({ paths: ['/bin/'], asset: workload }), f), true);
    assert.equal(
      selectorMatches(sel({ paths: ['/bin/'], asset: { ...workload, namespace: 'storefront' } }), f),
      false,
    );
    assert.equal(selectorMatches(sel({ paths: ['/usr/bin/'] }), f), false);
  });

  it('matches an image vulnerability by the package database it was read from', () => {
    assert.equal(selectorMatches(sel({ paths: ['/var/lib/dpkg/'] }), libssl()), true);
  });

  it('keeps the empty selector matching nothing', () => {
    for (const f of [libssl(), privilegedAgent(), clusterAdminBinding(), sshRootLogin(), shellInContainer()])
      assert.equal(selectorMatches(sel({}), f), false);
  });

  it('keeps the helper-built config finding (field only) matching by field', () => {
    const f = misconfig({
      check: 'workload/run-as-root',
      namespace: 'payments',
      workload: 'payment-api',
      field: 'spec.template.spec.securityContext.runAsNonRoot',
      severity: Severity.MEDIUM,
      pci: ['2.2.1'],
    });
    assert.equal(
      selectorMatches(sel({ paths: ['spec.template.spec.securityContext.runAsNonRoot'] }), f),
      true,
    );
  });
});

describe('purlWithoutVersion, packageMatches, pathMatches', () => {
  it('strips version, qualifiers and subpath, and leaves a versionless purl alone', () => {
    assert.equal(
      purlWithoutVersion('pkg:deb/debian/openssl@3.0.11-1?distro=debian-12#x'),
      'pkg:deb/debian/openssl',
    );
    assert.equal(purlWithoutVersion('pkg:npm/%40acme/tokens@2.1.0'), 'pkg:npm/%40acme/tokens');
    assert.equal(purlWithoutVersion('pkg:golang/golang.org/x/net'), 'pkg:golang/golang.org/x/net');
  });

  it('refuses an empty path criterion', () => {
    assert.equal(pathMatches('', '/etc/ssh/sshd_config'), false);
    assert.equal(packageMatches('openssl', privilegedAgent()), false);
  });
});

describe('ExceptionMatcher', () => {
  it('finds exactly the exceptions that testing every selector against every finding finds', () => {
    const e = new Events();
    const selectors: MessageInitShape<typeof FindingSelectorSchema>[] = [
      { packages: ['openssl'] },
      { packages: ['pkg:deb/debian/openssl'] },
      { packages: ['pkg:deb/debian/libssl3'], ruleIds: ['CVE-2024-5535'] },
      { ruleIds: ['DSA-5770-1'] },
      { ruleIds: ['Terminal shell in container'] },
      { findingIds: [sshRootLogin().id] },
      { paths: ['/etc/ssh/'] },
      { paths: ['examples/payments/k8s/'], sources: [FindingSource.CONFIG] },
      { asset: { namespace: 'payments' } },
      { imageRepository: 'registry.example.com/acme/payment-api' },
      { packages: ['zlib1g'] },
      {},
    ];
    const events = selectors.map((selector, i) =>
      e.exception({ id: `exc-${String(i).padStart(2, '0')}`, selector, expiresMinute: 600 }, 1),
    );
    const scope = scopeStateOf(fold(events), { cluster: 'prod' });
    assert.ok(scope);
    const views = exceptionViews(scope, undefined);
    const matcher = new ExceptionMatcher(views);
    const findings = [libssl(), privilegedAgent(), clusterAdminBinding(), sshRootLogin(), shellInContainer()];
    for (const f of findings) {
      const brute = views.filter((v) => selectorMatches(v.exception.recorded.selector, f)).map((v) => v.id);
      assert.deepEqual(
        matcher.matching(f).map((v) => v.id),
        brute,
        f.ruleId,
      );
    }
    assert.deepEqual(
      matcher.matching(libssl()).map((v) => v.id),
      ['exc-00', 'exc-01', 'exc-02', 'exc-03', 'exc-09'],
    );
  });
});
