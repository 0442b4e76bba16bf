import { posix } from 'node:path';
import { type RootFs } from '../root-fs.js';

export interface SshdSetting {
  value: string;
  /** The file and line that set it. */
  file: string;
  line: number;
}

export interface SshdMatchBlock {
  criteria: string;
  file: string;
  line: number;
  settings: Map<string, SshdSetting>;
}

export interface SshdConfig {
  /** Global options, lower-cased keyword → the FIRST value obtained (OpenSSH semantics). */
  global: Map<string, SshdSetting>;
  matches: SshdMatchBlock[];
  files: string[];
}

export type SshdLoad =
  { kind: 'ok'; config: SshdConfig } | { kind: 'absent' } | { kind: 'error'; message: string };

export const SSHD_CONFIG = '/etc/ssh/sshd_config';
const MAX_INCLUDE_DEPTH = 16;

/**
 * Reads sshd_config as sshd does: the first value of an option wins; `Include` (globs, relative to /etc/ssh) is read
 * at the point of the Include line; options after a `Match` line belong to that block until the next Match, and an
 * Include inside a Match block feeds that block.
 */
export function loadSshdConfig(fs: RootFs): SshdLoad {
  const first = fs.read(SSHD_CONFIG);
  if (first.kind === 'absent') return { kind: 'absent' };
  if (first.kind === 'error') return { kind: 'error', message: first.message };
  const config: SshdConfig = { global: new Map(), matches: [], files: [] };
  let current: SshdMatchBlock | undefined;
  const visit = (file: string, text: string, depth: number): string | undefined => {
    config.files.push(file);
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const raw = (lines[i] as string).trim();
      if (raw === '' || raw.startsWith('#')) continue;
      const m = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(raw);
      const keyword = (m ? (m[1] as string) : raw).toLowerCase();
      const value = (m ? (m[2] as string) : '').trim();
      if (keyword === 'match') {
        current = { criteria: value, file, line: i + 1, settings: new Map() };
        config.matches.push(current);
        continue;
      }
      if (keyword === 'include') {
        if (depth >= MAX_INCLUDE_DEPTH)
          return `${file}:${i + 1}: Include nested deeper than ${MAX_INCLUDE_DEPTH}`;
        for (const arg of value.split(/\s+/).filter((a) => a !== '')) {
          const pattern = arg.startsWith('/') ? arg : posix.join('/etc/ssh', arg);
          const found = fs.glob(pattern);
          if (found.kind === 'error') return found.message;
          for (const p of found.paths) {
            const read = fs.read(p);
            if (read.kind === 'error') return read.message;
            if (read.kind !== 'ok') continue;
            const err = visit(p, read.text, depth + 1);
            if (err) return err;
          }
        }
        continue;
      }
      const target = current ? current.settings : config.global;
      if (!target.has(keyword)) target.set(keyword, { value, file, line: i + 1 });
    }
    return undefined;
  };
  const err = visit(SSHD_CONFIG, first.text, 0);
  if (err) return { kind: 'error', message: err };
  return { kind: 'ok', config };
}
