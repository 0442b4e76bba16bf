// The real servers the integration and e2e tiers need: one Kafka broker and one Postgres server per test run.
// Per server, in order: the environment (KAFKA_BROKERS / DATABASE_URL), testcontainers when a container runtime
// answers, else local processes (infra/local/kafka.sh; the Postgres on 127.0.0.1:5432, else embedded Postgres).
// Whatever this call started, stop() stops; whatever was already running is left running.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { join } from 'node:path';
import { pingDatabase, redactUrl, startEmbeddedPostgres, withDatabase } from '@vigil/store';
import { probeContainerRuntime } from './container-runtime.js';
import { repoRoot } from './repo-paths.js';

export type ServerSource = 'env' | 'testcontainers' | 'local' | 'embedded';

export interface ServerInfo {
  readonly source: ServerSource;
  /** One human line: where it runs and whether this call started it. */
  readonly detail: string;
}

export interface Servers {
  /** Hand these to the processes under test. DATABASE_URL is an admin URL: tests make their own databases. */
  readonly env: { readonly KAFKA_BROKERS: string; readonly DATABASE_URL: string };
  readonly kafka: ServerInfo;
  readonly postgres: ServerInfo;
  /** Stops what this call started (containers, a broker it started); idempotent. */
  stop(): Promise<void>;
}

export interface AcquireOptions {
  log?: (line: string) => void;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for a container runtime to answer before using local servers. */
  runtimeProbeTimeoutMs?: number;
  /** The local Postgres to try before embedded Postgres. Default postgresql://postgres@127.0.0.1:5432/postgres. */
  localPostgresUrl?: string;
  /** Data dir of the embedded Postgres fallback. Default <repo>/.cache/test-servers (kept between runs). */
  embeddedDataDir?: string;
}

const LOCAL_PG_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

interface Acquired {
  info: ServerInfo;
  value: string;
  stop?: () => Promise<void>;
}

/** The one pinned broker version of the repo, read from the pom kafka.sh fetches. */
export function pinnedKafkaVersion(): string {
  const pom = join(repoRoot(), 'infra/local/kafka/pom.xml');
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(pom, 'utf8'));
  if (!m?.[1]) throw new Error(`pinnedKafkaVersion: ${pom} has no <kafka.version> property`);
  return m[1].trim();
}

export async function acquireServers(options: AcquireOptions = {}): Promise<Servers> {
  const log = options.log ?? (() => undefined);
  const env = options.env ?? process.env;
  const needRuntime = !env.KAFKA_BROKERS || !env.DATABASE_URL;
  const runtime = needRuntime
    ? await probeContainerRuntime(env, options.runtimeProbeTimeoutMs ?? 3_000)
    : { available: false, reason: 'not asked: both servers come from the environment' };

  // Both at once: a broker's JVM start and an embedded initdb are each seconds long.
  const [kafkaResult, postgresResult] = await Promise.allSettled([
    timed(log, 'kafka', () => acquireKafka(env, runtime.available, runtime.reason, log)),
    timed(log, 'postgres', () => acquirePostgres(env, runtime.available, runtime.reason, options, log)),
  ]);
  const stops: Array<() => Promise<void>> = [];
  for (const r of [kafkaResult, postgresResult])
    if (r.status === 'fulfilled' && r.value.stop) stops.push(r.value.stop);
  if (kafkaResult.status === 'rejected' || postgresResult.status === 'rejected') {
    // Leave nothing running behind a failed setup.
    await stopAll(stops, log).catch(() => undefined);
    const reasons = [kafkaResult, postgresResult]
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => (r.reason as Error).message);
    throw new Error(reasons.join('; '));
  }
  const kafka = kafkaResult.value;
  const postgres = postgresResult.value;

  let stopped: Promise<void> | undefined;
  return {
    env: { KAFKA_BROKERS: kafka.value, DATABASE_URL: postgres.value },
    kafka: kafka.info,
    postgres: postgres.info,
    stop: () => (stopped ??= stopAll(stops, log)),
  };
}

async function timed(
  log: (line: string) => void,
  what: string,
  fn: () => Promise<Acquired>,
): Promise<Acquired> {
  const started = Date.now();
  const got = await fn();
  log(`${what}: ${got.info.source} — ${got.info.detail} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return got;
}

async function stopAll(stops: Array<() => Promise<void>>, log: (line: string) => void): Promise<void> {
  const failures: string[] = [];
  for (const stop of stops.reverse()) {
    try {
      await stop();
    } catch (err) {
      failures.push((err as Error).message);
    }
  }
  stops.length = 0;
  if (failures.length) {
    log(`stop: ${failures.join('; ')}`);
    throw new Error(`acquireServers.stop: ${failures.join('; ')}`);
  }
}

// ---------------------------------------------------------------------------------------------------------- Kafka

async function acquireKafka(
  env: NodeJS.ProcessEnv,
  runtimeAvailable: boolean,
  runtimeReason: string,
  log: (line: string) => void,
): Promise<Acquired> {
  if (env.KAFKA_BROKERS) {
    const brokers = parseBrokers(env.KAFKA_BROKERS);
    const answering = await firstAnswering(brokers, 2_000);
    if (!answering) {
      throw new Error(
        `KAFKA_BROKERS=${env.KAFKA_BROKERS} is set, but none of its brokers accepts a TCP connection`,
      );
    }
    return {
      info: { source: 'env', detail: `KAFKA_BROKERS=${env.KAFKA_BROKERS}` },
      value: env.KAFKA_BROKERS,
    };
  }
  if (runtimeAvailable) return kafkaContainer();
  return localKafka(env, runtimeReason, log);
}

function parseBrokers(list: string): Array<{ host: string; port: number }> {
  return list.split(',').map((entry) => {
    const m = /^\s*([^\s:]+|\[[0-9a-fA-F:]+\]):(\d{1,5})\s*$/.exec(entry);
    const port = Number(m?.[2]);
    if (!m?.[1] || !(port > 0 && port < 65536)) {
      throw new Error(`KAFKA_BROKERS: "${entry}" is not host:port (expected e.g. 127.0.0.1:9092,other:9092)`);
    }
    return { host: m[1].replace(/^\[|\]$/g, ''), port };
  });
}

async function firstAnswering(brokers: Array<{ host: string; port: number }>, timeoutMs: number) {
  for (const b of brokers) if (await tcpAnswers(b.host, b.port, timeoutMs)) return b;
  return undefined;
}

export function tcpAnswers(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.connect(port, host);
  });
}

async function localKafka(
  env: NodeJS.ProcessEnv,
  runtimeReason: string,
  log: (line: string) => void,
): Promise<Acquired> {
  const script = join(repoRoot(), 'infra/local/kafka.sh');
  const brokers = (await runScript(script, ['env'], env)).stdout.trim().replace(/^KAFKA_BROKERS=/, '');
  const status = await runScript(script, ['status'], env);
  if (status.code === 0) {
    return {
      info: {
        source: 'local',
        detail: `${status.stdout.trim()}; already running, left running (no container runtime: ${runtimeReason})`,
      },
      value: brokers,
    };
  }
  const start = await runScript(script, ['start'], env, (line) => log(`kafka: ${line}`));
  if (start.code !== 0) {
    throw new Error(`infra/local/kafka.sh start failed (exit ${start.code}): ${lastLine(start.stderr)}`);
  }
  return {
    info: {
      source: 'local',
      detail: `Kafka ${pinnedKafkaVersion()} started by infra/local/kafka.sh on ${brokers}, stopped afterwards (no container runtime: ${runtimeReason})`,
    },
    value: brokers,
    stop: async () => {
      const r = await runScript(script, ['stop'], env);
      if (r.code !== 0)
        throw new Error(`infra/local/kafka.sh stop failed (exit ${r.code}): ${lastLine(r.stderr)}`);
    },
  };
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '(no output)';
}

function runScript(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  onStderrLine?: (line: string) => void,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString();
      stderr += text;
      if (!onStderrLine) return;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) onStderrLine(line.replace(/^kafka\.sh: /, ''));
    });
    child.once('error', reject);
    child.once('close', (code) => {
      if (onStderrLine && pending.trim()) onStderrLine(pending.replace(/^kafka\.sh: /, ''));
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

// The apache/kafka image of the pinned version, not @testcontainers/kafka: that module drives Confluent's image
// (its /etc/confluent/docker scripts), whose Kafka version would differ from the one every other path runs.
// Kafka must advertise the port clients reach it on, which is known before start only when we choose it.
async function kafkaContainer(): Promise<Acquired> {
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  const host = (await getContainerRuntimeClient()).info.containerRuntime.host;
  const hostPort = await freePort();
  const version = pinnedKafkaVersion();
  const container = await new GenericContainer(`apache/kafka:${version}`)
    .withExposedPorts({ container: 9092, host: hostPort })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'PLAINTEXT://0.0.0.0:9092,CONTROLLER://0.0.0.0:9093',
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${host}:${hostPort}`,
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .withStartupTimeout(120_000)
    .start();
  const brokers = `${host}:${hostPort}`;
  return {
    info: { source: 'testcontainers', detail: `apache/kafka:${version} at ${brokers}` },
    value: brokers,
    stop: async () => {
      await container.stop();
    },
  };
}

// ------------------------------------------------------------------------------------------------------- Postgres

async function acquirePostgres(
  env: NodeJS.ProcessEnv,
  runtimeAvailable: boolean,
  runtimeReason: string,
  options: AcquireOptions,
  log: (line: string) => void,
): Promise<Acquired> {
  if (env.DATABASE_URL) {
    if (!(await pingDatabase(env.DATABASE_URL, 5_000))) {
      throw new Error(
        `DATABASE_URL=${redactUrl(env.DATABASE_URL)} is set, but that database does not answer SELECT 1`,
      );
    }
    return {
      info: { source: 'env', detail: `DATABASE_URL=${redactUrl(env.DATABASE_URL)}` },
      value: env.DATABASE_URL,
    };
  }
  if (runtimeAvailable) return postgresContainer();
  const local = options.localPostgresUrl ?? LOCAL_PG_URL;
  if (await pingDatabase(local, 2_000)) {
    return {
      info: {
        source: 'local',
        detail: `${redactUrl(local)}, already running (no container runtime: ${runtimeReason})`,
      },
      value: local,
    };
  }
  return embeddedPostgres(options.embeddedDataDir ?? join(repoRoot(), '.cache/test-servers'), local, log);
}

async function postgresContainer(): Promise<Acquired> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const container = await new PostgreSqlContainer('postgres:17')
    .withUsername('postgres')
    .withPassword('postgres')
    .start();
  // Tests create their own databases, so hand out the server's maintenance database, not the container's "test".
  const url = withDatabase(container.getConnectionUri(), 'postgres');
  return {
    info: { source: 'testcontainers', detail: `postgres:17 at ${redactUrl(url)}` },
    value: url,
    stop: async () => {
      await container.stop();
    },
  };
}

async function embeddedPostgres(
  dataDir: string,
  triedUrl: string,
  log: (line: string) => void,
): Promise<Acquired> {
  const pg = await startEmbeddedPostgres({
    dataDir,
    log: (line) => log(`postgres: ${line}`),
    timeoutMs: 120_000,
  });
  return {
    info: {
      source: 'embedded',
      detail: `embedded Postgres under ${dataDir} on port ${pg.port}, ${pg.owner ? 'started here' : 'attached to a running one'} (nothing answered at ${redactUrl(triedUrl)})`,
    },
    value: pg.adminUrl,
    stop: () => pg.stop(),
  };
}
