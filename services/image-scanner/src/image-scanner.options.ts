import { defineOptions, opt, type ConfigOf } from '@vigil/config';

// The image-scanner's own options, beside the kit's. Read from the environment and the config file;
// bootstrapService parses the kit's flags only.
export const imageScannerOptions = defineOptions({
  inventoryScans: opt.bool({
    env: 'IMAGE_SCANNER_INVENTORY_SCANS',
    fileKey: 'imageScanner.inventoryScans',
    default: true,
    description:
      'Scan every image the inventory names (running or declared) once per digest and advisory DB build; false: only on request',
  }),
  registryAuthFile: opt.string({
    env: 'IMAGE_SCANNER_REGISTRY_AUTH_FILE',
    fileKey: 'imageScanner.registryAuthFile',
    description:
      'A docker config.json (or .dockerconfigjson from a mounted Secret) with registry credentials, used when no pull secret has them',
  }),
  kubeconfig: opt.string({
    env: 'IMAGE_SCANNER_KUBECONFIG',
    fileKey: 'imageScanner.kubeconfig',
    description: "Read workloads' imagePullSecrets through this kubeconfig (its current-context)",
  }),
  inCluster: opt.bool({
    env: 'IMAGE_SCANNER_IN_CLUSTER',
    fileKey: 'imageScanner.inCluster',
    default: false,
    description:
      "Read workloads' imagePullSecrets with the pod's service account (needs get on secrets; set in the Deployment)",
  }),
  insecureRegistries: opt.list({
    env: 'IMAGE_SCANNER_INSECURE_REGISTRIES',
    fileKey: 'imageScanner.insecureRegistries',
    default: [],
    description: 'Registries (host[:port]) the inventory names that speak plain http, e.g. a local registry',
  }),
  resolveTtl: opt.duration({
    env: 'IMAGE_SCANNER_RESOLVE_TTL',
    fileKey: 'imageScanner.resolveTtl',
    default: 600_000,
    min: 0,
    description: "A tag's digest from the registry (or its failure to answer) is reused this long",
  }),
});

export type ImageScannerConfig = ConfigOf<typeof imageScannerOptions>;
