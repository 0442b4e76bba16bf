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
  const [command, sub] = positionals;
  if (!command) return 'vigil';
  return commandName(command, sub !== undefined && SUBCOMMANDS[command]?.includes(sub) ? sub : undefined);
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
export function optionError(err: ConfigError, command: string): UsageError {
  const fallback = new UsageError(`${command}: option ${err.option} (${err.source}): ${err.problem}`);
  if (err.source === 'command line') {
    switch (err.problem) {
      case 'unknown option':
        return new UsageError(`${command}: ${err.option} is not an option (vigil --help lists them)`);
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
  if (command === 'attest') return true;
  return command === 'exception' && (sub === 'accept' || sub === 'revoke');
}

/** Refuses --no-snapshot on a command that makes no snapshot request it could skip. */
export function refuseNoSnapshot(positionals: readonly string[], extra: ExtraFlags): void {
  if (extra['no-snapshot'] !== true) return;
  const [command, sub] = positionals;
  if (takesNoSnapshot(command, sub)) return;
  throw new UsageError(
    `${commandOf(positionals)}: --no-snapshot is only for vigil exception accept|revoke and vigil attest ` +
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
