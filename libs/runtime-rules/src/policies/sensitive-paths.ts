// Files whose reading is an intrusion indicator in a container: credentials, key material, service-account tokens.
const EXACT: Readonly<Record<string, string>> = {
  '/etc/shadow': 'local password hashes',
  '/etc/gshadow': 'group password hashes',
  '/etc/sudoers': 'sudo policy',
  '/etc/pam.conf': 'PAM configuration',
  '/etc/kubernetes/admin.conf': 'cluster-admin kubeconfig',
};
const PATTERNS: readonly [RegExp, string][] = [
  [/^\/etc\/sudoers\.d\//, 'sudo policy'],
  [/^\/(?:var\/)?run\/secrets\/kubernetes\.io\/serviceaccount\/token$/, 'service-account token'],
  [/^\/(?:var\/)?run\/secrets\//, 'mounted secret'],
  [/\/\.ssh\/(?:id_[a-z0-9]+|authorized_keys)$/, 'SSH key'],
  [/\/\.aws\/credentials$/, 'cloud credentials'],
  [/\/\.kube\/config$/, 'kubeconfig'],
  [/\.(?:key|pem|p12|pfx|jks|keystore|keys)$/, 'key material'],
  [/^\/etc\/kubernetes\/pki\//, 'cluster PKI'],
];

/** Why reading `path` is sensitive, or null. */
export function sensitivePathReason(path: string): string | null {
  const exact = EXACT[path];
  if (exact) return exact;
  for (const [re, why] of PATTERNS) if (re.test(path)) return why;
  return null;
}
