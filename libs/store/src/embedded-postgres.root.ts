// Postgres refuses to run as root. When vigil runs as root (containers, CI, a clone under /root) the server runs
// as the system user "postgres": its cluster directory is owned by that user, and that user needs search (x)
// permission on every directory above the cluster and the binaries. This module makes exactly those grants,
// says what it changed in one line each, and otherwise fails with one line saying what to fix.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export const SERVER_USER = 'postgres';

export interface ServerIdentity {
  uid: number;
  gid: number;
}

export function runningAsRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function lookupUser(name: string): ServerIdentity | undefined {
  try {
    const uid = Number(
      execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(),
    );
    const gid = Number(
      execFileSync('id', ['-g', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(),
    );
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

/** The user the server runs as when we are root; created (as a system user) when missing. */
export function serverUser(log: (line: string) => void): ServerIdentity {
  const found = lookupUser(SERVER_USER);
  if (found) return found;
  try {
    execFileSync(
      'useradd',
      ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVER_USER],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
  } catch (err) {
    throw new Error(
      `embedded Postgres cannot run as root and there is no "${SERVER_USER}" user (useradd failed: ${String((err as Error).message).split('\n')[0]}); ` +
        `create it with "useradd --system --user-group ${SERVER_USER}" or run vigil as a non-root user`,
    );
  }
  const created = lookupUser(SERVER_USER);
  if (!created)
    throw new Error(
      `embedded Postgres: created user "${SERVER_USER}" but cannot look it up with "id ${SERVER_USER}"`,
    );
  log(`embedded Postgres runs as user "${SERVER_USER}" (Postgres refuses root): created that system user`);
  return created;
}

/** Every directory from / down to dir, outermost first. */
function ancestors(dir: string): string[] {
  const out: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    out.unshift(d);
    if (dirname(d) === d) return out;
  }
}

// One shell as the server user tests every directory in order and prints the first it cannot enter, so the
// check costs one short process whatever the depth.
function firstBlocked(dirs: string[], who: ServerIdentity): string | undefined {
  const r = spawnSync(
    '/bin/sh',
    ['-c', 'for d do [ -x "$d" ] || { printf %s "$d"; exit 0; }; done', 'sh', ...dirs],
    {
      uid: who.uid,
      gid: who.gid,
      encoding: 'utf8',
    },
  );
  if (r.error)
    throw new Error(
      `embedded Postgres: cannot run /bin/sh as user "${SERVER_USER}" to check permissions: ${r.error.message}`,
    );
  return r.stdout ? r.stdout : undefined;
}

function hasSetfacl(): boolean {
  return spawnSync('setfacl', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Makes every directory above each of `dirs` enterable by the server user: with an ACL entry for that user when
 * setfacl works (the least change), else chmod o+x. Logs one line per directory changed.
 */
export function grantTraverse(dirs: string[], who: ServerIdentity, log: (line: string) => void): void {
  const chain = [...new Set(dirs.flatMap(ancestors))].sort((a, b) => a.length - b.length);
  let acl: boolean | undefined;
  for (let guard = 0; guard < 64; guard++) {
    const blocked = firstBlocked(chain, who);
    if (!blocked) return;
    acl ??= hasSetfacl();
    let how: string | undefined;
    if (
      acl &&
      spawnSync('setfacl', ['-m', `u:${SERVER_USER}:x`, blocked], { stdio: 'ignore' }).status === 0
    ) {
      how = `setfacl -m u:${SERVER_USER}:x`;
    } else {
      try {
        chmodSync(blocked, statSync(blocked).mode | 0o001);
        how = 'chmod o+x';
      } catch {
        how = undefined;
      }
    }
    if (!how || firstBlocked([blocked], who) === blocked) {
      throw new Error(
        `embedded Postgres runs as user "${SERVER_USER}" (Postgres refuses root), which cannot enter ${blocked}: ` +
          `run "setfacl -m u:${SERVER_USER}:x ${blocked}" or "chmod o+x ${blocked}", or use a --data-dir and install location it can reach`,
      );
    }
    log(`embedded Postgres runs as user "${SERVER_USER}": granted it traverse on ${blocked} (${how})`);
  }
}

/** Fails with one line when the server user cannot execute a binary or read a file it needs. */
export function checkReadable(files: { path: string; exec: boolean }[], who: ServerIdentity): void {
  const args = files.flatMap((f) => [f.exec ? '-x' : '-r', f.path]);
  const r = spawnSync(
    '/bin/sh',
    [
      '-c',
      'while [ $# -gt 0 ]; do [ "$1" "$2" ] || { printf %s "$2"; exit 0; }; shift 2; done',
      'sh',
      ...args,
    ],
    { uid: who.uid, gid: who.gid, encoding: 'utf8' },
  );
  if (r.stdout) {
    const f = files.find((x) => x.path === r.stdout);
    throw new Error(
      `embedded Postgres runs as user "${SERVER_USER}", which cannot ${f?.exec ? 'execute' : 'read'} ${r.stdout}: ` +
        `run "chmod o+${f?.exec ? 'rx' : 'r'} ${r.stdout}" (or reinstall node_modules with a umask of 022)`,
    );
  }
}
