import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { apiVersionProblem, isAuditedKind, type LoadedObject } from '../model/k8s-object.js';
import { podSpecProblem } from '../model/workload.js';

/** A document that could not be read; the rest of the input is still audited. */
export interface LoadError {
  file: string;
  /** 0-based position of the document in a multi-document file; absent for file-level errors. */
  document?: number;
  line?: number;
  message: string;
}

export interface LoadResult {
  objects: LoadedObject[];
  errors: LoadError[];
  files: string[];
}

export interface LoaderLimits {
  /** Larger files are rejected before parsing: a 50 MB manifest is an attack or a mistake, not a workload. */
  maxFileBytes: number;
  /** Aliases allowed per document; a "billion laughs" bomb needs many. */
  maxAliasCount: number;
}

export const DEFAULT_LOADER_LIMITS: LoaderLimits = { maxFileBytes: 8 * 1024 * 1024, maxAliasCount: 50 };

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** Reads every manifest file under the given paths (directories recursively, sorted for stable output). */
export async function loadManifests(
  paths: readonly string[],
  limits: LoaderLimits = DEFAULT_LOADER_LIMITS,
): Promise<LoadResult> {
  const result: LoadResult = { objects: [], errors: [], files: [] };
  for (const path of paths) {
    let files: string[];
    try {
      files = await listManifestFiles(path);
    } catch (err) {
      throw new Error(`cannot read manifests at ${path}: ${(err as Error).message}`, { cause: err });
    }
    for (const file of files) {
      result.files.push(file);
      await loadFile(file, limits, result);
    }
  }
  return result;
}

async function listManifestFiles(path: string): Promise<string[]> {
  const info = await stat(path);
  if (info.isFile()) return [path];
  if (!info.isDirectory()) throw new Error('not a file or directory');
  const out: string[] = [];
  const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const entry of entries) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) out.push(...(await listManifestFiles(full)));
    else if (entry.isFile() && MANIFEST_EXTENSIONS.has(extname(entry.name).toLowerCase())) out.push(full);
  }
  return out;
}

async function loadFile(file: string, limits: LoaderLimits, result: LoadResult): Promise<void> {
  const info = await stat(file);
  if (info.size > limits.maxFileBytes) {
    result.errors.push({
      file,
      message: `file is ${info.size} bytes, over the ${limits.maxFileBytes}-byte limit for one manifest file; not parsed`,
    });
    return;
  }
  const text = await readFile(file, 'utf8');
  parseManifestText(text, file, limits, result);
}

/**
 * The documents that could not be read, grouped by what is wrong with them, each problem with its first few places:
 * a directory holding 90 JSON files that are not manifests names the problem once, not 90 times.
 */
export function describeLoadErrors(errors: readonly LoadError[], placesShown = 3): string {
  const byProblem = new Map<string, string[]>();
  for (const e of errors) {
    const place = `${e.file}${e.document === undefined ? '' : ` document ${e.document}`}${e.line ? ` line ${e.line}` : ''}`;
    const places = byProblem.get(e.message) ?? [];
    places.push(place);
    byProblem.set(e.message, places);
  }
  return [...byProblem]
    .map(([problem, places]) =>
      places.length === 1
        ? `${places[0]}: ${problem}`
        : `${problem} (${places.length}: ${places.slice(0, placesShown).join(', ')}${places.length > placesShown ? `, and ${places.length - placesShown} more` : ''})`,
    )
    .join('; ');
}

/** Parses one file's text (YAML stream or JSON) into objects; exported so tests can feed bad input directly. */
export function parseManifestText(
  text: string,
  file: string,
  limits: LoaderLimits,
  result: Pick<LoadResult, 'objects' | 'errors'>,
): void {
  if (Buffer.byteLength(text, 'utf8') > limits.maxFileBytes) {
    result.errors.push({
      file,
      message: `over the ${limits.maxFileBytes}-byte limit for one manifest file; not parsed`,
    });
    return;
  }
  // YAML 1.2 is a superset of JSON, so one parser reads both and gives line numbers for each.
  const lineCounter = new LineCounter();
  // Duplicate keys: the API server's non-strict decoding keeps the last one, and so do we (real charts have them).
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, index) => {
    const line = doc.range ? lineCounter.linePos(doc.range[0]).line : undefined;
    if (doc.errors.length > 0) {
      const first = doc.errors[0]!;
      const at = first.pos ? lineCounter.linePos(first.pos[0]).line : line;
      result.errors.push({
        file,
        document: index,
        line: at,
        message: `invalid YAML: ${readable(first.message)}`,
      });
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: limits.maxAliasCount });
    } catch (err) {
      result.errors.push({
        file,
        document: index,
        line,
        message: readable((err as Error).message),
      });
      return;
    }
    if (value === null || value === undefined) return; // an empty document between separators
    addObject(value, { file, document: index, line }, result);
  });
}

// The parser's own words, but an exhausted call stack (a document nested thousands of levels deep) said as such.
function readable(message: string): string {
  if (/Maximum call stack size exceeded/.test(message))
    return 'nested too deeply to read (thousands of levels; no manifest needs that)';
  return message.split('\n')[0] || 'unreadable';
}

// Metadata of the wrong type is refused as the API server's decoding refuses it; a missing name is not, so that
// snippets lint as they do with the peer tools (their cases audit unnamed objects).
function metadataProblem(o: Record<string, unknown>): string | undefined {
  const m = o['metadata'];
  if (m === undefined || m === null) return undefined;
  if (typeof m !== 'object' || Array.isArray(m)) return 'metadata is not a mapping';
  return undefined;
}

function addObject(
  value: unknown,
  where: { file: string; document: number; line: number | undefined; item?: number },
  result: Pick<LoadResult, 'objects' | 'errors'>,
): void {
  const label = where.item === undefined ? '' : ` item ${where.item}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    result.errors.push({
      ...pos(where),
      message: `document${label} is not a Kubernetes object (a mapping with apiVersion and kind)`,
    });
    return;
  }
  const obj = value as Record<string, unknown>;
  const kind = obj['kind'];
  const apiVersion = obj['apiVersion'];
  if (typeof kind !== 'string' || kind === '') {
    result.errors.push({ ...pos(where), message: `document${label} has no kind` });
    return;
  }
  if (typeof apiVersion !== 'string' || apiVersion === '') {
    result.errors.push({ ...pos(where), message: `${kind}${label} has no apiVersion` });
    return;
  }
  // `kind: List` and typed lists (PodList, DeploymentList) as printed by `kubectl get -o json|yaml`.
  if (kind === 'List' || (kind.endsWith('List') && Array.isArray(obj['items']))) {
    const items = obj['items'];
    if (!Array.isArray(items)) {
      result.errors.push({ ...pos(where), message: `${kind} has no items array` });
      return;
    }
    const itemKind = kind === 'List' ? undefined : kind.slice(0, -'List'.length);
    items.forEach((item, i) => {
      // Items of typed lists from the API server omit kind and apiVersion; the list says what they are.
      if (itemKind && item && typeof item === 'object' && !Array.isArray(item)) {
        const it = item as Record<string, unknown>;
        if (it['kind'] === undefined) it['kind'] = itemKind;
        if (it['apiVersion'] === undefined) it['apiVersion'] = apiVersion;
      }
      addObject(item, { ...where, item: i }, result);
    });
    return;
  }
  const problem =
    apiVersionProblem(kind, apiVersion) ??
    (isAuditedKind(kind) ? metadataProblem(obj) : undefined) ??
    podSpecProblem(kind, obj);
  if (problem) {
    result.errors.push({ ...pos(where), message: `${kind}${label}: ${problem}; not audited` });
    return;
  }
  result.objects.push({
    raw: obj,
    source: { file: where.file, document: where.document, line: where.line, item: where.item },
  });
}

function pos(where: { file: string; document: number; line: number | undefined }): LoadError {
  return { file: where.file, document: where.document, line: where.line, message: '' };
}
