import { type DetectionKind } from '../detection.model.js';

// What each upstream Falco rule (falcosecurity/rules, plugins/k8saudit) is about, in vigil's kinds. Operators add
// their own rules, so names missing here fall back to the rule's tags (see falcoRuleKind).
export const FALCO_RULE_KINDS: Readonly<Record<string, DetectionKind>> = {
  'Terminal shell in container': 'shell-in-container',
  'Run shell untrusted': 'shell-in-container',
  'System user interactive': 'shell-in-container',
  'Redirect STDOUT/STDIN to Network Connection in Container': 'shell-in-container',
  'Netcat Remote Code Execution in Container': 'shell-in-container',
  'Attach/Exec Pod': 'exec-into-pod',
  'Read sensitive file untrusted': 'sensitive-file-read',
  'Read sensitive file trusted after startup': 'sensitive-file-read',
  'Directory traversal monitored file read': 'sensitive-file-read',
  'Search Private Keys or Passwords': 'sensitive-file-read',
  'Find AWS Credentials': 'sensitive-file-read',
  'Read ssh information': 'sensitive-file-read',
  'Drop and execute new binary in container': 'drift',
  'Execution from /dev/shm': 'drift',
  'Fileless execution via memfd_create': 'drift',
  'Container Drift Detected (chmod)': 'drift',
  'Container Drift Detected (open+create)': 'drift',
  'Write below etc': 'critical-file-write',
  'Write below binary dir': 'critical-file-write',
  'Write below root': 'critical-file-write',
  'Modify binary dirs': 'critical-file-write',
  'Create Symlink Over Sensitive Files': 'critical-file-write',
  'Create Hardlink Over Sensitive Files': 'critical-file-write',
  'Remove Bulk Data from Disk': 'critical-file-write',
  'Clear Log Activities': 'log-tampering',
  'Launch Package Management Process in Container': 'package-manager',
  'Network Connection outside Local Subnet': 'unexpected-egress',
  'Outbound Connection to C2 Servers': 'unexpected-egress',
  'Unexpected outbound connection destination': 'unexpected-egress',
  'Launch Ingress Remote File Copy Tools in Container': 'unexpected-egress',
  'Contact K8S API Server From Container': 'unexpected-egress',
  'Packet socket created in container': 'unexpected-egress',
  'Disallowed SSH Connection Non Standard Port': 'unexpected-egress',
  'Detect crypto miners using the Stratum protocol': 'crypto-mining',
  'Detect outbound connections to common miner pool ports': 'crypto-mining',
  'Launch Privileged Container': 'privilege-escalation',
  'PTRACE attached to process': 'privilege-escalation',
  'PTRACE anti-debug attempt': 'privilege-escalation',
  'Detect release_agent File Container Escapes': 'privilege-escalation',
  'Debugfs Launched in Privileged Container': 'privilege-escalation',
  'Mount Launched in Privileged Container': 'privilege-escalation',
  'Change thread namespace': 'privilege-escalation',
  'Set Setuid or Setgid bit': 'privilege-escalation',
  'Linux Kernel Module Injection Detected': 'privilege-escalation',
  'Sudo Potential Privilege Escalation': 'privilege-escalation',
  'Polkit Local Privilege Escalation Vulnerability (CVE-2021-4034)': 'privilege-escalation',
  'Anonymous Request Allowed': 'anonymous-request',
  // A user outside the operator's allow-list is not anonymous; without a closer finding type it is a generic alert.
  'Disallowed K8s User': 'other',
  'Attach to cluster-admin Role': 'rbac-change',
  'ClusterRole With Wildcard Created': 'rbac-change',
  'ClusterRole With Write Privileges Created': 'rbac-change',
  'ClusterRole With Pod Exec Created': 'rbac-change',
  'K8s Role/Clusterrolebinding Created': 'rbac-change',
  'K8s Role/Clusterrolebinding Deleted': 'rbac-change',
  'System ClusterRole Modified/Deleted': 'rbac-change',
  'K8s Serviceaccount Created': 'rbac-change',
  'K8s Secret Created': 'secret-access',
  'K8s Secret Deleted': 'secret-access',
  'K8s Secret Get Successfully': 'secret-access',
};

/** The kind of a Falco rule by name, else from its tags (custom rules usually keep the upstream topic tags). */
export function falcoRuleKind(rule: string, tags: readonly string[], hasFile = false): DetectionKind {
  const known = FALCO_RULE_KINDS[rule];
  if (known) return known;
  const has = (t: string): boolean => tags.includes(t);
  // A `drift` rule about a file is a change to the container's files; about a process, an unexpected binary.
  if (has('drift')) return hasFile ? 'critical-file-write' : 'drift';
  if (has('shell')) return 'shell-in-container';
  if (has('software_mgmt')) return 'package-manager';
  if (has('mitre_credential_access') && has('filesystem')) return 'sensitive-file-read';
  if (has('mitre_privilege_escalation')) return 'privilege-escalation';
  if (has('network') && (has('mitre_exfiltration') || has('mitre_command_and_control')))
    return 'unexpected-egress';
  if (has('filesystem') && (has('mitre_persistence') || has('mitre_defense_evasion')))
    return 'critical-file-write';
  return 'other';
}
