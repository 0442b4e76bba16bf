// The container runtime's configuration: containerd's config.toml (with its `imports` drop-ins) and the registry
// hosts files under its `config_path`. The keys are found wherever they sit in the tree, so the v2 layout
// (plugins."io.containerd.grpc.v1.cri".registry) and the v3 one (plugins."io.containerd.cri.v1.images".registry)
// read the same. These are vigil's own checks: the CIS Kubernetes Benchmark leaves the runtime to its own benchmark.
import { posix } from 'node:path';
import { Severity } from '@vigil/contracts';
import { parse as parseToml } from 'smol-toml';
import { type CheckOutcome, type HostCheck } from '../check.model.js';
import { type NodeFacts } from '../node-facts.js';
import { bitmaskOk, describeMode, errorOutcome, pciIds } from './check-support.js';

const CONFIG = '/etc/containerd/config.toml';
const NOT_CONTAINERD =
  'containerd is not the container runtime here: no containerd process and no /etc/containerd/config.toml';

type Table = Record<string, unknown>;

/** One parsed runtime file and the dotted path of every value in it. */
interface RuntimeFile {
  path: string;
  tree: Table;
}

type RuntimeLoad =
  | { kind: 'ok'; files: RuntimeFile[]; hosts: RuntimeFile[]; main: boolean }
  | { kind: 'error'; outcome: CheckOutcome };

function runsContainerd(facts: NodeFacts): boolean {
  return facts.processes.some((p) => p.name === 'containerd');
}

function applies(facts: NodeFacts): string | undefined {
  return runsContainerd(facts) || facts.fs.stat(CONFIG).kind !== 'absent' ? undefined : NOT_CONTAINERD;
}

function parseFile(facts: NodeFacts, path: string): RuntimeFile | { error: CheckOutcome } | undefined {
  const read = facts.fs.read(path);
  if (read.kind === 'absent') return undefined;
  if (read.kind === 'error') return { error: errorOutcome(path, read.message) };
  try {
    return { path, tree: parseToml(read.text) as Table };
  } catch (err) {
    return {
      error: errorOutcome(path, `cannot parse ${path} as TOML: ${(err as Error).message.split('\n')[0]}`),
    };
  }
}

/** config.toml, its imports, and every hosts.toml under the registry config_path it names. */
function loadRuntime(facts: NodeFacts): RuntimeLoad {
  const files: RuntimeFile[] = [];
  const main = parseFile(facts, CONFIG);
  if (main && 'error' in main) return { kind: 'error', outcome: main.error };
  if (main) files.push(main);
  const imports = main && Array.isArray(main.tree['imports']) ? (main.tree['imports'] as unknown[]) : [];
  for (const pattern of imports.filter((i): i is string => typeof i === 'string')) {
    const matched = facts.fs.glob(
      posix.isAbsolute(pattern) ? pattern : posix.join('/etc/containerd', pattern),
    );
    if (matched.kind === 'error') return { kind: 'error', outcome: errorOutcome(pattern, matched.message) };
    for (const p of matched.paths) {
      const f = parseFile(facts, p);
      if (f && 'error' in f) return { kind: 'error', outcome: f.error };
      if (f) files.push(f);
    }
  }
  const hosts: RuntimeFile[] = [];
  const configPaths = new Set<string>();
  for (const f of files)
    walk(f.tree, [], (keys, value) => {
      if (keys.at(-1) === 'config_path' && typeof value === 'string' && value) configPaths.add(value);
    });
  for (const dir of configPaths)
    for (const entry of dir.split(':')) {
      const listed = facts.fs.list(entry);
      if (listed.kind === 'error') return { kind: 'error', outcome: errorOutcome(entry, listed.message) };
      if (listed.kind === 'absent') continue;
      for (const registry of listed.names) {
        const f = parseFile(facts, posix.join(entry, registry, 'hosts.toml'));
        if (f && 'error' in f) return { kind: 'error', outcome: f.error };
        if (f) hosts.push(f);
      }
    }
  return { kind: 'ok', files, hosts, main: main !== undefined };
}

function walk(node: unknown, keys: string[], visit: (keys: string[], value: unknown) => void): void {
  if (node && typeof node === 'object' && !Array.isArray(node)) {
    for (const [k, v] of Object.entries(node as Table)) walk(v, [...keys, k], visit);
    return;
  }
  visit(keys, node);
}

const quoted = (keys: string[]) => keys.map((k) => (/^[A-Za-z0-9_-]+$/.test(k) ? k : `"${k}"`)).join('.');

function runtimeCheck(spec: {
  id: string;
  title: string;
  severity: Severity;
  pci: string;
  remediation: string;
  expected: string;
  field: string;
  /** The offending settings of one file, as "dotted.key = value". */
  find: (file: RuntimeFile, isHosts: boolean) => string[];
}): HostCheck {
  return {
    id: spec.id,
    version: 1,
    title: spec.title,
    catalogue: 'vigil-extra',
    severity: spec.severity,
    pciRequirements: pciIds(spec.pci, spec.id),
    remediation: spec.remediation,
    defaultLocation: CONFIG,
    notApplicable: applies,
    evaluate: (facts) => {
      const load = loadRuntime(facts);
      if (load.kind === 'error') return load.outcome;
      const all = [
        ...load.files.map((f) => ({ f, hosts: false })),
        ...load.hosts.map((f) => ({ f, hosts: true })),
      ];
      const bad = all.flatMap(({ f, hosts }) => spec.find(f, hosts).map((b) => `${f.path} ${b}`));
      const read = all.map(({ f }) => f.path);
      return {
        status: bad.length === 0 ? 'pass' : 'fail',
        field: spec.field,
        expected: spec.expected,
        actual:
          bad.length > 0
            ? bad.join('; ')
            : load.main
              ? `none in ${read.join(', ')}`
              : `no ${CONFIG}: containerd's defaults (no registry credentials, TLS verified)`,
        location: bad[0]?.split(' ')[0] ?? CONFIG,
        evidence: { 'files-read': read.join(', ') || 'none' },
      };
    },
  };
}

const CREDENTIAL_KEYS = new Set(['password', 'auth', 'identitytoken']);

const registryCredentials = runtimeCheck({
  id: 'containerd.no-plaintext-registry-credentials',
  title: 'containerd configuration holds no plaintext registry credentials',
  severity: Severity.HIGH,
  pci: '8.3.2 / 8.6.2',
  remediation:
    'remove registry auth from the containerd config; use imagePullSecrets or a kubelet image credential provider',
  expected: 'no password, auth or identitytoken under a registry configs auth table',
  field: `${CONFIG} registry.configs.*.auth`,
  find: (file) => {
    const out: string[] = [];
    walk(file.tree, [], (keys, value) => {
      const key = keys.at(-1) ?? '';
      if (CREDENTIAL_KEYS.has(key) && keys.at(-2) === 'auth' && typeof value === 'string' && value !== '')
        out.push(`${quoted(keys)} is set`);
    });
    return out;
  },
});

const insecureRegistries = runtimeCheck({
  id: 'containerd.no-insecure-registries',
  title:
    'containerd pulls images over verified TLS only (no insecure_skip_verify, skip_verify or http:// endpoints)',
  severity: Severity.HIGH,
  pci: '4.2.1 / 2.2.6',
  remediation:
    'remove insecure_skip_verify / skip_verify and http:// endpoints; give the registry a certificate the node trusts (ca in hosts.toml)',
  expected: 'TLS verified for every registry, no plain-HTTP endpoint',
  field: `${CONFIG} registry tls / mirrors, <config_path>/*/hosts.toml`,
  find: (file, isHosts) => {
    const out: string[] = [];
    walk(file.tree, [], (keys, value) => {
      const key = keys.at(-1) ?? '';
      if ((key === 'insecure_skip_verify' || key === 'skip_verify') && value === true)
        out.push(`${quoted(keys)} = true`);
      if (key === 'endpoint' || key === 'server' || (isHosts && keys[0] === 'host')) {
        const urls = [
          ...(Array.isArray(value) ? value : [value]),
          ...(isHosts && keys[0] === 'host' && keys[1] ? [keys[1]] : []),
        ];
        for (const u of urls)
          if (typeof u === 'string' && u.startsWith('http://')) out.push(`${quoted(keys)} uses ${u}`);
      }
    });
    return [...new Set(out)];
  },
});

const configProtected: HostCheck = {
  id: 'containerd.config-file-protected',
  version: 1,
  title: 'containerd config.toml is owned by root:root with mode 644 or stricter',
  catalogue: 'vigil-extra',
  severity: Severity.MEDIUM,
  pciRequirements: pciIds('2.2.6', 'containerd.config-file-protected'),
  remediation: `chown root:root ${CONFIG} && chmod 644 ${CONFIG}`,
  defaultLocation: CONFIG,
  notApplicable: (facts) =>
    applies(facts) ??
    (facts.fs.stat(CONFIG).kind === 'absent'
      ? `file absent: ${CONFIG} (containerd runs on its defaults)`
      : undefined),
  evaluate: (facts) => {
    const st = facts.fs.stat(CONFIG);
    if (st.kind === 'error') return errorOutcome(CONFIG, st.message);
    if (st.kind !== 'ok') return errorOutcome(CONFIG, `${CONFIG} disappeared while it was assessed`);
    const owner = facts.identity.owner(st.meta.uid, st.meta.gid);
    const ok = bitmaskOk(st.meta.mode, 0o644) && owner === 'root:root';
    return {
      status: ok ? 'pass' : 'fail',
      field: `${CONFIG} mode, owner`,
      expected: 'mode 0644 or stricter, owner root:root',
      actual: `mode ${describeMode(st.meta.mode)} owner ${owner}`,
      location: CONFIG,
    };
  },
};

export const CONTAINER_RUNTIME_CHECKS: HostCheck[] = [
  configProtected,
  registryCredentials,
  insecureRegistries,
];
