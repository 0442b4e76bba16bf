import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  CheckStatus,
  FindingSource,
  HostReportSchema,
  ScopeSchema,
  create,
  fromBinary,
  toBinary,
} from '@vigil/contracts';
import { assertKnownRequirementIds } from '@vigil/pci';
import { assessHost, hostReport, HostRootError } from './assess-host.js';
import { corpusPath } from '@vigil/testing';
import { materializeFixture } from './fixture-materializer.js';
import { HOST_CHECKS } from './registry.js';

const clock = () => new Date('2026-12-01T10:00:00Z');

/** A hand-built root: files at node paths, processes as argv lists. */
function buildRoot(files: Record<string, string>, processes: string[][] = []): string {
  const root = mkdtempSync(join(tmpdir(), 'host-assess-spec-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  processes.forEach((argv, i) => {
    mkdirSync(join(root, 'proc', String(100 + i)), { recursive: true });
    writeFileSync(join(root, 'proc', String(100 + i), 'cmdline'), `${argv.join('\0')}\0`);
  });
  return root;
}

function result(a: Awaited<ReturnType<typeof assessHost>>, id: string) {
  const r = a.checks.find((c) => c.id === id || c.cis === id);
  assert.ok(r, `no result for ${id}`);
  return r;
}

test('materializeFixture applies node.json modes and owners, adds missing owners to the root passwd, writes cmdlines', () => {
  const fixture = corpusPath('host', 'fixtures', 'hardway-worker');
  const { root } = materializeFixture(fixture);
  try {
    const st = statSync(join(root, 'var/lib/kubelet/kubelet-config.yaml'));
    assert.equal(st.mode & 0o7777, 0o644);
    assert.equal(st.uid, 0);
    assert.match(readFileSync(join(root, 'etc/passwd'), 'utf8'), /^root:x:0:0:/m);
    const cmdline = readFileSync(join(root, 'proc/1000/cmdline'), 'utf8');
    assert.deepEqual(cmdline.split('\0').slice(0, 2), [
      '/usr/local/bin/kubelet',
      '--config=/var/lib/kubelet/kubelet-config.yaml',
    ]);
    assert.equal(
      readFileSync(join(root, 'var/lib/kubelet/kubelet-config.yaml'), 'utf8'),
      readFileSync(join(fixture, 'files/var/lib/kubelet/kubelet-config.yaml'), 'utf8'),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("owners are resolved from the root's own etc/passwd and etc/group, not the assessor's", async () => {
  const root = buildRoot({
    '/etc/passwd': 'root:x:0:0:root:/root:/bin/bash\nkube:x:4242:4242::/home/kube:/bin/sh\n',
    '/etc/group': 'root:x:0:\nkube:x:4242:\n',
    '/etc/ssh/sshd_config': 'PermitRootLogin no\n',
  });
  try {
    chownSync(join(root, 'etc/ssh/sshd_config'), 4242, 4242);
    const a = await assessHost({ root, node: 'n1', clock });
    const r = result(a, 'ssh.config-permissions');
    assert.equal(r.status, 'fail');
    assert.match(r.actual, /owner kube:kube/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('sshd: the first value wins across Include; a weaker Match block fails the check and is named', async () => {
  const root = buildRoot({
    '/etc/ssh/sshd_config':
      'Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\nPasswordAuthentication no\nMatch User backup\n  PasswordAuthentication yes\n',
    '/etc/ssh/sshd_config.d/10-hardening.conf':
      'PermitRootLogin no\nMACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com\n',
  });
  try {
    const a = await assessHost({ root, node: 'n1', clock });
    const root1 = result(a, 'ssh.root-login-disabled');
    assert.equal(root1.status, 'pass');
    assert.match(
      root1.actual,
      /PermitRootLogin no \(from \/etc\/ssh\/sshd_config\.d\/10-hardening\.conf:1\)/,
    );
    const pw = result(a, 'ssh.password-auth-disabled');
    assert.equal(pw.status, 'fail');
    assert.match(pw.actual, /Match User backup \(\/etc\/ssh\/sshd_config:4\): PasswordAuthentication yes/);
    assert.equal(result(a, 'ssh.no-weak-macs').status, 'pass');
    // No kubelet process: every CIS worker check is not applicable, with the reason; no control-plane process
    // either: every section 1 and 2 check is not applicable too.
    const worker = a.checks.filter((c) => c.cis?.startsWith('4.'));
    assert.equal(worker.length, 25);
    for (const c of worker) assert.equal(c.status, 'not_applicable', c.id);
    assert.match(worker[0]?.reason ?? '', /no kubelet process/);
    const controlPlane = a.checks.filter((c) => c.cis && !c.cis.startsWith('4.'));
    assert.equal(controlPlane.length, 64);
    for (const c of controlPlane) assert.equal(c.status, 'not_applicable', c.id);
    assert.match(
      controlPlane.find((c) => c.cis === '2.1')?.reason ?? '',
      /^no etcd process on this node: not a control-plane node/,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('kubelet: a command-line flag overrides the config file, and the finding points at the flag', async () => {
  const root = buildRoot(
    {
      '/etc/hostname': 'n1\n',
      '/var/lib/kubelet/config.yaml': 'authentication:\n  anonymous:\n    enabled: false\nreadOnlyPort: 0\n',
    },
    [['/usr/bin/kubelet', '--config', '/var/lib/kubelet/config.yaml', '--anonymous-auth=true']],
  );
  try {
    const a = await assessHost({ root, node: 'n1', cluster: 'prod', clock });
    const anon = result(a, '4.2.1');
    assert.equal(anon.status, 'fail');
    assert.equal(anon.actual, 'flag --anonymous-auth=true');
    assert.equal(anon.location, 'kubelet --anonymous-auth');
    const finding = a.findings.find((f) => f.ruleId === 'cis-k8s-4.2.1');
    assert.ok(finding);
    assert.equal(finding.source, FindingSource.HOST);
    assert.equal(finding.locations[0], 'kubelet --anonymous-auth');
    assert.equal(finding.detection?.unit?.id, 'kubelet.anonymous-auth-disabled');
    assert.deepEqual(finding.pciRequirements, ['8.3.1', '8.2.1']);
    assert.equal(result(a, '4.2.4').status, 'pass');
    assert.equal(result(a, 'net.ip-forward-disabled').status, 'not_applicable');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('sysctl: a glob key sets every interface, a later file wins, /etc/sysctl.conf is applied last', async () => {
  const root = buildRoot({
    '/usr/lib/sysctl.d/50-default.conf': 'net.ipv4.conf.*.rp_filter = 2\n',
    '/etc/sysctl.d/90-rp.conf': 'net/ipv4/conf/*/rp_filter = 1\nnet.ipv4.conf.all.log_martians = 1\n',
    '/etc/sysctl.conf': 'net.ipv4.conf.all.log_martians = 0\n',
  });
  try {
    const a = await assessHost({ root, node: 'n1', clock });
    const rp = result(a, 'net.rp-filter');
    assert.equal(rp.status, 'pass');
    assert.match(rp.actual, /\/etc\/sysctl\.d\/90-rp\.conf:1 via net\.ipv4\.conf\.\*\.rp_filter/);
    const m = result(a, 'net.log-martians');
    assert.equal(m.status, 'fail');
    assert.match(m.actual, /\/etc\/sysctl\.conf:1/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('an unreadable file is an error result naming it, never a pass', async () => {
  // sshd_config as a directory cannot be read as a file.
  const root = buildRoot({ '/etc/ssh/sshd_config/placeholder': '' });
  try {
    const a = await assessHost({ root, node: 'n1', clock });
    const r = result(a, 'ssh.root-login-disabled');
    assert.equal(r.status, 'error');
    assert.match(r.reason ?? '', /cannot read \/etc\/ssh\/sshd_config/);
    assert.equal(
      a.findings.some((f) => f.ruleId === 'ssh.root-login-disabled'),
      false,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a FIFO where login.defs should be is an error naming it, and the assessment does not block on it', async () => {
  // Root reads a mode-000 file anyway, so a chmod cannot make a file unreadable in these tests; a FIFO (which would
  // block a plain read forever) and a symlink loop are what a node can hold that cannot be read even by root.
  const root = buildRoot({ '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n' });
  try {
    execFileSync('mkfifo', [join(root, 'etc/login.defs')]);
    const a = await assessHost({ root, node: 'n1', clock });
    const pw = a.checks.filter((c) => c.location === '/etc/login.defs');
    assert.ok(pw.length >= 3, 'the login.defs checks ran');
    for (const r of pw) {
      assert.equal(r.status, 'error', r.id);
      assert.equal(r.field, '/etc/login.defs');
      assert.equal(r.reason, 'cannot read /etc/login.defs: a FIFO, not a regular file');
    }
    assert.equal(
      a.findings.some((f) => f.locations.includes('/etc/login.defs')),
      false,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a kubelet config that is a symlink loop: the kubelet checks are errors naming the file, never passes', async () => {
  const root = buildRoot({ '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n' }, [
    ['/usr/bin/kubelet', '--config=/var/lib/kubelet/config.yaml'],
  ]);
  try {
    mkdirSync(join(root, 'var/lib/kubelet'), { recursive: true });
    symlinkSync('config.yaml', join(root, 'var/lib/kubelet/config.yaml'));
    const a = await assessHost({ root, node: 'n1', clock });
    const anon = result(a, '4.2.1');
    assert.equal(anon.status, 'error');
    assert.equal(anon.field, '/var/lib/kubelet/config.yaml');
    assert.match(anon.reason ?? '', /\/var\/lib\/kubelet\/config\.yaml: too many levels of symbolic links/);
    const perms = result(a, '4.1.9');
    assert.equal(perms.status, 'error');
    assert.match(perms.reason ?? '', /cannot stat \/var\/lib\/kubelet\/config\.yaml/);
    assert.equal(
      a.checks.some((c) => c.status === 'pass' && c.cis?.startsWith('4.2.')),
      false,
      'no kubelet setting passes on a config that could not be read',
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('control plane: a kubeadm manifest 0644 fails 1.1.1, identity first for secrets fails 1.2.28, flags are read', async () => {
  const root = buildRoot(
    {
      '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n',
      '/etc/group': 'root:x:0:\n',
      '/etc/kubernetes/manifests/kube-apiserver.yaml': 'apiVersion: v1\nkind: Pod\n',
      '/etc/kubernetes/enc.yaml':
        'kind: EncryptionConfiguration\nresources:\n  - resources: [secrets]\n    providers:\n      - identity: {}\n      - aescbc: {keys: []}\n',
    },
    [
      [
        '/usr/local/bin/kube-apiserver',
        '--authorization-mode=AlwaysAllow',
        '--encryption-provider-config=/etc/kubernetes/enc.yaml',
        '--audit-log-maxage',
        '7',
      ],
    ],
  );
  try {
    chmodSync(join(root, 'etc/kubernetes/manifests/kube-apiserver.yaml'), 0o644);
    const a = await assessHost({ root, node: 'cp-1', clock });
    const manifest = result(a, '1.1.1');
    assert.equal(manifest.status, 'fail');
    assert.equal(manifest.actual, '/etc/kubernetes/manifests/kube-apiserver.yaml mode 0644');
    assert.equal(result(a, '1.1.2').status, 'pass');
    const enc = result(a, '1.2.28');
    assert.equal(enc.status, 'fail');
    assert.equal(enc.actual, 'first provider for secrets: identity');
    const authz = result(a, '1.2.6');
    assert.equal(authz.status, 'fail');
    assert.equal(authz.location, 'kube-apiserver --authorization-mode');
    // "--audit-log-maxage 7" (space-separated) is read as the value 7, below 30.
    assert.equal(result(a, '1.2.17').status, 'fail');
    assert.match(result(a, '1.2.17').actual, /=7$/);
    // etcd and the scheduler do not run here: their checks do not apply, never fail.
    assert.equal(result(a, '2.1').status, 'not_applicable');
    assert.equal(result(a, '1.4.1').status, 'not_applicable');
    assert.ok(a.findings.some((f) => f.ruleId === 'cis-k8s-1.2.28'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a missing root is rejected naming it', async () => {
  await assert.rejects(
    assessHost({ root: '/nonexistent/host-root', node: 'n1' }),
    (err: Error) => err instanceof HostRootError && /\/nonexistent\/host-root/.test(err.message),
  );
});

test('a directory that is not a root filesystem is rejected, with a hint for a fixture folder', async () => {
  await assert.rejects(
    assessHost({ root: corpusPath('host', 'fixtures', 'hardway-worker'), node: 'n1' }),
    (err: Error) =>
      err instanceof HostRootError &&
      /has no etc\/ directory: not a root filesystem \(it looks like a node fixture: point the root at .*hardway-worker\/files/.test(
        err.message,
      ),
  );
});

test('hostReport: one HostCheckResult per check, failed ones carry their finding id, and it round-trips as proto', async () => {
  const { root } = materializeFixture(corpusPath('host', 'fixtures', 'eks-al2023-worker'));
  try {
    const a = await assessHost({ root, node: 'ip-10-0-12-34', cluster: 'payments', clock });
    const report = hostReport(a, { scanId: 'scan-1', scope: create(ScopeSchema, { cluster: 'payments' }) });
    assert.equal(report.checks.length, HOST_CHECKS.length);
    const failed = report.checks.filter((c) => c.status === CheckStatus.FAIL);
    assert.equal(failed.length, a.findings.length);
    for (const c of failed)
      assert.ok(
        a.findings.some((f) => f.id === c.findingId),
        `${c.id} names its finding`,
      );
    const na = report.checks.find((c) => c.id === 'ssh.root-login-disabled');
    assert.equal(na?.status, CheckStatus.NOT_APPLICABLE);
    assert.match(na?.reason ?? '', /no sshd_config/);
    assert.equal(report.summary?.total, HOST_CHECKS.length);
    const back = fromBinary(HostReportSchema, toBinary(HostReportSchema, report));
    assert.equal(back.checks.length, report.checks.length);
    for (const f of a.findings) assertKnownRequirementIds(f.pciRequirements, f.ruleId);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("this machine's own / is assessed without a check throwing; any error result names what it could not read", async () => {
  const a = await assessHost({ root: '/', node: 'this-machine' });
  assert.equal(a.checks.length, HOST_CHECKS.length);
  for (const c of a.checks.filter((r) => r.status === 'error'))
    assert.match(c.reason ?? '', /cannot (read|stat|list) \//, c.id);
  for (const c of a.checks) assert.ok(['pass', 'fail', 'not_applicable', 'error'].includes(c.status));
});

test('vigil extras: world-writable system files, CNI config protection, kubelet protectKernelDefaults', async () => {
  const root = buildRoot(
    {
      '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n',
      '/etc/group': 'root:x:0:\n',
      '/etc/profile.d/evil.sh': 'echo hi\n',
      '/etc/shared/keep': '',
      '/etc/cni/net.d/10-calico.conflist': '{}\n',
      '/var/lib/kubelet/config.yaml': 'protectKernelDefaults: false\n',
    },
    [['/usr/bin/kubelet', '--config=/var/lib/kubelet/config.yaml']],
  );
  try {
    chmodSync(join(root, 'etc/profile.d/evil.sh'), 0o666);
    chmodSync(join(root, 'etc/shared'), 0o1777); // sticky: allowed
    chmodSync(join(root, 'etc/cni/net.d/10-calico.conflist'), 0o644);
    const a = await assessHost({ root, node: 'n1', clock });
    const ww = result(a, 'fs.no-world-writable-system-files');
    assert.equal(ww.status, 'fail');
    assert.match(ww.actual, /^1 world-writable: \/etc\/profile\.d\/evil\.sh 0666$/);
    assert.equal(ww.location, '/etc/profile.d/evil.sh');
    // Hardening (2.2.6), not change detection: a mode check cannot show the mechanism 11.5.2 asks for.
    const wwFinding = a.findings.find((f) => f.ruleId === 'fs.no-world-writable-system-files');
    assert.deepEqual(wwFinding?.pciRequirements, ['2.2.6']);
    const cni = result(a, 'cni.config-files-protected');
    assert.equal(cni.status, 'fail');
    assert.match(cni.actual, /10-calico\.conflist mode 0644 owner root:root/);
    const pkd = result(a, 'kubelet.protect-kernel-defaults');
    assert.equal(pkd.status, 'fail');
    assert.equal(pkd.actual, 'config protectKernelDefaults=false');
    assert.equal(pkd.cis, undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
