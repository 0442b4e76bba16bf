// The continuous loop: every image the inventory says runs (or is declared) in a cluster gets one ordinary
// ScanRequested per digest and advisory DB build, so the usual scan flow (ScanStarted/Completed, findings,
// snapshot) covers what the cluster runs without anyone asking.
import {
  ImageTargetSchema,
  ScanRequestedSchema,
  ScannerKind,
  TargetKind,
  TargetSchema,
  canonicalImageRef,
  create,
  decodeEnvelope,
  encodeEnvelope,
  newEnvelope,
  scanRequestTopic,
  type InventoryObserved,
} from '@vigil/contracts';
import type { ConsumedRecord, LogRecord } from '@vigil/event-log';
import { parseReference, resolveDigest, type RegistryCredentials } from '@vigil/image-scan';
import { nameBasedId } from '@vigil/nest-kit';
import type { RegistryAuth } from './registry-auth.js';

/** Its own group over the inventory topic: replicas split the inventory's partitions between them. */
export const IMAGE_SCANNER_INVENTORY_GROUP = 'vigil.image-scanner.inventory';

/** What the loop asks of the registry: the digest a tag points at now (HEAD on the manifest). */
export type DigestResolver = (
  ref: string,
  options: { credentials?: RegistryCredentials; insecure?: boolean; timeoutMs: number },
) => Promise<string>;

export interface InventoryScanLoopOptions {
  /** The advisory DB build now; a new build asks again for every image. Throws when the DB cannot be read. */
  dbBuild: () => Promise<string>;
  publish: (records: LogRecord[]) => Promise<void>;
  producer: { service: string; version: string; instance: string };
  auth: RegistryAuth;
  /** Registries spoken to over plain http (host[:port]); their requests carry insecure-registry=true. */
  insecureRegistries?: readonly string[];
  /** A tag's digest (or the registry's failure to answer) is reused this long before it is asked again. */
  resolveTtlMs?: number;
  /** How long one digest look-up may take before the ref is requested as declared. */
  resolveTimeoutMs?: number;
  /** Requests remembered (per DB build); the oldest are forgotten past it, and may be requested once more. */
  maxRemembered?: number;
  resolve?: DigestResolver;
  clock?: () => Date;
  log?: { info(msg: string): void; warn(msg: string): void };
}

/** One image as the inventory names it, with what is needed to reach it. */
interface Sighting {
  cluster: string;
  tenant: string;
  ref: string;
  digest: string;
  /** "namespace/name" of the pull secrets the kubelet would use. */
  pullSecrets: string[];
  /** "Deployment/payments/api container api", for log lines. */
  where: string;
  /** An Image item the scanner itself published: that digest has just been scanned. */
  scanned: boolean;
}

interface Pending {
  key: string;
  record: LogRecord;
  message: string;
}

interface Resolution {
  at: number;
  digest?: string;
  error?: string;
}

const DEFAULT_RESOLVE_TTL_MS = 10 * 60_000;
const DEFAULT_RESOLVE_TIMEOUT_MS = 15_000;
const DEFAULT_MAX_REMEMBERED = 100_000;
const MAX_WORKLOADS = 100_000;

const defaultResolver: DigestResolver = async (ref, options) =>
  (
    await resolveDigest(ref, {
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...(options.insecure ? { insecure: true } : {}),
      timeoutMs: options.timeoutMs,
      retries: 1,
    })
  ).digest;

/**
 * Reads InventoryObserved batches and publishes a ScanRequested (image target) for each image not yet requested
 * against the current DB build: keyed by the digest when there is one (declared, observed by the kubelet, or
 * resolved through the registry with the workload's pull secrets), else by the ref as declared, so an image no
 * registry answers for is asked for once per build, not on every inventory. Request ids derive from the key, so
 * two replicas that both ask (after a rebalance) publish the same event.
 */
export class InventoryScanLoop {
  private build: string | undefined;
  private readonly requested = new Set<string>();
  private readonly resolutions = new Map<string, Resolution>();
  /** Workload pull secrets by "cluster\0namespace/Kind/name", for containers that name none of their own. */
  private readonly workloadSecrets = new Map<string, string[]>();
  private readonly insecure: Set<string>;
  private readonly resolve: DigestResolver;
  private readonly now: () => Date;

  constructor(private readonly options: InventoryScanLoopOptions) {
    this.insecure = new Set((options.insecureRegistries ?? []).map((r) => r.toLowerCase()));
    this.resolve = options.resolve ?? defaultResolver;
    this.now = options.clock ?? (() => new Date());
  }

  /** The consumer's batch handler. Throws only when publishing fails, so the batch is retried. */
  async handle(records: readonly ConsumedRecord[]): Promise<void> {
    const sightings: Sighting[] = [];
    for (const record of records) {
      let observed: InventoryObserved;
      try {
        const envelope = decodeEnvelope(record.value);
        if (envelope.payload.case !== 'inventoryObserved') continue;
        observed = envelope.payload.value;
      } catch (err) {
        this.options.log?.warn(
          `inventory ${record.topic}/${record.partition}@${record.offset}: not an event envelope (${(err as Error).message}); skipped`,
        );
        continue;
      }
      sightings.push(...this.sightingsOf(observed));
    }
    if (sightings.length === 0) return;
    const build = await this.currentBuild();
    const pending: Pending[] = [];
    for (const s of sightings) {
      const request = await this.consider(s, build);
      if (request) pending.push(request);
    }
    if (pending.length === 0) return;
    // One publish per batch: a big cluster's first inventory is thousands of requests, not thousands of round trips.
    try {
      await this.options.publish(pending.map((p) => p.record));
    } catch (err) {
      // Not remembered, so the redelivered batch asks again (under the same ids).
      for (const p of pending) this.requested.delete(p.key);
      throw err;
    }
    for (const p of pending) this.options.log?.info(p.message);
  }

  private sightingsOf(observed: InventoryObserved): Sighting[] {
    const cluster = observed.scope?.cluster ?? '';
    const tenant = observed.scope?.tenant ?? '';
    const out: Sighting[] = [];
    // Workloads come before their containers in an inventory, possibly in an earlier batch of the same audit.
    for (const { item } of observed.items)
      if (item.case === 'workload') {
        const w = item.value;
        this.remember(this.workloadSecrets, `${cluster}\0${w.namespace}/${w.kind}/${w.name}`, [
          ...w.imagePullSecrets,
        ]);
      }
    for (const { item } of observed.items) {
      if (item.case === 'container') {
        const c = item.value;
        if (!c.imageRef && !c.imageDigest) continue;
        const own = c.imagePullSecrets.length
          ? [...c.imagePullSecrets]
          : (this.workloadSecrets.get(`${cluster}\0${c.namespace}/${c.workloadKind}/${c.workloadName}`) ??
            []);
        out.push({
          cluster,
          tenant,
          ref: c.imageRef,
          digest: c.imageDigest,
          pullSecrets: own.map((name) => `${c.namespace}/${name}`),
          where: `${c.workloadKind}/${c.namespace}/${c.workloadName} container ${c.name}`,
          scanned: false,
        });
      } else if (item.case === 'image') {
        const i = item.value;
        if (!i.ref && !i.digest) continue;
        // The scanner's own results carry the SBOM it made; anything else naming an image is a request.
        out.push({
          cluster,
          tenant,
          ref: i.ref,
          digest: i.digest,
          pullSecrets: [],
          where: `image ${i.ref || i.digest}`,
          scanned: i.sbom !== undefined,
        });
      }
    }
    return out;
  }

  private async currentBuild(): Promise<string> {
    let build: string;
    try {
      build = await this.options.dbBuild();
    } catch (err) {
      // The scans will answer UNAVAILABLE and say why; the loop still asks once, and again when the DB is back.
      this.options.log?.warn(`inventory scans: the advisory DB build is unknown (${(err as Error).message})`);
      build = 'unavailable';
    }
    if (build !== this.build) {
      if (this.build !== undefined)
        this.options.log?.info(`advisory DB build ${this.build} -> ${build}: images are requested again`);
      this.build = build;
      this.requested.clear();
    }
    return build;
  }

  /** The request to publish for this sighting, or undefined when there is none to make. */
  private async consider(s: Sighting, build: string): Promise<Pending | undefined> {
    const canonical = canonicalImageRef(s.ref || s.digest);
    if (typeof canonical === 'string') {
      this.options.log?.warn(`inventory ${s.where}: ${canonical}; no scan requested`);
      return;
    }
    const registry = canonical.key.slice(0, canonical.key.indexOf('/'));
    const insecure = this.insecure.has(registry.toLowerCase());
    let digest = s.digest || canonical.digest;
    if (digest && !/^sha256:[a-f0-9]{64}$/.test(digest)) {
      this.options.log?.warn(
        `inventory ${s.where}: digest "${digest}" is malformed; resolving the ref instead`,
      );
      digest = canonical.digest;
    }
    if (!digest && !s.scanned) digest = (await this.resolved(canonical.ref, registry, s, insecure)) ?? '';
    const key = `${s.cluster}\0${digest || canonical.key}`;
    if (this.requested.has(key)) return;
    this.requested.add(key);
    if (this.requested.size > (this.options.maxRemembered ?? DEFAULT_MAX_REMEMBERED))
      this.requested.delete(this.requested.values().next().value as string);
    if (s.scanned) return;

    const scanId = nameBasedId(`image-scanner inventory\n${s.tenant}\n${key}\n${build}`);
    const repo = canonical.ref.split('@')[0]!;
    const target = create(TargetSchema, {
      kind: TargetKind.IMAGE,
      key: canonical.key,
      ref: { case: 'image', value: create(ImageTargetSchema, { ref: repo, digest }) },
    });
    const requestOptions: Record<string, string> = {};
    if (s.pullSecrets.length) requestOptions['pull-secrets'] = s.pullSecrets.join(',');
    if (insecure) requestOptions['insecure-registry'] = 'true';
    const scope = { tenant: s.tenant, cluster: s.cluster };
    const envelope = newEnvelope({
      payload: {
        case: 'scanRequested',
        value: create(ScanRequestedSchema, {
          scanId,
          scanner: ScannerKind.IMAGE,
          scope,
          target,
          requestedBy: 'inventory',
          options: requestOptions,
        }),
      },
      scope,
      subjectKey: target.key,
      producer: this.options.producer,
      newId: () => scanId,
      clock: this.now,
    });
    return {
      key,
      record: {
        topic: scanRequestTopic(ScannerKind.IMAGE),
        key: target.key,
        value: encodeEnvelope(envelope),
      },
      message: `inventory ${s.where}: scan ${scanId} requested for ${repo}${digest ? `@${digest}` : ' (as declared)'} (DB build ${build})`,
    };
  }

  /** The digest the tag points at now, or undefined (logged) when the registry does not answer. */
  private async resolved(
    ref: string,
    registry: string,
    s: Sighting,
    insecure: boolean,
  ): Promise<string | undefined> {
    const cacheKey = `${ref}\0${s.pullSecrets.join(',')}`;
    const now = this.now().getTime();
    let r = this.resolutions.get(cacheKey);
    if (!r || now - r.at >= (this.options.resolveTtlMs ?? DEFAULT_RESOLVE_TTL_MS)) {
      try {
        parseReference(ref);
        const credentials = await this.options.auth.credentials(registry, s.pullSecrets);
        const digest = await this.resolve(ref, {
          ...(credentials ? { credentials } : {}),
          ...(insecure ? { insecure } : {}),
          timeoutMs: this.options.resolveTimeoutMs ?? DEFAULT_RESOLVE_TIMEOUT_MS,
        });
        r = { at: now, digest };
      } catch (err) {
        r = { at: now, error: (err as Error).message };
      }
      this.remember(this.resolutions, cacheKey, r);
      if (r.error)
        this.options.log?.warn(
          `inventory ${s.where}: registry ${registry} did not resolve ${ref} (${r.error}); requesting the ref as declared`,
        );
    }
    return r.digest;
  }

  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    if (map.size > MAX_WORKLOADS) map.delete(map.keys().next().value as string);
  }
}
