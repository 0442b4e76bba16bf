import { watchCluster, type ConnectOptions } from '@vigil/config-audit';
import {
  LiveClusterTargetSchema,
  ScanRequestedSchema,
  ScannerKind,
  TargetKind,
  TargetSchema,
  create,
  encodeEnvelope,
  newEnvelope,
  scanRequestTopic,
  type EventEnvelope,
} from '@vigil/contracts';
import { everyInterval, nameBasedId } from '@vigil/nest-kit';

export interface LiveAuditTriggerOptions {
  /** The scope cluster of the audits it asks for. */
  cluster: string;
  /** A full audit every this many milliseconds; 0: none on a schedule. */
  intervalMs: number;
  /** Ask for a re-audit when the cluster's objects change (list, then watch). */
  watch: boolean;
  /** Changes within this window are one re-audit. */
  debounceMs: number;
  connect: ConnectOptions;
  cdeLabel?: string;
  /** Puts a record on the log (scan.requests.config, keyed by the target key). */
  publish: (record: { topic: string; key: string; value: Uint8Array }) => Promise<void>;
  producer: { service: string; version: string; instance: string };
  clock?: () => Date;
  log?: { info(msg: string): void; warn(msg: string): void };
}

/**
 * Asks the config auditor for live-cluster audits: on a schedule and after the cluster changes. The audit itself is
 * the ordinary scan-request path, so a triggered audit is published, retried and resolved like any other. Every
 * replica may run a trigger: a tick's request id derives from the cluster and the tick's start, and a change's from
 * the last resourceVersion seen, so replicas that fire for the same reason publish the same event, and consumers
 * that are idempotent on event id (the reporting store) see it once.
 */
export class LiveAuditTrigger {
  private readonly abort = new AbortController();
  private stopSchedule: (() => void) | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private watching: Promise<void> | undefined;
  private lastVersion = '';

  constructor(private readonly options: LiveAuditTriggerOptions) {}

  start(): void {
    const { intervalMs } = this.options;
    if (intervalMs > 0)
      this.stopSchedule = everyInterval(
        intervalMs,
        (bucket) => this.request('schedule', `schedule:${bucket}`),
        this.options.clock,
      );
    if (this.options.watch) this.watching = this.watchChanges();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.stopSchedule?.();
    if (this.debounce) clearTimeout(this.debounce);
    await this.watching;
  }

  private async watchChanges(): Promise<void> {
    try {
      for await (const event of watchCluster({ ...this.options.connect, signal: this.abort.signal })) {
        if (event.type === 'ERROR') {
          this.options.log?.warn(`live audit watch: ${event.kind}: ${event.error.message}`);
          continue;
        }
        // The initial list is what the scheduled audit reads anyway; bookmarks are not changes.
        if (event.phase === 'list' || event.type === 'BOOKMARK') continue;
        const metadata = (event.object.raw['metadata'] ?? {}) as { resourceVersion?: string };
        this.lastVersion = `${event.kind}:${metadata.resourceVersion ?? ''}`;
        if (this.debounce) clearTimeout(this.debounce);
        this.debounce = setTimeout(() => {
          void this.request('watch', `change:${this.lastVersion}`);
        }, this.options.debounceMs);
      }
    } catch (err) {
      if (!this.abort.signal.aborted)
        this.options.log?.warn(`live audit watch stopped: ${(err as Error).message}`);
    }
  }

  private async request(by: 'schedule' | 'watch', reason: string): Promise<void> {
    if (this.abort.signal.aborted) return;
    const { cluster } = this.options;
    const id = nameBasedId(`${cluster}\n${reason}`);
    const envelope: EventEnvelope = newEnvelope({
      payload: {
        case: 'scanRequested',
        value: create(ScanRequestedSchema, {
          scanId: id,
          scanner: ScannerKind.CONFIG,
          scope: { cluster },
          target: create(TargetSchema, {
            kind: TargetKind.LIVE_CLUSTER,
            key: 'live',
            ref: {
              case: 'liveCluster',
              value: create(LiveClusterTargetSchema, { context: this.options.connect.context ?? '' }),
            },
          }),
          requestedBy: by,
          options: this.options.cdeLabel ? { 'cde-label': this.options.cdeLabel } : {},
        }),
      },
      scope: { cluster },
      subjectKey: 'live',
      producer: this.options.producer,
      newId: () => id,
      ...(this.options.clock ? { clock: this.options.clock } : {}),
    });
    try {
      await this.options.publish({
        topic: scanRequestTopic(ScannerKind.CONFIG),
        key: 'live',
        value: encodeEnvelope(envelope),
      });
      this.options.log?.info(`live audit requested (${by}, ${reason}) as scan ${id}`);
    } catch (err) {
      this.options.log?.warn(`live audit request (${by}) not published: ${(err as Error).message}`);
    }
  }
}
