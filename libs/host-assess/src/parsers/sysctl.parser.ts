import { posix } from 'node:path';
import { globToRegExp, type RootFs } from '../root-fs.js';

export interface SysctlAssignment {
  key: string;
  value: string;
  file: string;
  line: number;
}

/** Directories systemd-sysctl reads, highest precedence first: a file name in an earlier one masks the later ones. */
const SYSCTL_DIRS = [
  '/etc/sysctl.d',
  '/run/sysctl.d',
  '/usr/local/lib/sysctl.d',
  '/usr/lib/sysctl.d',
  '/lib/sysctl.d',
];

export type SysctlLoad =
  { kind: 'ok'; assignments: SysctlAssignment[]; files: string[] } | { kind: 'error'; message: string };

/**
 * Every sysctl assignment in the order they are applied: *.conf of the sysctl.d directories sorted by file name
 * (an /etc file masks a same-named one under /usr/lib), then /etc/sysctl.conf, which procps' `sysctl --system`
 * applies last. Keys are normalized to dots.
 */
export function loadSysctl(fs: RootFs): SysctlLoad {
  const byName = new Map<string, string>();
  for (const dir of SYSCTL_DIRS) {
    const listed = fs.list(dir);
    if (listed.kind === 'error') return listed;
    if (listed.kind !== 'ok') continue;
    for (const name of listed.names) {
      if (name.endsWith('.conf') && !byName.has(name)) byName.set(name, posix.join(dir, name));
    }
  }
  const files = [...byName.keys()].sort().map((n) => byName.get(n) as string);
  files.push('/etc/sysctl.conf');
  const assignments: SysctlAssignment[] = [];
  const read: string[] = [];
  for (const file of files) {
    const r = fs.read(file);
    if (r.kind === 'error') return { kind: 'error', message: r.message };
    if (r.kind !== 'ok') continue;
    read.push(file);
    r.text.split('\n').forEach((rawLine, i) => {
      const line = rawLine.trim();
      if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
      const eq = line.indexOf('=');
      if (eq < 0) return;
      const key = line.slice(0, eq).trim().replace(/^-/, '').replace(/\//g, '.');
      assignments.push({ key, value: line.slice(eq + 1).trim(), file, line: i + 1 });
    });
  }
  return { kind: 'ok', assignments, files: read };
}

/** The last assignment that sets `key`, literally or through a glob key such as net.ipv4.conf.*.rp_filter. */
export function effectiveSysctl(
  assignments: readonly SysctlAssignment[],
  key: string,
): SysctlAssignment | undefined {
  let found: SysctlAssignment | undefined;
  for (const a of assignments) {
    if (
      a.key === key ||
      (a.key.includes('*') && globToRegExp(a.key.replace(/\./g, '/')).test(key.replace(/\./g, '/')))
    ) {
      found = a;
    }
  }
  return found;
}
