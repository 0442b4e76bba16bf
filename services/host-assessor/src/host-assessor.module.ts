import {
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import {
  NodeTargetSchema,
  ScanRequestedSchema,
  ScannerKind,
  TOPICS,
  TargetKind,
  TargetSchema,
  create,
  encodeEnvelope,
  newEnvelope,
  scanRequestTopic,
} from '@vigil/contracts';
import { type EventLog } from '@vigil/event-log';
import {
  EVENT_LOG,
  SERVICE_IDENTITY,
  everyInterval,
  nameBasedId,
  scannerModule,
  type ScannerModuleOptions,
  type ServiceIdentity,
} from '@vigil/nest-kit';
import { putBlob } from '@vigil/store';
import { createLogger } from '@vigil/telemetry';
import { HOST_ASSESSOR_GROUP, hostAssessorEngine } from './scan-request.consumer.js';

export type HostAssessorModuleOptions = ScannerModuleOptions & {
  clock?: () => Date;
  /**
   * The node this instance runs on and where its root is mounted (the DaemonSet). Every instance then reads every
   * request in a group of its own and runs those for its node, and with `intervalMs` it asks for its own node's
   * assessment on a schedule.
   */
  node?: { name: string; root: string; intervalMs: number; cluster: string };
};

// Starts the schedule once the application is up and stops it before the consumers drain.
class NodeSchedule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private stop: (() => void) | undefined;
  constructor(private readonly start: () => () => void) {}
  onApplicationBootstrap(): void {
    this.stop = this.start();
  }
  beforeApplicationShutdown(): void {
    this.stop?.();
  }
}

/** The host-assessor as a Nest module: standalone under bootstrapService, or one module among many in the all-in-one. */
@Module({})
export class HostAssessorModule {
  static forRoot(options: HostAssessorModuleOptions = {}): DynamicModule {
    const { clock, node, ...scannerOptions } = options;
    const base = scannerModule(
      HostAssessorModule,
      {
        // A node's instance must see the requests for its node whichever partition they land on.
        group: node ? `${HOST_ASSESSOR_GROUP}.${node.name}` : HOST_ASSESSOR_GROUP,
        topic: TOPICS.scanRequests.host,
        // The advisory store and the blob table are the service database's; without one the host checks still
        // run and the package check says it was not tested.
        engine: ({ sql }) =>
          hostAssessorEngine({
            sql,
            ...(sql ? { putBlob: (content, mediaType) => putBlob(sql, content, mediaType) } : {}),
            ...(clock ? { clock } : {}),
            ...(node ? { node: { name: node.name, root: node.root } } : {}),
          }),
      },
      scannerOptions,
    );
    if (!node || node.intervalMs <= 0) return base;
    const log = createLogger('host-assessor');
    return {
      ...base,
      providers: [
        ...(base.providers ?? []),
        {
          provide: 'vigil:host-assessor:node-schedule',
          inject: [EVENT_LOG, SERVICE_IDENTITY],
          useFactory: (eventLog: EventLog, identity: ServiceIdentity) =>
            new NodeSchedule(() =>
              everyInterval(
                node.intervalMs,
                async (bucket) => {
                  // The same node and tick give the same request whichever instance sends it.
                  const id = nameBasedId(`${node.cluster}\n${node.name}\nschedule:${bucket}`);
                  const envelope = newEnvelope({
                    payload: {
                      case: 'scanRequested',
                      value: create(ScanRequestedSchema, {
                        scanId: id,
                        scanner: ScannerKind.HOST,
                        scope: { cluster: node.cluster },
                        target: create(TargetSchema, {
                          kind: TargetKind.NODE,
                          key: node.name,
                          ref: {
                            case: 'node',
                            value: create(NodeTargetSchema, { node: node.name, rootPath: node.root }),
                          },
                        }),
                        requestedBy: 'schedule',
                      }),
                    },
                    scope: { cluster: node.cluster },
                    subjectKey: node.name,
                    producer: {
                      service: identity.service,
                      version: identity.version,
                      instance: identity.instance,
                    },
                    newId: () => id,
                    ...(clock ? { clock } : {}),
                  });
                  try {
                    await eventLog.publish([
                      {
                        topic: scanRequestTopic(ScannerKind.HOST),
                        key: node.name,
                        value: encodeEnvelope(envelope),
                      },
                    ]);
                  } catch (err) {
                    log.warn(`scheduled assessment of ${node.name} not requested: ${(err as Error).message}`);
                  }
                },
                clock,
              ),
            ),
        },
      ],
    };
  }
}
