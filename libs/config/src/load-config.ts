import { parseArgs, type ParseArgsConfig } from 'node:util';
import { flagOf, type ConfigOf, type Option, type OptionDecls } from './option.js';

export type ConfigSource = 'flag' | 'env' | 'file' | 'default';

/**
 * A configuration problem, with a one-line message naming the option, where its value came from and what is wrong
 * (e.g. `config: option port (env PORT): must be an integer from 1 to 65535, got "80a"`). Services print the
 * message alone and exit with code 2.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    /** The option name, or the unknown flag as typed. */
    readonly option: string,
    /** Where the value came from, e.g. `env PORT`, `flag --port`, `file key http.port`. */
    readonly source: string,
    readonly problem: string,
  ) {
    super(`config: option ${option} (${source}): ${problem}`);
  }
}

export interface LoadConfigInput {
  /** Usually `process.env`. */
  env?: Record<string, string | undefined>;
  /** Command-line arguments without the node binary and script (`process.argv.slice(2)`); flags only. */
  argv?: readonly string[];
  /** Flags already parsed by `parseArgv` (a CLI with subcommands parses once and passes them here). */
  flags?: Record<string, string | boolean | string[] | undefined>;
  /** A parsed config file (JSON/YAML object); options are looked up by their `fileKey`. */
  file?: Record<string, unknown>;
}

export interface ParsedArgv {
  /** Values by option flag; lists collect every occurrence. */
  flags: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** Values of the extra (non-option) flags the caller declared, e.g. `help`. */
  extra: Record<string, string | boolean | (string | boolean)[] | undefined>;
}

export interface ParseArgvOptions {
  allowPositionals?: boolean;
  /** Flags that are not configuration (`--help`, `--format` of one command...), in util.parseArgs form. */
  extra?: NonNullable<ParseArgsConfig['options']>;
}

/** Parses command-line flags for the declared options (node's util.parseArgs underneath). Unknown flags fail. */
export function parseArgv(
  decls: OptionDecls,
  argv: readonly string[],
  options: ParseArgvOptions = {},
): ParsedArgv {
  const spec: NonNullable<ParseArgsConfig['options']> = { ...options.extra };
  const owners = new Map<string, string>();
  for (const [name, option] of Object.entries(decls)) {
    const flag = flagOf(name, option);
    owners.set(flag, name);
    if (option.type === 'bool') {
      spec[flag] = { type: 'boolean' };
      // util.parseArgs has no negation before Node 22.4, so `--no-x` is declared beside `--x`.
      spec[`no-${flag}`] = { type: 'boolean' };
    } else {
      spec[flag] = { type: 'string', multiple: option.type === 'list' };
    }
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: spec,
      strict: true,
      allowPositionals: options.allowPositionals ?? false,
    });
  } catch (error) {
    throw argvError(error, argv);
  }
  const flags: ParsedArgv['flags'] = {};
  const extra: ParsedArgv['extra'] = {};
  for (const [key, value] of Object.entries(parsed.values)) {
    if (options.extra && key in options.extra) extra[key] = value;
    else if (
      key.startsWith('no-') &&
      owners.has(key.slice(3)) &&
      decls[owners.get(key.slice(3))!]!.type === 'bool'
    ) {
      if (value === true) flags[key.slice(3)] = false;
    } else flags[key] = value as string | boolean | string[];
  }
  return { flags, positionals: parsed.positionals, extra };
}

function argvError(error: unknown, argv: readonly string[]): ConfigError {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const quoted = /'(-{1,2}[^']+?)'/.exec(message)?.[1] ?? argv.find((a) => a.startsWith('-')) ?? '?';
  const flag = quoted
    .split('=')[0]!
    .replace(/^-+/, '')
    .replace(/ <value>$/, '');
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new ConfigError(`--${flag}`, 'command line', 'unknown option');
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return new ConfigError(
        `--${flag}`,
        'command line',
        /argument missing/.test(message)
          ? 'needs a value'
          : /argument is ambiguous/.test(message)
            ? 'needs a value (to give one that starts with a dash, write --flag=-value)'
            : 'takes no value',
      );
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new ConfigError(quoted, 'command line', 'unexpected argument');
    default:
      return new ConfigError('?', 'command line', message.split('\n')[0]!);
  }
}

interface Raw {
  value: unknown;
  source: ConfigSource;
  label: string;
}

/**
 * Loads every declared option: command-line flag, then environment, then config file, then the default.
 * The first problem found throws a ConfigError; nothing is half-loaded.
 */
export function loadConfig<const D extends OptionDecls>(decls: D, input: LoadConfigInput = {}): ConfigOf<D> {
  const env = input.env ?? {};
  const flags = input.flags ?? (input.argv ? parseArgv(decls, input.argv).flags : {});
  const out: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(decls)) {
    const raw = pick(name, option, env, flags, input.file);
    if (raw === undefined) {
      if (option.spec.required)
        throw new ConfigError(name, sourcesOf(name, option), 'is required but not set');
      out[name] = undefined;
      continue;
    }
    out[name] = raw.source === 'default' ? raw.value : convert(name, option, raw);
  }
  return Object.freeze(out) as ConfigOf<D>;
}

function pick(
  name: string,
  option: Option<unknown>,
  env: Record<string, string | undefined>,
  flags: ParsedArgv['flags'],
  file: Record<string, unknown> | undefined,
): Raw | undefined {
  const flag = flagOf(name, option);
  const fromFlag = flags[flag];
  if (fromFlag !== undefined) return { value: fromFlag, source: 'flag', label: `flag --${flag}` };
  const { env: envName, fileKey } = option.spec;
  // An empty variable counts as unset: `FOO= cmd` and manifests with `value: ""` mean "use the default".
  if (envName !== undefined && env[envName] !== undefined && env[envName] !== '') {
    return { value: env[envName], source: 'env', label: `env ${envName}` };
  }
  if (fileKey !== undefined && file !== undefined) {
    const value = lookup(file, fileKey);
    if (value !== undefined && value !== null) return { value, source: 'file', label: `file key ${fileKey}` };
  }
  if (option.spec.default !== undefined)
    return { value: option.spec.default, source: 'default', label: 'default' };
  return undefined;
}

function lookup(file: Record<string, unknown>, dotted: string): unknown {
  let node: unknown = file;
  for (const part of dotted.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** Where an option can be set, for "is required" messages: `env DATABASE_URL or flag --database-url`. */
function sourcesOf(name: string, option: Option<unknown>): string {
  const parts: string[] = [];
  if (option.spec.env) parts.push(`env ${option.spec.env}`);
  parts.push(`flag --${flagOf(name, option)}`);
  if (option.spec.fileKey) parts.push(`file key ${option.spec.fileKey}`);
  return parts.join(' or ');
}

function shown(option: Option<unknown>, value: unknown): string {
  if (option.spec.secret) return 'a value (hidden: secret)';
  return JSON.stringify(Array.isArray(value) ? value.join(',') : value);
}

function convert(name: string, option: Option<unknown>, raw: Raw): unknown {
  const fail = (problem: string): never => {
    throw new ConfigError(name, raw.label, `${problem}, got ${shown(option, raw.value)}`);
  };
  const spec = option.spec as unknown as Record<string, unknown>;
  const value = raw.value;
  switch (option.type) {
    case 'string': {
      if (typeof value !== 'string') return fail('must be a string');
      const pattern = spec['pattern'] as RegExp | undefined;
      if (pattern && !pattern.test(value))
        fail(`must be ${(spec['patternHint'] as string | undefined) ?? `a match of ${pattern}`}`);
      return value;
    }
    case 'int': {
      const min = (spec['min'] as number | undefined) ?? Number.MIN_SAFE_INTEGER;
      const max = (spec['max'] as number | undefined) ?? Number.MAX_SAFE_INTEGER;
      const range = spec['min'] !== undefined || spec['max'] !== undefined ? ` from ${min} to ${max}` : '';
      const n =
        typeof value === 'number'
          ? value
          : typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)
            ? Number(value)
            : NaN;
      if (!Number.isSafeInteger(n) || n < min || n > max) return fail(`must be an integer${range}`);
      return n;
    }
    case 'bool': {
      if (typeof value === 'boolean') return value;
      const text = String(value).trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(text)) return true;
      if (['false', '0', 'no', 'off'].includes(text)) return false;
      return fail('must be true or false');
    }
    case 'enum': {
      const values = spec['values'] as readonly string[];
      if (typeof value !== 'string' || !values.includes(value))
        return fail(`must be one of ${values.join('|')}`);
      return value;
    }
    case 'url': {
      const protocols = spec['protocols'] as readonly string[] | undefined;
      const expected = protocols ? `a ${protocols.join('|')} URL` : 'a URL';
      if (typeof value !== 'string') return fail(`must be ${expected}`);
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        return fail(`must be ${expected}`);
      }
      if (protocols && !protocols.includes(url.protocol.replace(/:$/, '')))
        return fail(`must be ${expected}`);
      return value;
    }
    case 'duration': {
      const ms = typeof value === 'number' ? value : parseDuration(String(value));
      const min = (spec['min'] as number | undefined) ?? 0;
      if (ms === undefined || !Number.isFinite(ms) || ms < min) {
        return fail(
          `must be a duration such as 500ms, 30s, 5m or 1h${min > 0 ? ` of at least ${min}ms` : ''}`,
        );
      }
      return ms;
    }
    case 'list': {
      const items = (Array.isArray(value) ? value : [value])
        .flatMap((v) => (typeof v === 'string' ? v.split(',') : [String(v)]))
        .map((v) => v.trim())
        .filter((v) => v !== '');
      const allowed = spec['values'] as readonly string[] | undefined;
      const bad = allowed ? items.find((item) => !allowed.includes(item)) : undefined;
      if (bad !== undefined) return fail(`items must be among ${allowed!.join('|')}`);
      if (items.length === 0 && option.spec.required) return fail('must list at least one item');
      return items;
    }
  }
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `1500ms`, `30s`, `1m30s`, `2h` or a bare integer of milliseconds → milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  if (!/^(\d+(ms|s|m|h))+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)(ms|s|m|h)/g))
    total += Number(amount) * UNIT_MS[unit!]!;
  return total;
}

/**
 * Fails the way loadConfig does for an option that becomes required through another one
 * (DATABASE_URL when EVENT_LOG=embedded).
 */
export function requireOption(decls: OptionDecls, name: string, value: unknown, because: string): void {
  if (value !== undefined && !(Array.isArray(value) && value.length === 0)) return;
  const option = decls[name];
  if (!option) throw new Error(`config: requireOption: no option named ${name}`);
  throw new ConfigError(name, sourcesOf(name, option), `is required ${because} but not set`);
}
