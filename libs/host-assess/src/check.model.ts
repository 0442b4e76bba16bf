import { type Severity } from '@vigil/contracts';
import { type NodeFacts } from './node-facts.js';

export type CheckStatus = 'pass' | 'fail' | 'not_applicable' | 'error';

/** What one check found, with what an auditor needs to re-perform it. */
export interface CheckOutcome {
  status: CheckStatus;
  /** The file, flag or setting inspected: "/etc/ssh/sshd_config PermitRootLogin", "kubelet --anonymous-auth". */
  field: string;
  expected: string;
  actual: string;
  /** Why the check is not applicable or errored. */
  reason?: string;
  /** Where a finding points: the file path, or "kubelet --flag". Defaults to the check's primary file. */
  location?: string;
  evidence?: Record<string, string>;
}

/** Where a check is defined: the CIS benchmark transcription, vigil's Linux catalogue, or vigil's own additions. */
export type Catalogue = 'cis-kubernetes-1.12' | 'linux-host-checks' | 'vigil-extra';

export interface HostCheck {
  /** Stable kebab-case id; vigil's Linux checks keep the catalogue id. */
  id: string;
  /** Bumped whenever the check's verdict or output for the same input changes. */
  version: number;
  title: string;
  catalogue: Catalogue;
  /** The CIS Kubernetes Benchmark id (e.g. "4.2.1") for the benchmark's checks. */
  cis?: string;
  /** CIS: false for the benchmark's Manual recommendations. */
  scored?: boolean;
  severity: Severity;
  pciRequirements: string[];
  remediation: string;
  /** The node path a finding points at when the outcome names none. */
  defaultLocation: string;
  /** Cheap "does this node concern me" predicate: the reason the check does not apply, or undefined. */
  notApplicable(facts: NodeFacts): string | undefined;
  evaluate(facts: NodeFacts): CheckOutcome;
}

export interface CheckResult extends CheckOutcome {
  id: string;
  version: number;
  title: string;
  catalogue: Catalogue;
  cis?: string;
  severity: Severity;
  pciRequirements: string[];
  remediation: string;
  location: string;
}
