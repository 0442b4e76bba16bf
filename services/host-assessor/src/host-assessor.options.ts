import { defineOptions, opt, type ConfigOf } from '@vigil/config';

// The host-assessor's own options, beside the kit's. Read from the environment and the config file;
// bootstrapService parses the kit's flags only.
export const hostAssessorOptions = defineOptions({
  nodeName: opt.string({
    env: 'NODE_NAME',
    fileKey: 'hostAssess.nodeName',
    pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/,
    patternHint: 'a node name (letters, digits, dot, dash, underscore)',
    description:
      'The node this instance runs on (the DaemonSet sets it from spec.nodeName): it then runs only the requests for this node',
  }),
  hostRoot: opt.string({
    env: 'HOST_ROOT',
    fileKey: 'hostAssess.root',
    default: '/',
    description: "Where the node's root filesystem is mounted in this container (/host in the DaemonSet)",
  }),
  assessInterval: opt.duration({
    env: 'HOST_ASSESS_INTERVAL',
    fileKey: 'hostAssess.interval',
    default: 0,
    min: 0,
    description: 'Assess this node this often (e.g. 24h), with NODE_NAME set; 0: only on request',
  }),
  assessCluster: opt.string({
    env: 'HOST_ASSESS_CLUSTER',
    fileKey: 'hostAssess.cluster',
    default: 'default',
    pattern: /^[A-Za-z0-9][A-Za-z0-9._:-]{0,252}$/,
    patternHint: 'a name of letters, digits, dot, dash, colon or underscore',
    description: 'Scope (cluster) of the periodic assessments: part of every finding id',
  }),
});

export type HostAssessorConfig = ConfigOf<typeof hostAssessorOptions>;
