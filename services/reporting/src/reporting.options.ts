import { databaseOptions, defineOptions, opt } from '@vigil/config';

export const snapshotScheduleOptions = defineOptions({
  snapshotInterval: opt.duration({
    env: 'REPORTING_SNAPSHOT_INTERVAL',
    fileKey: 'reporting.snapshotInterval',
    default: 0,
    description:
      'Every this long (e.g. 1h), request a snapshot of each scope with events newer than its latest snapshot; ' +
      'runtime detections arriving over HTTP complete no scan, so this is what gives them a version. 0: off',
  }),
});

// The deployment's evidence signing key, for the exportEvidence mutation. A distributed deployment never makes
// one up: a bundle signed by a key nobody holds the public half of proves nothing, so without this the mutation
// answers that the option is missing. `vigil up` passes the data dir's own key instead (as `vigil evidence` uses).
export const evidenceOptions = defineOptions({
  signingKey: opt.string({
    env: 'VIGIL_SIGNING_KEY',
    fileKey: 'reporting.signingKey',
    description:
      'Path of the evidence signing key (Ed25519 PKCS#8 PEM, e.g. a mounted Kubernetes Secret) the exportEvidence ' +
      'mutation signs bundles with; the same key `vigil evidence key` exports the public half of. Unset: ' +
      'exportEvidence answers that it is not configured',
  }),
});

export const reportingOptions = defineOptions({
  ...databaseOptions,
  ...snapshotScheduleOptions,
  ...evidenceOptions,
  entityType: opt.enum({
    env: 'VIGIL_ENTITY_TYPE',
    fileKey: 'reporting.entityType',
    values: ['merchant', 'service_provider'],
    default: 'merchant',
    description: 'Assessed entity: service-provider-only requirements are not applicable to a merchant',
  }),
});
