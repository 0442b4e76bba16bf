// One declaration per option (CONVENTIONS.md #10): the same object drives the environment, the CLI flags, the
// config file and the --help text, so the three can never disagree on a name, a type or a default.

export type OptionType = 'string' | 'int' | 'bool' | 'enum' | 'url' | 'duration' | 'list';

interface CommonSpec<T> {
  /** Environment variable, e.g. `KAFKA_BROKERS`. */
  env?: string;
  /** CLI flag without the leading dashes, e.g. `kafka-brokers`. Defaults to the option name in kebab-case. */
  flag?: string;
  /** Dotted key in a config file, e.g. `kafka.brokers`. Options without one cannot be set from a file. */
  fileKey?: string;
  /** Used when no source sets the option. An option with a default is never missing. */
  default?: T;
  /** Missing and no default → a ConfigError naming the option. */
  required?: boolean;
  /** Never printed: redacted in describe/redact output and in error messages. */
  secret?: boolean;
  description: string;
}

export interface StringSpec extends CommonSpec<string> {
  /** A value must match this pattern; `patternHint` says in words what is expected. */
  pattern?: RegExp;
  patternHint?: string;
}
export interface IntSpec extends CommonSpec<number> {
  min?: number;
  max?: number;
}
export type BoolSpec = CommonSpec<boolean>;
export interface EnumSpec<V extends string> extends CommonSpec<V> {
  values: readonly V[];
}
export interface UrlSpec extends CommonSpec<string> {
  /** Allowed schemes without the colon, e.g. ['postgres', 'postgresql']. Any scheme when omitted. */
  protocols?: readonly string[];
}
/** Durations are written `1500ms`, `30s`, `5m`, `1h`, `1m30s` (or a bare integer of milliseconds); the value is ms. */
export interface DurationSpec extends CommonSpec<number> {
  min?: number;
}
/** Lists are comma-separated in the environment and on the command line, arrays in a file. */
export interface ListSpec extends CommonSpec<string[]> {
  /** Every item must be one of these. */
  values?: readonly string[];
}

export type AnySpec = StringSpec | IntSpec | BoolSpec | EnumSpec<string> | UrlSpec | DurationSpec | ListSpec;

/** A declared option. `T` is the type of the loaded value (including `undefined` when it may be absent). */
export interface Option<T = unknown> {
  readonly type: OptionType;
  readonly spec: AnySpec;
  /** Phantom field carrying the value type for inference; never set at run time. */
  readonly __value?: T;
}

type Present<S, T> = S extends { default: unknown } ? T : S extends { required: true } ? T : T | undefined;

function declare<T>(type: OptionType, spec: AnySpec): Option<T> {
  if (!spec.description) throw new Error(`config: every option needs a description (type ${type})`);
  return Object.freeze({ type, spec: Object.freeze({ ...spec }) });
}

/** Builders for declarations; each infers whether the loaded value can be undefined from `default`/`required`. */
export const opt = {
  string: <const S extends StringSpec>(spec: S): Option<Present<S, string>> => declare('string', spec),
  int: <const S extends IntSpec>(spec: S): Option<Present<S, number>> => declare('int', spec),
  bool: <const S extends BoolSpec>(spec: S): Option<Present<S, boolean>> => declare('bool', spec),
  enum: <const S extends EnumSpec<string>>(spec: S): Option<Present<S, S['values'][number]>> => {
    if (spec.values.length === 0) throw new Error('config: an enum option needs at least one allowed value');
    return declare('enum', spec);
  },
  url: <const S extends UrlSpec>(spec: S): Option<Present<S, string>> => declare('url', spec),
  duration: <const S extends DurationSpec>(spec: S): Option<Present<S, number>> => declare('duration', spec),
  list: <const S extends ListSpec>(spec: S): Option<Present<S, string[]>> => declare('list', spec),
};

export type OptionDecls = Record<string, Option<unknown>>;

/** The typed object `loadConfig` returns for a set of declarations. */
export type ConfigOf<D extends OptionDecls> = {
  readonly [K in keyof D]: D[K] extends Option<infer T> ? T : never;
};

/**
 * Fixes a set of declarations and checks it is coherent: no two options share an env var, flag or file key.
 * Sets can be merged with spread (`defineOptions({ ...httpOptions, ...logOptions, mine: opt.int(...) })`).
 */
export function defineOptions<const D extends OptionDecls>(decls: D): D {
  const seen = new Map<string, string>();
  for (const [name, option] of Object.entries(decls)) {
    for (const [kind, value] of [
      ['env', option.spec.env],
      ['flag', flagOf(name, option)],
      ['fileKey', option.spec.fileKey],
    ] as const) {
      if (value === undefined) continue;
      const id = `${kind}:${value}`;
      const other = seen.get(id);
      if (other !== undefined)
        throw new Error(`config: options "${other}" and "${name}" both use ${kind} ${value}`);
      seen.set(id, name);
    }
  }
  return Object.freeze(decls);
}

/** The CLI flag of an option: its declared flag, else its name in kebab-case (`kafkaBrokers` → `kafka-brokers`). */
export function flagOf(name: string, option: Option<unknown>): string {
  return option.spec.flag ?? name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
