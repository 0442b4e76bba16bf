import { Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { TOPICS } from '@vigil/contracts';
import { type EventLog } from '@vigil/event-log';
import {
  ConsumerSupervisor,
  EVENT_LOG,
  SERVICE_DATABASE,
  SERVICE_IDENTITY,
  scannerModule,
  type ScannerModuleOptions,
  type ServiceIdentity,
} from '@vigil/nest-kit';
import { PostgresAdvisoryStore, putBlob, type Sql } from '@vigil/store';
import { createLogger } from '@vigil/telemetry';
import { IMAGE_SCANNER_INVENTORY_GROUP, InventoryScanLoop } from './inventory-scan.loop.js';
import { RegistryAuth, type KubeAccess } from './registry-auth.js';
import { IMAGE_SCANNER_GROUP, imageScannerEngine } from './scan-request.consumer.js';

export type ImageScannerModuleOptions = ScannerModuleOptions & {
  clock?: () => Date;
  allowedRegistries?: readonly string[];
  /** Where registry credentials come from: pull secrets through the cluster API, a mounted docker config. */
  registryAuth?: { kube?: KubeAccess; authFile?: string };
  /**
   * Subscribe to the inventory and request a scan of every image it names, once per digest and DB build (the
   * deployed service; absent in one-shot commands, which scan what they are asked to only).
   */
  inventoryScans?: { insecureRegistries?: readonly string[]; resolveTtlMs?: number };
};

const INVENTORY_SCANS = 'vigil:image-scanner:inventory-scans';

/** The image-scanner as a Nest module: standalone under bootstrapService, or one module among many in the all-in-one. */
@Module({})
export class ImageScannerModule {
  static forRoot(options: ImageScannerModuleOptions = {}): DynamicModule {
    const log = createLogger('image-scanner');
    const auth = new RegistryAuth({
      ...(options.registryAuth?.kube ? { kube: options.registryAuth.kube } : {}),
      ...(options.registryAuth?.authFile ? { authFile: options.registryAuth.authFile } : {}),
      log: { warn: (m) => log.warn(m) },
    });
    const base = scannerModule(
      ImageScannerModule,
      {
        group: IMAGE_SCANNER_GROUP,
        topic: TOPICS.scanRequests.image,
        engine: ({ sql }) =>
          imageScannerEngine({
            sql,
            ...(sql ? { putBlob: (content, mediaType) => putBlob(sql, content, mediaType) } : {}),
            ...(options.clock ? { clock: options.clock } : {}),
            ...(options.allowedRegistries ? { allowedRegistries: options.allowedRegistries } : {}),
            ...(auth.configured ? { registryAuth: auth } : {}),
          }),
      },
      options,
    );
    const loop = options.inventoryScans;
    if (!loop) return base;
    return {
      ...base,
      providers: [
        ...(base.providers ?? []),
        {
          provide: INVENTORY_SCANS,
          inject: [EVENT_LOG, SERVICE_IDENTITY, ConsumerSupervisor, SERVICE_DATABASE],
          useFactory: (
            eventLog: EventLog,
            identity: ServiceIdentity,
            supervisor: ConsumerSupervisor,
            sql: Sql | null,
          ): OnApplicationBootstrap => ({
            onApplicationBootstrap(): void {
              const advisories = sql ? new PostgresAdvisoryStore(sql) : null;
              const scans = new InventoryScanLoop({
                dbBuild: async () => {
                  if (!advisories) throw new Error('the image-scanner has no DATABASE_URL');
                  return (await advisories.info()).build;
                },
                publish: (records) => eventLog.publish(records),
                producer: {
                  service: identity.service,
                  version: identity.version,
                  instance: identity.instance,
                },
                auth,
                ...(loop.insecureRegistries ? { insecureRegistries: loop.insecureRegistries } : {}),
                ...(loop.resolveTtlMs !== undefined ? { resolveTtlMs: loop.resolveTtlMs } : {}),
                ...(options.clock ? { clock: options.clock } : {}),
                log: { info: (m) => log.info(m), warn: (m) => log.warn(m) },
              });
              supervisor.run({
                eventLog,
                group: IMAGE_SCANNER_INVENTORY_GROUP,
                topics: [TOPICS.inventory],
                handler: (records) => scans.handle(records),
              });
            },
          }),
        },
      ],
    };
  }
}
