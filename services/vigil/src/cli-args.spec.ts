// The command line before any command runs, through main() where no deployment is needed: option errors in the
// words of the command that was run, --no-snapshot refused where it means nothing, repeated values kept once,
// and whether --cluster was given.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@vigil/config';
import {
  clusterGiven,
  commandOf,
  distinctValues,
  optionError,
  positionalsOf,
  refuseForeignOptions,
  refuseNoSnapshot,
  repeatedOption,
  takesOption,
} from './cli-args.js';
import { main } from './main.js';
import type { Output } from './output.js';
import { UsageError } from './usage-error.js';

const silent: Output = { result: () => undefined, progress: () => undefined, warn: () => undefined };

async function refused(argv: string[]): Promise<string> {
  try {
    await main(argv, silent);
  } catch (err) {
    assert.ok(err instanceof UsageError, `${argv.join(' ')}: ${String(err)}`);
    return err.message;
  }
  assert.fail(`${argv.join(' ')} was not refused`);
}

async function withEnv<T>(name: string, value: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env[name];
  process.env[name] = value;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env[name];
    else process.env[name] = before;
  }
}

describe('option errors name the command that was run', () => {
  it('words a bad value as the flag was typed, after the command name', async () => {
    assert.equal(
      await refused(['report', '--format', 'xml']),
      'vigil report: --format xml is not one of table|json|sarif|cyclonedx|csv|html|junit',
    );
    assert.equal(
      await refused(['scan', 'k8s', 'examples/payments/k8s', '--timeout', '0']),
      'vigil scan k8s: --timeout 0 is not a duration such as 500ms, 30s, 5m or 1h of at least 1ms',
    );
    assert.equal(
      await refused(['scan', 'image', 'x.tar', '--severity', 'high,hgh']),
      'vigil scan image: --severity high,hgh has an item that is not among critical|high|medium|low|unknown',
    );
    assert.equal(
      await refused(['exception', 'accept', '--cluster', 'two words']),
      'vigil exception accept: --cluster "two words" is not a name of letters, digits, dot, dash, colon or underscore',
    );
  });

  it('names a variable as it was set', async () => {
    const message = await withEnv('VIGIL_ENTITY_TYPE', 'bank', () => refused(['report']));
    assert.equal(message, 'vigil report: VIGIL_ENTITY_TYPE=bank is not one of merchant|service_provider');
  });

  it('names the command even when the line does not parse', async () => {
    assert.equal(
      await refused(['--data-dir', 'report', 'snapshots', '--bogus']),
      'vigil snapshots: --bogus is not an option (vigil --help lists them)',
    );
    assert.equal(
      await refused(['evidence', 'export', '-o', 'key', '--format']),
      'vigil evidence export: --format needs a value',
    );
    assert.equal(await refused(['--live=yes', 'scan', 'k8s']), 'vigil scan k8s: --live takes no value');
  });

  it('keeps the loader’s own words for a problem it has no better ones for', () => {
    const err = new ConfigError(
      'databaseUrl',
      'env DATABASE_URL or flag --database-url',
      'is required but not set',
    );
    assert.equal(
      optionError(err, 'vigil up').message,
      'vigil up: option databaseUrl (env DATABASE_URL or flag --database-url): is required but not set',
    );
    const secret = new ConfigError(
      'ingestToken',
      'flag --ingest-token',
      'must be at least 32 characters, got a value (hidden: secret)',
    );
    assert.equal(
      optionError(secret, 'vigil up').message,
      'vigil up: option ingestToken (flag --ingest-token): must be at least 32 characters, got a value (hidden: secret)',
    );
  });
});

describe('commandOf and positionalsOf', () => {
  it('take a known subcommand into the name and skip flag values', () => {
    const values = new Set(['data-dir', 'format', 'cluster']);
    assert.deepEqual(positionalsOf(['--data-dir', 'd', 'exception', '--format=json', 'list'], values), [
      'exception',
      'list',
    ]);
    assert.deepEqual(positionalsOf(['-o', 'f.zip', 'evidence', 'export'], values, new Set(['o'])), [
      'evidence',
      'export',
    ]);
    assert.deepEqual(positionalsOf(['ingest', '--', '-'], values), ['ingest', '-']);
    assert.equal(commandOf(['exception', 'accept']), 'vigil exception accept');
    assert.equal(commandOf(['scan', 'image', 'x.tar']), 'vigil scan image');
    assert.equal(commandOf(['ack', 'runtime-0123']), 'vigil ack');
    assert.equal(commandOf([]), 'vigil');
  });
});

describe('--no-snapshot', () => {
  it('is refused, exit 2, by a command that requests no snapshot', async () => {
    const tail =
      'is only for vigil exception accept|revoke, vigil attest and vigil ack (it skips the snapshot they request)';
    assert.equal(await refused(['report', '--no-snapshot']), `vigil report: --no-snapshot ${tail}`);
    assert.equal(
      await refused(['exception', 'list', '--no-snapshot']),
      `vigil exception list: --no-snapshot ${tail}`,
    );
    assert.equal(
      await refused(['scan', 'k8s', 'examples/payments/k8s', '--no-snapshot']),
      `vigil scan k8s: --no-snapshot ${tail}`,
    );
  });

  it('is taken by exception accept and revoke, by attest and by ack', () => {
    for (const p of [
      ['exception', 'accept'],
      ['exception', 'revoke', 'exc-1'],
      ['attest', '12.10.1'],
      ['ack', 'runtime-0123'],
    ])
      assert.doesNotThrow(() => refuseNoSnapshot(p, { 'no-snapshot': true }));
    assert.doesNotThrow(() => refuseNoSnapshot(['report'], {}));
  });
});

describe('distinctValues', () => {
  it('keeps each repeated value once, in the order first given, and leaves single values alone', () => {
    assert.deepEqual(
      distinctValues({
        rule: ['k8s/run-as-root', 'k8s/privileged', 'k8s/run-as-root'],
        manifests: ['a.yaml', 'a.yaml'],
        reason: 'why',
        live: true,
        absent: undefined,
      }),
      {
        rule: ['k8s/run-as-root', 'k8s/privileged'],
        manifests: ['a.yaml'],
        reason: 'why',
        live: true,
        absent: undefined,
      },
    );
  });
});

describe('clusterGiven', () => {
  it('is true for --cluster or a non-empty VIGIL_CLUSTER, false for the default alone', () => {
    assert.equal(clusterGiven({ cluster: 'prod' }, {}), true);
    assert.equal(clusterGiven({}, { VIGIL_CLUSTER: 'prod' }), true);
    assert.equal(clusterGiven({}, { VIGIL_CLUSTER: '' }), false);
    assert.equal(clusterGiven({ format: 'json' }, {}), false);
  });
});

describe('an option that takes one value, given twice', () => {
  it('is refused, naming the command, the option and every value given', async () => {
    assert.equal(
      await refused(['exception', 'accept', '--owner', 'o', '--owner', 'p']),
      'vigil exception accept: --owner given twice (o, p); give it once',
    );
    assert.equal(
      await refused(['exception', 'accept', '--kind', 'risk', '--kind=compensating']),
      'vigil exception accept: --kind given twice (risk, compensating); give it once',
    );
    assert.equal(
      await refused(['report', '--format', 'json', '--format', 'table']),
      'vigil report: --format given twice (json, table); give it once',
    );
    assert.equal(
      await refused(['report', '--snapshot=2', '--snapshot=3', '--snapshot', '4']),
      'vigil report: --snapshot given 3 times (2, 3, 4); give it once',
    );
    assert.equal(
      await refused(['evidence', 'key', '-o', 'a.pub', '--output=b.pub']),
      'vigil evidence key: --output given twice (a.pub, b.pub); give it once',
    );
  });

  it('leaves repeatable options, booleans and words after -- alone', () => {
    const single = new Set(['owner', 'format']);
    assert.equal(repeatedOption(['--rule', 'a', '--rule', 'b', '--owner', 'o'], single), undefined);
    assert.equal(repeatedOption(['--live', '--live'], single), undefined);
    assert.equal(repeatedOption(['--owner', 'o', '--', '--owner', 'p'], single), undefined);
    assert.deepEqual(repeatedOption(['-ofile', '-o', 'x'], new Set(['output']), new Map([['o', 'output']])), {
      flag: 'output',
      values: ['file', 'x'],
    });
  });
});

describe('an option the command does not take', () => {
  it('is refused, exit 2, naming the option and the commands that take it', async () => {
    assert.equal(
      await refused(['report', '--severity', 'critical']),
      'vigil report: --severity is only for vigil scan',
    );
    assert.equal(
      await refused(['snapshots', '--severity', 'high']),
      'vigil snapshots: --severity is only for vigil scan',
    );
    assert.equal(
      await refused(['exception', 'list', '--severity', 'high']),
      'vigil exception list: --severity is only for vigil scan',
    );
    assert.equal(
      await refused(['evidence', 'export', '--ignore-unfixed', '-o', 'b.zip']),
      'vigil evidence export: --ignore-unfixed is only for vigil scan and vigil ci',
    );
    assert.equal(
      await refused(['evidence', 'export', '--platform', 'linux/arm64', '-o', 'b.zip']),
      'vigil evidence export: --platform is only for vigil scan image and vigil ci',
    );
    assert.equal(
      await refused(['report', '--no-ignore-unfixed']),
      'vigil report: --ignore-unfixed is only for vigil scan and vigil ci',
    );
    assert.equal(
      await refused(['attest', 'revoke', 'att-1', '--reason', 'r', '--statement', 's']),
      'vigil attest revoke: --statement is only for vigil attest',
    );
    // A stored version was assessed for the entity type it records: reading it with another changes nothing.
    assert.match(
      await refused(['report', '--entity-type', 'service_provider']),
      /^vigil report: --entity-type is only for vigil scan, vigil ci, /,
    );
    assert.match(
      await refused(['diff', '1', '2', '--entity-type', 'merchant']),
      /^vigil diff: --entity-type /,
    );
  });

  it('lets each command take its own options', () => {
    assert.equal(takesOption('severity', 'scan', 'image'), true);
    assert.equal(takesOption('platform', 'scan', 'image'), true);
    assert.equal(takesOption('platform', 'scan', 'fs'), false);
    assert.equal(takesOption('statement', 'attest', '12.10.1'), true);
    assert.equal(takesOption('by', 'attest', 'revoke'), true);
    assert.equal(takesOption('scope', 'snapshots', 'create'), true);
    assert.equal(takesOption('snapshot', 'evidence', 'export'), true);
    assert.equal(takesOption('snapshot', 'evidence', 'verify'), false);
    // The deployment's options go with every command.
    assert.equal(takesOption('data-dir', 'report', undefined), true);
    assert.doesNotThrow(() =>
      refuseForeignOptions(
        ['ci'],
        ['image', 'manifests', 'fail-on', 'sarif', 'junit', 'platform', 'cluster'],
      ),
    );
  });
});

describe('flags typed with one dash, and negative numbers', () => {
  it('echoes -x as typed, and says a negative --snapshot is not a version', async () => {
    assert.equal(
      await refused(['report', '-x']),
      'vigil report: -x is not an option (vigil --help lists them)',
    );
    assert.equal(
      await refused(['report', '--snapshot', '-1']),
      'vigil report: --snapshot -1 is not a version number (snapshot versions count from 1)',
    );
    assert.equal(
      await refused(['report', '--snapshot=-1']),
      'vigil report: --snapshot takes a whole number from 1 to 2147483647, got "-1"',
    );
  });

  it('gives the scan kinds and the exception subcommands when none is named', async () => {
    assert.equal(await refused(['scan']), 'vigil scan: give a scan kind: image|rootfs|fs|k8s|host');
    assert.equal(await refused(['exception']), 'vigil exception: give a subcommand: accept|revoke|list');
  });
});
