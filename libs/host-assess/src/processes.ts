import { posix } from 'node:path';
import { type RootFs } from './root-fs.js';

export interface NodeProcess {
  pid: number;
  argv: string[];
  /** Basename of argv[0]: "kubelet", "kube-proxy". */
  name: string;
}

/** Command lines of the node's processes from <root>/proc/<pid>/cmdline (NUL-separated argv). */
export function readProcesses(fs: RootFs): { processes: NodeProcess[]; errors: string[] } {
  const listed = fs.list('/proc');
  if (listed.kind === 'absent') return { processes: [], errors: [] };
  if (listed.kind === 'error') return { processes: [], errors: [listed.message] };
  const processes: NodeProcess[] = [];
  const errors: string[] = [];
  for (const name of listed.names) {
    if (!/^\d+$/.test(name)) continue;
    const read = fs.read(`/proc/${name}/cmdline`);
    // A process that exits between listing and reading is gone, not an error.
    if (read.kind === 'absent') continue;
    if (read.kind === 'error') {
      errors.push(read.message);
      continue;
    }
    const argv = read.text.split('\0');
    while (argv.length > 0 && argv[argv.length - 1] === '') argv.pop();
    if (argv.length === 0) continue; // kernel threads have an empty cmdline
    processes.push({
      pid: Number(name),
      argv,
      name: posix.basename((argv[0] as string).split(' ')[0] as string).replace(/:$/, ''),
    });
  }
  processes.sort((a, b) => a.pid - b.pid);
  return { processes, errors };
}

/** A Kubernetes component's command-line flags: the last occurrence wins, as with pflag. */
export type Flags = Map<string, string>;

/**
 * Parses `--flag=value`, `--flag value` (the real value, not a bare boolean as kube-bench's matcher reads it) and a
 * bare `--flag` (true). A following token is a value unless it starts with "-".
 */
export function parseFlags(argv: readonly string[]): Flags {
  const flags: Flags = new Map();
  for (let i = 1; i < argv.length; i++) {
    const token = argv[i] as string;
    if (!token.startsWith('-')) continue;
    const body = token.replace(/^--?/, '');
    const eq = body.indexOf('=');
    if (eq >= 0) {
      flags.set(body.slice(0, eq), unquote(body.slice(eq + 1)));
      continue;
    }
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('-')) {
      flags.set(body, unquote(next));
      i++;
    } else {
      flags.set(body, 'true');
    }
  }
  return flags;
}

function unquote(v: string): string {
  return /^'.*'$|^".*"$/.test(v) ? v.slice(1, -1) : v;
}

/** Splits a `ps`-style command line into argv, honouring single and double quotes (used by the fixture materializer). */
export function splitCommandLine(cmdline: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let has = false;
  for (const ch of cmdline) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      has = true;
    } else if (/\s/.test(ch)) {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += ch;
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}
