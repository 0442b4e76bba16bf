import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { assessHost } from '../assess-host.js';

// A containerd 1.7 (config version 2) node: registry credentials inline, an import, and a hosts.toml directory.
const CONFIG = `version = 2
imports = ["/etc/containerd/conf.d/*.toml"]

[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "runc"

[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = "/etc/containerd/certs.d"

[plugins."io.containerd.grpc.v1.cri".registry.configs."registry.payments.internal".auth]
  username = "puller"
  password = "PLACEHOLDER"
`;
const DROP_IN = `version = 2
[plugins."io.containerd.grpc.v1.cri".registry.configs."mirror.local:5000".tls]
  insecure_skip_verify = true
`;
const HOSTS = `server = "https://registry-1.docker.io"

[host."http://10.0.0.5:5000"]
  capabilities = ["pull", "resolve"]
`;

function root(files: Record<string, string>, processes: string[][]): string {
  const dir = mkdtempSync(join(tmpdir(), 'host-assess-containerd-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  processes.forEach((argv, i) => {
    mkdirSync(join(dir, 'proc', String(200 + i)), { recursive: true });
    writeFileSync(join(dir, 'proc', String(200 + i), 'cmdline'), `${argv.join('\0')}\0`);
  });
  return dir;
}

const clock = () => new Date('2026-12-01T10:00:00Z');

test('containerd: inline registry password, insecure_skip_verify in an import and an http:// host fail, naming file and key', async () => {
  const dir = root(
    {
      '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n',
      '/etc/group': 'root:x:0:\n',
      '/etc/containerd/config.toml': CONFIG,
      '/etc/containerd/conf.d/10-mirror.toml': DROP_IN,
      '/etc/containerd/certs.d/docker.io/hosts.toml': HOSTS,
    },
    [['/usr/bin/containerd']],
  );
  try {
    chmodSync(join(dir, 'etc/containerd/config.toml'), 0o666);
    const a = await assessHost({ root: dir, node: 'n1', clock });
    const get = (id: string) => {
      const r = a.checks.find((c) => c.id === id);
      assert.ok(r, id);
      return r;
    };
    const creds = get('containerd.no-plaintext-registry-credentials');
    assert.equal(creds.status, 'fail');
    assert.equal(
      creds.actual,
      '/etc/containerd/config.toml plugins."io.containerd.grpc.v1.cri".registry.configs."registry.payments.internal".auth.password is set',
    );
    assert.doesNotMatch(creds.actual, /PLACEHOLDER/, 'the secret itself is never reported');
    const insecure = get('containerd.no-insecure-registries');
    assert.equal(insecure.status, 'fail');
    assert.match(
      insecure.actual,
      /\/etc\/containerd\/conf\.d\/10-mirror\.toml plugins\."io\.containerd\.grpc\.v1\.cri"\.registry\.configs\."mirror\.local:5000"\.tls\.insecure_skip_verify = true/,
    );
    assert.match(
      insecure.actual,
      /\/etc\/containerd\/certs\.d\/docker\.io\/hosts\.toml host\."http:\/\/10\.0\.0\.5:5000"\.capabilities uses http:\/\/10\.0\.0\.5:5000/,
    );
    assert.doesNotMatch(insecure.actual, /registry-1\.docker\.io/, 'an https server is fine');
    const perms = get('containerd.config-file-protected');
    assert.equal(perms.status, 'fail');
    assert.equal(perms.actual, 'mode 0666 owner root:root');
    assert.ok(a.findings.some((f) => f.ruleId === 'containerd.no-plaintext-registry-credentials'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('containerd running on its defaults passes the registry checks; no containerd at all is not applicable', async () => {
  const dir = root({ '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n' }, [['/usr/bin/containerd']]);
  const none = root({ '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n' }, []);
  const broken = root(
    {
      '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n',
      '/etc/containerd/config.toml': 'version = 2\n[plugins\n',
    },
    [],
  );
  try {
    const a = await assessHost({ root: dir, node: 'n1', clock });
    const creds = a.checks.find((c) => c.id === 'containerd.no-plaintext-registry-credentials');
    assert.equal(creds?.status, 'pass');
    assert.match(creds?.actual ?? '', /^no \/etc\/containerd\/config\.toml: containerd's defaults/);
    assert.equal(a.checks.find((c) => c.id === 'containerd.config-file-protected')?.status, 'not_applicable');
    const b = await assessHost({ root: none, node: 'n1', clock });
    for (const c of b.checks.filter((r) => r.id.startsWith('containerd.'))) {
      assert.equal(c.status, 'not_applicable', c.id);
      assert.match(c.reason ?? '', /containerd is not the container runtime here/);
    }
    const c = await assessHost({ root: broken, node: 'n1', clock });
    const bad = c.checks.find((r) => r.id === 'containerd.no-insecure-registries');
    assert.equal(bad?.status, 'error');
    assert.match(bad?.reason ?? '', /^cannot parse \/etc\/containerd\/config\.toml as TOML/);
  } finally {
    for (const d of [dir, none, broken]) rmSync(d, { recursive: true, force: true });
  }
});
