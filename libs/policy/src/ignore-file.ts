import { readFile, stat } from 'node:fs/promises';
import { isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { type IgnoreFile, type IgnoreRule } from './ignore-rule.model.js';

/** Ignore files are short lists written by hand; anything bigger is a mistake or an attack. */
export const MAX_IGNORE_FILE_BYTES = 1024 * 1024;
/** Anchors and aliases are allowed for sharing a scope, but few: this stops billion-laughs expansion early. */
export const MAX_ALIAS_COUNT = 10;

export class IgnoreFileError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly index?: number,
    readonly line?: number,
  ) {
    super(`ignore file ${file}: ${problem}`);
    this.name = 'IgnoreFileError';
  }
}

const SCOPE_FIELDS = ['cluster', 'namespace', 'workload', 'name', 'image', 'package', 'path'] as const;
const ENTRY_FIELDS = new Set<string>(['id', 'reason', 'expires', 'owner', ...SCOPE_FIELDS]);
// Field names .trivyignore.yaml users will reach for, and what they are called here.
const TRIVY_NAMES: Record<string, string> = {
  statement: 'reason',
  expired_at: 'expires',
  paths: 'path',
  purls: 'package',
};
const TRIVY_SECTIONS = new Set(['vulnerabilities', 'misconfigurations', 'secrets', 'licenses']);

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function validCalendarDate(y: number, m: number, d: number): boolean {
  const probe = new Date(Date.UTC(y, m - 1, d));
  return probe.getUTCFullYear() === y && probe.getUTCMonth() === m - 1 && probe.getUTCDate() === d;
}

/** Parses an `expires` value; undefined when it is not an ISO date or date-time with zone. */
export function parseExpiry(value: string): Date | undefined {
  const date = DATE_ONLY.exec(value);
  if (date) {
    const [y, m, d] = [Number(date[1]), Number(date[2]), Number(date[3])];
    return validCalendarDate(y, m, d) ? new Date(Date.UTC(y, m - 1, d)) : undefined;
  }
  const dt = DATE_TIME.exec(value);
  if (!dt) return undefined;
  const [y, m, d, hh, mm, ss] = [dt[1], dt[2], dt[3], dt[4], dt[5], dt[6] ?? '0'].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (!validCalendarDate(y, m, d) || hh > 23 || mm > 59 || ss > 59) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : new Date(t);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `${typeof value} ${JSON.stringify(value)}`;
}

/**
 * Parses and validates ignore-file content. `file` names the source in every error. Pure apart from the text.
 */
export function parseIgnoreFile(text: string, file: string): IgnoreFile {
  if (Buffer.byteLength(text, 'utf8') > MAX_IGNORE_FILE_BYTES) {
    throw new IgnoreFileError(file, `larger than ${MAX_IGNORE_FILE_BYTES} bytes`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const where = syntax.linePos ? ` at line ${syntax.linePos[0].line}, column ${syntax.linePos[0].col}` : '';
    const what = syntax.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? syntax.code;
    throw new IgnoreFileError(
      file,
      `YAML syntax error${where}: ${what}`,
      undefined,
      syntax.linePos?.[0].line,
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    throw new IgnoreFileError(file, `cannot be expanded: ${(err as Error).message}`);
  }
  if (data === null || data === undefined) return { file, rules: [] };
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new IgnoreFileError(
      file,
      `expected a mapping with an "ignores" list at the top, found ${describe(data)}`,
    );
  }
  const top = data as Record<string, unknown>;
  for (const key of Object.keys(top)) {
    if (key === 'ignores' || key === 'version') continue;
    const hint = TRIVY_SECTIONS.has(key) ? ' (list every entry under "ignores", whatever its source)' : '';
    throw new IgnoreFileError(file, `unknown top-level field "${key}"${hint}; allowed: version, ignores`);
  }
  if (top.version !== undefined && top.version !== 1) {
    throw new IgnoreFileError(
      file,
      `unsupported version ${describe(top.version)} (this release reads version 1)`,
    );
  }
  const entries = top.ignores;
  if (entries === undefined || entries === null) return { file, rules: [] };
  if (!Array.isArray(entries))
    throw new IgnoreFileError(file, `"ignores" must be a list, found ${describe(entries)}`);

  const entryNodes = (() => {
    const node = doc.get('ignores', true) as Node | undefined;
    return isSeq(node) ? node.items : [];
  })();
  const lineOf = (i: number): number | undefined => {
    const offset = (entryNodes[i] as Node | undefined)?.range?.[0];
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };

  const rules = entries.map((entry: unknown, index) => parseEntry(entry, file, index, lineOf(index)));
  return { file, rules };
}

function parseEntry(entry: unknown, file: string, index: number, line: number | undefined): IgnoreRule {
  const rawId =
    typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>).id : undefined;
  const label = `ignores[${index}]${typeof rawId === 'string' && rawId.trim() !== '' ? ` (id ${rawId.trim()})` : ''}`;
  const at = line === undefined ? '' : ` at line ${line}`;
  const fail = (problem: string): never => {
    throw new IgnoreFileError(file, `${label}${at}: ${problem}`, index, line);
  };
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    return fail(`expected a mapping with id and reason, found ${describe(entry)}`);
  }
  const e = entry as Record<string, unknown>;
  for (const key of Object.keys(e)) {
    if (ENTRY_FIELDS.has(key)) continue;
    const hint = TRIVY_NAMES[key] ? ` (use "${TRIVY_NAMES[key]}")` : '';
    fail(`unknown field "${key}"${hint}; allowed: ${[...ENTRY_FIELDS].join(', ')}`);
  }
  const text = (field: string, required: boolean): string | undefined => {
    const v = e[field];
    if (v === undefined || v === null) return required ? fail(`"${field}" is required`) : undefined;
    if (typeof v !== 'string' || v.trim() === '')
      return fail(`"${field}" must be a non-empty string, found ${describe(v)}`);
    return v.trim();
  };
  const list = (field: string): string[] | undefined => {
    const v = e[field];
    if (v === undefined || v === null) return undefined;
    const values = Array.isArray(v) ? v : [v];
    if (values.length === 0) fail(`"${field}" must not be an empty list`);
    return values.map((x, i) =>
      typeof x === 'string' && x.trim() !== ''
        ? x.trim()
        : fail(
            `"${field}"${Array.isArray(v) ? `[${i}]` : ''} must be a non-empty string, found ${describe(x)}`,
          ),
    );
  };

  const id = text('id', true) as string;
  const reason = text('reason', true) as string;
  const owner = text('owner', false);
  const expires = text('expires', false);
  let expiresAt: Date | undefined;
  if (expires !== undefined) {
    expiresAt = parseExpiry(expires);
    if (!expiresAt)
      fail(`"expires" is not a valid ISO date (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ): "${expires}"`);
  }
  if (e.workload !== undefined && e.name !== undefined)
    fail('give the workload as "workload" or "name", not both');
  const rule: IgnoreRule = {
    id,
    reason,
    ...(owner !== undefined && { owner }),
    ...(expires !== undefined && { expires, expiresAt }),
    ...optional('cluster', list('cluster')),
    ...optional('namespace', list('namespace')),
    ...optional('workload', list('workload') ?? list('name')),
    ...optional('image', list('image')),
    ...optional('package', list('package')),
    ...optional('path', list('path')),
    origin: { file, index, ...(line !== undefined && { line }) },
  };
  return rule;
}

function optional<K extends string>(key: K, value: string[] | undefined): { [P in K]?: string[] } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string[] };
}

/** Reads and validates an ignore file (YAML or JSON; JSON is read as YAML, of which it is a subset). */
export async function loadIgnoreFile(path: string): Promise<IgnoreFile> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new IgnoreFileError(path, 'is not a regular file');
    size = s.size;
  } catch (err) {
    if (err instanceof IgnoreFileError) throw err;
    throw new IgnoreFileError(
      path,
      `cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (size > MAX_IGNORE_FILE_BYTES)
    throw new IgnoreFileError(path, `larger than ${MAX_IGNORE_FILE_BYTES} bytes (${size})`);
  const text = await readFile(path, 'utf8');
  return parseIgnoreFile(text, path);
}
