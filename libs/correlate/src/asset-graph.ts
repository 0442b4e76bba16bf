import {
  type Container,
  type EventEnvelope,
  type Finding,
  FindingSource,
  type Image,
  type InventoryObserved,
  type Namespace,
  type Node,
  type Pod,
  ScanStatus,
  ScannerKind,
  type ScanCompleted,
  type ServiceAccount,
  type ServiceExposure,
  type Workload,
  AssetKind,
} from '@vigil/contracts';
import {
  containerKey,
  namespaceKey,
  nodeKey,
  normalizeImageRef,
  podKey,
  scanKey,
  serviceAccountKey,
  workloadKey,
  workloadKeyFromRef,
  workloadOfAsset,
} from './keys.js';

/**
 * When a fact was stated and by which event. Facts are ordered by (occurred-at, event id), never by arrival, so
 * the graph is the same whatever order the topics interleave in.
 */
export interface Stamp {
  at: number;
  eventId: string;
  /** The scan that stated it, when one did: resolution and staleness go through the scan's target key. */
  scanId: string;
}

export interface Versioned<T> {
  value: T;
  cluster: string;
  stamp: Stamp;
}

export interface FindingRecord extends Versioned<Finding> {
  /** The workload the finding is on or in (config, runtime), when it names one. */
  workload?: string;
  node?: string;
}

interface ScanRecord {
  key: string;
  stamp: Stamp;
  findingIds: ReadonlySet<string>;
}

const newer = (a: Stamp, b: Stamp): boolean => a.at > b.at || (a.at === b.at && a.eventId > b.eventId);

function addTo<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}

const refKey = (cluster: string, ref: string) => `ref:${cluster}/${normalizeImageRef(ref)}`;
const digestKey = (cluster: string, digest: string) => `digest:${cluster}/${digest}`;

/** Why an event was rejected: names the event and the problem. */
export class CorrelateInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorrelateInputError';
  }
}

/**
 * The asset graph: image (digest, else reference) → containers → workloads → namespaces (CDE) → nodes, with each
 * workload's service account, exposure and egress, and the open findings on every asset. Built by `apply` from
 * envelopes in any order; applying an event twice is a no-op, and replaying the log rebuilds it.
 */
export class AssetGraph {
  private readonly seen = new Set<string>();
  readonly namespaces = new Map<string, Versioned<Namespace>>();
  readonly workloads = new Map<string, Versioned<Workload>>();
  readonly containers = new Map<string, Versioned<Container>>();
  readonly serviceAccounts = new Map<string, Versioned<ServiceAccount>>();
  readonly exposures = new Map<string, Versioned<ServiceExposure>>();
  readonly nodes = new Map<string, Versioned<Node>>();
  /** Pods of a live read by cluster/namespace/name: where the scheduler placed each workload's pods. */
  readonly pods = new Map<string, Versioned<Pod>>();
  /** Image inventory by normalized reference: what digest a tag pointed at when it was scanned. */
  private readonly images = new Map<string, Versioned<Image>>();
  readonly findings = new Map<string, FindingRecord>();

  private readonly containersOfWorkload = new Map<string, Set<string>>();
  private readonly workloadsOfNamespace = new Map<string, Set<string>>();
  private readonly workloadsOfServiceAccount = new Map<string, Set<string>>();
  private readonly containersByImage = new Map<string, Set<string>>();
  private readonly exposuresOfWorkload = new Map<string, Set<string>>();
  private readonly findingsByImage = new Map<string, Set<string>>();
  private readonly findingsByWorkload = new Map<string, Set<string>>();
  private readonly findingsByNode = new Map<string, Set<string>>();
  private readonly workloadsByNode = new Map<string, Set<string>>();
  private readonly podsOfWorkload = new Map<string, Set<string>>();
  private readonly daemonSets = new Set<string>();
  private readonly findingsOfScan = new Map<string, Set<string>>();
  private readonly inventoryOfScan = new Map<string, Set<string>>();
  private readonly scans = new Map<string, ScanRecord>();
  private readonly scansOfKey = new Map<string, Set<string>>();
  private readonly latestOfKey = new Map<string, string>();

  private readonly imageFindingsCache = new Map<string, FindingRecord[]>();
  private readonly imageCacheKeys = new Map<string, Set<string>>();
  private readonly hostFindingsCache = new Map<string, FindingRecord[]>();

  /** Workloads whose correlations may have changed since the last `takeDirty`. */
  private dirty = new Set<string>();
  /** Workloads where only some image findings changed, with those findings' ids. */
  private dirtyFindings = new Map<string, Set<string>>();
  private everythingDirty = true;

  /**
   * Events that changed the graph: not the ones it skips, and not the correlator's own output coming back (its
   * completions on the scans topic). A restarted correlator counts the same over the same input, so it derives the
   * same event ids, whatever it published in between.
   */
  get eventCount(): number {
    return this.folded;
  }
  private folded = 0;

  /** Applies one event; returns false when it was seen before or carries nothing the graph keeps. */
  apply(envelope: EventEnvelope): boolean {
    if (!envelope.eventId)
      throw new CorrelateInputError(`${envelope.eventType || 'event'}: event id is empty`);
    if (this.seen.has(envelope.eventId)) return false;
    const cluster = envelope.scope?.cluster ?? '';
    const at = envelope.occurredAt
      ? Number(envelope.occurredAt.seconds) * 1000 + Math.floor(envelope.occurredAt.nanos / 1e6)
      : 0;
    const p = envelope.payload;
    switch (p.case) {
      case 'findingReported': {
        const finding = p.value.finding;
        if (!finding?.id)
          throw new CorrelateInputError(`event ${envelope.eventId}: FindingReported carries no finding id`);
        // Our own output comes back on findings.correlated; correlating it again would feed on itself.
        if (finding.source === FindingSource.CORRELATED) {
          this.seen.add(envelope.eventId);
          return false;
        }
        this.applyFinding(finding, cluster, { at, eventId: envelope.eventId, scanId: p.value.scanId });
        break;
      }
      case 'inventoryObserved':
        this.applyInventory(p.value, envelope.scope?.cluster || p.value.scope?.cluster || '', {
          at,
          eventId: envelope.eventId,
          scanId: p.value.scanId,
        });
        break;
      case 'scanCompleted':
        // Our own completion: it lists our output, which the graph does not hold.
        if (p.value.scanner === ScannerKind.CORRELATOR) {
          this.seen.add(envelope.eventId);
          return false;
        }
        this.applyScan(p.value, envelope.scope?.cluster || p.value.scope?.cluster || '', {
          at,
          eventId: envelope.eventId,
          scanId: p.value.scanId,
        });
        break;
      default:
        this.seen.add(envelope.eventId);
        return false;
    }
    this.seen.add(envelope.eventId);
    this.folded++;
    return true;
  }

  /** The workloads to recompute: all of them after a rebuild, else those an event touched since the last call. */
  takeDirty(): { all: boolean; workloads: Set<string>; findings: Map<string, Set<string>> } {
    for (const w of this.dirty) this.dirtyFindings.delete(w);
    const out = { all: this.everythingDirty, workloads: this.dirty, findings: this.dirtyFindings };
    this.dirty = new Set();
    this.dirtyFindings = new Map();
    this.everythingDirty = false;
    return out;
  }

  // ---- liveness -------------------------------------------------------------------------------------------------

  private latestScan(scanId: string): ScanRecord | undefined {
    const own = this.scans.get(scanId);
    if (!own) return undefined;
    const latest = this.latestOfKey.get(own.key);
    return latest ? this.scans.get(latest) : undefined;
  }

  /**
   * A finding is open until a later completed scan of the same scanner, scope and target key leaves it out.
   * One whose scan has not completed (or that no scan stated) stays open.
   */
  isOpen(record: FindingRecord): boolean {
    if (!record.stamp.scanId) return true;
    const latest = this.latestScan(record.stamp.scanId);
    if (!latest) return true;
    if (latest.findingIds.has(record.value.id)) return true;
    return !newer(latest.stamp, record.stamp);
  }

  /** An inventory item is current unless a later completed scan of its target did not observe it again. */
  isCurrent(record: Versioned<unknown>): boolean {
    if (!record.stamp.scanId) return true;
    const latest = this.latestScan(record.stamp.scanId);
    if (!latest || latest.stamp.scanId === record.stamp.scanId) return true;
    return !newer(latest.stamp, record.stamp);
  }

  // ---- queries --------------------------------------------------------------------------------------------------

  current<T>(map: Map<string, Versioned<T>>, key: string): T | undefined {
    const r = map.get(key);
    return r && this.isCurrent(r) ? r.value : undefined;
  }

  containersOf(workload: string): Array<{ key: string; container: Container }> {
    const out: Array<{ key: string; container: Container }> = [];
    for (const key of this.containersOfWorkload.get(workload) ?? []) {
      const c = this.current(this.containers, key);
      if (c) out.push({ key, container: c });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** The digest a container runs: its own when pinned or resolved, else what the image inventory says of its tag. */
  effectiveDigest(cluster: string, container: Container): string {
    if (container.imageDigest) return container.imageDigest;
    return this.current(this.images, refKey(cluster, container.imageRef))?.digest ?? '';
  }

  /**
   * Open image findings on the image a container runs. Digests must agree when both sides know one. Many workloads
   * run one image, so the answer is kept per image until an image finding, image inventory or scan changes.
   */
  imageFindingsOf(cluster: string, container: Container): FindingRecord[] {
    const digest = this.effectiveDigest(cluster, container);
    const ref = refKey(cluster, container.imageRef);
    const cacheKey = `${ref}\u0000${digest}`;
    const cached = this.imageFindingsCache.get(cacheKey);
    if (cached) return cached;
    const found = this.lookupImageFindings(cluster, container, digest);
    this.imageFindingsCache.set(cacheKey, found);
    addTo(this.imageCacheKeys, ref, cacheKey);
    if (digest) addTo(this.imageCacheKeys, digestKey(cluster, digest), cacheKey);
    return found;
  }

  /** Forgets the cached image findings of one image (by ref or digest key); of all images when it names none. */
  private forgetImage(...keys: string[]): void {
    if (!keys.length) {
      this.imageFindingsCache.clear();
      this.imageCacheKeys.clear();
      return;
    }
    for (const key of keys) {
      for (const c of this.imageCacheKeys.get(key) ?? []) this.imageFindingsCache.delete(c);
      this.imageCacheKeys.delete(key);
    }
  }

  private lookupImageFindings(cluster: string, container: Container, digest: string): FindingRecord[] {
    const ids = new Set<string>([
      ...(this.findingsByImage.get(refKey(cluster, container.imageRef)) ?? []),
      ...(digest ? (this.findingsByImage.get(digestKey(cluster, digest)) ?? []) : []),
    ]);
    const out: FindingRecord[] = [];
    for (const id of ids) {
      const r = this.findings.get(id);
      if (!r || !this.isOpen(r)) continue;
      const fd = r.value.asset?.imageDigest ?? '';
      if (digest && fd && fd !== digest) continue;
      out.push(r);
    }
    return out.sort((a, b) => (a.value.id < b.value.id ? -1 : 1));
  }

  /** Open config and runtime findings on a workload or its containers. */
  workloadFindingsOf(workload: string): FindingRecord[] {
    const out: FindingRecord[] = [];
    for (const id of this.findingsByWorkload.get(workload) ?? []) {
      const r = this.findings.get(id);
      if (r && this.isOpen(r)) out.push(r);
    }
    return out.sort((a, b) => (a.value.id < b.value.id ? -1 : 1));
  }

  /**
   * Open host findings on a node. Every workload on the node (and every DaemonSet, on all nodes) asks on each
   * recompute, so the answer is kept until a host finding of the node or a host scan changes it.
   */
  hostFindingsOf(node: string): FindingRecord[] {
    let out = this.hostFindingsCache.get(node);
    if (!out) this.hostFindingsCache.set(node, (out = this.lookupHostFindings(node)));
    return out;
  }

  private lookupHostFindings(node: string): FindingRecord[] {
    const out: FindingRecord[] = [];
    for (const id of this.findingsByNode.get(node) ?? []) {
      const r = this.findings.get(id);
      if (r && this.isOpen(r)) out.push(r);
    }
    return out.sort((a, b) => (a.value.id < b.value.id ? -1 : 1));
  }

  exposuresOf(workload: string): ServiceExposure[] {
    const out: ServiceExposure[] = [];
    for (const key of [...(this.exposuresOfWorkload.get(workload) ?? [])].sort()) {
      const e = this.current(this.exposures, key);
      if (e && e.workloads.some((w) => workloadKeyFromRef(this.clusterOf(workload), w) === workload))
        out.push(e);
    }
    return out;
  }

  /**
   * The workload's pods that a current inventory places and that still run: a pod that finished, or that a later
   * read of the cluster no longer lists (deleted, rescheduled under a new name), is placed nowhere.
   */
  podsOf(workload: string): Pod[] {
    const out: Pod[] = [];
    for (const key of this.podsOfWorkload.get(workload) ?? []) {
      const p = this.current(this.pods, key);
      if (p && p.phase !== 'Succeeded' && p.phase !== 'Failed') out.push(p);
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * The nodes a workload's pods run on: where the inventory's pods are scheduled, and where open runtime
   * detections saw them (a detection names its node, and a cluster read from manifests has no pods); a DaemonSet
   * runs on every node the graph knows.
   */
  nodesOf(workload: string): string[] {
    const nodes = new Set<string>();
    const cluster = this.clusterOf(workload);
    for (const p of this.podsOf(workload)) if (p.nodeName) nodes.add(nodeKey(cluster, p.nodeName));
    for (const r of this.workloadFindingsOf(workload)) if (r.node) nodes.add(r.node);
    if (this.daemonSets.has(workload)) {
      for (const n of this.nodes.keys()) if (n.startsWith(`${cluster}/`)) nodes.add(n);
      for (const n of this.findingsByNode.keys()) if (n.startsWith(`${cluster}/`)) nodes.add(n);
    }
    return [...nodes].sort();
  }

  workloadKeys(): string[] {
    return [...this.workloads.keys()].sort();
  }

  clusterOf(key: string): string {
    return this.workloads.get(key)?.cluster ?? key.slice(0, key.indexOf('/'));
  }

  // ---- apply ----------------------------------------------------------------------------------------------------

  private markWorkload(w: string | undefined): void {
    if (w) this.dirty.add(w);
  }

  private markImage(imageKey: string, onlyFinding?: string): void {
    // Before the first recompute every workload is recomputed anyway: fanning out to each container is waste.
    if (this.everythingDirty) return;
    for (const c of this.containersByImage.get(imageKey) ?? []) {
      const w = c.slice(0, c.lastIndexOf('#'));
      // One image finding changed: only the correlations of that finding in these workloads can change.
      if (onlyFinding) addTo(this.dirtyFindings, w, onlyFinding);
      else this.dirty.add(w);
    }
  }

  private markNode(node: string): void {
    if (this.everythingDirty) return;
    for (const w of this.workloadsByNode.get(node) ?? []) this.dirty.add(w);
    for (const w of this.daemonSets) this.dirty.add(w);
  }

  private markFinding(r: FindingRecord): void {
    const f = r.value;
    if (f.source === FindingSource.IMAGE) {
      if (f.asset?.imageRef) this.markImage(refKey(r.cluster, f.asset.imageRef), f.id);
      if (f.asset?.imageDigest) this.markImage(digestKey(r.cluster, f.asset.imageDigest), f.id);
    }
    this.markWorkload(r.workload);
    if (r.node) {
      if (f.source === FindingSource.HOST) this.markNode(r.node);
      else if (r.workload) addTo(this.workloadsByNode, r.node, r.workload);
    }
  }

  private applyFinding(finding: Finding, envelopeCluster: string, stamp: Stamp): void {
    const cluster = finding.asset?.cluster || envelopeCluster;
    const old = this.findings.get(finding.id);
    if (stamp.scanId) addTo(this.findingsOfScan, stamp.scanId, finding.id);
    if (old && !newer(stamp, old.stamp)) {
      // An older statement of the same finding changes nothing, but its scan still counts for resolution.
      return;
    }
    const asset = finding.asset;
    const record: FindingRecord = { value: finding, cluster, stamp };
    if (asset) {
      if (finding.source !== FindingSource.IMAGE && finding.source !== FindingSource.HOST)
        record.workload =
          workloadOfAsset(asset, cluster) ??
          // Kept under the Service or Ingress: the workloads it exposes read it through their exposures.
          (finding.source === FindingSource.CONFIG &&
          (asset.resourceKind === 'Service' || asset.resourceKind === 'Ingress') &&
          asset.name
            ? workloadKey(asset.cluster || cluster, asset.resourceKind, asset.namespace, asset.name)
            : undefined);
      const node = asset.node || (asset.kind === AssetKind.NODE ? asset.name : '');
      if (node) record.node = nodeKey(cluster, node);
    }
    if (old) this.unindexFinding(old);
    if (old?.node) this.hostFindingsCache.delete(old.node);
    if (record.node) this.hostFindingsCache.delete(record.node);
    this.findings.set(finding.id, record);
    if (finding.source === FindingSource.IMAGE) {
      const keys = [old?.value.asset, asset].flatMap((a) => [
        ...(a?.imageRef ? [refKey(cluster, a.imageRef)] : []),
        ...(a?.imageDigest ? [digestKey(cluster, a.imageDigest)] : []),
      ]);
      if (keys.length) this.forgetImage(...keys);
      else this.forgetImage();
    }
    if (finding.source === FindingSource.IMAGE && asset) {
      if (asset.imageRef) addTo(this.findingsByImage, refKey(cluster, asset.imageRef), finding.id);
      if (asset.imageDigest) addTo(this.findingsByImage, digestKey(cluster, asset.imageDigest), finding.id);
    } else if (finding.source === FindingSource.HOST && record.node) {
      addTo(this.findingsByNode, record.node, finding.id);
    } else if (record.workload) {
      addTo(this.findingsByWorkload, record.workload, finding.id);
    }
    if (old) this.markFinding(old);
    this.markFinding(record);
  }

  private unindexFinding(r: FindingRecord): void {
    const a = r.value.asset;
    if (a?.imageRef) removeFrom(this.findingsByImage, refKey(r.cluster, a.imageRef), r.value.id);
    if (a?.imageDigest) removeFrom(this.findingsByImage, digestKey(r.cluster, a.imageDigest), r.value.id);
    if (r.node) removeFrom(this.findingsByNode, r.node, r.value.id);
    if (r.workload) removeFrom(this.findingsByWorkload, r.workload, r.value.id);
  }

  private put<T>(
    map: Map<string, Versioned<T>>,
    key: string,
    value: T,
    cluster: string,
    stamp: Stamp,
  ): boolean {
    const old = map.get(key);
    if (old && !newer(stamp, old.stamp)) return false;
    map.set(key, { value, cluster, stamp });
    return true;
  }

  private applyInventory(inv: InventoryObserved, cluster: string, stamp: Stamp): void {
    if (!cluster)
      throw new CorrelateInputError(`event ${stamp.eventId}: InventoryObserved has no scope cluster`);
    for (const { item } of inv.items) {
      switch (item.case) {
        case 'namespace': {
          const key = namespaceKey(cluster, item.value.name);
          if (this.put(this.namespaces, key, item.value, cluster, stamp))
            for (const w of this.workloadsOfNamespace.get(key) ?? []) this.dirty.add(w);
          break;
        }
        case 'workload': {
          const w = item.value;
          const key = workloadKey(cluster, w.kind, w.namespace, w.name);
          const old = this.workloads.get(key)?.value;
          if (!this.put(this.workloads, key, w, cluster, stamp)) break;
          if (old)
            removeFrom(
              this.workloadsOfServiceAccount,
              serviceAccountKey(cluster, old.namespace, old.serviceAccount),
              key,
            );
          addTo(this.workloadsOfNamespace, namespaceKey(cluster, w.namespace), key);
          addTo(
            this.workloadsOfServiceAccount,
            serviceAccountKey(cluster, w.namespace, w.serviceAccount || 'default'),
            key,
          );
          if (w.kind === 'DaemonSet') this.daemonSets.add(key);
          this.dirty.add(key);
          if (stamp.scanId) addTo(this.inventoryOfScan, stamp.scanId, key);
          break;
        }
        case 'container': {
          const c = item.value;
          const wk = workloadKey(cluster, c.workloadKind, c.namespace, c.workloadName);
          const key = containerKey(wk, c.name);
          const old = this.containers.get(key)?.value;
          if (!this.put(this.containers, key, c, cluster, stamp)) break;
          if (old) {
            removeFrom(this.containersByImage, refKey(cluster, old.imageRef), key);
            if (old.imageDigest) removeFrom(this.containersByImage, digestKey(cluster, old.imageDigest), key);
          }
          addTo(this.containersOfWorkload, wk, key);
          addTo(this.containersByImage, refKey(cluster, c.imageRef), key);
          if (c.imageDigest) addTo(this.containersByImage, digestKey(cluster, c.imageDigest), key);
          this.dirty.add(wk);
          if (stamp.scanId) addTo(this.inventoryOfScan, stamp.scanId, wk);
          break;
        }
        case 'serviceAccount': {
          const sa = item.value;
          const key = serviceAccountKey(cluster, sa.namespace, sa.name);
          if (!this.put(this.serviceAccounts, key, sa, cluster, stamp)) break;
          for (const w of this.workloadsOfServiceAccount.get(key) ?? []) this.dirty.add(w);
          for (const ref of sa.workloads) this.markWorkload(workloadKeyFromRef(cluster, ref));
          break;
        }
        case 'serviceExposure': {
          const e = item.value;
          const key = `${cluster}/${e.namespace}/${e.type}/${e.name}`;
          const old = this.exposures.get(key)?.value;
          if (!this.put(this.exposures, key, e, cluster, stamp)) break;
          for (const ref of [...(old?.workloads ?? []), ...e.workloads]) {
            const w = workloadKeyFromRef(cluster, ref);
            if (!w) continue;
            addTo(this.exposuresOfWorkload, w, key);
            this.dirty.add(w);
            if (stamp.scanId) addTo(this.inventoryOfScan, stamp.scanId, w);
          }
          break;
        }
        case 'image': {
          const img = item.value;
          if (!img.ref) break;
          const key = refKey(cluster, img.ref);
          if (this.put(this.images, key, img, cluster, stamp)) {
            this.forgetImage(key);
            this.markImage(key);
          }
          break;
        }
        case 'pod': {
          const pod = item.value;
          if (!pod.name || !pod.workloadKind || !pod.workloadName)
            throw new CorrelateInputError(
              `event ${stamp.eventId}: inventory pod "${pod.namespace}/${pod.name}" names no pod or no workload`,
            );
          const key = podKey(cluster, pod.namespace, pod.name);
          const old = this.pods.get(key)?.value;
          if (!this.put(this.pods, key, pod, cluster, stamp)) break;
          const wk = workloadKey(cluster, pod.workloadKind, pod.namespace, pod.workloadName);
          if (old) {
            const was = workloadKey(cluster, old.workloadKind, old.namespace, old.workloadName);
            if (was !== wk) removeFrom(this.podsOfWorkload, was, key);
            this.dirty.add(was);
          }
          addTo(this.podsOfWorkload, wk, key);
          // Host findings on the node must reach the workload; a stale entry only costs a recompute.
          if (pod.nodeName) addTo(this.workloadsByNode, nodeKey(cluster, pod.nodeName), wk);
          this.dirty.add(wk);
          if (stamp.scanId) addTo(this.inventoryOfScan, stamp.scanId, wk);
          break;
        }
        case 'node': {
          const key = nodeKey(cluster, item.value.name);
          if (this.put(this.nodes, key, item.value, cluster, stamp)) this.markNode(key);
          break;
        }
        default:
          break;
      }
    }
  }

  private applyScan(scan: ScanCompleted, cluster: string, stamp: Stamp): void {
    if (!scan.scanId) throw new CorrelateInputError(`event ${stamp.eventId}: ScanCompleted has no scan id`);
    // Only an ok scan resolves anything; a failed or unavailable one checked nothing.
    if (scan.status !== ScanStatus.OK) return;
    // Which image findings are open changes with an image scan's completion: of its findings' images.
    if (scan.scanner === ScannerKind.IMAGE) this.forgetImage();
    // Any completion may resolve host findings (a host scan does; the graph does not assume only it can).
    this.hostFindingsCache.clear();
    const key = scanKey(scan.scanner, cluster, scan.targetKey);
    this.scans.set(scan.scanId, { key, stamp, findingIds: new Set(scan.findingIds) });
    addTo(this.scansOfKey, key, scan.scanId);
    const latest = this.latestOfKey.get(key);
    const latestStamp = latest ? this.scans.get(latest)?.stamp : undefined;
    if (!latestStamp || newer(stamp, latestStamp)) this.latestOfKey.set(key, scan.scanId);
    // Every finding and inventory item of this target may have opened, resolved or gone stale.
    for (const scanId of this.scansOfKey.get(key) ?? []) {
      for (const id of this.findingsOfScan.get(scanId) ?? []) {
        const r = this.findings.get(id);
        if (r) this.markFinding(r);
      }
      for (const w of this.inventoryOfScan.get(scanId) ?? []) this.dirty.add(w);
    }
  }
}
