import { findingMapping, remapLegacyId, requirementsFor } from '@vigil/pci';
import { Severity } from '@vigil/contracts';
import { type DetectionKind, type RuntimeDetection, type SensorPriority } from '../detection.model.js';

/** Each detection kind and the `@vigil/pci` finding type(s) whose primary ids it is evidence for. */
export const KIND_MAPPING: Readonly<Record<DetectionKind, readonly string[]>> = {
  'shell-in-container': ['runtime.shell_in_container'],
  'exec-into-pod': ['runtime.shell_in_container'],
  'sensitive-file-read': ['runtime.sensitive_file_read'],
  // Secrets are key material; reading one through the API is the audit-log twin of a sensitive file read.
  'secret-access': ['runtime.sensitive_file_read'],
  drift: ['runtime.drift_unexpected_process'],
  // 11.5.2 change detection is about exactly this: unauthorized changes to critical files.
  'critical-file-write': ['runtime.drift_unexpected_process'],
  'package-manager': ['runtime.package_manager'],
  'unexpected-egress': ['runtime.outbound_not_allowed'],
  'crypto-mining': ['runtime.crypto_mining'],
  'privilege-escalation': ['runtime.privilege_escalation'],
  'rbac-change': ['runtime.privilege_escalation'],
  'anonymous-request': ['k8s.rbac_anonymous'],
  'log-tampering': ['extra.security_telemetry_failure'],
  // A sensor alert vigil has no specific meaning for is still an intrusion-detection alert (11.5.1).
  other: [],
};

const GENERIC_IDS_REQUIREMENT = '11.5.1';

export interface PciMeaning {
  ids: string[];
  secondary: string[];
  mappingKeys: string[];
  /** Legacy tags seen and what they became; unknown legacy numbers are listed with an empty `ids`. */
  remapped: { tag: string; ids: string[] }[];
}

export function pciMeaning(d: Pick<RuntimeDetection, 'kind' | 'legacyPciTags'>): PciMeaning {
  const keys = [...KIND_MAPPING[d.kind]];
  const ids: string[] = [];
  const secondary: string[] = [];
  const push = (list: string[], id: string): void => {
    if (!ids.includes(id) && !list.includes(id)) list.push(id);
  };
  for (const k of keys) {
    const r = requirementsFor(k);
    for (const id of r.primary) push(ids, id);
    for (const id of r.secondary) push(secondary, id);
  }
  if (keys.length === 0) {
    // Take the id from the mapping data rather than typing it, so a catalog change cannot leave it stale.
    const ids115 = findingMapping('runtime.sensitive_file_read').primary.map((p) => p.id);
    if (ids115.includes(GENERIC_IDS_REQUIREMENT)) push(ids, GENERIC_IDS_REQUIREMENT);
  }
  const remapped = d.legacyPciTags.map((tag) => {
    const r = remapLegacyId(tag);
    for (const id of r?.ids ?? []) push(ids, id);
    return { tag, ids: r?.ids ?? [] };
  });
  return { ids, secondary: secondary.filter((s) => !ids.includes(s)), mappingKeys: keys, remapped };
}

/** Sensor priority → severity (Falco's syslog levels). */
export const PRIORITY_SEVERITY: Readonly<Record<SensorPriority, Severity>> = {
  emergency: Severity.CRITICAL,
  alert: Severity.CRITICAL,
  critical: Severity.CRITICAL,
  error: Severity.HIGH,
  warning: Severity.MEDIUM,
  notice: Severity.LOW,
  informational: Severity.LOW,
  debug: Severity.LOW,
};

/**
 * The least severity a kind deserves inside a PCI scope, whatever priority the sensor gave it (Tetragon and the
 * audit log give none). A priority above the floor wins.
 */
export const KIND_SEVERITY_FLOOR: Readonly<Record<DetectionKind, Severity>> = {
  'crypto-mining': Severity.CRITICAL,
  drift: Severity.HIGH,
  'privilege-escalation': Severity.HIGH,
  'log-tampering': Severity.HIGH,
  'critical-file-write': Severity.HIGH,
  'sensitive-file-read': Severity.MEDIUM,
  'secret-access': Severity.MEDIUM,
  'shell-in-container': Severity.MEDIUM,
  'exec-into-pod': Severity.MEDIUM,
  'package-manager': Severity.MEDIUM,
  'unexpected-egress': Severity.MEDIUM,
  'rbac-change': Severity.MEDIUM,
  'anonymous-request': Severity.MEDIUM,
  other: Severity.LOW,
};

// Severity enum: CRITICAL=1 ... LOW=4, so "more severe" is the smaller number.
const ORDER = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW];

function lower(s: Severity): Severity {
  const i = ORDER.indexOf(s);
  return ORDER[Math.min(i + 1, ORDER.length - 1)] ?? Severity.LOW;
}

/**
 * max(priority severity, kind floor); a denied or failed attempt one step lower (it was stopped, but someone
 * tried). Documented in the package README table.
 */
export function severityOf(d: Pick<RuntimeDetection, 'kind' | 'priority' | 'denied'>): Severity {
  const floor = KIND_SEVERITY_FLOOR[d.kind];
  const fromPriority = d.priority ? PRIORITY_SEVERITY[d.priority] : Severity.LOW;
  const s = Math.min(floor, fromPriority) as Severity;
  return d.denied ? lower(s) : s;
}
