import type { ConfigError } from '@vigil/config';
import { UsageError, commandName } from './usage-error.js';

// What main.ts does with the command line before any command runs: which command it names (for messages, even
// when the line did not parse), option errors in that command's words, repeated values, and flags a command does
// not take.

// Subcommands that are part of a command's name in its messages (`vigil exception accept: ...`). Arguments such
// as an image reference or a finding id never are.
const SUBCOMMANDS: Record<string, readonly string[]> = {
  scan: ['image', 'rootfs', 'fs', 'k8s', 'host'],
  exception: ['accept', 'revoke', 'list'],
  attest: ['revoke'],
  evidence: ['export', 'key', 'verify'],
  token: ['create', 'revoke', 'list'],
  db: ['migrate', 'status', 'import', 'update'],
  snapshots: ['create'],
  reporting: ['rebuild'],
};

/** `vigil <command> [<subcommand>]` for the positionals of a command line; `vigil` when there is no command. */
export function commandOf(positionals: readonly string[]): string {
  const [command, ...args] = positionals;
  if (!command) return 'vigil';
  return commandName(command, subcommandOf(command, args));
}

/** The subcommand the arguments start with, when the command has it (`create` of `vigil snapshots create`). */
export function subcommandOf(command: string, args: readonly string[]): string | undefined {
  const sub = args[0];
  return sub !== undefined && SUBCOMMANDS[command]?.includes(sub) ? sub : undefined;
}

/**
 * The positionals of a command line that the option parser refused, so its error can still name the command.
 * `valueFlags` are the long flags that take a value and `shortValueFlags` the one-letter ones (-o FILE): the word
 * after such a flag is its value, not a positional.
 */
export function positionalsOf(
  argv: readonly string[],
  valueFlags: ReadonlySet<string>,
  shortValueFlags: ReadonlySet<string> = new Set(),
): string[] {
  const out: string[] = [];
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    if (a === '--') {
      out.push(...argv.slice(k + 1));
      break;
    }
    if (a.startsWith('--')) {
      if (!a.includes('=') && valueFlags.has(a.slice(2))) k++;
    } else if (a.startsWith('-') && a.length > 1) {
      if (a.length === 2 && shortValueFlags.has(a.slice(1))) k++;
    } else out.push(a);
  }
  return out;
}

/**
 * A ConfigError (the shared option loader's, prefixed `config:`) as the UsageError of the command that was run:
 * `vigil report: --format xml is not one of table|json|...`. Problems it has no better words for keep the loader's
 * own after the command name.
 */
export function optionError(err: ConfigError, command: string, argv: readonly string[] = []): UsageError {
  const fallback = new UsageError(`${command}: option ${err.option} (${err.source}): ${err.problem}`);
  if (err.source === 'command line') {
    // `--snapshot -1`: the parser takes -1 for an option and says the flag has no value; it has one, a wrong one.
    const at = argv.indexOf(err.option);
    const next = at >= 0 ? argv[at + 1] : undefined;
    if (err.problem.startsWith('needs a value') && next !== undefined && /^-\d+(\.\d+)?$/.test(next))
      return new UsageError(
        `${command}: ${err.option} ${next} is not ${NUMBER_WORDS[err.option] ?? 'a value it takes (no negative numbers)'}`,
      );
    switch (err.problem) {
      case 'unknown option': {
        // The loader names every flag with two dashes; `-x` was typed with one.
        const name = err.option.replace(/^--/, '');
        const typed =
          name.length === 1 && !argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`))
            ? `-${name}`
            : err.option;
        return new UsageError(`${command}: ${typed} is not an option (vigil --help lists them)`);
      }
      case 'unexpected argument':
        return new UsageError(`${command}: unexpected argument "${err.option}"`);
      default:
        return new UsageError(`${command}: ${err.option} ${err.problem}`);
    }
  }
  const m = /^(.*), got ("(?:[^"\\]|\\.)*")$/.exec(err.problem);
  const where = /^flag (--\S+)$/.exec(err.source)?.[1] ?? /^env (\S+)$/.exec(err.source)?.[1];
  if (!m || !where) return fallback;
  const value = shownValue(m[2]!);
  const what = m[1]!;
  const phrase = what.startsWith('must be ')
    ? `is not ${what.slice('must be '.length)}`
    : what.startsWith('items must be among ')
      ? `has an item that is not among ${what.slice('items must be among '.length)}`
      : what === 'must list at least one item'
        ? 'lists no item'
        : undefined;
  if (phrase === undefined) return fallback;
  // A flag reads as typed (--format xml); a variable as it was set (VIGIL_CLUSTER=x).
  return new UsageError(`${command}: ${where}${where.startsWith('--') ? ' ' : '='}${value} ${phrase}`);
}

// What a number-taking flag wants, for a negative number given to it.
const NUMBER_WORDS: Record<string, string> = {
  '--snapshot': 'a version number (snapshot versions count from 1)',
  '--port': 'a port number (0 to 65535)',
};

// The loader quotes every value as JSON; one without spaces or quotes reads better bare, as it was typed.
function shownValue(json: string): string {
  let text: string;
  try {
    text = JSON.parse(json) as string;
  } catch {
    return json;
  }
  return text !== '' && /^[^\s"'\\]+$/.test(text) ? text : json;
}

export type ExtraFlags = Record<string, string | boolean | (string | boolean)[] | undefined>;

/**
 * The command flags with each repeated value kept once, in the order first given: `--rule a --rule a` names one
 * rule, and an exception, a manifest list or an evidence file list must not carry the same entry twice.
 */
export function distinctValues<T extends ExtraFlags>(extra: T): T {
  const out: ExtraFlags = {};
  for (const [name, value] of Object.entries(extra))
    out[name] = Array.isArray(value) ? [...new Set(value)] : value;
  return out as T;
}

/** The commands that record an exception or attestation event, and so take --no-snapshot. */
export function takesNoSnapshot(command: string | undefined, sub: string | undefined): boolean {
  if (command === 'attest' || command === 'ack') return true;
  return command === 'exception' && (sub === 'accept' || sub === 'revoke');
}

/** Refuses --no-snapshot on a command that makes no snapshot request it could skip. */
export function refuseNoSnapshot(positionals: readonly string[], extra: ExtraFlags): void {
  if (extra['no-snapshot'] !== true) return;
  const [command, sub] = positionals;
  if (takesNoSnapshot(command, sub)) return;
  throw new UsageError(
    `${commandOf(positionals)}: --no-snapshot is only for vigil exception accept|revoke, vigil attest and vigil ack ` +
      '(it skips the snapshot they request)',
  );
}

/**
 * Whether --cluster (or VIGIL_CLUSTER) was given: the option always has a value ("default"), so only this tells
 * a command that filters by cluster whether the user asked it to.
 */
export function clusterGiven(
  flags: Record<string, unknown>,
  env: Record<string, string | undefined>,
): boolean {
  // An empty variable counts as unset, as the option loader takes it.
  return flags['cluster'] !== undefined || (env['VIGIL_CLUSTER'] ?? '') !== '';
}

/**
 * The first option that takes one value and was given more than once, with every value given, in order: the
 * option parser keeps only the last (`--owner o --owner p` would record p), so a repeat is refused instead.
 * `single` are the long names of such options; `shortOf` maps a one-letter flag to its long name (-o: output).
 */
export function repeatedOption(
  argv: readonly string[],
  single: ReadonlySet<string>,
  shortOf: ReadonlyMap<string, string> = new Map(),
): { flag: string; values: string[] } | undefined {
  const given = new Map<string, string[]>();
  const note = (name: string, value: string) => given.set(name, [...(given.get(name) ?? []), value]);
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    if (a === '--') break;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      if (!single.has(name)) continue;
      if (eq >= 0) note(name, a.slice(eq + 1));
      else if (k + 1 < argv.length) note(name, argv[++k]!);
    } else if (a.startsWith('-') && a.length > 1) {
      const name = shortOf.get(a[1]!);
      if (name === undefined || !single.has(name)) continue;
      if (a.length > 2) note(name, a.slice(2).replace(/^=/, ''));
      else if (k + 1 < argv.length) note(name, argv[++k]!);
    }
  }
  for (const [flag, values] of given) if (values.length > 1) return { flag, values };
  return undefined;
}

/** Refuses an option that takes one value given more than once, naming the values. */
export function refuseRepeatedOption(
  command: string,
  argv: readonly string[],
  single: ReadonlySet<string>,
  shortOf: ReadonlyMap<string, string> = new Map(),
): void {
  const repeat = repeatedOption(argv, single, shortOf);
  if (!repeat) return;
  const times = repeat.values.length === 2 ? 'twice' : `${repeat.values.length} times`;
  const values = repeat.values.map((v) => v.slice(0, 40)).join(', ');
  throw new UsageError(`${command}: --${repeat.flag} given ${times} (${values}); give it once`);
}

/**
 * The options that belong to some commands only, and those commands: `scan` is every scan kind, `scan k8s` one.
 * An option not listed here (the deployment's: --data-dir, --cluster, --format, the event log, database and log
 * options, --timeout) goes with any command, which checks its value itself. A listed option given
 * to another command would be ignored without a word, so it is refused (refuseForeignOptions).
 */
export const OPTION_COMMANDS: Record<string, readonly string[]> = {
  severity: ['scan'],
  // The assessment's entity type decides what a new snapshot version says; a command that makes none (report,
  // diff, a listing) would ignore it.
  'entity-type': [
    'scan',
    'ci',
    'up',
    'ingest',
    'snapshot',
    'snapshots create',
    'exception accept',
    'exception revoke',
    'attest',
    'reporting',
  ],
  'ignore-unfixed': ['scan', 'ci'],
  platform: ['scan image', 'ci'],
  'allowed-registries': ['scan', 'ci', 'up'],
  'cde-label': ['scan k8s', 'ci', 'explain'],
  'fail-on': ['scan', 'ci', 'report'],
  'ignore-file': ['scan', 'ci', 'report'],
  'signing-key': ['report', 'ci', 'evidence export', 'evidence key', 'up'],
  'ingest-token': ['up'],
  'ingest-max-body': ['up'],
  'ingest-max-in-flight': ['up'],
  'ingest-publish-timeout': ['up'],
  root: ['scan host'],
  node: ['scan host'],
  live: ['scan k8s'],
  kubeconfig: ['scan k8s'],
  context: ['scan k8s'],
  manifests: ['scan k8s', 'explain', 'ci'],
  reason: ['ack', 'exception revoke', 'attest revoke'],
  by: ['ack', 'exception revoke', 'attest', 'attest revoke'],
  exception: ['ack'],
  role: ['token create'],
  description: ['token create'],
  'all-clusters': ['token create'],
  output: ['evidence export', 'evidence key'],
  key: ['evidence verify'],
  list: ['report'],
  snapshot: ['report', 'evidence export'],
  diff: ['report'],
  port: ['up'],
  host: ['up'],
  ecosystem: ['db update'],
  url: ['db update'],
  owner: ['exception accept'],
  justification: ['exception accept'],
  approver: ['exception accept'],
  expires: ['exception accept'],
  'expire-on-fix': ['exception accept'],
  kind: ['exception accept'],
  requirement: ['exception accept'],
  finding: ['exception accept'],
  rule: ['exception accept'],
  source: ['exception accept'],
  namespace: ['exception accept'],
  workload: ['exception accept'],
  'image-digest': ['exception accept'],
  'image-repo': ['exception accept'],
  package: ['exception accept'],
  path: ['exception accept'],
  statement: ['attest'],
  evidence: ['attest'],
  'valid-until': ['attest'],
  scope: ['snapshots', 'snapshot', 'diff'],
  image: ['ci'],
  'fail-on-requirement': ['ci'],
  baseline: ['ci'],
  sarif: ['ci'],
  junit: ['ci'],
};

// Commands whose bare form is a command of its own beside its subcommands (`vigil attest 12.10.1` records,
// `vigil attest revoke` revokes): a table entry without a subcommand means the bare form only.
const BARE_FORM = new Set(['attest']);

/** Whether `vigil <command> [<sub>]` takes the option (a long name without dashes). */
export function takesOption(option: string, command: string | undefined, sub: string | undefined): boolean {
  const owners = OPTION_COMMANDS[option];
  if (!owners) return true;
  if (command === undefined) return false;
  const known = sub === undefined ? undefined : subcommandOf(command, [sub]);
  return owners.some((o) => {
    const [c, s] = o.split(' ');
    if (c !== command) return false;
    if (s !== undefined) return s === known;
    return !(BARE_FORM.has(command) && known !== undefined);
  });
}

/**
 * Refuses the first option given on the command line that the command does not take (`vigil report --severity
 * critical` would print every severity). `given` are the long names as typed, without dashes; a negated boolean
 * (--no-ignore-unfixed) is named by its option. Variables are left alone: they are set for a whole deployment.
 */
export function refuseForeignOptions(positionals: readonly string[], given: readonly string[]): void {
  const [command, sub] = positionals;
  for (const option of given) {
    if (takesOption(option, command, sub)) continue;
    const owners = OPTION_COMMANDS[option]!.map((o) => `vigil ${o}`);
    const list = owners.length > 1 ? `${owners.slice(0, -1).join(', ')} and ${owners.at(-1)}` : owners[0];
    throw new UsageError(`${commandOf(positionals)}: --${option} is only for ${list}`);
  }
}
