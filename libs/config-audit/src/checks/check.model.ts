import { type Severity } from '@vigil/contracts';
import { type Json, type LoadedObject } from '../model/k8s-object.js';
import { type Workload } from '../model/workload.js';

/** One check's verdict on one field of one resource; failing outcomes become findings, passing ones evidence. */
export interface CheckOutcome {
  pass: boolean;
  subject: LoadedObject;
  /** The container the outcome is about, when it is container-level. */
  container?: string;
  /** Narrows the check (which namespace flag, which limit, which env var). */
  detail?: string;
  /** Resource path of the inspected field, e.g. "spec.template.spec.containers[name=api].securityContext.privileged". */
  field: string;
  expected: string;
  actual: string;
  /** Why, in a sentence, for the finding's description. */
  message: string;
  /** Strategic-merge patch (JSON, so also valid YAML) that makes the outcome pass; absent when no safe patch exists. */
  patch?: Json;
  /** Whether the subject is in the cardholder data environment (changes severity and PCI mapping of some checks). */
  cde?: boolean;
  evidence?: [string, string][];
  /** A mapping key for this outcome instead of the check's (a permissive ingress rule is 1.3.1, egress 1.3.2). */
  pciKey?: string;
}

export interface PciUse {
  /** A key of @vigil/pci's mapping. */
  key: string;
  /**
   * "all": primary and secondary ids. "secondary": only the secondary ids, for checks that support a requirement
   * without testing it (the mapping has no key for them, or the subject is outside the CDE).
   */
  use: 'all' | 'secondary';
}

export interface AuditOptions {
  cluster: string;
  /** Namespaces or pods with this label value are in the CDE. */
  cdeLabel: { key: string; value: string };
  /** Missing CPU limits fail no-resource-limits (polaris and kube-score do by default; kube-score can turn it off). */
  requireCpuLimit: boolean;
}

export interface AuditContext {
  options: AuditOptions;
  objects: LoadedObject[];
  /** Pod-producing objects that are not owned by another object in the input. */
  workloads: Workload[];
  ofKind(kind: string): LoadedObject[];
  isCdeNamespace(namespace: string): boolean;
  isCdeWorkload(w: Workload): boolean;
}

export interface CheckDefinition {
  id: string;
  /** Bumped when the check's output changes for the same input. */
  version: number;
  title: string;
  severity: Severity;
  /** Severity for outcomes in the CDE, when it differs. */
  cdeSeverity?: Severity;
  pci: PciUse;
  /** PCI use for outcomes in the CDE, when it differs. */
  cdePci?: PciUse;
  remediation: string;
  /** Cheap predicate: does an object of this kind concern the check at all. */
  concerns(kind: string): boolean;
  run(ctx: AuditContext): CheckOutcome[];
}
