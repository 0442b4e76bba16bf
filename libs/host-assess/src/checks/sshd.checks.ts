import { Severity } from '@vigil/contracts';
import { type CheckOutcome, type HostCheck } from '../check.model.js';
import { type NodeFacts } from '../node-facts.js';
import { SSHD_CONFIG, type SshdConfig, type SshdSetting } from '../parsers/sshd-config.parser.js';
import { bitmaskOk, describeMode, errorOutcome, pciIds } from './check-support.js';

/** OpenSSH 9.x built-in algorithm lists, used when the option is unset or modified with +, - or ^. */
const OPENSSH_DEFAULTS: Record<string, string[]> = {
  ciphers: [
    'chacha20-poly1305@openssh.com',
    'aes128-ctr',
    'aes192-ctr',
    'aes256-ctr',
    'aes128-gcm@openssh.com',
    'aes256-gcm@openssh.com',
  ],
  macs: [
    'umac-64-etm@openssh.com',
    'umac-128-etm@openssh.com',
    'hmac-sha2-256-etm@openssh.com',
    'hmac-sha2-512-etm@openssh.com',
    'hmac-sha1-etm@openssh.com',
    'umac-64@openssh.com',
    'umac-128@openssh.com',
    'hmac-sha2-256',
    'hmac-sha2-512',
    'hmac-sha1',
  ],
  kexalgorithms: [
    'sntrup761x25519-sha512@openssh.com',
    'curve25519-sha256',
    'curve25519-sha256@libssh.org',
    'ecdh-sha2-nistp256',
    'ecdh-sha2-nistp384',
    'ecdh-sha2-nistp521',
    'diffie-hellman-group-exchange-sha256',
    'diffie-hellman-group16-sha512',
    'diffie-hellman-group18-sha512',
    'diffie-hellman-group14-sha256',
  ],
};

const NO_SSHD = `no sshd_config: ${SSHD_CONFIG} is absent (OpenSSH server not installed)`;

type Verdict = (value: string) => boolean;

interface OptionSpec {
  id: string;
  title: string;
  option: string;
  expected: string;
  whenUnset: string;
  ok: Verdict;
  severity: Severity;
  pci: string;
  remediation: string;
}

function base(id: string, title: string, severity: Severity, pci: string, remediation: string) {
  return {
    id,
    version: 1,
    title,
    catalogue: 'linux-host-checks' as const,
    severity,
    pciRequirements: pciIds(pci, id),
    remediation,
    defaultLocation: SSHD_CONFIG,
    notApplicable: (facts: NodeFacts) => (facts.sshd.kind === 'absent' ? NO_SSHD : undefined),
  };
}

function withConfig(facts: NodeFacts, f: (c: SshdConfig) => CheckOutcome): CheckOutcome {
  const load = facts.sshd;
  if (load.kind === 'error') return errorOutcome(SSHD_CONFIG, load.message);
  return f((load as { config: SshdConfig }).config);
}

function describe(option: string, s: SshdSetting | undefined, whenUnset: string): string {
  return s ? `${option} ${s.value} (from ${s.file}:${s.line})` : `${option} ${whenUnset} (OpenSSH default)`;
}

/**
 * The global value decides; a Match block that sets a failing value fails the check too, because the weaker
 * setting applies to every connection the block matches.
 */
function optionCheck(spec: OptionSpec): HostCheck {
  const key = spec.option.toLowerCase();
  return {
    ...base(spec.id, spec.title, spec.severity, spec.pci, spec.remediation),
    evaluate: (facts) =>
      withConfig(facts, (c) => {
        const s = c.global.get(key);
        const value = s?.value ?? spec.whenUnset;
        const weakMatches = c.matches.filter(
          (m) => m.settings.has(key) && !spec.ok((m.settings.get(key) as SshdSetting).value),
        );
        const pass = spec.ok(value) && weakMatches.length === 0;
        const actual = [
          describe(spec.option, s, spec.whenUnset),
          ...weakMatches.map(
            (m) =>
              `Match ${m.criteria} (${m.file}:${m.line}): ${spec.option} ${(m.settings.get(key) as SshdSetting).value}`,
          ),
        ].join('; ');
        return {
          status: pass ? 'pass' : 'fail',
          field: `${SSHD_CONFIG} ${spec.option}`,
          expected: spec.expected,
          actual,
          location: s?.file ?? SSHD_CONFIG,
        };
      }),
  };
}

const eqCI =
  (want: string): Verdict =>
  (v) =>
    v.toLowerCase() === want;
const lte =
  (max: number): Verdict =>
  (v) =>
    Number.isFinite(Number(v)) && Number(v) <= max;

/** sshd time format: "120", "2m", "1h30m", "90s"; 0 means no limit. */
export function sshdSeconds(v: string): number | undefined {
  if (/^\d+$/.test(v)) return Number(v);
  const m = /^(?:(\d+)[wW])?(?:(\d+)[dD])?(?:(\d+)[hH])?(?:(\d+)[mM])?(?:(\d+)[sS])?$/.exec(v);
  if (!m || v === '') return undefined;
  const [, w, d, h, mi, s] = m.map((x) => Number(x ?? 0));
  return (
    (w as number) * 604800 +
    (d as number) * 86400 +
    (h as number) * 3600 +
    (mi as number) * 60 +
    (s as number)
  );
}

const OPTION_CHECKS: OptionSpec[] = [
  {
    id: 'ssh.root-login-disabled',
    title: 'SSH root login disabled',
    option: 'PermitRootLogin',
    expected: 'no',
    whenUnset: 'prohibit-password',
    ok: eqCI('no'),
    severity: Severity.HIGH,
    pci: 'node.sshd_root_login + 8.2.2 / 2.2.2',
    remediation: 'set "PermitRootLogin no" in /etc/ssh/sshd_config and reload sshd',
  },
  {
    id: 'ssh.password-auth-disabled',
    title: 'SSH password authentication disabled',
    option: 'PasswordAuthentication',
    expected: 'no',
    whenUnset: 'yes',
    ok: eqCI('no'),
    severity: Severity.HIGH,
    pci: 'node.sshd_password_auth + 8.3.1 / 8.4.2',
    remediation: 'set "PasswordAuthentication no" (keys or MFA only) and reload sshd',
  },
  {
    id: 'ssh.empty-passwords-disabled',
    title: 'SSH empty passwords not permitted',
    option: 'PermitEmptyPasswords',
    expected: 'no',
    whenUnset: 'no',
    ok: eqCI('no'),
    severity: Severity.CRITICAL,
    pci: '8.3.1',
    remediation: 'set "PermitEmptyPasswords no"',
  },
  {
    id: 'ssh.max-auth-tries',
    title: 'SSH MaxAuthTries 4 or lower',
    option: 'MaxAuthTries',
    expected: '<= 4',
    whenUnset: '6',
    ok: lte(4),
    severity: Severity.MEDIUM,
    pci: '8.3.4',
    remediation: 'set "MaxAuthTries 4" (or lower)',
  },
  {
    id: 'ssh.x11-forwarding-disabled',
    title: 'SSH X11 forwarding disabled',
    option: 'X11Forwarding',
    expected: 'no',
    whenUnset: 'no',
    ok: eqCI('no'),
    severity: Severity.LOW,
    pci: '2.2.4',
    remediation: 'set "X11Forwarding no"',
  },
  {
    id: 'ssh.hostbased-auth-disabled',
    title: 'SSH host-based authentication disabled',
    option: 'HostbasedAuthentication',
    expected: 'no',
    whenUnset: 'no',
    ok: eqCI('no'),
    severity: Severity.MEDIUM,
    pci: '8.3.1',
    remediation: 'set "HostbasedAuthentication no"',
  },
  {
    id: 'ssh.ignore-rhosts',
    title: 'SSH ignores .rhosts',
    option: 'IgnoreRhosts',
    expected: 'yes',
    whenUnset: 'yes',
    ok: eqCI('yes'),
    severity: Severity.MEDIUM,
    pci: '8.3.1',
    remediation: 'set "IgnoreRhosts yes"',
  },
  {
    id: 'ssh.user-environment-disabled',
    title: 'SSH PermitUserEnvironment disabled',
    option: 'PermitUserEnvironment',
    expected: 'no',
    whenUnset: 'no',
    ok: eqCI('no'),
    severity: Severity.MEDIUM,
    pci: '2.2.6',
    remediation: 'set "PermitUserEnvironment no"',
  },
  // The catalogue gives no PCI hint; an unauthenticated connection held open up to this long is part of the
  // session-management settings PCI 8.2.8 and the hardening standard (2.2.6) cover.
  {
    id: 'ssh.login-grace-time',
    title: 'SSH LoginGraceTime 60 s or less',
    option: 'LoginGraceTime',
    expected: '<= 60 s (and not 0)',
    whenUnset: '120',
    ok: (v) => {
      const s = sshdSeconds(v);
      return s !== undefined && s > 0 && s <= 60;
    },
    severity: Severity.LOW,
    pci: '2.2.6',
    remediation: 'set "LoginGraceTime 60"',
  },
];

interface AlgorithmSpec {
  id: string;
  title: string;
  option: string;
  weak: (alg: string) => boolean;
  weakness: string;
  severity: Severity;
  pci: string;
}

/** The list sshd offers: the option's value, or the built-in default changed by a +, - or ^ prefix. */
export function offeredAlgorithms(option: string, value: string | undefined): string[] {
  const defaults = OPENSSH_DEFAULTS[option.toLowerCase()] ?? [];
  if (value === undefined) return defaults;
  const list = value
    .slice(/^[+\-^]/.test(value) ? 1 : 0)
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  if (value.startsWith('+')) return [...defaults, ...list];
  if (value.startsWith('^')) return [...list, ...defaults];
  if (value.startsWith('-')) {
    const res = list.map(
      (p) =>
        new RegExp(
          `^${p
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '.*')
            .replace(/\?/g, '.')}$`,
        ),
    );
    return defaults.filter((d) => !res.some((r) => r.test(d)));
  }
  return list;
}

function algorithmCheck(spec: AlgorithmSpec): HostCheck {
  const key = spec.option.toLowerCase();
  return {
    ...base(
      spec.id,
      spec.title,
      spec.severity,
      spec.pci,
      `set "${spec.option}" to a list without ${spec.weakness} and reload sshd`,
    ),
    evaluate: (facts) =>
      withConfig(facts, (c) => {
        const s = c.global.get(key);
        const sources = [{ label: s ? `${s.file}:${s.line}` : 'OpenSSH default list', value: s?.value }];
        for (const m of c.matches) {
          const ms = m.settings.get(key);
          if (ms) sources.push({ label: `Match ${m.criteria} (${m.file}:${m.line})`, value: ms.value });
        }
        const weak = sources.flatMap((src) =>
          offeredAlgorithms(spec.option, src.value)
            .filter(spec.weak)
            .map((a) => `${a} (${src.label})`),
        );
        const actual =
          weak.length > 0
            ? `offered: ${weak.join(', ')}`
            : s
              ? `${spec.option} ${s.value}`
              : `${spec.option} not set (OpenSSH default list: ${offeredAlgorithms(spec.option, undefined).join(',')})`;
        return {
          status: weak.length === 0 ? 'pass' : 'fail',
          field: `${SSHD_CONFIG} ${spec.option}`,
          expected: `no ${spec.weakness}`,
          actual,
          location: s?.file ?? SSHD_CONFIG,
        };
      }),
  };
}

const ALGORITHM_CHECKS: AlgorithmSpec[] = [
  {
    id: 'ssh.no-weak-ciphers',
    title: 'SSH offers no CBC, 3DES, RC4 (arcfour) ciphers',
    option: 'Ciphers',
    weak: (a) => ['-cbc', '3des', 'arcfour', 'rijndael'].some((w) => a.includes(w)),
    weakness: 'CBC, 3DES, RC4 or rijndael ciphers',
    severity: Severity.HIGH,
    pci: '4.2.1 / 2.2.7',
  },
  // "hmac-sha1" and "umac-64" are weak as the catalogue's patterns say, in their ETM forms too (64-bit tags, SHA-1).
  {
    id: 'ssh.no-weak-macs',
    title: 'SSH offers no MD5, 96-bit or SHA-1 non-ETM MACs',
    option: 'MACs',
    weak: (a) => ['md5', '-96', 'hmac-sha1', 'umac-64'].some((w) => a.includes(w)),
    weakness: 'MD5, 96-bit, SHA-1 or 64-bit MACs',
    severity: Severity.MEDIUM,
    pci: '2.2.7',
  },
  {
    id: 'ssh.no-weak-kex',
    title: 'SSH offers no SHA-1 key exchange',
    option: 'KexAlgorithms',
    weak: (a) =>
      [
        'diffie-hellman-group1-sha1',
        'diffie-hellman-group14-sha1',
        'diffie-hellman-group-exchange-sha1',
      ].includes(a),
    weakness: 'SHA-1 key exchange',
    severity: Severity.MEDIUM,
    pci: '2.2.7',
  },
];

const idleTimeout: HostCheck = {
  ...base(
    'ssh.idle-timeout',
    'SSH idle sessions end within 15 minutes (ClientAliveInterval > 0 and ClientAliveInterval x ClientAliveCountMax <= 900 s)',
    Severity.MEDIUM,
    '8.2.8',
    'set "ClientAliveInterval 300" and "ClientAliveCountMax 3" (or a product of at most 900 s)',
  ),
  evaluate: (facts) =>
    withConfig(facts, (c) => {
      const i = c.global.get('clientaliveinterval');
      const n = c.global.get('clientalivecountmax');
      const interval = sshdSeconds(i?.value ?? '0');
      const count = Number(n?.value ?? '3');
      const pass =
        interval !== undefined &&
        interval > 0 &&
        Number.isFinite(count) &&
        interval * Math.max(count, 1) <= 900;
      return {
        status: pass ? 'pass' : 'fail',
        field: `${SSHD_CONFIG} ClientAliveInterval, ClientAliveCountMax`,
        expected: 'ClientAliveInterval > 0 and ClientAliveInterval x ClientAliveCountMax <= 900 s',
        actual: `ClientAliveInterval ${i?.value ?? '0 (default)'} ClientAliveCountMax ${n?.value ?? '3 (default)'}${pass ? ` = ${(interval as number) * Math.max(count, 1)} s` : ''}`,
        location: i?.file ?? SSHD_CONFIG,
      };
    }),
};

const configPermissions: HostCheck = {
  ...base(
    'ssh.config-permissions',
    'sshd_config owned by root:root and mode 600 or stricter',
    Severity.MEDIUM,
    '2.2.6',
    'chown root:root /etc/ssh/sshd_config && chmod 600 /etc/ssh/sshd_config',
  ),
  evaluate: (facts) => {
    const st = facts.fs.stat(SSHD_CONFIG);
    if (st.kind === 'error') return errorOutcome(SSHD_CONFIG, st.message);
    if (st.kind === 'absent')
      return {
        status: 'not_applicable',
        field: SSHD_CONFIG,
        expected: '',
        actual: 'file not found',
        reason: NO_SSHD,
      };
    const owner = facts.identity.owner(st.meta.uid, st.meta.gid);
    const pass = bitmaskOk(st.meta.mode, 0o600) && owner === 'root:root';
    return {
      status: pass ? 'pass' : 'fail',
      field: `${SSHD_CONFIG} mode, owner`,
      expected: 'mode 0600 or stricter, owner root:root',
      actual: `mode ${describeMode(st.meta.mode)} owner ${owner}`,
      location: SSHD_CONFIG,
    };
  },
};

export const SSHD_CHECKS: HostCheck[] = [
  ...OPTION_CHECKS.slice(0, 8).map(optionCheck),
  idleTimeout,
  ...OPTION_CHECKS.slice(8).map(optionCheck),
  ...ALGORITHM_CHECKS.map(algorithmCheck),
  configPermissions,
];
