import {
  LOG_LEVELS,
  databaseOptions,
  defineOptions,
  eventLogOptions,
  opt,
  telemetryOptions,
} from '@vigil/config';
import { runtimeIngestOptions } from '@vigil/runtime-ingest';

// The all-in-one's options. The event log, database and log options are the services' own declarations (the same
// env var means the same thing in every process); only two defaults differ: the all-in-one runs on the embedded
// log unless EVENT_LOG=kafka, and a one-shot command logs warnings only, so its output stays readable.
export const SEVERITY_WORDS = ['critical', 'high', 'medium', 'low', 'unknown'] as const;

export const cliOptions = defineOptions({
  dataDir: opt.string({
    env: 'VIGIL_DATA_DIR',
    default: './.vigil',
    description:
      'Deployment directory of the embedded default: its Postgres cluster, event log and lock files (reading commands refuse one that holds no deployment)',
  }),
  cluster: opt.string({
    env: 'VIGIL_CLUSTER',
    default: 'default',
    pattern: /^[A-Za-z0-9][A-Za-z0-9._:-]{0,252}$/,
    patternHint: 'a name of letters, digits, dot, dash, colon or underscore',
    description: 'Scope of the scan or report: the cluster name',
  }),
  format: opt.enum({
    values: ['table', 'json', 'sarif', 'cyclonedx', 'csv', 'html', 'junit'],
    default: 'table',
    description:
      'Output format (sarif: scans and reports; cyclonedx: image, rootfs and fs scans; csv, html and junit: reports)',
  }),
  severity: opt.list({
    values: SEVERITY_WORDS,
    description:
      'Show only findings of these severities, comma-separated (the gate still sees every finding)',
  }),
  ignoreUnfixed: opt.bool({
    default: false,
    description: 'Leave out vulnerabilities that have no fixed version yet (output and gate)',
  }),
  platform: opt.string({
    pattern: /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/,
    patternHint: 'os/architecture[/variant], e.g. linux/arm64/v8',
    description: 'Platform to pick from a multi-platform image (default linux/amd64)',
  }),
  signingKey: opt.string({
    env: 'VIGIL_SIGNING_KEY',
    description:
      'Evidence signing key (Ed25519 PKCS#8 PEM) path, e.g. a mounted Kubernetes Secret; default: generated once in the data dir',
  }),
  cdeLabel: opt.string({
    env: 'VIGIL_CDE_LABEL',
    pattern:
      /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?=([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/,
    patternHint: 'a label key=value, e.g. pci-scope=cde',
    description:
      'Label that puts a namespace or pod in the cardholder data environment (default pci-scope=cde)',
  }),
  allowedRegistries: opt.list({
    env: 'VIGIL_ALLOWED_REGISTRIES',
    description:
      'Registries (host or host/path prefix) images may come from; others are findings. Empty: not checked',
  }),
  failOn: opt.enum({
    values: SEVERITY_WORDS,
    description: 'Exit with code 1 when a finding at or above this severity remains after the ignore file',
  }),
  ignoreFile: opt.string({
    env: 'VIGIL_IGNORE_FILE',
    description: 'Accepted risks: ids, scopes, reasons, expiry',
  }),
  entityType: opt.enum({
    env: 'VIGIL_ENTITY_TYPE',
    values: ['merchant', 'service_provider'],
    default: 'merchant',
    description: 'Assessed entity: service-provider-only requirements are not applicable to a merchant',
  }),
  timeout: opt.duration({
    default: 120_000,
    min: 1,
    description: 'Longest a one-shot command waits for the pipeline',
  }),
  // `vigil up` serves the runtime ingest endpoint when a token is set; its events go to --cluster's scope.
  ingestToken: runtimeIngestOptions.ingestToken,
  ingestMaxBody: runtimeIngestOptions.ingestMaxBody,
  ingestMaxInFlight: runtimeIngestOptions.ingestMaxInFlight,
  ingestPublishTimeout: runtimeIngestOptions.ingestPublishTimeout,
  ...eventLogOptions,
  eventLog: opt.enum({
    ...eventLogOptions.eventLog.spec,
    values: ['kafka', 'embedded'] as const,
    default: 'embedded',
  }),
  ...databaseOptions,
  ...telemetryOptions,
  logLevel: opt.enum({ ...telemetryOptions.logLevel.spec, values: LOG_LEVELS, default: 'warn' }),
});
