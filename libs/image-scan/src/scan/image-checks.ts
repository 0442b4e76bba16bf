// Findings about the image itself rather than one package: what its config makes every container do, and how it
// is referenced. Each has a stable rule id under "image/".
import { Severity } from '@vigil/contracts';
import type { ImageConfig } from '../image/source.js';
import { parseReference } from '../registry/reference.js';

export interface ImageCheckOutcome {
  ruleId: string;
  title: string;
  severity: Severity;
  /** @vigil/pci finding type whose ids the finding lists. */
  mappingKey: string;
  /** Where in the image or its reference: "config.User", "config.Env[3]", "reference". */
  location: string;
  message: string;
  remediation: { summary: string; patch: string };
  evidence: [string, string][];
}

export interface ImageCheckInput {
  /** As referenced ("registry/repo:tag", "registry/repo@sha256:…"); empty for an archive without tags. */
  reference: string;
  config: ImageConfig;
  /** Registries images may come from ("registry.example.com", "ghcr.io/acme"); empty: not checked. */
  allowedRegistries?: readonly string[];
}

export const IMAGE_CHECK_UNIT = { id: 'image-config-checks', version: 1 };

// Env names that hold credentials by convention; the value is never copied into a finding.
const SECRET_NAME =
  /(^|_)(PASSWORD|PASSWD|PASS|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CLIENT_SECRET|CREDENTIALS?|AUTH)($|_)/i;
const SECRET_VALUE: [string, RegExp][] = [
  ['AWS access key id', /\b(AKIA|ASIA)[0-9A-Z]{16}\b/],
  ['private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ['GitHub token', /\bgh[pousr]_[A-Za-z0-9]{36,}\b/],
  ['Slack token', /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/],
  ['Stripe live key', /\b(sk|rk)_live_[A-Za-z0-9]{16,}\b/],
];
// Values that name where a secret is, not the secret: file paths, references, empty placeholders.
const NOT_A_SECRET = /^(|\/[^\s]*|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|changeme|<[^>]*>|true|false|\d{1,5})$/i;

function tagOf(reference: string): string | undefined {
  const noDigest = reference.split('@')[0] ?? '';
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > lastSlash ? noDigest.slice(colon + 1) : undefined;
}

export function imageChecks(input: ImageCheckInput): ImageCheckOutcome[] {
  const out: ImageCheckOutcome[] = [];
  const user = (input.config.config?.User ?? '').trim();
  const uid = user.split(':')[0] ?? '';
  if (uid === '' || uid === '0' || uid === 'root') {
    out.push({
      ruleId: 'image/runs-as-root',
      title: 'Image runs as root',
      severity: Severity.MEDIUM,
      mappingKey: 'k8s.run_as_root',
      location: 'config.User',
      message: user
        ? `the image config sets User to "${user}"`
        : 'the image config sets no User, so containers start as root',
      remediation: {
        summary:
          'Create an unprivileged user and switch to it in the Dockerfile, so containers from this image do not run as UID 0 unless a pod overrides it.',
        patch: 'RUN useradd --system --uid 10001 --no-create-home app\nUSER 10001',
      },
      evidence: [
        ['field', 'config.User'],
        ['expected', 'a non-zero UID or a non-root user'],
        ['actual', user || '(unset)'],
      ],
    });
  }
  if (input.reference && !input.reference.includes('@sha256:')) {
    const tag = tagOf(input.reference);
    out.push({
      ruleId: 'image/mutable-tag',
      title:
        tag === undefined || tag === 'latest'
          ? 'Image referenced by the latest tag'
          : 'Image referenced by a tag without a digest',
      severity: tag === undefined || tag === 'latest' ? Severity.MEDIUM : Severity.LOW,
      mappingKey: 'image.untrusted_registry_or_mutable_tag',
      location: 'reference',
      message: `${input.reference} names ${tag === undefined ? 'no tag (so latest)' : `the tag ${tag}`} and no digest: what runs can change without a new review`,
      remediation: {
        summary:
          'Reference the image by digest (repository:tag@sha256:…), so the component inventory names exactly what runs.',
        patch: `${input.reference}@<digest>`,
      },
      evidence: [
        ['reference', input.reference],
        ['tag', tag ?? '(none: latest)'],
      ],
    });
  }
  if (input.reference && input.allowedRegistries && input.allowedRegistries.length > 0) {
    const parsed = parseReference(input.reference);
    const repo = `${parsed.registry}/${parsed.repository}`;
    const allowed = input.allowedRegistries.some((r) => {
      const prefix = r.replace(/\/+$/, '');
      return repo === prefix || repo.startsWith(`${prefix}/`);
    });
    if (!allowed)
      out.push({
        ruleId: 'image/untrusted-registry',
        title: 'Image from a registry outside the allow-list',
        severity: Severity.HIGH,
        mappingKey: 'image.untrusted_registry_or_mutable_tag',
        location: 'reference',
        message: `${repo} is not under any allowed registry (${input.allowedRegistries.join(', ')})`,
        remediation: {
          summary:
            'Mirror the image into an approved registry and reference it from there, or add the registry to the allow-list after review.',
          patch: '',
        },
        evidence: [
          ['repository', repo],
          ['allowed', input.allowedRegistries.join(', ')],
        ],
      });
  }
  (input.config.config?.Env ?? []).forEach((entry, i) => {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    const value = eq < 0 ? '' : entry.slice(eq + 1);
    const byValue = SECRET_VALUE.find(([, re]) => re.test(value));
    const byName = SECRET_NAME.test(name) && !NOT_A_SECRET.test(value.trim());
    if (!byValue && !byName) return;
    out.push({
      ruleId: 'image/secrets-in-env',
      title: 'Secret in the image config environment',
      severity: byValue ? Severity.CRITICAL : Severity.HIGH,
      mappingKey: 'k8s.secrets_in_env_or_configmap',
      location: `config.Env[${name}]`,
      message: `the image config sets ${name} to ${byValue ? `what looks like a ${byValue[0]}` : 'a literal value'}; every copy of the image carries it`,
      remediation: {
        summary: `Remove ${name} from the Dockerfile (ENV/ARG) and inject it at run time from a Kubernetes Secret or a secret manager; rotate the value, since it was published with the image.`,
        patch: `# Dockerfile: delete ENV ${name}=…\n# pod spec:\nenv:\n  - name: ${name}\n    valueFrom:\n      secretKeyRef: { name: <secret>, key: ${name.toLowerCase()} }`,
      },
      evidence: [
        ['field', `config.Env[${i}]`],
        ['variable', name],
        ['value-length', String(value.length)],
        ...(byValue ? ([['pattern', byValue[0]]] as [string, string][]) : []),
      ],
    });
  });
  return out;
}
