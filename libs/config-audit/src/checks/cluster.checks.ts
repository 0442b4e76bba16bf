import { Severity } from '@vigil/contracts';
import {
  arr,
  kindOf,
  labelsOf,
  nameOf,
  namespaceOf,
  obj,
  str,
  type Json,
  type LoadedObject,
} from '../model/k8s-object.js';
import { type AuditContext, type CheckDefinition, type CheckOutcome } from './check.model.js';

/**
 * The kube-apiserver static Pods in the input (kube-system, component=kube-apiserver, as kubeadm and kind write
 * them) with the container that runs the server. A managed cluster never shows these, so no pod means no outcome.
 */
function apiServers(ctx: AuditContext): { pod: LoadedObject; container: Json; index: number }[] {
  return ctx
    .ofKind('Pod')
    .filter((p) => namespaceOf(p) === 'kube-system' && labelsOf(p)['component'] === 'kube-apiserver')
    .flatMap((pod) => {
      const containers = arr(obj(pod.raw['spec'])?.['containers']).map((c) => obj(c) ?? {});
      const index = containers.findIndex(
        (c) =>
          c['name'] === 'kube-apiserver' ||
          arr(c['command']).some((x) => String(x).endsWith('kube-apiserver')),
      );
      return index >= 0 ? [{ pod, container: containers[index]!, index }] : [];
    });
}

/** The value of each --flag in a command line ("--a=b" and "--a b"); a bare flag has the value "". */
export function commandFlags(container: Json): Map<string, string> {
  const words = [...arr(container['command']), ...arr(container['args'])].map(String);
  const flags = new Map<string, string>();
  words.forEach((w, i) => {
    if (!w.startsWith('--')) return;
    const eq = w.indexOf('=');
    if (eq >= 0) flags.set(w.slice(2, eq), w.slice(eq + 1));
    else {
      const next = words[i + 1];
      flags.set(w.slice(2), next !== undefined && !next.startsWith('--') ? next : '');
    }
  });
  return flags;
}

const containerField = (c: Json, index: number) =>
  `spec.containers[${str(c['name']) ? `name=${String(c['name'])}` : index}].command`;

// Entries of an EncryptionConfiguration's resources that cover Secrets: "secrets", "secrets." or a wildcard.
const COVERS_SECRETS = new Set(['secrets', 'secrets.', '*.', '*.*']);

/** How an EncryptionConfiguration stores Secrets: the provider that writes them (the first of the first entry that covers them). */
export function secretsProvider(config: Json): { provider: string; entry: number } | undefined {
  const entries = arr(config['resources']).map((r) => obj(r) ?? {});
  for (const [entry, r] of entries.entries()) {
    if (!arr(r['resources']).some((x) => COVERS_SECRETS.has(String(x)))) continue;
    const first = obj(arr(r['providers'])[0]);
    return { provider: first ? (Object.keys(first)[0] ?? 'none') : 'none', entry };
  }
  return undefined;
}

function encryptionVerdict(config: LoadedObject): Omit<CheckOutcome, 'subject'> {
  const found = secretsProvider(config.raw);
  const pass = found !== undefined && found.provider !== 'identity' && found.provider !== 'none';
  return {
    pass,
    field: found ? `resources[${found.entry}].providers[0]` : 'resources',
    expected: 'an encrypting provider (kms, aescbc, aesgcm, secretbox) first for secrets',
    actual: found ? `${found.provider} first` : 'no entry covers secrets',
    message: pass
      ? `Secrets are written with the ${found!.provider} provider`
      : found
        ? `the first provider for Secrets is ${found.provider}, so new Secrets are written to etcd in plain text`
        : 'no resources entry covers secrets, so they are stored unencrypted',
  };
}

const isEncryptionConfig = (o: LoadedObject) =>
  kindOf(o) === 'EncryptionConfiguration' &&
  String(o.raw['apiVersion']).startsWith('apiserver.config.k8s.io/');

export const secretsNotEncryptedCheck: CheckDefinition = {
  id: 'cluster/secrets-not-encrypted-at-rest',
  version: 1,
  title: 'Secrets are not encrypted at rest',
  severity: Severity.HIGH,
  pci: { key: 'k8s.secrets_not_encrypted_at_rest', use: 'all' },
  remediation:
    'Start kube-apiserver with --encryption-provider-config pointing at an EncryptionConfiguration whose first provider for secrets is kms (or aescbc/aesgcm/secretbox), then rewrite existing Secrets.',
  concerns: (kind) => kind === 'Pod' || kind === 'EncryptionConfiguration',
  run: (ctx) => {
    const configs = ctx.ofKind('EncryptionConfiguration').filter(isEncryptionConfig);
    const configOutcomes = configs.map((c) => ({ ...encryptionVerdict(c), subject: c }));
    const weak = configOutcomes.filter((o) => !o.pass);
    const podOutcomes = apiServers(ctx).map(({ pod, container, index }): CheckOutcome => {
      const file = commandFlags(container).get('encryption-provider-config');
      const field = containerField(container, index);
      const base = {
        subject: pod,
        field,
        expected: '--encryption-provider-config=<file>',
        detail: 'encryption-provider-config',
      };
      if (!file)
        return {
          ...base,
          pass: false,
          actual: 'flag absent',
          message: `kube-apiserver runs without --encryption-provider-config, so Secrets are stored in etcd in plain text`,
        };
      // The flag names a file on the node; an EncryptionConfiguration in the input is taken to be that file.
      const bad = weak[0];
      return {
        ...base,
        pass: bad === undefined,
        actual: `--encryption-provider-config=${file}${bad ? ` (${nameOf(bad.subject) || bad.subject.source.file}: ${bad.actual})` : ''}`,
        message: bad
          ? `kube-apiserver reads ${file}, and the EncryptionConfiguration in the input writes Secrets with ${bad.actual}`
          : `kube-apiserver encrypts with the configuration in ${file}`,
        evidence: [['encryption-provider-config', file]],
      };
    });
    return [...podOutcomes, ...configOutcomes];
  },
};

// Audit levels in increasing detail; Metadata is the least that records who did what to which object.
const LEVELS = ['None', 'Metadata', 'Request', 'RequestResponse'];

interface AuditProbe {
  name: string;
  group: string;
  resource: string;
  subresource?: string;
  verb: string;
}

// The requests PCI 10.2.1.x needs in the log whatever else a policy drops: reading a Secret, exec into a pod.
const PROBES: AuditProbe[] = [
  { name: 'secrets', group: '', resource: 'secrets', verb: 'get' },
  { name: 'pods/exec', group: '', resource: 'pods', subresource: 'exec', verb: 'create' },
];
// An administrator making them, in an application namespace, on an object no rule names.
const PROBE_USER = {
  user: 'kubernetes-admin',
  groups: ['system:masters', 'system:authenticated'],
  namespace: 'payments',
};

function ruleMatches(rule: Json, p: AuditProbe): boolean {
  const users = arr(rule['users']).map(String);
  if (users.length && !users.includes(PROBE_USER.user)) return false;
  const groups = arr(rule['userGroups']).map(String);
  if (groups.length && !groups.some((g) => PROBE_USER.groups.includes(g))) return false;
  const verbs = arr(rule['verbs']).map(String);
  if (verbs.length && !verbs.includes(p.verb)) return false;
  const namespaces = arr(rule['namespaces']).map(String);
  if (namespaces.length && !namespaces.includes(PROBE_USER.namespace)) return false;
  // A rule about non-resource URLs never matches a resource request.
  if (arr(rule['nonResourceURLs']).length) return false;
  const resources = arr(rule['resources']).map((r) => obj(r) ?? {});
  if (resources.length === 0) return true;
  const full = p.subresource ? `${p.resource}/${p.subresource}` : p.resource;
  return resources.some((gr) => {
    if ((str(gr['group']) ?? '') !== p.group) return false;
    // resourceNames narrows the rule to named objects; the probe's object is not one of them.
    if (arr(gr['resourceNames']).length) return false;
    const names = arr(gr['resources']).map(String);
    if (names.length === 0) return true;
    return names.some(
      (n) =>
        n === '*' ||
        n === full ||
        (p.subresource !== undefined && (n === `${p.resource}/*` || n === `*/${p.subresource}`)),
    );
  });
}

/** The level an audit Policy records a request at: the first matching rule's, None when no rule matches. */
export function auditLevelFor(policy: Json, probe: AuditProbe): { level: string; rule: number | undefined } {
  const rules = arr(policy['rules']).map((r) => obj(r) ?? {});
  const rule = rules.findIndex((r) => ruleMatches(r, probe));
  return rule < 0
    ? { level: 'None', rule: undefined }
    : { level: String(rules[rule]!['level'] ?? 'None'), rule };
}

export { PROBES as AUDIT_PROBES };

const isAuditPolicy = (o: LoadedObject) =>
  kindOf(o) === 'Policy' && String(o.raw['apiVersion']).startsWith('audit.k8s.io/');

export const noAuditPolicyCheck: CheckDefinition = {
  id: 'cluster/no-audit-policy',
  version: 1,
  title: 'API server audit logging is off or misses sensitive requests',
  severity: Severity.HIGH,
  pci: { key: 'k8s.audit_policy_missing', use: 'all' },
  remediation:
    'Start kube-apiserver with --audit-policy-file and --audit-log-path (or --audit-webhook-config-file), with a policy that logs Secrets and pods/exec at Metadata level or above.',
  concerns: (kind) => kind === 'Pod' || kind === 'Policy',
  run: (ctx) => {
    const podOutcomes = apiServers(ctx).map(({ pod, container, index }): CheckOutcome => {
      const flags = commandFlags(container);
      const policy = flags.get('audit-policy-file');
      const sink = flags.get('audit-log-path') || flags.get('audit-webhook-config-file');
      const missing = [
        ...(policy ? [] : ['--audit-policy-file']),
        ...(sink ? [] : ['--audit-log-path or --audit-webhook-config-file']),
      ];
      return {
        pass: missing.length === 0,
        subject: pod,
        field: containerField(container, index),
        detail: 'audit-flags',
        expected: '--audit-policy-file and --audit-log-path (or --audit-webhook-config-file)',
        actual: missing.length ? `missing ${missing.join(', ')}` : `policy ${policy}, log ${sink}`,
        message: missing.length
          ? `kube-apiserver runs without ${missing.join(' and ')}, so no request to the API is recorded`
          : `kube-apiserver audits with ${policy} to ${sink}`,
      };
    });
    const policyOutcomes = ctx
      .ofKind('Policy')
      .filter(isAuditPolicy)
      .flatMap((p) =>
        PROBES.map((probe): CheckOutcome => {
          const { level, rule } = auditLevelFor(p.raw, probe);
          const pass = LEVELS.indexOf(level) >= LEVELS.indexOf('Metadata');
          return {
            pass,
            subject: p,
            detail: probe.name,
            field: rule === undefined ? 'rules' : `rules[${rule}].level`,
            expected: `${probe.name} logged at Metadata or above`,
            actual: rule === undefined ? 'no rule matches (None)' : `${level} (rule ${rule})`,
            message: pass
              ? `${probe.name} requests are logged at ${level}`
              : `the audit policy records ${probe.verb} ${probe.name} at level None, so who read a Secret or opened a shell is not in the log`,
          };
        }),
      );
    return [...podOutcomes, ...policyOutcomes];
  },
};

export const CLUSTER_CHECKS: readonly CheckDefinition[] = [secretsNotEncryptedCheck, noAuditPolicyCheck];
