import { defineOptions, opt, type ConfigOf } from '@vigil/config';

// The config-auditor's own options, beside the kit's. Read from the environment and the config file;
// bootstrapService parses the kit's flags only.
export const configAuditorOptions = defineOptions({
  auditCluster: opt.string({
    env: 'CONFIG_AUDIT_CLUSTER',
    fileKey: 'configAudit.cluster',
    default: 'default',
    pattern: /^[A-Za-z0-9][A-Za-z0-9._:-]{0,252}$/,
    patternHint: 'a name of letters, digits, dot, dash, colon or underscore',
    description: 'Scope (cluster) of the live audits this service asks for itself: part of every finding id',
  }),
  auditInterval: opt.duration({
    env: 'CONFIG_AUDIT_INTERVAL',
    fileKey: 'configAudit.interval',
    default: 0,
    min: 0,
    description: 'A full audit of the live cluster this often (e.g. 6h); 0: only on request',
  }),
  auditOnChange: opt.bool({
    env: 'CONFIG_AUDIT_ON_CHANGE',
    fileKey: 'configAudit.onChange',
    default: false,
    description: 'Watch the cluster and re-audit it after its objects change',
  }),
  auditDebounce: opt.duration({
    env: 'CONFIG_AUDIT_DEBOUNCE',
    fileKey: 'configAudit.debounce',
    default: 30_000,
    min: 0,
    description: 'Changes within this window after the first are one re-audit',
  }),
  inCluster: opt.bool({
    env: 'CONFIG_AUDIT_IN_CLUSTER',
    fileKey: 'configAudit.inCluster',
    default: false,
    description:
      "Read the cluster with the pod's service account when a request names no kubeconfig (set in the Deployment)",
  }),
  cdeLabel: opt.string({
    env: 'CONFIG_AUDIT_CDE_LABEL',
    fileKey: 'configAudit.cdeLabel',
    pattern:
      /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?=([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/,
    patternHint: 'a label key=value, e.g. pci-scope=cde',
    description: 'Label that puts a namespace or pod in the CDE, for the audits this service asks for itself',
  }),
});

export type ConfigAuditorConfig = ConfigOf<typeof configAuditorOptions>;
