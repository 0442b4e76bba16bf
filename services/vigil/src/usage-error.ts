/** A problem with what the user typed or pointed at: exit code 2 and this one line. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * How every message names the command it comes from: `vigil <command> <subcommand>` (`vigil exception accept`,
 * `vigil scan k8s`), or `vigil <command>` for one without subcommands. Arguments (an id, a requirement) belong
 * in the message after the colon, never in the name, so a user can grep one form.
 */
export function commandName(command: string, subcommand?: string): string {
  return ['vigil', command, subcommand].filter((w) => w !== undefined && w !== '').join(' ');
}

/** A UsageError reading `vigil <command> <subcommand>: <problem>`. */
export function usageError(command: string, subcommand: string | undefined, problem: string): UsageError {
  return new UsageError(`${commandName(command, subcommand)}: ${problem}`);
}
