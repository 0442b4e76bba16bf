import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  addClient,
  createExclusive,
  isAlive,
  liveClients,
  processStartTime,
  selfRef,
  withGate,
} from './embedded-postgres.lock.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// A pid that certainly ran and exited: a child we waited for.
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(r.stdout);
}

describe('embedded Postgres lock files', () => {
  it('tells a live process from a dead one and from a reused pid', () => {
    const me = selfRef();
    assert.equal(isAlive(me), true);
    assert.equal(isAlive({ pid: deadPid() }), false);
    // Same pid, different start time: what a container restart that reuses pids looks like.
    if (processStartTime(process.pid) !== undefined)
      assert.equal(isAlive({ pid: process.pid, started: '1' }), false);
    assert.equal(isAlive({ pid: 0 }), false);
  });

  it('creates a file exclusively exactly once', () => {
    const f = join(dir, 'x.lock');
    assert.equal(createExclusive(f, 'one'), true);
    assert.equal(createExclusive(f, 'two'), false);
  });

  it('serializes critical sections within a process', async () => {
    const order: string[] = [];
    const section = (name: string) =>
      withGate(dir, 5_000, async () => {
        order.push(`${name}:in`);
        await new Promise((r) => setTimeout(r, 30));
        order.push(`${name}:out`);
      });
    await Promise.all([section('a'), section('b')]);
    assert.deepEqual(order.length, 4);
    assert.equal(
      order[0]!.split(':')[0],
      order[1]!.split(':')[0],
      `sections interleaved: ${order.join(' ')}`,
    );
    assert.equal(existsSync(join(dir, 'postgres.gate')), false);
  });

  it('takes over a gate left by a dead process', async () => {
    writeFileSync(join(dir, 'postgres.gate'), JSON.stringify({ pid: deadPid(), token: 'gone', at: 0 }));
    // Waiting for the dead holder instead would fail at the deadline, naming the gate.
    assert.equal(await withGate(dir, 2_000, async () => 'ran'), 'ran');
  });

  it('waits for a live holder and fails at the deadline naming the file', async () => {
    writeFileSync(join(dir, 'postgres.gate'), JSON.stringify({ pid: process.ppid, token: 'parent', at: 0 }));
    await assert.rejects(
      withGate(dir, 200, async () => 'ran'),
      /postgres\.gate has been held by pid \d+ for over 0 s/,
    );
    rmSync(join(dir, 'postgres.gate'));
  });

  it('counts live clients and removes the files of dead ones', () => {
    const mine = addClient(dir);
    const cdir = join(dir, 'postgres.clients');
    const deadOne = deadPid();
    writeFileSync(join(cdir, `${deadOne}-1-abc`), JSON.stringify({ pid: deadOne }));
    assert.deepEqual(liveClients(dir), [mine]);
    assert.deepEqual(readdirSync(cdir), [mine.split('/').pop()]);
  });
});
