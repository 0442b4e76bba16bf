import { Severity } from '@vigil/contracts';
import {
  arr,
  kindOf,
  nameOf,
  namespaceOf,
  obj,
  str,
  type Json,
  type LoadedObject,
} from '../model/k8s-object.js';
import { effectiveSecurity, isWorkloadKind, type ContainerView, type Workload } from '../model/workload.js';
import { type AuditContext, type CheckDefinition, type CheckOutcome } from './check.model.js';

const workloadKinds = (kind: string) => isWorkloadKind(kind);

/**
 * Wraps a pod-spec fragment at the workload's pod-spec path, giving a patch for the whole object. None when the
 * object has no pod spec at all (a Deployment without a template): the patch would create a template with no
 * containers, which the API server rejects.
 */
export function podSpecPatch(w: Workload, fragment: Json): Json | undefined {
  let node: unknown = w.object.raw;
  for (const seg of w.podSpecPath) node = obj(node)?.[seg];
  if (!obj(node)) return undefined;
  let out: Json = fragment;
  for (const seg of [...w.podSpecPath].reverse()) out = { [seg]: out };
  return out;
}

/** A strategic-merge patch of one container (lists of containers merge by name); none for unnamed containers. */
function containerPatch(w: Workload, c: ContainerView, fields: Json): Json | undefined {
  if (!c.named) return undefined;
  return podSpecPatch(w, { [c.group]: [{ name: c.name, ...fields }] });
}

function securityContextOf(c: ContainerView): Json {
  return obj(c.spec['securityContext']) ?? {};
}

function forEachContainer(
  ctx: AuditContext,
  fn: (
    w: Workload,
    c: ContainerView,
  ) =>
    | Omit<CheckOutcome, 'subject' | 'container' | 'cde'>
    | Omit<CheckOutcome, 'subject' | 'container' | 'cde'>[],
): CheckOutcome[] {
  const out: CheckOutcome[] = [];
  for (const w of ctx.workloads)
    for (const c of w.containers) {
      const r = fn(w, c);
      for (const one of Array.isArray(r) ? r : [r])
        out.push({ ...one, subject: w.object, container: c.name, cde: ctx.isCdeWorkload(w) });
    }
  return out;
}

const show = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v));

export const privilegedCheck: CheckDefinition = {
  id: 'k8s/privileged',
  version: 1,
  title: 'Privileged container',
  severity: Severity.CRITICAL,
  pci: { key: 'k8s.privileged_hostns_hostpath', use: 'all' },
  remediation:
    'Set securityContext.privileged to false; grant only the specific capability the container needs.',
  concerns: workloadKinds,
  run: (ctx) =>
    forEachContainer(ctx, (w, c) => {
      const v = securityContextOf(c)['privileged'];
      return {
        pass: v !== true,
        field: `${c.path}.securityContext.privileged`,
        expected: 'false or unset',
        actual: show(v),
        message: `container ${c.name} runs privileged: it has every capability and the host's devices, so a compromise of it is a compromise of the node`,
        patch: containerPatch(w, c, { securityContext: { privileged: false } }),
      };
    }),
};

const HOST_NAMESPACE_FIELDS = ['hostNetwork', 'hostPID', 'hostIPC'] as const;

export const hostNamespacesCheck: CheckDefinition = {
  id: 'k8s/host-namespaces',
  version: 1,
  title: 'Pod shares a host namespace',
  severity: Severity.HIGH,
  pci: { key: 'k8s.privileged_hostns_hostpath', use: 'all' },
  remediation: 'Set hostNetwork, hostPID and hostIPC to false; expose ports through a Service instead.',
  concerns: workloadKinds,
  run: (ctx) =>
    ctx.workloads.flatMap((w) =>
      HOST_NAMESPACE_FIELDS.map((f) => ({
        pass: w.podSpec[f] !== true,
        subject: w.object,
        detail: f,
        field: `${w.podSpecPath.join('.')}.${f}`,
        expected: 'false or unset',
        actual: show(w.podSpec[f]),
        message: `the pod sets ${f}: true and shares the node's ${f.slice(4).toLowerCase()} namespace, which removes the isolation between it and the host`,
        patch: podSpecPatch(w, { [f]: false }),
        cde: ctx.isCdeWorkload(w),
      })),
    ),
};

export const hostPathMountCheck: CheckDefinition = {
  id: 'k8s/host-path-mount',
  version: 1,
  title: 'Pod declares a hostPath volume',
  severity: Severity.HIGH,
  pci: { key: 'k8s.privileged_hostns_hostpath', use: 'all' },
  remediation: 'Replace the hostPath volume with an emptyDir, a ConfigMap/Secret or a PersistentVolumeClaim.',
  concerns: workloadKinds,
  run: (ctx) =>
    ctx.workloads.flatMap((w): CheckOutcome[] => {
      const prefix = w.podSpecPath.join('.');
      const volumes = arr(w.podSpec['volumes']).map((v) => obj(v) ?? {});
      const host = volumes.filter((v) => obj(v['hostPath']));
      if (host.length === 0)
        return [
          {
            pass: true,
            subject: w.object,
            field: `${prefix}.volumes`,
            expected: 'no hostPath volume',
            actual: `${volumes.length} volume(s), none hostPath`,
            message: 'no hostPath volume',
            cde: ctx.isCdeWorkload(w),
          },
        ];
      return host.map((v) => {
        const name = str(v['name']) ?? '';
        const path = str(obj(v['hostPath'])?.['path']) ?? '';
        const mountedBy = w.containers
          .filter((c) => arr(c.spec['volumeMounts']).some((m) => obj(m)?.['name'] === name))
          .map((c) => c.name);
        return {
          pass: false,
          subject: w.object,
          detail: path,
          field: `${prefix}.volumes[name=${name}].hostPath`,
          expected: 'no hostPath volume',
          actual: `hostPath ${path}`,
          message: `volume ${name} exposes the node's ${path} to the pod${mountedBy.length ? ` (mounted by ${mountedBy.join(', ')})` : ' (declared, mounted by no container yet)'}`,
          // null deletes the hostPath source in a strategic merge; the volume keeps its name so mounts stay valid.
          patch: podSpecPatch(w, { volumes: [{ name, hostPath: null, emptyDir: {} }] }),
          cde: ctx.isCdeWorkload(w),
          evidence: [
            ['volume', name],
            ['hostPath', path],
            ['mountedBy', mountedBy.join(',')],
          ],
        };
      });
    }),
};

export const runAsRootCheck: CheckDefinition = {
  id: 'k8s/run-as-root',
  version: 1,
  title: 'Container may run as root',
  severity: Severity.MEDIUM,
  pci: { key: 'k8s.run_as_root', use: 'all' },
  remediation:
    'Set runAsNonRoot: true and a non-zero runAsUser (and runAsGroup) in the container securityContext.',
  concerns: workloadKinds,
  run: (ctx) =>
    forEachContainer(ctx, (w, c) => {
      const s = effectiveSecurity(w, c);
      const field = `${c.path}.securityContext`;
      const actual = `runAsNonRoot=${show(s.runAsNonRoot.value)} (${s.runAsNonRoot.from}), runAsUser=${show(s.runAsUser.value)} (${s.runAsUser.from}), runAsGroup=${show(s.runAsGroup.value)} (${s.runAsGroup.from})`;
      // Kubernetes: runAsUser (container over pod) decides the uid; runAsNonRoot only makes the kubelet refuse to
      // start a container whose effective uid is 0, so it forces non-root unless the uid is explicitly 0.
      let why: string | undefined;
      if (s.runAsUser.value === 0) why = `runAsUser is 0 (set at ${s.runAsUser.from} level)`;
      else if (s.runAsGroup.value === 0)
        why = `runAsGroup is 0 (set at ${s.runAsGroup.from} level): the process gets root's group`;
      else if (s.runAsUser.value === undefined && s.runAsNonRoot.value !== true)
        why =
          s.runAsNonRoot.value === false
            ? `runAsNonRoot is false at ${s.runAsNonRoot.from} level and no runAsUser is set, so the image's user (often root) is used`
            : "neither runAsNonRoot: true nor a runAsUser is set, so the image's user (often root) is used";
      return {
        pass: why === undefined,
        field,
        expected: 'runAsNonRoot: true or runAsUser > 0, and runAsGroup not 0',
        actual,
        message: why
          ? `container ${c.name} may run as uid 0: ${why}`
          : `container ${c.name} cannot run as root`,
        patch: containerPatch(w, c, {
          securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001 },
        }),
      };
    }),
};

export const privilegeEscalationCheck: CheckDefinition = {
  id: 'k8s/privilege-escalation',
  version: 1,
  title: 'Container allows privilege escalation',
  severity: Severity.MEDIUM,
  pci: { key: 'k8s.run_as_root', use: 'all' },
  remediation:
    'Set securityContext.allowPrivilegeEscalation: false (and do not run privileged or add CAP_SYS_ADMIN).',
  concerns: workloadKinds,
  run: (ctx) =>
    forEachContainer(ctx, (w, c) => {
      const sc = securityContextOf(c);
      const v = sc['allowPrivilegeEscalation'];
      const adds = arr(obj(sc['capabilities'])?.['add']).map((x) =>
        String(x).toUpperCase().replace(/^CAP_/, ''),
      );
      // Kubernetes: privileged or CAP_SYS_ADMIN means escalation is always allowed, whatever the field says.
      const forced =
        sc['privileged'] === true
          ? 'privileged: true'
          : adds.includes('SYS_ADMIN')
            ? 'CAP_SYS_ADMIN'
            : undefined;
      const pass = v === false && !forced;
      return {
        pass,
        field: `${c.path}.securityContext.allowPrivilegeEscalation`,
        expected: 'false',
        actual: forced ? `${show(v)} (overridden by ${forced})` : show(v),
        message: pass
          ? `container ${c.name} cannot gain more privileges than its parent`
          : `container ${c.name} may gain privileges through setuid binaries or file capabilities: allowPrivilegeEscalation is ${v === undefined ? 'unset, which means allowed' : show(v)}${forced ? ` and ${forced} forces it on` : ''}`,
        // Whatever forces escalation on goes too, or the field alone would not make the container pass.
        patch: containerPatch(w, c, {
          securityContext: {
            allowPrivilegeEscalation: false,
            ...(sc['privileged'] === true ? { privileged: false } : {}),
            ...(adds.includes('SYS_ADMIN')
              ? {
                  capabilities: {
                    ...(obj(sc['capabilities']) ?? {}),
                    add: arr(obj(sc['capabilities'])?.['add']).filter(
                      (x) => String(x).toUpperCase().replace(/^CAP_/, '') !== 'SYS_ADMIN',
                    ),
                  },
                }
              : {}),
          },
        }),
      };
    }),
};

// Pod Security Standards "restricted" allows adding NET_BIND_SERVICE only; anything else widens the kernel surface.
const ALLOWED_ADDED_CAPABILITIES = new Set(['NET_BIND_SERVICE']);

export const addedCapabilitiesCheck: CheckDefinition = {
  id: 'k8s/added-capabilities',
  version: 1,
  title: 'Container adds dangerous capabilities',
  severity: Severity.HIGH,
  pci: { key: 'k8s.privileged_hostns_hostpath', use: 'all' },
  remediation: 'Remove the added capabilities (keep at most NET_BIND_SERVICE) and drop ALL.',
  concerns: workloadKinds,
  run: (ctx) =>
    forEachContainer(ctx, (w, c) => {
      const caps = obj(securityContextOf(c)['capabilities']) ?? {};
      const added = arr(caps['add']).map((x) => String(x));
      const bad = added.filter((x) => !ALLOWED_ADDED_CAPABILITIES.has(x.toUpperCase().replace(/^CAP_/, '')));
      const kept = added.filter((x) => !bad.includes(x));
      return {
        pass: bad.length === 0,
        field: `${c.path}.securityContext.capabilities.add`,
        expected: 'nothing beyond NET_BIND_SERVICE',
        actual: added.length ? JSON.stringify(added) : 'unset',
        message: bad.length
          ? `container ${c.name} adds ${bad.join(', ')}`
          : `container ${c.name} adds no dangerous capability`,
        detail: bad.join(', '),
        // A strategic merge replaces the list of a field that has no merge key, which is the case for capabilities.add.
        patch: containerPatch(w, c, { securityContext: { capabilities: { ...caps, add: kept } } }),
      };
    }),
};

export const readOnlyRootCheck: CheckDefinition = {
  id: 'k8s/no-readonly-rootfs',
  version: 1,
  title: 'Container root filesystem is writable',
  severity: Severity.LOW,
  pci: { key: 'k8s.run_as_root', use: 'all' },
  remediation:
    'Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the process writes.',
  concerns: workloadKinds,
  run: (ctx) =>
    forEachContainer(ctx, (w, c) => {
      const v = securityContextOf(c)['readOnlyRootFilesystem'];
      return {
        pass: v === true,
        field: `${c.path}.securityContext.readOnlyRootFilesystem`,
        expected: 'true',
        actual: show(v),
        message:
          v === true
            ? `container ${c.name} has a read-only root filesystem`
            : `container ${c.name} can write to its root filesystem, so an attacker can drop and run tools in it`,
        patch: containerPatch(w, c, { securityContext: { readOnlyRootFilesystem: true } }),
      };
    }),
};

export const seccompCheck: CheckDefinition = {
  id: 'k8s/no-seccomp',
  version: 1,
  title: 'Container runs without a seccomp profile',
  severity: Severity.LOW,
  pci: { key: 'k8s.run_as_root', use: 'all' },
  remediation: 'Set securityContext.seccompProfile.type: RuntimeDefault (pod level covers every container).',
  concerns: workloadKinds,
  run: (ctx) =>
    forEachContainer(ctx, (w, c) => {
      const s = effectiveSecurity(w, c).seccomp;
      const pass = s.value === 'RuntimeDefault' || s.value === 'Localhost';
      return {
        pass,
        field: `${c.path}.securityContext.seccompProfile.type`,
        expected: 'RuntimeDefault or Localhost',
        actual: s.value ? `${s.value} (${s.from})` : 'unset (pod and container)',
        message: pass
          ? `container ${c.name} has seccomp profile ${s.value}`
          : `container ${c.name} has ${s.value === 'Unconfined' ? 'an Unconfined' : 'no'} seccomp profile, so every syscall is allowed`,
        patch: containerPatch(w, c, { securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }),
      };
    }),
};

const SENSITIVE_WORDS = new Set([
  'password',
  'passwd',
  'pwd',
  'secret',
  'token',
  'credential',
  'credentials',
  'apikey',
  'passphrase',
]);
const SENSITIVE_PAIRS = new Set([
  'api key',
  'private key',
  'access key',
  'secret key',
  'auth key',
  'client secret',
  'signing key',
]);
// A name ending in one of these describes where or how a credential is used, not the credential (TOKEN_URL, SECRET_NAME).
const DESCRIPTIVE_LAST_WORDS = new Set([
  'url',
  'uri',
  'endpoint',
  'host',
  'path',
  'file',
  'dir',
  'ttl',
  'name',
  'header',
  'type',
  'length',
  'expiry',
  'seconds',
  'timeout',
  'ref',
  'id',
  'enabled',
]);

/** Whether an env or data key names a credential, word by word (snake, kebab, dotted or camel case). */
function isSensitiveName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  if (words.length === 0 || DESCRIPTIVE_LAST_WORDS.has(words[words.length - 1]!)) return false;
  if (words.some((w) => SENSITIVE_WORDS.has(w))) return true;
  return words.slice(1).some((w, i) => SENSITIVE_PAIRS.has(`${words[i]} ${w}`));
}
const SENSITIVE_VALUES: [RegExp, string][] = [
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/, 'an AWS access key id'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a PEM private key'],
  [/\bgh[pousr]_[A-Za-z0-9]{36,}\b/, 'a GitHub token'],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/, 'a Slack token'],
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:[^\s@/]+@/i, 'a URL with an embedded password'],
];

/** Why a literal name/value pair looks like a credential, or undefined. */
export function credentialReason(name: string, value: string): string | undefined {
  for (const [re, what] of SENSITIVE_VALUES) if (re.test(value)) return `the value looks like ${what}`;
  if (value.trim() !== '' && isSensitiveName(name))
    return `the name ${name} marks a credential and the value is a literal`;
  return undefined;
}

export const secretsInEnvCheck: CheckDefinition = {
  id: 'k8s/secrets-in-env',
  version: 1,
  title: 'Credential written as a literal environment value',
  severity: Severity.HIGH,
  pci: { key: 'k8s.secrets_in_env_or_configmap', use: 'all' },
  remediation:
    'Move the value into a Secret and reference it (prefer a mounted file over valueFrom.secretKeyRef).',
  concerns: workloadKinds,
  run: (ctx) =>
    forEachContainer(ctx, (w, c) => {
      const env = arr(c.spec['env']).map((e) => obj(e) ?? {});
      const literal = env.filter((e) => typeof e['value'] === 'string');
      const hits = literal
        .map((e) => ({
          name: String(e['name'] ?? ''),
          reason: credentialReason(String(e['name'] ?? ''), String(e['value'])),
        }))
        .filter((h) => h.reason);
      if (hits.length === 0)
        return {
          pass: true,
          field: `${c.path}.env`,
          expected: 'no credential as a literal value',
          actual: `${literal.length} literal value(s), none a credential`,
          message: `container ${c.name} has no literal credential in env`,
        };
      return hits.map((h) => ({
        pass: false,
        detail: h.name,
        field: `${c.path}.env[name=${h.name}].value`,
        expected: 'valueFrom.secretKeyRef or a mounted Secret',
        // Never copy the credential itself into a finding.
        actual: 'literal value (redacted)',
        message: `container ${c.name} carries a credential in env ${h.name}: ${h.reason}`,
        patch: containerPatch(w, c, {
          env: [
            {
              name: h.name,
              value: null,
              valueFrom: { secretKeyRef: { name: `${w.name || 'workload'}-secrets`, key: h.name } },
            },
          ],
        }),
        evidence: [
          ['env', h.name],
          ['reason', h.reason!],
        ] as [string, string][],
      }));
    }),
};

export const secretsInConfigMapCheck: CheckDefinition = {
  id: 'k8s/secrets-in-configmap',
  version: 1,
  title: 'Credential stored in a ConfigMap',
  severity: Severity.HIGH,
  pci: { key: 'k8s.secrets_in_env_or_configmap', use: 'all' },
  remediation:
    'Move the value into a Secret (encrypted at rest, narrower RBAC) and delete the ConfigMap key.',
  concerns: (kind) => kind === 'ConfigMap',
  run: (ctx) =>
    ctx.ofKind('ConfigMap').flatMap((cm): CheckOutcome[] => {
      const data = obj(cm.raw['data']) ?? {};
      const hits = Object.entries(data)
        .filter((e): e is [string, string] => typeof e[1] === 'string')
        .map(([key, value]) => ({ key, reason: credentialReason(key, value) }))
        .filter((h) => h.reason);
      const cde = ctx.isCdeNamespace(namespaceOf(cm));
      if (hits.length === 0)
        return [
          {
            pass: true,
            subject: cm,
            field: 'data',
            expected: 'no credential in data',
            actual: `${Object.keys(data).length} key(s), none a credential`,
            message: 'no credential',
            cde,
          },
        ];
      return hits.map((h) => ({
        pass: false,
        subject: cm,
        detail: h.key,
        field: `data.${h.key}`,
        expected: 'credentials in a Secret',
        actual: 'credential in ConfigMap data (redacted)',
        message: `ConfigMap ${nameOf(cm)} key ${h.key} holds a credential: ${h.reason}; ConfigMaps are not encrypted at rest and are readable by far more subjects than Secrets`,
        // A JSON merge patch deleting the key; the value belongs in a Secret, which the owner creates.
        patch: { data: { [h.key]: null } },
        cde,
        evidence: [
          ['key', h.key],
          ['reason', h.reason!],
        ] as [string, string][],
      }));
    }),
};

export const automountTokenCheck: CheckDefinition = {
  id: 'k8s/automount-sa-token',
  version: 1,
  title: 'Service account token mounted into the pod',
  severity: Severity.LOW,
  pci: { key: 'k8s.sa_token_automount', use: 'all' },
  remediation:
    'Set automountServiceAccountToken: false on the pod (or its ServiceAccount) unless it calls the API.',
  concerns: (kind) => workloadKinds(kind) || kind === 'ServiceAccount',
  run: (ctx) => {
    const accounts = new Map<string, LoadedObject>();
    for (const s of ctx.ofKind('ServiceAccount')) {
      const key = `${namespaceOf(s)}/${nameOf(s)}`;
      if (!accounts.has(key)) accounts.set(key, s);
    }
    return ctx.workloads.map((w) => {
      const saName = str(w.podSpec['serviceAccountName']) || str(w.podSpec['serviceAccount']) || 'default';
      const sa = accounts.get(`${w.namespace}/${saName}`);
      const podValue = w.podSpec['automountServiceAccountToken'];
      const saValue = sa?.raw['automountServiceAccountToken'];
      // Kubernetes: the pod's field wins; the ServiceAccount's applies when the pod sets none; unset means mounted.
      const effective =
        typeof podValue === 'boolean' ? podValue : typeof saValue === 'boolean' ? saValue : true;
      const from =
        typeof podValue === 'boolean'
          ? 'pod'
          : typeof saValue === 'boolean'
            ? `ServiceAccount ${saName}`
            : 'default';
      return {
        pass: effective === false,
        subject: w.object,
        field: `${w.podSpecPath.join('.')}.automountServiceAccountToken`,
        expected: 'false',
        actual: `${effective} (${from})`,
        message: effective
          ? `the pod gets the API token of service account ${saName} mounted (${from === 'default' ? 'nothing disables it' : `set by the ${from}`})`
          : 'no service account token is mounted',
        patch: podSpecPatch(w, { automountServiceAccountToken: false }),
        cde: ctx.isCdeWorkload(w),
        evidence: [['serviceAccount', saName]] as [string, string][],
      };
    });
  },
};

/** The tag of an image reference ("" when none); a ":port" in the registry host is not a tag. */
export function imageTag(image: string): { tag: string; digest: boolean } {
  const digest = image.includes('@');
  const ref = image.split('@')[0] ?? '';
  const last = ref.slice(ref.lastIndexOf('/') + 1);
  const colon = last.lastIndexOf(':');
  return { tag: colon >= 0 ? last.slice(colon + 1) : '', digest };
}

export const latestImageCheck: CheckDefinition = {
  id: 'k8s/latest-or-untagged-image',
  version: 1,
  title: 'Image has no tag or the tag latest',
  severity: Severity.LOW,
  pci: { key: 'image.untrusted_registry_or_mutable_tag', use: 'all' },
  remediation: 'Reference the image by a version tag and, better, by its @sha256 digest.',
  concerns: workloadKinds,
  run: (ctx) =>
    forEachContainer(ctx, (_w, c) => {
      const image = str(c.spec['image']) ?? '';
      const { tag, digest } = imageTag(image);
      const pass = digest || (tag !== '' && tag !== 'latest');
      return {
        pass,
        field: `${c.path}.image`,
        expected: 'a version tag or a digest',
        actual: image || 'unset',
        message: pass
          ? `container ${c.name} uses ${image}`
          : `container ${c.name} uses ${image || 'no image'}: ${tag ? 'the tag latest' : 'no tag'} moves, so what runs is not what was reviewed`,
        // No patch: which version to pin is the owner's decision, and inventing one would be a guess.
      };
    }),
};

export const resourceLimitsCheck: CheckDefinition = {
  id: 'k8s/no-resource-limits',
  version: 1,
  title: 'Container has no memory or CPU limit',
  severity: Severity.LOW,
  pci: { key: 'k8s.run_as_root', use: 'secondary' },
  remediation: 'Set resources.limits.memory and resources.limits.cpu sized to the workload.',
  concerns: workloadKinds,
  run: (ctx) =>
    forEachContainer(ctx, (w, c) => {
      const resources = obj(c.spec['resources']) ?? {};
      const limits = obj(resources['limits']) ?? {};
      const requests = obj(resources['requests']) ?? {};
      const kinds: ['memory' | 'cpu', string][] = [
        ['memory', '256Mi'],
        ['cpu', '500m'],
      ];
      return kinds
        .filter(([k]) => k === 'memory' || ctx.options.requireCpuLimit)
        .map(([k, fallback]) => {
          const v = limits[k];
          // A request is the best evidence of what the container needs; the fallback is a starting point to tune.
          const suggested = requests[k] ?? fallback;
          return {
            pass: v !== undefined && v !== null && v !== '',
            detail: `${k}-limit`,
            field: `${c.path}.resources.limits.${k}`,
            expected: `a ${k} limit`,
            actual: show(v),
            message:
              v !== undefined
                ? `container ${c.name} has a ${k} limit of ${String(v)}`
                : `container ${c.name} has no ${k} limit, so one compromised or runaway container can starve the node`,
            patch: containerPatch(w, c, { resources: { limits: { [k]: suggested } } }),
          };
        });
    }),
};

export const defaultNamespaceCheck: CheckDefinition = {
  id: 'k8s/default-namespace',
  version: 1,
  title: 'Object in the default namespace',
  severity: Severity.LOW,
  pci: { key: 'k8s.run_as_root', use: 'secondary' },
  remediation: 'Create a namespace for the application and move the object into it (metadata.namespace).',
  concerns: () => true,
  run: (ctx) => {
    const owned = new Set(ctx.objects.filter((o) => isWorkloadKind(kindOf(o))));
    const top = new Set(ctx.workloads.map((w) => w.object));
    return ctx.objects
      .filter((o) => namespaceOf(o) !== '' && (!owned.has(o) || top.has(o)))
      .map((o) => {
        const ns = namespaceOf(o);
        const given = str(obj(o.raw['metadata'])?.['namespace']);
        return {
          pass: ns !== 'default',
          subject: o,
          field: 'metadata.namespace',
          expected: 'a namespace other than default',
          actual: given ?? 'unset (default)',
          message:
            ns === 'default'
              ? `${kindOf(o)} ${nameOf(o)} lives in the default namespace, where policies and RBAC meant for an application do not separate it from everything else dropped there`
              : `in namespace ${ns}`,
          cde: ctx.isCdeNamespace(ns),
        };
      });
  },
};

// Sockets of container runtimes: whoever can talk to one can start a privileged container on the node.
const RUNTIME_SOCKETS = ['docker.sock', 'containerd.sock', 'crio.sock', 'cri-dockerd.sock', 'podman.sock'];

export const runtimeSocketCheck: CheckDefinition = {
  id: 'k8s/container-runtime-socket',
  version: 1,
  title: 'Pod mounts a container runtime socket',
  severity: Severity.CRITICAL,
  pci: { key: 'k8s.privileged_hostns_hostpath', use: 'all' },
  remediation:
    'Remove the runtime socket volume; build images with a daemonless builder and read container data through the API.',
  concerns: workloadKinds,
  run: (ctx) =>
    ctx.workloads.flatMap((w): CheckOutcome[] => {
      const prefix = w.podSpecPath.join('.');
      const sockets = arr(w.podSpec['volumes'])
        .map((v) => obj(v) ?? {})
        .map((v) => ({ name: str(v['name']) ?? '', path: str(obj(v['hostPath'])?.['path']) ?? '' }))
        .filter((v) => RUNTIME_SOCKETS.some((sock) => v.path.endsWith(`/${sock}`)));
      if (sockets.length === 0)
        return [
          {
            pass: true,
            subject: w.object,
            field: `${prefix}.volumes`,
            expected: 'no container runtime socket',
            actual: 'none',
            message: 'no runtime socket',
            cde: ctx.isCdeWorkload(w),
          },
        ];
      return sockets.map((v) => ({
        pass: false,
        subject: w.object,
        detail: v.path,
        field: `${prefix}.volumes[name=${v.name}].hostPath.path`,
        expected: 'no container runtime socket',
        actual: v.path,
        message: `volume ${v.name} mounts the runtime socket ${v.path}: the pod can start privileged containers on the node, bypassing every admission control`,
        patch: podSpecPatch(w, { volumes: [{ name: v.name, hostPath: null, emptyDir: {} }] }),
        cde: ctx.isCdeWorkload(w),
      }));
    }),
};

export const hostPortCheck: CheckDefinition = {
  id: 'k8s/host-port',
  version: 1,
  title: 'Container binds a host port',
  severity: Severity.MEDIUM,
  pci: { key: 'k8s.service_exposed_lb_nodeport', use: 'all' },
  remediation: 'Remove hostPort and expose the port through a Service.',
  concerns: workloadKinds,
  run: (ctx) =>
    forEachContainer(ctx, (w, c) => {
      const bound = arr(c.spec['ports'])
        .map((p) => obj(p) ?? {})
        .filter((p) => typeof p['hostPort'] === 'number' && p['hostPort'] !== 0);
      return {
        pass: bound.length === 0,
        field: `${c.path}.ports`,
        expected: 'no hostPort',
        actual: bound.length
          ? bound.map((p) => `hostPort ${String(p['hostPort'])} → ${String(p['containerPort'])}`).join(', ')
          : 'no hostPort',
        message: bound.length
          ? `container ${c.name} listens on the node's address (${bound.map((p) => String(p['hostPort'])).join(', ')}), reachable wherever the node is`
          : 'no host port',
        // ports merge on containerPort in a strategic merge; null removes the hostPort only.
        patch: bound.length
          ? containerPatch(w, c, {
              ports: bound.map((p) => ({ containerPort: p['containerPort'], hostPort: null })),
            })
          : undefined,
      };
    }),
};

export const WORKLOAD_CHECKS: readonly CheckDefinition[] = [
  privilegedCheck,
  hostNamespacesCheck,
  hostPathMountCheck,
  runtimeSocketCheck,
  hostPortCheck,
  runAsRootCheck,
  privilegeEscalationCheck,
  addedCapabilitiesCheck,
  readOnlyRootCheck,
  seccompCheck,
  secretsInEnvCheck,
  secretsInConfigMapCheck,
  automountTokenCheck,
  latestImageCheck,
  resourceLimitsCheck,
  defaultNamespaceCheck,
];
