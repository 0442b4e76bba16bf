// Where a command's words go: its result on stdout (and only its result, so `--format json` pipes cleanly),
// progress on stderr and only on a terminal.

export interface Output {
  result(text: string): void;
  progress(line: string): void;
  warn(line: string): void;
}

export function terminalOutput(quiet = false): Output {
  const tty = process.stderr.isTTY === true && !quiet;
  return {
    result: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    progress: (line) => {
      if (tty) process.stderr.write(`\x1b[2m${line}\x1b[0m\n`);
    },
    warn: (line) => process.stderr.write(`${line}\n`),
  };
}

/** Fixed-width columns; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
