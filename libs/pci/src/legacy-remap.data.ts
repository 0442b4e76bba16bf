// PCI DSS v3.2.1 numbers as they appear in tool output (Falco rule tags `PCI_DSS_10.2.5`, Wazuh-style rule groups
// `pci_dss_10.2.4`) and the v4.0.1 ids that now cover the same control. Sources, in our words:
//   mistakes  the reference mapping's table of v3.2.1 numbers commonly quoted as if they were v4 numbers
//   wazuh     the reference mapping's translation list for Wazuh-style `pci_dss_*` rule groups
//   note      the catalog's per-requirement remarks naming a v3.2.1 predecessor
//   falco     the three PCI tags upstream Falco rules carry (all present in the runtime corpus), with the v4 fit
//             the reference mapping gives for the rule carrying each tag
// A number missing here is not guessed: remapLegacyId answers undefined and callers report it as unmapped.
export type LegacySource = 'mistakes' | 'wazuh' | 'note' | 'falco';

export interface LegacyRemapEntry {
  /** The v3.2.1 number. */
  readonly legacy: string;
  /** v4.0.1 ids, closest fit first. */
  readonly ids: readonly string[];
  /** What the old number covered, in our words. */
  readonly meaning: string;
  readonly sources: readonly LegacySource[];
}

export const LEGACY_REMAP_DATA: readonly LegacyRemapEntry[] = [
  {
    legacy: '1.1',
    ids: ['1.2.1', '1.2.7'],
    meaning: 'firewall and router configuration standards',
    sources: ['mistakes'],
  },
  {
    legacy: '1.2',
    ids: ['1.3.1', '1.3.2'],
    meaning: 'restricting traffic between untrusted networks and the CDE',
    sources: ['mistakes'],
  },
  {
    legacy: '1.2.1',
    ids: ['1.3.1', '1.3.2'],
    meaning: 'limiting CDE traffic to what is necessary',
    sources: ['note'],
  },
  {
    legacy: '1.3',
    ids: ['1.4.1', '1.4.2', '1.4.3', '1.4.4', '1.4.5'],
    meaning: 'no direct public access to the CDE (DMZ)',
    sources: ['mistakes'],
  },
  { legacy: '2.1', ids: ['2.2.2'], meaning: 'changing vendor defaults', sources: ['mistakes', 'note'] },
  { legacy: '2.2.2', ids: ['2.2.4'], meaning: 'enabling only necessary services', sources: ['mistakes'] },
  { legacy: '2.2.4', ids: ['2.2.6'], meaning: 'configuring security parameters', sources: ['mistakes'] },
  {
    legacy: '2.3',
    ids: ['2.2.7'],
    meaning: 'encrypting non-console administrative access',
    sources: ['mistakes', 'note'],
  },
  { legacy: '2.4', ids: ['12.5.1'], meaning: 'system component inventory', sources: ['mistakes'] },
  { legacy: '3.4', ids: ['3.5.1'], meaning: 'rendering stored PAN unreadable', sources: ['mistakes'] },
  {
    legacy: '6.1',
    ids: ['6.3.1'],
    meaning: 'identifying and risk-ranking vulnerabilities',
    sources: ['mistakes'],
  },
  { legacy: '6.2', ids: ['6.3.3'], meaning: 'installing security patches', sources: ['mistakes'] },
  {
    legacy: '6.4',
    ids: ['6.5.1', '6.5.2', '6.5.3', '6.5.4', '6.5.5', '6.5.6'],
    meaning: 'change control and environment separation',
    sources: ['mistakes'],
  },
  // Falco puts this tag on "Network Connection outside Local Subnet"; the v4 fit for that detection is the
  // outbound restriction plus intrusion detection. (In v4, 6.4.2 is the web-application firewall requirement.)
  {
    legacy: '6.4.2',
    ids: ['1.3.2', '11.5.1'],
    meaning: 'as tagged by Falco on unexpected outbound connections',
    sources: ['falco'],
  },
  { legacy: '6.5', ids: ['6.2.4'], meaning: 'common coding vulnerabilities', sources: ['mistakes'] },
  {
    legacy: '6.6',
    ids: ['6.4.1', '6.4.2'],
    meaning: 'web application firewall or application review',
    sources: ['mistakes'],
  },
  { legacy: '8.1.1', ids: ['8.2.1'], meaning: 'unique user IDs', sources: ['mistakes'] },
  {
    legacy: '8.1.4',
    ids: ['8.2.6'],
    meaning: 'removing accounts inactive for 90 days',
    sources: ['mistakes'],
  },
  {
    legacy: '8.2.3',
    ids: ['8.3.6'],
    meaning: 'password length and complexity',
    sources: ['mistakes', 'note'],
  },
  {
    legacy: '8.3',
    ids: ['8.4.1', '8.4.2', '8.4.3', '8.5.1'],
    meaning: 'multi-factor authentication',
    sources: ['mistakes'],
  },
  {
    legacy: '10.2.1',
    ids: ['10.2.1.1'],
    meaning: 'logging user access to cardholder data',
    sources: ['mistakes'],
  },
  { legacy: '10.2.2', ids: ['10.2.1.2'], meaning: 'logging administrative actions', sources: ['mistakes'] },
  { legacy: '10.2.3', ids: ['10.2.1.3'], meaning: 'logging access to audit trails', sources: ['mistakes'] },
  {
    legacy: '10.2.4',
    ids: ['10.2.1.4'],
    meaning: 'logging invalid access attempts',
    sources: ['mistakes', 'wazuh', 'note'],
  },
  {
    legacy: '10.2.5',
    ids: ['10.2.1.5'],
    meaning: 'logging identification, authentication and privilege changes',
    sources: ['mistakes', 'wazuh', 'note', 'falco'],
  },
  {
    legacy: '10.2.6',
    ids: ['10.2.1.6'],
    meaning: 'logging start, stop and pause of audit logs',
    sources: ['mistakes'],
  },
  {
    legacy: '10.2.7',
    ids: ['10.2.1.7'],
    meaning: 'logging creation and deletion of system objects',
    sources: ['mistakes'],
  },
  { legacy: '10.3', ids: ['10.2.2'], meaning: 'audit log entry fields', sources: ['mistakes'] },
  {
    legacy: '10.4',
    ids: ['10.6.1', '10.6.2', '10.6.3'],
    meaning: 'time synchronization',
    sources: ['mistakes', 'note'],
  },
  {
    legacy: '10.5',
    ids: ['10.3.1', '10.3.2', '10.3.3', '10.3.4'],
    meaning: 'protecting audit logs',
    sources: ['mistakes'],
  },
  { legacy: '10.6', ids: ['10.4.1', '10.4.1.1'], meaning: 'daily log review', sources: ['mistakes'] },
  {
    legacy: '10.6.1',
    ids: ['10.4.1'],
    meaning: 'daily review of security events and critical logs',
    sources: ['wazuh', 'note'],
  },
  { legacy: '10.7', ids: ['10.5.1'], meaning: 'one-year log retention', sources: ['mistakes'] },
  {
    legacy: '10.8',
    ids: ['10.7.1', '10.7.2', '10.7.3'],
    meaning: 'detecting failures of critical security controls',
    sources: ['mistakes'],
  },
  {
    legacy: '11.2',
    ids: ['11.3.1', '11.3.2'],
    meaning: 'quarterly internal and external vulnerability scans',
    sources: ['mistakes'],
  },
  {
    legacy: '11.2.1',
    ids: ['11.3.1'],
    meaning: 'quarterly internal vulnerability scans',
    sources: ['mistakes', 'note'],
  },
  { legacy: '11.2.2', ids: ['11.3.2'], meaning: 'quarterly ASV scans', sources: ['note'] },
  {
    legacy: '11.2.3',
    ids: ['11.3.1.3', '11.3.2.1'],
    meaning: 'scans after significant change',
    sources: ['mistakes'],
  },
  {
    legacy: '11.3',
    ids: ['11.4.1', '11.4.2', '11.4.3', '11.4.4', '11.4.5', '11.4.6', '11.4.7'],
    meaning: 'penetration testing',
    sources: ['mistakes'],
  },
  {
    legacy: '11.4',
    ids: ['11.5.1'],
    meaning: 'intrusion detection and prevention',
    sources: ['mistakes', 'wazuh', 'note'],
  },
  {
    legacy: '11.5',
    ids: ['11.5.2'],
    meaning: 'file integrity monitoring',
    sources: ['mistakes', 'wazuh', 'note'],
  },
  // Falco tags "Drop and execute new binary in container" with it; change detection is the closer v4 fit and
  // intrusion detection (the same number in v4) still applies.
  {
    legacy: '11.5.1',
    ids: ['11.5.2', '11.5.1'],
    meaning: 'as tagged by Falco on new binaries executed in containers',
    sources: ['falco'],
  },
  { legacy: '12.2', ids: ['12.3.1'], meaning: 'annual risk assessment', sources: ['mistakes'] },
];
