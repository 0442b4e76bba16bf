import { type LoadError } from '../load/manifest-loader.js';
import { type Json, type LoadedObject } from '../model/k8s-object.js';
import { connect, statusMessage, type ConnectOptions, type KubeConnection } from './kube-connection.js';
import {
  apiVersionString,
  groupVersionPath,
  selectKinds,
  type LiveKind,
  type LiveKindInfo,
} from './live-kinds.js';

export interface ReadClusterOptions extends ConnectOptions {
  /** Restrict to these kinds (all of LIVE_KINDS when absent). */
  kinds?: readonly LiveKind[];
  signal?: AbortSignal;
  /** Per request; a request without an answer in time fails the read naming the server. */
  timeoutMs?: number;
  /** Items per list page (the `limit` parameter). Default 500, what kubectl uses. */
  pageSize?: number;
}

export interface ClusterIdentity {
  context: string;
  server: string;
  /** gitVersion from /version, when served. */
  version?: string;
  /** The kube-system namespace's uid: stable for the cluster's life, unlike its name in a kubeconfig. */
  uid?: string;
}

/** A kind not read because the server does not serve it; a note, not an error. */
export interface SkippedKind {
  kind: LiveKind;
  reason: string;
}

export interface ClusterReadResult {
  objects: LoadedObject[];
  /** Kinds that could not be read (403, a failing list), each naming the kind; the other kinds are still read. */
  errors: LoadError[];
  cluster: ClusterIdentity;
  skipped: SkippedKind[];
  /** Each read kind's list resourceVersion, where a watch of it starts. */
  resourceVersions: Partial<Record<LiveKind, string>>;
}

/** A kind resolved against discovery: the version the server serves it under. */
export interface ServedKind {
  info: LiveKindInfo;
  version: string;
}

export type ListOutcome =
  | { ok: true; objects: LoadedObject[]; resourceVersion: string }
  | { ok: false; error: LoadError }
  | { ok: false; skipped: SkippedKind };

const DEFAULT_PAGE_SIZE = 500;
const CONCURRENT_LISTS = 4;

/**
 * Reads every audited kind from a live cluster, all namespaces, as the raw JSON the server sent (so checks see
 * the same field names and string timestamps as in manifests). A kind the server does not serve is skipped with
 * a note; a kind it refuses is an error entry naming the permission; bad credentials, a bad kubeconfig or an
 * unreachable server throw.
 */
export async function readCluster(opts: ReadClusterOptions = {}): Promise<ClusterReadResult> {
  const kinds = selectKinds(opts.kinds);
  const conn = connect(opts);
  const request = { signal: opts.signal, timeoutMs: opts.timeoutMs };
  const { served, skipped } = await resolveKinds(conn, kinds, request);
  const version = await serverVersion(conn, request);

  const outcomes = await mapLimited(served, CONCURRENT_LISTS, (s) =>
    listKind(conn, s, { ...request, pageSize: opts.pageSize }),
  );
  const result: ClusterReadResult = {
    objects: [],
    errors: [],
    cluster: { context: conn.context, server: conn.server, ...(version ? { version } : {}) },
    skipped,
    resourceVersions: {},
  };
  outcomes.forEach((o, i) => {
    if (o.ok) {
      result.objects.push(...o.objects);
      result.resourceVersions[served[i]!.info.kind] = o.resourceVersion;
    } else if ('error' in o) result.errors.push(o.error);
    else result.skipped.push(o.skipped);
  });
  const uid = await clusterUid(conn, result.objects, request);
  if (uid) result.cluster.uid = uid;
  return result;
}

/** The `file` of a live object's SourcePosition: stable per cluster context and kind. */
export function liveSource(context: string, kind: string): string {
  return `live:${context}/${kind}`;
}

/** The API server refused the credentials: nothing else can be read, so this always ends the read or watch. */
export class CredentialsRejectedError extends Error {
  override name = 'CredentialsRejectedError';
}

export function unauthorized(conn: KubeConnection, path: string, text: string): Error {
  return new CredentialsRejectedError(
    `${conn.describe()}: the API server rejected the credentials (401 on GET ${path}: ${statusMessage(text)}); ` +
      'check the token, client certificate or exec plugin of the kubeconfig user',
  );
}

function parseJson(text: string): Json | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
  } catch {
    return undefined;
  }
}

/** Which of the kinds the server serves, and under which version, from /api and /apis. */
export async function resolveKinds(
  conn: KubeConnection,
  kinds: readonly LiveKindInfo[],
  request: { signal?: AbortSignal; timeoutMs?: number },
): Promise<{ served: ServedKind[]; skipped: SkippedKind[] }> {
  const servedGroupVersions = new Set<string>();
  for (const path of ['/api', '/apis']) {
    const res = await conn.get(path, request);
    if (res.status === 401) throw unauthorized(conn, path, res.text);
    const body = res.status === 200 ? parseJson(res.text) : undefined;
    if (!body) {
      throw new Error(
        `${conn.describe()}: discovery GET ${path} answered ${res.status}: ${statusMessage(res.text)} (is this a Kubernetes API server?)`,
      );
    }
    if (path === '/api') {
      for (const v of Array.isArray(body['versions']) ? body['versions'] : [])
        servedGroupVersions.add(String(v));
    } else {
      for (const g of Array.isArray(body['groups']) ? (body['groups'] as Json[]) : []) {
        for (const v of Array.isArray(g['versions']) ? (g['versions'] as Json[]) : []) {
          servedGroupVersions.add(String(v['groupVersion']));
        }
      }
    }
  }
  const served: ServedKind[] = [];
  const skipped: SkippedKind[] = [];
  for (const info of kinds) {
    const version = info.versions.find((v) => servedGroupVersions.has(apiVersionString(info.group, v)));
    if (version) served.push({ info, version });
    else {
      skipped.push({
        kind: info.kind,
        reason: `the server does not serve ${info.versions.map((v) => apiVersionString(info.group, v)).join(' or ')}`,
      });
    }
  }
  return { served, skipped };
}

/** Lists one kind in all namespaces, page by page, giving each item the kind and apiVersion of its list. */
export async function listKind(
  conn: KubeConnection,
  served: ServedKind,
  request: { signal?: AbortSignal; timeoutMs?: number; pageSize?: number },
): Promise<ListOutcome> {
  const { info, version } = served;
  const gv = apiVersionString(info.group, version);
  const file = liveSource(conn.context, info.kind);
  const base = `${groupVersionPath(info.group, version)}/${info.resource}`;
  const limit = request.pageSize ?? DEFAULT_PAGE_SIZE;
  let objects: LoadedObject[] = [];
  let resourceVersion = '';
  let cont: string | undefined;
  let restarted = false;
  for (;;) {
    const path = `${base}?limit=${limit}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`;
    const res = await conn.get(path, request);
    if (res.status === 401) throw unauthorized(conn, path, res.text);
    if (res.status === 403) {
      const scope = info.namespaced ? 'in all namespaces' : 'at cluster scope';
      return {
        ok: false,
        error: {
          file,
          message:
            `cannot list ${info.kind} (${info.resource} in API group "${info.group}") ${scope}: 403 ${statusMessage(res.text)}; ` +
            `the auditor needs the rule apiGroups: ["${info.group}"], resources: ["${info.resource}"], verbs: [get, list, watch]`,
        },
      };
    }
    if (res.status === 404) {
      return {
        ok: false,
        skipped: { kind: info.kind, reason: `the server serves ${gv} but not ${info.resource}` },
      };
    }
    // An expired continue token (etcd compacted during a long read): the list restarts once from a fresh snapshot.
    if (res.status === 410 && cont && !restarted) {
      restarted = true;
      objects = [];
      cont = undefined;
      continue;
    }
    const body = res.status === 200 ? parseJson(res.text) : undefined;
    if (!body || !Array.isArray(body['items'])) {
      return {
        ok: false,
        error: {
          file,
          message:
            res.status === 200
              ? `list of ${info.kind} at ${base} is not a List object (no items array)`
              : `list of ${info.kind} at ${base} answered ${res.status}: ${statusMessage(res.text)}`,
        },
      };
    }
    const meta = (body['metadata'] ?? {}) as Json;
    if (!resourceVersion) resourceVersion = String(meta['resourceVersion'] ?? '');
    const listKindName = typeof body['kind'] === 'string' ? body['kind'] : '';
    const kind = listKindName.endsWith('List') ? listKindName.slice(0, -'List'.length) : info.kind;
    const apiVersion = typeof body['apiVersion'] === 'string' ? body['apiVersion'] : gv;
    for (const item of body['items'] as unknown[]) {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) continue;
      objects.push({
        // Real list responses leave kind/apiVersion off their items; the checks key everything on kind.
        raw: { apiVersion, kind, ...(item as Json) },
        source: { file, document: 0, line: undefined, item: objects.length },
      });
    }
    cont = typeof meta['continue'] === 'string' && meta['continue'] ? meta['continue'] : undefined;
    if (!cont) return { ok: true, objects, resourceVersion };
  }
}

async function serverVersion(
  conn: KubeConnection,
  request: { signal?: AbortSignal; timeoutMs?: number },
): Promise<string | undefined> {
  const res = await conn.get('/version', request);
  if (res.status !== 200) return undefined;
  const body = parseJson(res.text);
  return typeof body?.['gitVersion'] === 'string' ? body['gitVersion'] : undefined;
}

async function clusterUid(
  conn: KubeConnection,
  objects: LoadedObject[],
  request: { signal?: AbortSignal; timeoutMs?: number },
): Promise<string | undefined> {
  const listed = objects.find(
    (o) =>
      o.raw['kind'] === 'Namespace' && (o.raw['metadata'] as Json | undefined)?.['name'] === 'kube-system',
  );
  let meta = listed ? (listed.raw['metadata'] as Json) : undefined;
  if (!meta) {
    const res = await conn.get('/api/v1/namespaces/kube-system', request);
    meta = res.status === 200 ? ((parseJson(res.text)?.['metadata'] ?? {}) as Json) : undefined;
  }
  const uid = meta?.['uid'];
  return typeof uid === 'string' && uid ? uid : undefined;
}

/** Runs fn over items with at most `limit` at a time, answering results in the items' order. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
