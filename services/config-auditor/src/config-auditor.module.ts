import {
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { TOPICS } from '@vigil/contracts';
import { type EventLog } from '@vigil/event-log';
import {
  EVENT_LOG,
  SERVICE_IDENTITY,
  scannerModule,
  type ScannerModuleOptions,
  type ServiceIdentity,
} from '@vigil/nest-kit';
import { putBlob } from '@vigil/store';
import { createLogger } from '@vigil/telemetry';
import { LiveAuditTrigger } from './live-audit.trigger.js';
import { CONFIG_AUDITOR_GROUP, configAuditorEngine } from './scan-request.consumer.js';

export type ConfigAuditorModuleOptions = ScannerModuleOptions & {
  clock?: () => Date;
  /** Read the cluster with the pod's service account when a request names no kubeconfig. */
  inCluster?: boolean;
  /** Ask for live audits on a schedule and after changes (the deployed service; absent in one-shot commands). */
  liveAudits?: {
    cluster: string;
    intervalMs: number;
    onChange: boolean;
    debounceMs: number;
    cdeLabel?: string;
  };
};

const LIVE_AUDIT_TRIGGER = 'vigil:config-auditor:live-audit-trigger';

// Starts the trigger once the application is up and stops it before the consumers drain.
class LiveAuditLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(private readonly trigger: LiveAuditTrigger) {}
  onApplicationBootstrap(): void {
    this.trigger.start();
  }
  async beforeApplicationShutdown(): Promise<void> {
    await this.trigger.stop();
  }
}

/** The config-auditor as a Nest module: standalone under bootstrapService, or one module among many in the all-in-one. */
@Module({})
export class ConfigAuditorModule {
  static forRoot(options: ConfigAuditorModuleOptions = {}): DynamicModule {
    const { clock, inCluster, liveAudits, ...scannerOptions } = options;
    const base = scannerModule(
      ConfigAuditorModule,
      {
        group: CONFIG_AUDITOR_GROUP,
        topic: TOPICS.scanRequests.config,
        engine: ({ sql }) =>
          configAuditorEngine({
            ...(sql ? { putBlob: (content, mediaType) => putBlob(sql, content, mediaType) } : {}),
            ...(clock ? { clock } : {}),
            ...(inCluster ? { inCluster } : {}),
          }),
      },
      scannerOptions,
    );
    if (!liveAudits || (liveAudits.intervalMs <= 0 && !liveAudits.onChange)) return base;
    const log = createLogger('config-auditor');
    return {
      ...base,
      providers: [
        ...(base.providers ?? []),
        {
          provide: LIVE_AUDIT_TRIGGER,
          inject: [EVENT_LOG, SERVICE_IDENTITY],
          useFactory: (eventLog: EventLog, identity: ServiceIdentity) =>
            new LiveAuditLifecycle(
              new LiveAuditTrigger({
                cluster: liveAudits.cluster,
                intervalMs: liveAudits.intervalMs,
                watch: liveAudits.onChange,
                debounceMs: liveAudits.debounceMs,
                connect: inCluster ? { inCluster: true } : {},
                ...(liveAudits.cdeLabel ? { cdeLabel: liveAudits.cdeLabel } : {}),
                publish: (record) => eventLog.publish([record]),
                producer: {
                  service: identity.service,
                  version: identity.version,
                  instance: identity.instance,
                },
                ...(clock ? { clock } : {}),
                log: { info: (m) => log.info(m), warn: (m) => log.warn(m) },
              }),
            ),
        },
      ],
    };
  }
}
