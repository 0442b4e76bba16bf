// `vigil <command> [<sub>] --help`: the parts of the whole help that are about one command, so a user does not
// read 90 lines for the one they asked about. The whole help stays the one text; this only picks from it.

/**
 * The usage entries and command-flag notes of the help text that name `command` (and `sub`, when the entry names a
 * subcommand at all), or undefined when the help has no entry for the command.
 */
export function commandUsage(help: string, command: string, sub?: string): string | undefined {
  const lines = help.split('\n');
  const section = (title: string): string[][] => {
    const start = lines.indexOf(title);
    if (start < 0) return [];
    const entries: string[][] = [];
    for (const line of lines.slice(start + 1)) {
      if (line.trim() === '') break;
      // An entry starts at the first indent; deeper lines continue it.
      if (/^ {2}\S/.test(line) || entries.length === 0) entries.push([line]);
      else entries[entries.length - 1]!.push(line);
    }
    return entries;
  };
  const forCommand = section('Usage:').filter((entry) => {
    const words = entry[0]!.trim().split(/\s+/);
    return words[0] === 'vigil' && words[1] === command;
  });
  // `vigil scan k8s --help` shows the k8s entry; `vigil exception list` the entry that names `exception list`.
  const names = (entry: string[]) =>
    new RegExp(`(?:vigil |\\| )${command} ${sub}(?![\\w-])`).test(entry.join(' '));
  const forSub = sub === undefined ? [] : forCommand.filter(names);
  const usage = forSub.length > 0 ? forSub : forCommand;
  if (usage.length === 0) return undefined;
  const flags = section('Command flags:').filter((entry) => {
    const label = /^ {2}([a-z, ]+):/.exec(entry[0]!)?.[1];
    return label?.split(',').some((l) => l.trim() === command) ?? false;
  });
  return [
    'Usage:',
    ...usage.flat(),
    ...(flags.length > 0 ? ['', 'Command flags:', ...flags.flat()] : []),
  ].join('\n');
}
