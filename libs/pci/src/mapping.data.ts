// Finding type → PCI DSS v4.0.1 requirement ids. Which ids belong to which finding type (and whether as primary or
// secondary evidence) follows the reference mapping; the topics and reasons are our own words.
//   primary:   the finding tests the technical condition the requirement asks for; a failing finding is a gap.
//   secondary: supporting or conditional evidence; attach it, never fail the requirement on it alone.
import { type FindingMapping } from './mapping.model.js';

export const MAPPING_DATA: readonly FindingMapping[] = [
  {
    key: 'image.vulnerable_package',
    scanners: ['image'],
    topic: 'Known-vulnerable OS or language package inside an image',
    primary: [
      {
        id: '6.3.1',
        reason: 'identifying vulnerabilities from trusted feeds and ranking them is exactly this output',
      },
      {
        id: '11.3.1',
        reason: 'scanning image contents is internal vulnerability scanning; high and critical need fixing',
      },
    ],
    secondary: [
      { id: '11.3.1.1', reason: 'lower-severity results follow the timeline of the targeted risk analysis' },
      {
        id: '11.3.1.2',
        reason: 'reading the package database directly is equivalent to an authenticated scan',
      },
      { id: '11.3.1.3', reason: 'scanning every new or rebuilt image covers scans after significant change' },
      { id: '6.3.2', reason: 'the image package list is the third-party component inventory' },
      {
        id: '12.3.4',
        reason: 'an unsupported package or distribution belongs in the yearly technology review',
      },
    ],
  },
  {
    key: 'image.unpatched_critical_over_30_days',
    scanners: ['image', 'host'],
    topic: 'Critical vulnerability whose fix has been available for over a month',
    primary: [
      { id: '6.3.3', reason: 'v4.0.1 requires critical fixes within one month of the fix being released' },
    ],
    secondary: [
      { id: '11.3.1', reason: 'an open critical item blocks a passing internal scan' },
      {
        id: '6.3.1',
        reason: 'criticality comes from the entity ranking, with vendor or CVSS severity as proxy',
      },
    ],
  },
  {
    key: 'image.untrusted_registry_or_mutable_tag',
    scanners: ['config'],
    topic: 'Image from a registry outside the allow-list, or referenced by a movable tag',
    primary: [
      { id: '6.5.1', reason: 'a movable tag or unapproved source lets unreviewed code reach production' },
      {
        id: '2.2.1',
        reason: 'the configuration standard should name allowed registries and require digests',
      },
    ],
    secondary: [
      { id: '6.3.2', reason: 'without a digest nobody can say which component versions are running' },
      { id: '12.5.1', reason: 'the scope inventory needs each running component identified precisely' },
    ],
  },
  {
    key: 'k8s.privileged_hostns_hostpath',
    scanners: ['config'],
    topic: 'Privileged container, shared host namespace, or hostPath mount',
    primary: [
      {
        id: '2.2.6',
        reason: 'privileged mode, host namespaces and host mounts are misusable security settings',
      },
      { id: '2.2.3', reason: 'sharing the host breaks isolation between workloads of differing sensitivity' },
    ],
    secondary: [
      { id: '2.2.1', reason: 'Pod Security Standards and CIS benchmarks are the hardening baseline' },
      { id: '7.2.5', reason: 'the workload identity ends up with far more privilege than needed' },
      { id: 'A1.1.2', reason: 'multi-tenant providers: host access can expose another tenant' },
      { id: 'A1.1.3', reason: 'multi-tenant providers: host access escapes the tenant resource allocation' },
    ],
  },
  {
    key: 'k8s.run_as_root',
    scanners: ['config'],
    topic: 'Container runs as UID 0 or may escalate privileges',
    primary: [
      { id: '2.2.6', reason: 'runAsNonRoot and allowPrivilegeEscalation are hardening settings' },
      { id: '7.2.5', reason: 'a workload account should hold only the privilege it needs' },
    ],
    secondary: [{ id: '2.2.1', reason: 'the restricted Pod Security profile is the reference baseline' }],
  },
  {
    key: 'k8s.netpol_no_default_deny_ingress',
    scanners: ['config'],
    topic: 'CDE namespace without a default-deny ingress NetworkPolicy',
    primary: [
      { id: '1.3.1', reason: 'inbound CDE traffic must be limited to what is needed and the rest denied' },
    ],
    secondary: [
      { id: '1.2.1', reason: 'NetworkPolicies are the ruleset whose standard must exist and be applied' },
      { id: '1.4.1', reason: 'a control must stand between the namespace and any untrusted network' },
      { id: '11.4.5', reason: 'when policies provide segmentation, that segmentation must be pen-tested' },
    ],
  },
  {
    key: 'k8s.netpol_no_default_deny_egress',
    scanners: ['config'],
    topic: 'CDE namespace without a default-deny egress NetworkPolicy',
    primary: [
      { id: '1.3.2', reason: 'outbound CDE traffic must be limited to what is needed and the rest denied' },
    ],
    secondary: [
      { id: '1.2.1', reason: 'the ruleset standard applies to egress rules too' },
      { id: '11.5.1.1', reason: 'service providers: open egress eases covert command-and-control channels' },
    ],
  },
  {
    key: 'k8s.permissive_egress_from_cde',
    scanners: ['config'],
    topic: 'CDE egress rule allowing every destination or port',
    primary: [{ id: '1.3.2', reason: 'allow-all egress contradicts allowing only necessary traffic' }],
    secondary: [
      { id: '1.2.5', reason: 'every allowed destination and port needs an approved reason' },
      { id: 'A3.2.6', reason: 'designated entities: open egress weakens PAN leakage prevention' },
    ],
  },
  {
    key: 'k8s.service_exposed_lb_nodeport',
    scanners: ['config'],
    topic: 'Workload reachable through a LoadBalancer, NodePort or external IP',
    primary: [
      { id: '1.4.2', reason: 'untrusted inbound traffic may reach only components meant to be public' },
      {
        id: '1.4.4',
        reason: 'a workload holding cardholder data must not be directly reachable from outside',
      },
    ],
    secondary: [
      { id: '1.2.5', reason: 'each exposed port and protocol needs an approved business reason' },
      {
        id: '1.4.1',
        reason: 'a network control should separate the exposed service from untrusted networks',
      },
    ],
  },
  {
    key: 'k8s.ingress_without_tls',
    scanners: ['config'],
    topic: 'Ingress or route serving plain HTTP or weak TLS',
    primary: [
      { id: '4.2.1', reason: 'PAN on public networks needs strong cryptography and valid certificates' },
      { id: '2.2.7', reason: 'an administrative interface behind it must be reached over encryption' },
    ],
    secondary: [
      { id: '1.2.6', reason: 'cleartext HTTP is an insecure protocol needing compensating features' },
      { id: '2.2.5', reason: 'any insecure service kept must be justified and extra protected' },
      { id: '8.3.2', reason: 'credentials or tokens over HTTP are readable in transit' },
      { id: '4.2.1.1', reason: 'certificates in use belong in the trusted certificate inventory' },
    ],
  },
  {
    key: 'k8s.rbac_wildcard_or_cluster_admin',
    scanners: ['config'],
    topic: 'RBAC wildcards on verbs or resources, or cluster-admin bindings',
    primary: [
      { id: '7.2.1', reason: 'wildcards and cluster-admin defeat a role-based, least-privilege model' },
      { id: '7.2.2', reason: 'people, administrators included, get only what their job requires' },
      { id: '7.2.5', reason: 'service accounts get only what the application requires' },
    ],
    secondary: [
      { id: '7.3.2', reason: 'the access system should enforce narrowly scoped permissions' },
      { id: '7.2.4', reason: 'human bindings need a six-monthly review, which stays manual' },
      { id: '7.2.5.1', reason: 'service-account bindings need periodic review, which stays manual' },
    ],
  },
  {
    key: 'k8s.rbac_secrets_read',
    scanners: ['config'],
    topic: 'Broad get, list or watch permission on Secrets',
    primary: [
      { id: '7.2.5', reason: 'an application rarely needs to read every Secret' },
      { id: '8.6.3', reason: 'system account credentials held in Secrets must be guarded against misuse' },
    ],
    secondary: [
      { id: '7.2.2', reason: 'applies when the subject is a person' },
      { id: '3.6.1', reason: 'when Secrets hold data-protection keys, custodians must be few' },
      { id: '3.6.1.3', reason: 'the same condition for cleartext key components' },
    ],
  },
  {
    key: 'k8s.rbac_anonymous',
    scanners: ['config'],
    topic: 'Anonymous subjects bound to roles, or anonymous API server auth',
    primary: [
      { id: '8.2.1', reason: 'access without a unique identity is not allowed' },
      { id: '8.3.1', reason: 'every access must be authenticated' },
      { id: '7.3.3', reason: 'access control should begin from deny-all' },
    ],
    secondary: [{ id: '2.2.6', reason: 'anonymous authentication is a security setting' }],
  },
  {
    key: 'k8s.secrets_in_env_or_configmap',
    scanners: ['config', 'image'],
    topic: 'Credentials in env vars, ConfigMaps, manifests or image files',
    primary: [
      { id: '8.6.2', reason: 'passwords of login-capable accounts must not sit in scripts or config' },
      { id: '8.3.2', reason: 'plaintext authentication factors are not protected by strong cryptography' },
    ],
    secondary: [
      { id: '8.6.3', reason: 'system account credentials must be protected from misuse' },
      { id: '3.6.1.2', reason: 'a data-protection key may only be stored in approved forms' },
    ],
  },
  {
    key: 'k8s.secrets_not_encrypted_at_rest',
    scanners: ['config'],
    topic: 'Secrets stored in etcd without an encryption provider',
    primary: [{ id: '8.3.2', reason: 'tokens and passwords in etcd stay readable when unencrypted' }],
    secondary: [
      { id: '3.6.1.2', reason: 'applies when Secrets hold keys protecting stored account data' },
      { id: '3.5.1', reason: 'applies only if PAN were ever put in a Secret' },
    ],
  },
  {
    key: 'k8s.sa_token_automount',
    scanners: ['config'],
    topic: 'Service account token mounted automatically into pods',
    primary: [{ id: '7.2.5', reason: 'a pod that never calls the API should hold no API credential' }],
    secondary: [
      { id: '8.6.3', reason: 'the mounted token is a system credential visible to every process in the pod' },
      { id: '2.2.6', reason: 'token automounting is a hardening setting' },
    ],
  },
  {
    key: 'k8s.audit_policy_missing',
    scanners: ['config'],
    topic: 'API server audit policy absent or too shallow',
    primary: [
      { id: '10.2.1', reason: 'audit logging must be on for every component' },
      { id: '10.2.1.2', reason: 'administrative actions such as exec must be recorded' },
      { id: '10.2.1.5', reason: 'RBAC, account and credential changes must be recorded' },
      { id: '10.2.1.7', reason: 'creation and deletion of system objects must be recorded' },
      {
        id: '10.2.2',
        reason: 'entries need who, what, when, outcome, origin and target (Metadata level or more)',
      },
    ],
    secondary: [
      { id: '10.2.1.4', reason: 'rejected requests should be recorded' },
      { id: '10.2.1.1', reason: 'applies when cardholder data is reachable through the API' },
      { id: '10.3.3', reason: 'audit output should reach a central store promptly' },
      { id: '10.5.1', reason: 'retention of twelve months, three readily available' },
    ],
  },
  {
    key: 'node.kubelet_anonymous_auth',
    scanners: ['host'],
    topic: 'Kubelet accepts anonymous requests',
    primary: [
      { id: '8.3.1', reason: 'kubelet API callers must authenticate' },
      { id: '8.2.1', reason: 'an anonymous caller has no unique identity' },
    ],
    secondary: [
      { id: '7.3.3', reason: 'access should default to deny' },
      { id: '2.2.6', reason: 'anonymous authentication is a hardening setting' },
    ],
  },
  {
    key: 'node.kubelet_authz_always_allow',
    scanners: ['host'],
    topic: 'Kubelet authorization mode is AlwaysAllow',
    primary: [
      { id: '7.3.3', reason: 'AlwaysAllow is the reverse of default deny' },
      { id: '7.3.1', reason: 'nothing enforces need-to-know on the kubelet API' },
    ],
    secondary: [
      { id: '7.3.2', reason: 'no per-identity permission check takes place' },
      { id: '2.2.6', reason: 'the authorization mode is a hardening setting' },
    ],
  },
  {
    key: 'node.kubelet_read_only_port',
    scanners: ['host'],
    topic: 'Kubelet read-only port 10255 open',
    primary: [
      { id: '2.2.4', reason: 'an unneeded, unauthenticated service is running' },
      { id: '2.2.5', reason: 'if kept, the insecure service needs justification and added controls' },
    ],
    secondary: [
      { id: '1.2.5', reason: 'an allowed port must be identified and approved' },
      { id: '8.3.1', reason: 'it hands out data without authentication' },
    ],
  },
  {
    key: 'node.sshd_root_login',
    scanners: ['host'],
    topic: 'SSH daemon permits logging in directly as root',
    primary: [
      { id: '2.2.6', reason: 'PermitRootLogin is a hardening setting' },
      { id: '8.2.2', reason: 'root is a shared account whose use must be exceptional and traceable' },
      { id: '8.6.1', reason: 'interactive use of a system account must be the exception' },
    ],
    secondary: [
      { id: '2.2.2', reason: 'root is a vendor-supplied default account' },
      { id: '10.2.1.2', reason: 'root sessions must be logged and linked to a person' },
    ],
  },
  {
    key: 'node.sshd_password_auth',
    scanners: ['host'],
    topic: 'SSH daemon accepts password authentication',
    primary: [
      { id: '2.2.6', reason: 'turning off SSH passwords is standard hardening' },
      { id: '8.3.1', reason: 'an enabled password is an authentication factor subject to 8.3 rules' },
    ],
    secondary: [
      { id: '8.3.4', reason: 'password logins need lockout after ten failures at most' },
      { id: '8.3.6', reason: 'password logins need minimum length and complexity' },
      { id: '8.4.1', reason: 'admin non-console CDE access needs MFA, not a single factor' },
      { id: '8.4.2', reason: 'all non-console CDE access needs MFA' },
    ],
  },
  {
    key: 'node.time_sync_missing',
    scanners: ['host'],
    topic: 'Node has no time synchronization configured',
    primary: [
      { id: '10.6.1', reason: 'clocks must be kept in sync by time-sync technology' },
      { id: '10.6.2', reason: 'time should come from designated servers' },
    ],
    secondary: [
      { id: '10.6.3', reason: 'time settings must be protected and their changes logged' },
      { id: '10.2.2', reason: 'log timestamps are trustworthy only with synced clocks' },
    ],
  },
  {
    key: 'runtime.shell_in_container',
    scanners: ['runtime'],
    topic: 'Interactive shell started inside a container',
    primary: [
      { id: '11.5.1', reason: 'runtime detection in the CDE is intrusion detection and must alert' },
      { id: '10.2.1.2', reason: 'interactive administrative actions such as exec must be logged' },
    ],
    secondary: [
      { id: '10.4.1.1', reason: 'the detection is itself an automated log review' },
      { id: '12.10.5', reason: 'the incident plan must cover monitoring alerts' },
      { id: '8.6.1', reason: 'a shell under an application account is interactive use that must be rare' },
    ],
  },
  {
    key: 'runtime.drift_unexpected_process',
    scanners: ['runtime'],
    topic: 'Process or binary that is not part of the image (drift)',
    primary: [
      { id: '11.5.2', reason: 'change detection must alert on unauthorized new or altered executables' },
      { id: '11.5.1', reason: 'unexpected binaries also indicate intrusion' },
    ],
    secondary: [
      { id: '6.5.1', reason: 'the production change bypassed change control' },
      { id: '5.2.2', reason: 'if the binary is malware it must be detected and contained' },
    ],
  },
  {
    key: 'runtime.sensitive_file_read',
    scanners: ['runtime'],
    topic: 'Read of a sensitive file such as /etc/shadow or key material',
    primary: [{ id: '11.5.1', reason: 'suspicious file access is an intrusion signal that must alert' }],
    secondary: [
      { id: '10.2.1.1', reason: 'applies when the file holds cardholder data' },
      { id: '10.2.1.3', reason: 'applies when the file is an audit log: access must be logged' },
      { id: '10.3.1', reason: 'applies when the file is an audit log: reads must be need-based' },
      { id: '8.3.2', reason: 'applies when the file stores authentication factors' },
    ],
  },
  {
    key: 'runtime.outbound_not_allowed',
    scanners: ['runtime'],
    topic: 'Outbound connection to a destination outside the allow-list',
    primary: [
      { id: '1.3.2', reason: 'egress that should have been blocked shows the restriction is missing' },
      { id: '11.5.1', reason: 'perimeter monitoring must alert on such traffic' },
    ],
    secondary: [
      { id: '11.5.1.1', reason: 'service providers: may be a covert malware channel' },
      { id: 'A3.2.6', reason: 'designated entities: may be PAN exfiltration' },
    ],
  },
  {
    key: 'runtime.package_manager',
    scanners: ['runtime'],
    topic: 'Package manager executed in a running container',
    primary: [
      { id: '6.5.1', reason: 'installing software in production skips change control' },
      { id: '11.5.2', reason: 'it alters critical files and executables' },
    ],
    secondary: [
      { id: '6.3.2', reason: 'the running components no longer match the inventory' },
      { id: '2.2.1', reason: 'the running configuration drifts from the hardened baseline' },
    ],
  },
  {
    key: 'runtime.crypto_mining',
    scanners: ['runtime'],
    topic: 'Crypto-miner process or mining-pool connection',
    primary: [
      { id: '5.2.2', reason: 'a miner is malware that must be found and stopped or contained' },
      { id: '11.5.1', reason: 'mining in the CDE is an intrusion' },
    ],
    secondary: [
      { id: '5.3.2', reason: 'behavioural analysis is an accepted anti-malware method' },
      { id: '12.10.5', reason: 'the alert feeds incident response' },
      { id: '12.10.1', reason: 'a confirmed compromise activates the incident plan' },
    ],
  },
  {
    key: 'runtime.privilege_escalation',
    scanners: ['runtime'],
    topic: 'Privilege escalation attempt: setuid, capabilities, sudo, escape',
    primary: [
      { id: '11.5.1', reason: 'an escalation attempt is an intrusion signal' },
      { id: '10.2.1.5', reason: 'every privilege elevation must be logged' },
    ],
    secondary: [
      { id: '2.2.6', reason: 'usually enabled by a permissive security context' },
      { id: '7.2.5', reason: 'the workload identity holds excess privilege' },
      { id: '12.10.5', reason: 'the alert feeds incident response' },
    ],
  },
  {
    key: 'extra.eol_component',
    scanners: ['image', 'host', 'config'],
    topic: 'End-of-life base image, OS or Kubernetes version',
    primary: [
      { id: '12.3.4', reason: 'the yearly review must confirm technologies still get security fixes' },
      { id: '6.3.3', reason: 'an unsupported component cannot receive the required patches' },
    ],
    secondary: [{ id: '6.3.1', reason: 'vendor end of support is an input to vulnerability management' }],
  },
  {
    key: 'extra.security_telemetry_failure',
    scanners: ['runtime', 'config'],
    topic: 'Audit logging, runtime sensor or admission control stopped or failing',
    primary: [
      {
        id: '10.7.2',
        reason: 'failures of logging, detection and network controls must be detected and alerted',
      },
      { id: '10.2.1.6', reason: 'stopping or pausing audit logging must itself be logged' },
    ],
    secondary: [
      { id: '10.7.3', reason: 'the failure must be responded to and its cause found' },
      { id: '10.7.1', reason: 'service providers: the older provider-only form of 10.7.2' },
      { id: 'A3.3.1', reason: 'designated entities: the supplemental control-failure requirement' },
    ],
  },
];
