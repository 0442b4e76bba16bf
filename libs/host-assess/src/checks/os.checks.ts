import { Severity } from '@vigil/contracts';
import { type CheckOutcome, type HostCheck } from '../check.model.js';
import { type AuditRule } from '../parsers/audit-rules.parser.js';
import { effectiveSysctl } from '../parsers/sysctl.parser.js';
import { errorOutcome, pciIds } from './check-support.js';

const LINUX = 'linux-host-checks' as const;

// --- /etc/login.defs -----------------------------------------------------------------------------------------------

interface LoginDefsSpec {
  id: string;
  title: string;
  key: string;
  expected: string;
  whenUnset: string;
  ok: (v: string) => boolean;
  pci: string;
  remediation: string;
}

function loginDefsCheck(spec: LoginDefsSpec): HostCheck {
  return {
    id: spec.id,
    version: 1,
    title: spec.title,
    catalogue: LINUX,
    severity: Severity.MEDIUM,
    pciRequirements: pciIds(spec.pci, spec.id),
    remediation: spec.remediation,
    defaultLocation: '/etc/login.defs',
    notApplicable: (facts) =>
      facts.loginDefs.kind === 'absent'
        ? 'no /etc/login.defs (shadow-utils not installed, no local password policy)'
        : undefined,
    evaluate: (facts) => {
      const l = facts.loginDefs;
      if (l.kind === 'error') return errorOutcome('/etc/login.defs', l.message);
      const entry = l.kind === 'ok' ? l.entries.get(spec.key) : undefined;
      const value = entry?.value ?? spec.whenUnset;
      return {
        status: spec.ok(value) ? 'pass' : 'fail',
        field: `/etc/login.defs ${spec.key}`,
        expected: spec.expected,
        actual: entry
          ? `${spec.key} ${entry.value} (line ${entry.line})`
          : `${spec.key} not set (shadow-utils default ${spec.whenUnset})`,
        location: '/etc/login.defs',
      };
    },
  };
}

const num = (v: string) => (/^-?\d+$/.test(v) ? Number(v) : NaN);

const LOGIN_DEFS: LoginDefsSpec[] = [
  {
    id: 'pw.max-days',
    title: 'Password maximum age 90 days or less (PASS_MAX_DAYS)',
    key: 'PASS_MAX_DAYS',
    expected: '<= 90',
    whenUnset: '99999',
    ok: (v) => num(v) <= 90 && num(v) >= 0,
    pci: '8.3.9',
    remediation: 'set PASS_MAX_DAYS 90 in /etc/login.defs (and chage existing accounts)',
  },
  {
    id: 'pw.min-days',
    title: 'Password minimum age 1 day or more (PASS_MIN_DAYS)',
    key: 'PASS_MIN_DAYS',
    expected: '>= 1',
    whenUnset: '0',
    ok: (v) => num(v) >= 1,
    pci: '8.3.7',
    remediation: 'set PASS_MIN_DAYS 1 in /etc/login.defs',
  },
  // No catalogue hint: warning users before expiry supports the password-change requirement 8.3.9.
  {
    id: 'pw.warn-age',
    title: 'Password expiry warning 7 days or more (PASS_WARN_AGE)',
    key: 'PASS_WARN_AGE',
    expected: '>= 7',
    whenUnset: '-1',
    ok: (v) => num(v) >= 7,
    pci: '8.3.9',
    remediation: 'set PASS_WARN_AGE 7 (or more) in /etc/login.defs',
  },
  {
    id: 'pw.hash-method',
    title: 'Password hashing SHA512 or yescrypt (ENCRYPT_METHOD)',
    key: 'ENCRYPT_METHOD',
    expected: 'SHA512 or YESCRYPT',
    whenUnset: 'DES',
    ok: (v) => ['SHA512', 'YESCRYPT'].includes(v.toUpperCase()),
    pci: '8.3.2',
    remediation: 'set ENCRYPT_METHOD YESCRYPT (or SHA512) in /etc/login.defs',
  },
  {
    id: 'pw.umask',
    title: 'Default UMASK 027 or stricter',
    key: 'UMASK',
    expected: '027 or stricter',
    whenUnset: '022',
    ok: (v) => /^[0-7]{3,4}$/.test(v) && (parseInt(v, 8) & 0o027) === 0o027,
    pci: '2.2.6',
    remediation: 'set UMASK 027 in /etc/login.defs',
  },
];

// --- sysctl --------------------------------------------------------------------------------------------------------

interface SysctlSpec {
  id: string;
  key: string;
  want: string;
  /** Kernel default when nothing sets the key; undefined: "not configured" fails. */
  whenUnset?: string;
  scope: 'all' | 'non-kubernetes' | 'kubernetes';
  pci: string;
  severity: Severity;
}

function sysctlCheck(spec: SysctlSpec): HostCheck {
  return {
    id: spec.id,
    version: 1,
    title: `sysctl ${spec.key} = ${spec.want}`,
    catalogue: LINUX,
    severity: spec.severity,
    pciRequirements: pciIds(spec.pci, spec.id),
    remediation: `add "${spec.key} = ${spec.want}" to a file in /etc/sysctl.d/ and run sysctl --system`,
    defaultLocation: '/etc/sysctl.conf',
    notApplicable: (facts) => {
      if (spec.scope === 'non-kubernetes' && facts.isKubernetesNode)
        return 'node runs pods (kubelet present): forwarding required';
      if (spec.scope === 'kubernetes' && !facts.isKubernetesNode) return 'no kubelet on this host';
      return undefined;
    },
    evaluate: (facts) => {
      const s = facts.sysctl;
      if (s.kind === 'error') return errorOutcome('/etc/sysctl.d', s.message);
      const a = effectiveSysctl(s.assignments, spec.key);
      const value = a?.value ?? spec.whenUnset;
      return {
        status: value === spec.want ? 'pass' : 'fail',
        field: `sysctl ${spec.key}`,
        expected: spec.want,
        actual: a
          ? `${spec.key} = ${a.value} (${a.file}:${a.line}${a.key !== spec.key ? ` via ${a.key}` : ''})`
          : `${spec.key} not configured${spec.whenUnset !== undefined ? ` (kernel default ${spec.whenUnset})` : ''}`,
        location: a?.file ?? '/etc/sysctl.d',
        evidence: { files: s.files.join(', ') || 'no sysctl files' },
      };
    },
  };
}

// The catalogue's hint "1.4 / 2.2.6" names section 1.4, which is not a requirement a finding can evidence. The
// anti-spoofing settings map to 1.4.3 (forged source addresses blocked at the trusted network); the kernel
// hardening ones to the secure-configuration requirement 2.2.6 alone.
const NET = '1.4.3 / 2.2.6';
const HARDEN = '2.2.6';
const SYSCTLS: SysctlSpec[] = [
  {
    id: 'net.icmp-redirects-ignored',
    key: 'net.ipv4.conf.all.accept_redirects',
    want: '0',
    whenUnset: '1',
    scope: 'all',
    pci: NET,
    severity: Severity.LOW,
  },
  {
    id: 'net.send-redirects-disabled',
    key: 'net.ipv4.conf.all.send_redirects',
    want: '0',
    whenUnset: '1',
    scope: 'all',
    pci: NET,
    severity: Severity.LOW,
  },
  {
    id: 'net.source-route-disabled',
    key: 'net.ipv4.conf.all.accept_source_route',
    want: '0',
    whenUnset: '0',
    scope: 'all',
    pci: NET,
    severity: Severity.LOW,
  },
  {
    id: 'net.rp-filter',
    key: 'net.ipv4.conf.all.rp_filter',
    want: '1',
    scope: 'all',
    pci: NET,
    severity: Severity.LOW,
  },
  {
    id: 'net.log-martians',
    key: 'net.ipv4.conf.all.log_martians',
    want: '1',
    whenUnset: '0',
    scope: 'all',
    pci: NET,
    severity: Severity.LOW,
  },
  {
    id: 'net.icmp-broadcast-ignored',
    key: 'net.ipv4.icmp_echo_ignore_broadcasts',
    want: '1',
    whenUnset: '1',
    scope: 'all',
    pci: HARDEN,
    severity: Severity.LOW,
  },
  {
    id: 'net.tcp-syncookies',
    key: 'net.ipv4.tcp_syncookies',
    want: '1',
    whenUnset: '1',
    scope: 'all',
    pci: HARDEN,
    severity: Severity.LOW,
  },
  {
    id: 'kernel.aslr',
    key: 'kernel.randomize_va_space',
    want: '2',
    whenUnset: '2',
    scope: 'all',
    pci: HARDEN,
    severity: Severity.MEDIUM,
  },
  {
    id: 'kernel.suid-dumpable',
    key: 'fs.suid_dumpable',
    want: '0',
    whenUnset: '0',
    scope: 'all',
    pci: HARDEN,
    severity: Severity.LOW,
  },
  {
    id: 'net.ip-forward-disabled',
    key: 'net.ipv4.ip_forward',
    want: '0',
    whenUnset: '0',
    scope: 'non-kubernetes',
    pci: HARDEN,
    severity: Severity.MEDIUM,
  },
  // No catalogue hint. Pod networking and NetworkPolicy enforcement depend on these two: without bridge-nf-call
  // bridged pod traffic bypasses the iptables rules that implement segmentation (1.3.1 / 1.3.2).
  {
    id: 'k8s.ip-forward-enabled',
    key: 'net.ipv4.ip_forward',
    want: '1',
    whenUnset: '0',
    scope: 'kubernetes',
    pci: '2.2.6',
    severity: Severity.LOW,
  },
  {
    id: 'k8s.bridge-nf-call-iptables',
    key: 'net.bridge.bridge-nf-call-iptables',
    want: '1',
    scope: 'kubernetes',
    pci: '1.3.1 / 1.3.2',
    severity: Severity.MEDIUM,
  },
];

// --- time synchronization ----------------------------------------------------------------------------------------

const TIME_FILES = '/etc/chrony/chrony.conf, /etc/chrony.conf, /etc/ntp.conf, /etc/systemd/timesyncd.conf';

const timeSyncConfigured: HostCheck = {
  id: 'time.sync-configured',
  version: 1,
  title: 'Time synchronisation configured with at least one server or pool',
  catalogue: LINUX,
  severity: Severity.MEDIUM,
  pciRequirements: pciIds('node.time_sync_missing + 10.6.1', 'time.sync-configured'),
  remediation: "configure chrony (or systemd-timesyncd) with the organisation's designated time servers",
  defaultLocation: '/etc/chrony/chrony.conf',
  notApplicable: () => undefined,
  evaluate: (facts) => {
    const t = facts.timeSync;
    if (t.kind === 'error') return errorOutcome(TIME_FILES, t.message);
    const withSources = t.configs.filter((c) => c.sources.length > 0);
    const actual =
      t.configs.length === 0
        ? `no time daemon configuration found (${TIME_FILES})`
        : t.configs
            .map(
              (c) =>
                `${c.file}: ${c.sources.length} source line(s)${c.sources.length ? ` (${c.sources.join('; ')})` : ''}`,
            )
            .join('; ');
    return {
      status: withSources.length > 0 ? 'pass' : 'fail',
      field: withSources[0]?.file ?? TIME_FILES,
      expected: 'at least one server or pool',
      actual,
      location: withSources[0]?.file ?? t.configs[0]?.file ?? '/etc/chrony/chrony.conf',
    };
  },
};

const timeNotServing: HostCheck = {
  id: 'time.not-serving-clients',
  version: 1,
  title: 'Time daemon does not serve time to arbitrary clients (no bare allow / allow all in chrony)',
  catalogue: LINUX,
  severity: Severity.LOW,
  pciRequirements: pciIds('10.6.2', 'time.not-serving-clients'),
  remediation:
    'remove bare "allow" / "allow all" (chrony) or add "restrict default ignore" (ntpd); serve time only to named subnets',
  defaultLocation: '/etc/chrony/chrony.conf',
  notApplicable: (facts) => {
    const t = facts.timeSync;
    return t.kind === 'ok' && t.configs.length === 0
      ? 'no time daemon configured on this host: nothing serves time'
      : undefined;
  },
  evaluate: (facts) => {
    const t = facts.timeSync;
    if (t.kind === 'error') return errorOutcome(TIME_FILES, t.message);
    const open = t.configs.filter((c) => c.openServing.length > 0);
    return {
      status: open.length === 0 ? 'pass' : 'fail',
      field: t.configs.map((c) => c.file).join(', '),
      expected: 'no directive opening the time service to any client',
      actual:
        open.length === 0
          ? t.configs.map((c) => `${c.file}: no open allow directive`).join('; ')
          : open.map((c) => `${c.file}: ${c.openServing.join('; ')}`).join('; '),
      location: open[0]?.file ?? t.configs[0]?.file ?? '/etc/chrony/chrony.conf',
    };
  },
};

// --- audit rules ---------------------------------------------------------------------------------------------------

const AUDIT_DIR = '/etc/audit/rules.d';

function auditCheck(
  id: string,
  title: string,
  severity: Severity,
  pci: string,
  remediation: string,
  judge: (rules: AuditRule[]) => Omit<CheckOutcome, 'field'>,
): HostCheck {
  return {
    id,
    version: 1,
    title,
    catalogue: LINUX,
    severity,
    pciRequirements: pciIds(pci, id),
    remediation,
    defaultLocation: AUDIT_DIR,
    notApplicable: () => undefined,
    evaluate: (facts) => {
      const a = facts.auditRules;
      if (a.kind === 'error') return errorOutcome(AUDIT_DIR, a.message);
      const field = a.files.length > 0 ? a.files.join(', ') : `${AUDIT_DIR}/*.rules, /etc/audit/audit.rules`;
      if (a.rules.length === 0)
        return {
          status: 'fail',
          field,
          expected: judge([]).expected,
          actual: 'no audit rules',
          location: AUDIT_DIR,
        };
      return { field, ...judge(a.rules) };
    },
  };
}

const strip = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p);

/** The rules that watch `path` for all of `perms`: -w path [-p ...] or -F path=/dir= with -F perm=. */
function watches(rules: AuditRule[], path: string, perms: string): AuditRule | undefined {
  return rules.find((r) => {
    if (r.action && /never/.test(r.action)) return false;
    const target = r.watch ?? r.fields.get('path') ?? r.fields.get('dir');
    if (!target || strip(target) !== path) return false;
    const p = r.watch ? (r.perms ?? 'rwxa') : (r.fields.get('perm') ?? 'rwxa');
    return [...perms].every((ch) => p.includes(ch));
  });
}

function lastEnable(rules: AuditRule[]): AuditRule | undefined {
  return [...rules].reverse().find((r) => r.enable !== undefined);
}

const AUDIT_CHECKS: HostCheck[] = [
  auditCheck(
    'audit.not-disabled',
    'Audit rules do not switch syscall auditing off (no "-a never,task" / "-a task,never", no final "-e 0")',
    Severity.HIGH,
    '10.2.1',
    'remove "-a never,task" and any final "-e 0" from the audit rules',
    (rules) => {
      const off = rules.filter((r) => r.action && /^(never,task|task,never)$/.test(r.action));
      const e = lastEnable(rules);
      if (e?.enable === '0') off.push(e);
      return {
        status: off.length === 0 ? 'pass' : 'fail',
        expected: 'no switch-off rule',
        actual:
          off.length === 0
            ? 'no switch-off rule'
            : off.map((r) => `${r.text} (${r.file}:${r.line})`).join('; '),
        location: off[0]?.file ?? AUDIT_DIR,
      };
    },
  ),
  ...[
    {
      id: 'audit.identity-files-watched',
      title:
        'Writes to /etc/passwd, /etc/shadow, /etc/group, /etc/gshadow are audited (-w path -p wa, or -F path=... -F perm=wa; a -w watch without -p covers all)',
      paths: ['/etc/passwd', '/etc/shadow', '/etc/group', '/etc/gshadow'],
      pci: '10.2.1.5 / 10.2.2',
    },
    {
      id: 'audit.sudoers-watched',
      title: 'Changes to /etc/sudoers and /etc/sudoers.d are audited',
      paths: ['/etc/sudoers', '/etc/sudoers.d'],
      pci: '10.2.1.2',
    },
  ].map((s) =>
    auditCheck(
      s.id,
      s.title,
      Severity.MEDIUM,
      s.pci,
      `add "-w <path> -p wa -k identity" for ${s.paths.join(', ')}`,
      (rules) => {
        const missing = s.paths.filter((p) => !watches(rules, p, 'wa'));
        return {
          status: missing.length === 0 ? 'pass' : 'fail',
          expected: `write/attribute watch on ${s.paths.join(', ')}`,
          actual: missing.length === 0 ? 'all watched' : `missing: ${missing.join(', ')}`,
          location: AUDIT_DIR,
        };
      },
    ),
  ),
  auditCheck(
    'audit.time-change',
    'Changes of the system clock are audited (adjtimex/settimeofday/clock_settime syscalls or /etc/localtime writes)',
    Severity.MEDIUM,
    '10.6.3',
    'add "-a always,exit -F arch=b64 -S adjtimex,settimeofday,clock_settime -k time-change" and "-w /etc/localtime -p wa -k time-change"',
    (rules) => {
      const sys = rules.filter(
        (r) =>
          r.action &&
          !/never/.test(r.action) &&
          r.syscalls.some((s) => ['adjtimex', 'settimeofday', 'clock_settime'].includes(s)),
      );
      const local = watches(rules, '/etc/localtime', 'w');
      const found = [...sys, ...(local ? [local] : [])];
      return {
        status: found.length > 0 ? 'pass' : 'fail',
        expected: 'a rule on adjtimex/settimeofday/clock_settime or a write watch on /etc/localtime',
        actual:
          found.length > 0
            ? `time-change rule present: ${found.map((r) => `${r.file}:${r.line}`).join(', ')}`
            : 'no clock-change rule',
        location: found[0]?.file ?? AUDIT_DIR,
      };
    },
  ),
  auditCheck(
    'audit.audit-log-access',
    'Access to the audit trail (/var/log/audit) is audited',
    Severity.MEDIUM,
    '10.2.1.3 / 10.3.2',
    'add "-w /var/log/audit -p rwxa -k auditlog"',
    (rules) => {
      const r = watches(rules, '/var/log/audit', '');
      return {
        status: r ? 'pass' : 'fail',
        expected: 'a watch on /var/log/audit',
        actual: r ? `audit dir watched (${r.file}:${r.line})` : 'no rule for /var/log/audit',
        location: r?.file ?? AUDIT_DIR,
      };
    },
  ),
  auditCheck(
    'audit.immutable',
    'Audit configuration locked until reboot ("-e 2" as last control rule)',
    Severity.MEDIUM,
    '10.3.2',
    'end the rules with "-e 2" (99-finalize.rules)',
    (rules) => {
      const e = lastEnable(rules);
      return {
        status: e?.enable === '2' ? 'pass' : 'fail',
        expected: '-e 2',
        actual: e ? `-e ${e.enable} (${e.file}:${e.line})` : 'no -e rule',
        location: e?.file ?? AUDIT_DIR,
      };
    },
  ),
];

// --- world-writable files ---------------------------------------------------------------------------------------

/** System directories whose contents no unprivileged user may change (binaries, unit files, configuration). */
const SYSTEM_DIRS = [
  '/etc',
  '/bin',
  '/sbin',
  '/usr/bin',
  '/usr/sbin',
  '/usr/local/bin',
  '/usr/local/sbin',
  '/usr/lib/systemd',
  '/lib/systemd',
  '/boot',
];
const WALK_LIMIT = 200_000;

const worldWritable: HostCheck = {
  id: 'fs.no-world-writable-system-files',
  version: 2,
  title: 'No world-writable files or non-sticky world-writable directories in system directories',
  catalogue: 'vigil-extra',
  severity: Severity.HIGH,
  // 2.2.6 only: files nobody may write make a hardened system, not a change-detection mechanism (11.5.2 wants one
  // deployed, which a passing mode check cannot show; it put 11.5.2 in place on nodes that had none).
  pciRequirements: pciIds('2.2.6', 'fs.no-world-writable-system-files'),
  remediation:
    'chmod o-w the listed paths (and find how they became writable: a package script, a deploy tool)',
  defaultLocation: '/etc',
  notApplicable: () => undefined,
  evaluate: (facts) => {
    const found: string[] = [];
    const walked: string[] = [];
    const realDirs = new Set<string>();
    for (const dir of SYSTEM_DIRS) {
      // On merged-/usr systems /bin is /usr/bin: walk each real directory once.
      const real = facts.fs.resolve(dir);
      if (real === undefined || realDirs.has(real)) continue;
      realDirs.add(real);
      const w = facts.fs.walk(dir, WALK_LIMIT);
      if (w.kind === 'absent') continue;
      if (w.kind === 'error') return errorOutcome(dir, w.message);
      if (w.truncated)
        return errorOutcome(dir, `${dir} has more than ${WALK_LIMIT} entries: walk stopped, no verdict`);
      walked.push(`${dir} (${w.entries.length} entries)`);
      for (const e of w.entries) {
        const sticky = (e.mode & 0o1000) !== 0;
        if ((e.mode & 0o002) !== 0 && !(e.isDirectory && sticky))
          found.push(`${e.path} ${e.mode.toString(8).padStart(4, '0')}`);
      }
    }
    return {
      status: found.length === 0 ? 'pass' : 'fail',
      field: SYSTEM_DIRS.join(', '),
      expected: 'no world-writable entry (sticky directories excepted)',
      actual:
        found.length === 0
          ? `none in ${walked.join(', ') || 'no system directory present'}`
          : `${found.length} world-writable: ${found.slice(0, 20).join(', ')}${found.length > 20 ? ', …' : ''}`,
      location: found[0]?.split(' ')[0] ?? '/etc',
      ...(found.length > 0 ? { evidence: { 'world-writable': found.join(', ') } } : {}),
    };
  },
};

export const OS_CHECKS: HostCheck[] = [
  ...LOGIN_DEFS.map(loginDefsCheck),
  ...SYSCTLS.map(sysctlCheck),
  timeSyncConfigured,
  timeNotServing,
  ...AUDIT_CHECKS,
  worldWritable,
];
