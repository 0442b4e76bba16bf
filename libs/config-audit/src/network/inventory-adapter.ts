import {
  NetworkIsolation,
  ServiceExposureSchema,
  ServicePortSchema,
  create,
  type ServiceExposure,
} from '@vigil/contracts';
import { type AuditContext } from '../checks/check.model.js';
import { type Workload } from '../model/workload.js';
import { analyzeNetwork, exposuresOf, workloadKey, type DirectionView } from './analysis.js';

const ISOLATION: Record<DirectionView['class'], NetworkIsolation> = {
  isolated: NetworkIsolation.ISOLATED,
  restricted: NetworkIsolation.RESTRICTED,
  open: NetworkIsolation.OPEN,
};

/** The network side of the inventory (buildInventory's isolationOf and exposures) from this module's analyses. */
export function networkInventory(ctx: AuditContext): {
  isolationOf: (w: Workload) => { ingress: NetworkIsolation; egress: NetworkIsolation };
  exposures: ServiceExposure[];
} {
  const analysis = analyzeNetwork(ctx);
  const exp = exposuresOf(ctx);
  const exposures = [
    ...exp.services.map((s) =>
      create(ServiceExposureSchema, {
        namespace: s.namespace,
        name: s.name,
        type: s.type,
        ports: s.ports.map((p) =>
          create(ServicePortSchema, {
            port: Number.isFinite(p.port) ? p.port : 0,
            protocol: p.protocol,
            targetPort: p.targetPort === undefined ? '' : String(p.targetPort),
            nodePort: p.nodePort ?? 0,
          }),
        ),
        selector: s.selector ?? {},
        hosts: [...s.externalIPs],
        external: s.external,
        workloads: s.workloads.map(workloadKey),
      }),
    ),
    ...exp.ingresses.map((i) =>
      create(ServiceExposureSchema, {
        namespace: i.namespace,
        name: i.name,
        type: 'Ingress',
        // Ingress traffic arrives on 443 where a tls entry covers the host, else on 80.
        ports: [
          ...(i.tls ? [create(ServicePortSchema, { port: 443, protocol: 'TCP' })] : []),
          ...(i.hostsWithoutTls.length ? [create(ServicePortSchema, { port: 80, protocol: 'TCP' })] : []),
        ],
        hosts: i.hosts,
        external: true,
        workloads: [...new Set(i.backends.flatMap((b) => b.workloads.map(workloadKey)))],
      }),
    ),
  ];
  return {
    isolationOf: (w) => {
      const v = analysis.of(w);
      return { ingress: ISOLATION[v.ingress.class], egress: ISOLATION[v.egress.class] };
    },
    exposures,
  };
}
