// Who may do what through the GraphQL API. The README's role table is this table; change both together.
//   viewer   reads everything of its clusters: scopes, snapshots, requirements, findings, diffs, assets, exceptions
//   auditor  a viewer that may also ask for fresh evidence (request scans, cut snapshots), export signed
//            evidence bundles (exportEvidence: evidence:export) and record manual evidence:
//            attestRequirement, revokeAttestation (attestation:record, attestation:revoke)
//   admin    everything an auditor may, plus acceptRisk and revokeException (exception:accept, exception:revoke)
// Accepting a risk is a management decision (PCI DSS 12.3.x, 6.3.1 risk ranking), so only admin; an assessor
// attests evidence but does not waive findings. A viewer writes nothing.
// Tokens are minted and revoked only from the CLI (`vigil token`), which needs the database itself, so no role
// can mint a token over the API.

export const PERMISSIONS = [
  'read',
  'scan:request',
  'snapshot:create',
  'exception:accept',
  'exception:revoke',
  'attestation:record',
  'attestation:revoke',
  'evidence:export',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export type Role = 'viewer' | 'auditor' | 'admin';

export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  viewer: ['read'],
  auditor: [
    'read',
    'scan:request',
    'snapshot:create',
    'attestation:record',
    'attestation:revoke',
    'evidence:export',
  ],
  admin: [
    'read',
    'scan:request',
    'snapshot:create',
    'attestation:record',
    'attestation:revoke',
    'evidence:export',
    'exception:accept',
    'exception:revoke',
  ],
};

/** The caller of one request, as its bearer token says. */
export interface Principal {
  readonly tokenId: string;
  readonly role: Role;
  /** Scope keys the caller may see, or ['*'] for every one. */
  readonly clusters: readonly string[];
}

export function allows(principal: Principal, permission: Permission): boolean {
  return ROLE_PERMISSIONS[principal.role].includes(permission);
}

/** Whether the principal may see the scope at all: a scope outside its clusters does not exist for it. */
export function seesScope(principal: Principal, scope: string): boolean {
  return principal.clusters.includes('*') || principal.clusters.includes(scope);
}
