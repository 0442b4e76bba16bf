import { posix } from 'node:path';
import { type RootFs } from '../root-fs.js';

export type TimeDaemon = 'chrony' | 'ntp' | 'timesyncd';

export interface TimeSyncConfig {
  daemon: TimeDaemon;
  file: string;
  /** Lines naming a time source (chrony/ntp server, pool, peer; timesyncd NTP= / FallbackNTP=). */
  sources: string[];
  /** Directives that make the daemon answer other hosts' time requests when open to all. */
  openServing: string[];
  /** Files read (the main file plus include/confdir files). */
  files: string[];
}

export type TimeSyncLoad = { kind: 'ok'; configs: TimeSyncConfig[] } | { kind: 'error'; message: string };

const CHRONY_FILES = ['/etc/chrony/chrony.conf', '/etc/chrony.conf'];

/** Every configured time daemon of the node (chrony, ntpd, systemd-timesyncd), with its sources. */
export function loadTimeSync(fs: RootFs): TimeSyncLoad {
  const configs: TimeSyncConfig[] = [];
  for (const file of CHRONY_FILES) {
    const r = fs.read(file);
    if (r.kind === 'error') return r;
    if (r.kind !== 'ok') continue;
    const cfg: TimeSyncConfig = { daemon: 'chrony', file, sources: [], openServing: [], files: [] };
    const err = readChrony(fs, file, r.text, cfg, 0);
    if (err) return { kind: 'error', message: err };
    configs.push(cfg);
    break; // chronyd reads one of them, the Debian path first
  }
  const ntp = fs.read('/etc/ntp.conf');
  if (ntp.kind === 'error') return ntp;
  if (ntp.kind === 'ok') {
    const cfg: TimeSyncConfig = {
      daemon: 'ntp',
      file: '/etc/ntp.conf',
      sources: [],
      openServing: [],
      files: ['/etc/ntp.conf'],
    };
    let restrictDefault: string | undefined;
    for (const raw of ntp.text.split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      if (/^(server|pool|peer)\s+\S/.test(line)) cfg.sources.push(line);
      if (/^restrict\s+(default|-4\s+default|-6\s+default)\b/.test(line)) restrictDefault = line;
    }
    // ntpd serves time to anyone unless the default restriction ignores or refuses service.
    if (!restrictDefault || !/\b(ignore|noserve)\b/.test(restrictDefault)) {
      cfg.openServing.push(restrictDefault ?? 'no "restrict default" line (ntpd answers every client)');
    }
    configs.push(cfg);
  }
  const tsFiles = ['/etc/systemd/timesyncd.conf'];
  const dropIns = fs.glob('/etc/systemd/timesyncd.conf.d/*.conf');
  if (dropIns.kind === 'error') return dropIns;
  tsFiles.push(...dropIns.paths);
  let tsCfg: TimeSyncConfig | undefined;
  for (const file of tsFiles) {
    const r = fs.read(file);
    if (r.kind === 'error') return r;
    if (r.kind !== 'ok') continue;
    tsCfg ??= { daemon: 'timesyncd', file, sources: [], openServing: [], files: [] };
    tsCfg.files.push(file);
    for (const raw of r.text.split('\n')) {
      const m = /^\s*(NTP|FallbackNTP)\s*=\s*(\S.*)$/.exec(raw);
      if (m) tsCfg.sources.push(`${m[1]}=${(m[2] as string).trim()}`);
    }
  }
  if (tsCfg) configs.push(tsCfg);
  return { kind: 'ok', configs };
}

function readChrony(
  fs: RootFs,
  file: string,
  text: string,
  cfg: TimeSyncConfig,
  depth: number,
): string | undefined {
  cfg.files.push(file);
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#!;%].*/, '').trim();
    if (line === '') continue;
    const [directive, ...args] = line.split(/\s+/);
    const d = (directive as string).toLowerCase();
    if ((d === 'server' || d === 'pool' || d === 'peer') && args.length > 0) cfg.sources.push(line);
    // "allow" with no subnet, or "allow all", lets any host use this node as its NTP server.
    if (d === 'allow' && (args.length === 0 || (args[0] === 'all' && args.length === 1)))
      cfg.openServing.push(line);
    if ((d === 'include' || d === 'confdir' || d === 'sourcedir') && args.length > 0 && depth < 8) {
      for (const arg of args) {
        const pattern = d === 'include' ? arg : posix.join(arg, d === 'sourcedir' ? '*.sources' : '*.conf');
        const found = fs.glob(pattern);
        if (found.kind === 'error') return found.message;
        for (const p of found.paths) {
          const r = fs.read(p);
          if (r.kind === 'error') return r.message;
          if (r.kind !== 'ok') continue;
          const err = readChrony(fs, p, r.text, cfg, depth + 1);
          if (err) return err;
        }
      }
    }
  }
  return undefined;
}
