import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfigError,
  databaseOptions,
  defineOptions,
  describeOptions,
  eventLogOptions,
  httpOptions,
  loadConfig,
  opt,
  parseArgv,
  parseDuration,
  redactConfig,
  requireOption,
} from './index.js';

const decls = defineOptions({
  ...httpOptions,
  ...eventLogOptions,
  ...databaseOptions,
  retries: opt.int({
    env: 'RETRIES',
    fileKey: 'retry.count',
    min: 0,
    max: 10,
    default: 3,
    description: 'Retries',
  }),
  pollEvery: opt.duration({ env: 'POLL_EVERY', default: 1000, description: 'Poll interval' }),
  verbose: opt.bool({ env: 'VERBOSE', default: false, description: 'Talk more' }),
  token: opt.string({ env: 'API_TOKEN', required: true, secret: true, description: 'API token' }),
});

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a ConfigError');
}

test('defaults fill every option nobody set, typed', () => {
  const config = loadConfig(decls, { env: { API_TOKEN: 't0k3n' } });
  assert.equal(config.port, 8080);
  assert.equal(config.host, '0.0.0.0');
  assert.equal(config.eventLog, 'kafka');
  assert.deepEqual(config.kafkaBrokers, ['127.0.0.1:9092']);
  assert.equal(config.kafkaClientId, undefined);
  assert.equal(config.databaseUrl, undefined);
  assert.equal(config.retries, 3);
  assert.equal(config.verbose, false);
  assert.equal(config.token, 't0k3n');
  // Compile-time: defaults and `required` make a value non-optional; the enum keeps its literal union.
  const typed: {
    port: number;
    eventLog: 'kafka' | 'embedded';
    brokers: string[];
    token: string;
    url: string | undefined;
  } = {
    port: config.port,
    eventLog: config.eventLog,
    brokers: config.kafkaBrokers,
    token: config.token,
    url: config.databaseUrl,
  };
  assert.equal(typed.port, 8080);
});

test('flag beats env beats file beats default', () => {
  const file = { retry: { count: 7 }, http: { port: 9000 }, kafka: { brokers: ['k1:9092', 'k2:9092'] } };
  const env = { API_TOKEN: 'x', PORT: '8181', KAFKA_BROKERS: ' a:1 , b:2,, ' };
  const config = loadConfig(decls, {
    env,
    file,
    argv: ['--port', '9191', '--verbose', '--poll-every=1m30s'],
  });
  assert.equal(config.port, 9191);
  assert.equal(config.retries, 7);
  assert.deepEqual(config.kafkaBrokers, ['a:1', 'b:2']);
  assert.equal(config.verbose, true);
  assert.equal(config.pollEvery, 90_000);
  assert.deepEqual(loadConfig(decls, { env: { API_TOKEN: 'x' }, file }).kafkaBrokers, ['k1:9092', 'k2:9092']);
  assert.equal(
    loadConfig(decls, { env: { API_TOKEN: 'x', VERBOSE: 'yes' }, argv: ['--no-verbose'] }).verbose,
    false,
  );
});

test('a bad value fails with one line naming the option, its source and the problem', () => {
  const e = errorOf(() => loadConfig(decls, { env: { API_TOKEN: 'x', PORT: '80a' } }));
  assert.equal(e.message, 'config: option port (env PORT): must be an integer from 0 to 65535, got "80a"');
  assert.equal(e.option, 'port');
  assert.equal(e.source, 'env PORT');
  assert.ok(!e.message.includes('\n'));

  assert.equal(
    errorOf(() => loadConfig(decls, { env: { API_TOKEN: 'x', EVENT_LOG: 'rabbit' } })).message,
    'config: option eventLog (env EVENT_LOG): must be one of kafka|embedded, got "rabbit"',
  );
  assert.equal(
    errorOf(() => loadConfig(decls, { env: { API_TOKEN: 'x' }, argv: ['--poll-every', '10 minutes'] }))
      .message,
    'config: option pollEvery (flag --poll-every): must be a duration such as 500ms, 30s, 5m or 1h, got "10 minutes"',
  );
  assert.equal(
    errorOf(() => loadConfig(decls, { env: { API_TOKEN: 'x' }, file: { retry: { count: 11 } } })).message,
    'config: option retries (file key retry.count): must be an integer from 0 to 10, got 11',
  );
});

test('a secret value is never echoed in an error', () => {
  const e = errorOf(() =>
    loadConfig(decls, { env: { API_TOKEN: 'x', DATABASE_URL: 'mysql://root:hunter2@db/x' } }),
  );
  assert.equal(
    e.message,
    'config: option databaseUrl (env DATABASE_URL): must be a postgres|postgresql URL, got a value (hidden: secret)',
  );
  assert.ok(!e.message.includes('hunter2'));
});

test('a missing required option is named with every place it can be set', () => {
  const e = errorOf(() => loadConfig(decls, { env: { API_TOKEN: '' } }));
  assert.equal(e.message, 'config: option token (env API_TOKEN or flag --token): is required but not set');
  const conditional = errorOf(() =>
    requireOption(decls, 'databaseUrl', undefined, 'when EVENT_LOG=embedded'),
  );
  assert.equal(
    conditional.message,
    'config: option databaseUrl (env DATABASE_URL or flag --database-url or file key database.url): is required when EVENT_LOG=embedded but not set',
  );
  assert.doesNotThrow(() =>
    requireOption(decls, 'databaseUrl', 'postgres://x@y/z', 'when EVENT_LOG=embedded'),
  );
});

test('unknown or valueless flags are config errors too', () => {
  assert.equal(
    errorOf(() => loadConfig(decls, { env: { API_TOKEN: 'x' }, argv: ['--prot', '1'] })).message,
    'config: option --prot (command line): unknown option',
  );
  assert.equal(
    errorOf(() => loadConfig(decls, { env: { API_TOKEN: 'x' }, argv: ['--port'] })).message,
    'config: option --port (command line): needs a value',
  );
});

test('parseArgv keeps positionals and the caller’s own flags apart from options', () => {
  const parsed = parseArgv(
    decls,
    ['image', '--format', 'json', '--kafka-brokers', 'a:1', '--kafka-brokers=b:2,c:3', 'nginx:1.25'],
    {
      allowPositionals: true,
      extra: { format: { type: 'string' } },
    },
  );
  assert.deepEqual(parsed.positionals, ['image', 'nginx:1.25']);
  assert.equal(parsed.extra['format'], 'json');
  const config = loadConfig(decls, { env: { API_TOKEN: 'x' }, flags: parsed.flags });
  assert.deepEqual(config.kafkaBrokers, ['a:1', 'b:2', 'c:3']);
});

test('declaring one env var for two options is refused', () => {
  assert.throws(
    () =>
      defineOptions({
        a: opt.string({ env: 'SAME', description: 'a' }),
        b: opt.string({ env: 'SAME', description: 'b' }),
      }),
    /options "a" and "b" both use env SAME/,
  );
});

test('help lists flag, env and default; secrets stay redacted in printouts', () => {
  const help = describeOptions(decls);
  assert.match(help, /--port <int> +HTTP port \(0 picks a free one\) \(env PORT, default 8080\)/);
  assert.match(help, /--event-log <kafka\|embedded> +.*\(env EVENT_LOG, default kafka\)/);
  assert.match(help, /--token <string> +API token \(env API_TOKEN, required\)/);
  const config = loadConfig(decls, { env: { API_TOKEN: 'sekrit', DATABASE_URL: 'postgres://u:pw@h/db' } });
  const printed = JSON.stringify(redactConfig(decls, config));
  assert.ok(!printed.includes('sekrit') && !printed.includes('pw@'), printed);
  assert.match(printed, /"token":"\[redacted\]"/);
});

test('durations', () => {
  assert.equal(parseDuration('250'), 250);
  assert.equal(parseDuration('1500ms'), 1500);
  assert.equal(parseDuration('2h'), 7_200_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1.5s'), undefined);
  assert.equal(parseDuration('-3s'), undefined);
});

test('a JSON config file feeds options by file key; a bad file is one named line too', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { readConfigFile } = await import('./index.js');
  const dir = mkdtempSync(join(tmpdir(), 'vigil-config-'));
  const good = join(dir, 'good.json');
  writeFileSync(good, JSON.stringify({ http: { port: 9443 }, eventLog: { kind: 'embedded' } }));
  const config = loadConfig(decls, { env: { API_TOKEN: 'x' }, file: readConfigFile(good) });
  assert.equal(config.port, 9443);
  assert.equal(config.eventLog, 'embedded');
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{ "http": ');
  assert.match(
    errorOf(() => readConfigFile(bad)).message,
    /^config: option configFile \(env VIGIL_CONFIG or flag --config\): .*bad\.json is not valid JSON: /,
  );
  assert.equal(
    errorOf(() => readConfigFile(join(dir, 'missing.json'))).message,
    `config: option configFile (env VIGIL_CONFIG or flag --config): cannot read ${join(dir, 'missing.json')}: ENOENT`,
  );
});
