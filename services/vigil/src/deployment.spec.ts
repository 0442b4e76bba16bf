// checkDataDir, without starting anything: a command that only reads refuses a data dir that does not exist or
// holds no embedded deployment; every command refuses a data dir that is (or runs through) a file; Kafka and an
// external DATABASE_URL keep the data dir out of it (their deployment lives elsewhere).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DeploymentError, checkDataDir, type DataDirCheck } from './deployment.js';

const tmp = mkdtempSync(join(tmpdir(), 'vigil-data-dir-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const file = join(tmp, 'a-file');
writeFileSync(file, 'not a directory');
const empty = join(tmp, 'empty');
mkdirSync(empty);
const deployed = join(tmp, 'deployed');
mkdirSync(join(deployed, 'postgres'), { recursive: true });
const missing = join(tmp, 'x', 'y');

function check(dataDir: string, use: DataDirCheck['use'], more: Partial<DataDirCheck> = {}): void {
  checkDataDir({
    dataDir,
    label: `--data-dir ${dataDir}`,
    use,
    eventLog: 'embedded',
    command: 'vigil report',
    ...more,
  });
}

const refused = (re: RegExp) => (err: Error) => err instanceof DeploymentError && re.test(err.message);

describe('checkDataDir', () => {
  it('a reading command: a missing or empty data dir holds no deployment', () => {
    assert.throws(
      () => check(missing, 'read'),
      refused(
        new RegExp(
          `^vigil report: --data-dir ${missing} does not exist, so it holds no vigil deployment \\(run a scan there first, or check the path\\)$`,
        ),
      ),
    );
    assert.throws(
      () => check(empty, 'read'),
      refused(
        new RegExp(
          `^vigil report: --data-dir ${empty} holds no vigil deployment \\(run a scan there first, or check the path\\)$`,
        ),
      ),
    );
    assert.doesNotThrow(() => check(deployed, 'read'));
  });

  it('a data dir whose postgres is a file holds no deployment either', () => {
    const odd = join(tmp, 'odd');
    mkdirSync(odd);
    writeFileSync(join(odd, 'postgres'), '');
    assert.throws(() => check(odd, 'read'), refused(/holds no vigil deployment/));
  });

  it('a writing command may make the deployment', () => {
    assert.doesNotThrow(() => check(missing, 'write'));
    assert.doesNotThrow(() => check(empty, 'write'));
  });

  it('a file, or a path through one, is refused for reading and writing commands alike', () => {
    for (const use of ['read', 'write'] as const) {
      assert.throws(
        () => check(file, use, { command: 'vigil scan k8s' }),
        refused(new RegExp(`^vigil scan k8s: --data-dir ${file} is a file, not a directory`)),
      );
      assert.throws(
        () => check(join(file, 'sub', 'dir'), use),
        refused(
          new RegExp(`^vigil report: --data-dir ${file}/sub/dir cannot be a directory: ${file} is a file$`),
        ),
      );
    }
  });

  it('with DATABASE_URL the deployment is elsewhere: only the file case is refused', () => {
    const databaseUrl = 'postgresql://u@db.example/vigil';
    assert.doesNotThrow(() => check(missing, 'read', { databaseUrl }));
    assert.doesNotThrow(() => check(empty, 'read', { databaseUrl }));
    assert.throws(() => check(file, 'read', { databaseUrl }), refused(/is a file/));
  });

  it('with Kafka the data dir is not the deployment: nothing is checked', () => {
    assert.doesNotThrow(() => check(missing, 'read', { eventLog: 'kafka' }));
    assert.doesNotThrow(() => check(file, 'write', { eventLog: 'kafka' }));
  });
});
