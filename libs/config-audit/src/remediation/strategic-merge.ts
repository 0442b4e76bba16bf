import { type Json } from '../model/k8s-object.js';

/**
 * The list fields Kubernetes declares with patchStrategy "merge" and the key their elements are matched on
 * (x-kubernetes-patch-merge-key in the OpenAPI schema), restricted to the objects vigil audits and patches.
 * A list not named here is atomic in a strategic merge: the patch's list replaces the whole field.
 * Keys are the field name, optionally qualified by the field that holds it, so container ports (containerPort)
 * and Service ports (port) stay apart.
 */
const MERGE_KEYS: Record<string, string> = {
  // PodSpec
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  // topologySpreadConstraints is a list-map on (topologyKey, whenUnsatisfiable); the patch key is topologyKey.
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
  schedulingGates: 'name',
  // Container (and EphemeralContainer)
  'container.env': 'name',
  'container.ports': 'containerPort',
  'container.volumeMounts': 'mountPath',
  'container.volumeDevices': 'devicePath',
  'container.resizePolicy': 'resourceName',
  // ServiceSpec
  'service.ports': 'port',
  // ObjectMeta
  ownerReferences: 'uid',
};

const CONTAINER_GROUPS = new Set(['containers', 'initContainers', 'ephemeralContainers']);

/** Thrown for a patch the API server would reject; the message names the path and the problem. */
export class StrategicMergeError extends Error {
  constructor(path: string, problem: string) {
    super(`strategic merge patch at ${path || '(root)'}: ${problem}`);
    this.name = 'StrategicMergeError';
  }
}

// Where the merge is inside the object: enough context to tell which list a field name means.
interface Place {
  kind: string;
  /** Object field names from the root; a list element adds nothing, so a container's fields follow "containers". */
  fields: string[];
  /** Printable path for errors, e.g. spec.template.spec.containers[name=app]. */
  path: string;
}

function mergeKeyOf(place: Place, field: string): string | undefined {
  const parent = place.fields[place.fields.length - 1];
  if (parent !== undefined && CONTAINER_GROUPS.has(parent)) {
    const key = MERGE_KEYS[`container.${field}`];
    if (key) return key;
  }
  if (place.kind === 'Service' && field === 'ports' && place.fields.join('.') === 'spec')
    return MERGE_KEYS['service.ports'];
  if (field === 'ownerReferences') return parent === 'metadata' ? MERGE_KEYS[field] : undefined;
  // Qualified entries only match through the branches above; a data key with a dot is never a merge-keyed list.
  return field.includes('.') ? undefined : MERGE_KEYS[field];
}

const isMap = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Applies a strategic-merge patch to an object the way the API server does for the directives vigil emits
 * (Kubernetes docs, "Update API Objects in Place Using kubectl patch", and the strategic-merge-patch design note):
 * - maps merge key by key; a null value deletes the key;
 * - lists declared with a merge key merge element by element on that key (a new element is appended, a matched
 *   one is merged recursively, an element `{ <key>: x, $patch: delete }` removes the matching element);
 * - every other list, and every scalar, is replaced by the patch's value;
 * - `$patch: replace` in a map replaces the map instead of merging, `$patch: delete` in a map deletes it.
 * The target is not modified; the result is a new object. `kind` picks kind-specific merge keys (Service ports).
 */
export function applyStrategicMerge(target: Json, patch: Json, kind = String(target['kind'] ?? '')): Json {
  const merged = mergeMap(target, patch, { kind, fields: [], path: '' });
  return merged ?? {};
}

function mergeMap(target: Json | undefined, patch: Json, place: Place): Json | undefined {
  const directive = patch['$patch'];
  if (directive === 'delete') return undefined;
  if (directive === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return stripNulls(rest);
  }
  if (directive !== undefined)
    throw new StrategicMergeError(place.path, `unknown $patch directive ${JSON.stringify(directive)}`);
  for (const k of Object.keys(patch))
    if (k.startsWith('$'))
      throw new StrategicMergeError(place.path, `directive ${k} is not supported by this applier`);
  const out: Json = { ...(target ?? {}) };
  for (const [field, value] of Object.entries(patch)) {
    const path = place.path ? `${place.path}.${field}` : field;
    if (value === null) {
      delete out[field];
      continue;
    }
    const here: Place = { kind: place.kind, fields: [...place.fields, field], path };
    if (Array.isArray(value)) {
      const key = mergeKeyOf(place, field);
      out[field] = key ? mergeList(out[field], value, key, here) : value.map(stripNulls);
      continue;
    }
    if (isMap(value)) {
      const merged = mergeMap(isMap(out[field]) ? out[field] : undefined, value, here);
      if (merged === undefined) delete out[field];
      else out[field] = merged;
      continue;
    }
    out[field] = value;
  }
  return out;
}

function mergeList(target: unknown, patch: unknown[], key: string, place: Place): unknown[] {
  const out: unknown[] = Array.isArray(target) ? [...target] : [];
  for (const [i, item] of patch.entries()) {
    if (!isMap(item))
      throw new StrategicMergeError(`${place.path}[${i}]`, `a ${key}-keyed list element must be an object`);
    const id = item[key];
    if (id === undefined || id === null)
      throw new StrategicMergeError(
        `${place.path}[${i}]`,
        `element does not contain the declared merge key ${key}`,
      );
    const at = out.findIndex((t) => isMap(t) && t[key] === id);
    const elementPlace: Place = { ...place, path: `${place.path}[${key}=${String(id)}]` };
    if (item['$patch'] === 'delete') {
      if (at >= 0) out.splice(at, 1);
      continue;
    }
    const merged = mergeMap(at >= 0 ? (out[at] as Json) : undefined, item, elementPlace);
    if (at >= 0) {
      if (merged === undefined) out.splice(at, 1);
      else out[at] = merged;
    } else if (merged !== undefined) out.push(merged);
  }
  return out;
}

// A null inside a value that replaces (or creates) a field has nothing to delete; the API server drops it.
function stripNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map(stripNulls) as T;
  if (!isMap(value)) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = stripNulls(v);
  return out as T;
}
