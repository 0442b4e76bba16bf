// docker-compose.yml and the Dockerfile cannot be built or run here (no container engine); these checks hold
// them to the repo as it is: every service has a target that exists, one pinned Kafka version everywhere, and the
// environment the services' config declares.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { repoRoot } from './repo-paths.js';
import { pinnedKafkaVersion } from './servers.js';

interface ComposeService {
  image?: string;
  build?: { context?: string; target?: string };
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  command?: string[];
  user?: string;
}

const root = repoRoot();
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const serviceDirs = readdirSync(join(root, 'services'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'services', d.name, 'package.json')))
  .map((d) => d.name)
  .sort();
const distributed = serviceDirs.filter((s) => s !== 'vigil');

/** Stage name → the lines of that stage. */
function stages(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?\s*$/i.exec(line);
    if (from) {
      current = [line];
      if (from[1]) out.set(from[1], current);
    } else current?.push(line);
  }
  return out;
}
const dockerStages = stages(dockerfile);

describe('Dockerfile', () => {
  it('has a target per service and the all-in-one, each starting that service as the unprivileged user', () => {
    assert.ok(dockerStages.has('runtime'), 'no runtime stage');
    const runtime = dockerStages.get('runtime')!.join('\n');
    assert.match(runtime, /^USER 10001:10001$/m, 'the runtime stage must switch to a non-root user');
    for (const name of serviceDirs) {
      const stage = dockerStages.get(name);
      assert.ok(stage, `no Dockerfile target "${name}" for services/${name}`);
      assert.match(stage[0]!, /^FROM runtime AS /);
      // A package with a bin (the vigil CLI) starts through it; a service starts from its compiled main.
      const pkg = JSON.parse(readFileSync(join(root, 'services', name, 'package.json'), 'utf8')) as {
        bin?: Record<string, string>;
      };
      const entry = `services/${name}/${pkg.bin?.[name] ?? 'dist/main.js'}`;
      assert.ok(
        stage.some(
          (l) =>
            /^(CMD|ENTRYPOINT) \[/.test(l) && (l.includes(`"${entry}"`) || l.includes(`"/app/${entry}"`)),
        ),
        `target ${name} does not start ${entry}`,
      );
      const users = stage.filter((l) => /^USER\s/.test(l));
      if (users.length)
        assert.match(users.at(-1)!, /^USER 10001:10001$/, `target ${name} must end as the non-root user`);
    }
  });

  it('builds on node 20 bookworm-slim and installs from the lockfile with every workspace present', () => {
    assert.match(dockerfile, /^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    const deps = dockerStages.get('deps')?.join('\n') ?? '';
    assert.match(deps, /RUN npm ci\b/);
    const copy = /^COPY --parents (.+) \.\/$/m.exec(deps)?.[1]?.split(/\s+/) ?? [];
    const workspaces = (
      JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] }
    ).workspaces;
    for (const ws of workspaces) {
      assert.ok(
        copy.includes(`${ws}/package.json`),
        `the deps stage does not copy ${ws}/package.json, so npm ci would miss that workspace`,
      );
    }
    assert.ok(copy.includes('package-lock.json'));
  });
});

describe('docker-compose.yml', () => {
  const services = compose.services;

  it('runs every service from its own Dockerfile target', () => {
    for (const name of distributed) {
      const s = services[name];
      assert.ok(s, `docker-compose.yml has no service "${name}"`);
      assert.equal(s.build?.target, name, `${name} must build the Dockerfile target "${name}"`);
      assert.equal(s.build?.context, '.');
    }
    for (const [name, s] of Object.entries(services)) {
      if (s.build?.target)
        assert.ok(
          dockerStages.has(s.build.target),
          `${name} builds target "${s.build.target}", which the Dockerfile lacks`,
        );
    }
  });

  it('runs the Kafka broker version pinned in infra/local/kafka/pom.xml, in KRaft mode', () => {
    const version = pinnedKafkaVersion();
    assert.match(version, /^4\.\d+\.\d+$/);
    assert.equal(services.kafka?.image, `apache/kafka:${version}`);
    const env = services.kafka!.environment!;
    assert.equal(env.KAFKA_PROCESS_ROLES, 'broker,controller');
    assert.equal(env.KAFKA_AUTO_CREATE_TOPICS_ENABLE, 'false');
    assert.equal(env.KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS, '0');
    assert.match(services.postgres?.image ?? '', /^postgres:17(\.|$)/);
  });

  it('gives every service the environment its config declares, pointing at the compose servers', () => {
    const kafkaAdvertised = services.kafka!.environment!.KAFKA_ADVERTISED_LISTENERS!;
    const pg = services.postgres!.environment!;
    for (const name of distributed) {
      const env = services[name]!.environment ?? {};
      assert.equal(env.EVENT_LOG, 'kafka', `${name}: EVENT_LOG`);
      assert.ok(env.KAFKA_BROKERS, `${name}: no KAFKA_BROKERS`);
      for (const broker of env.KAFKA_BROKERS.split(',')) {
        assert.ok(
          kafkaAdvertised.includes(`//${broker}`),
          `${name}: KAFKA_BROKERS ${broker} is not an advertised listener (${kafkaAdvertised})`,
        );
      }
      const db = new URL(env.DATABASE_URL ?? 'missing:');
      assert.equal(db.hostname, 'postgres', `${name}: DATABASE_URL must point at the postgres service`);
      assert.equal(db.username, pg.POSTGRES_USER, `${name}: DATABASE_URL user`);
      assert.equal(db.pathname, `/${pg.POSTGRES_DB}`, `${name}: DATABASE_URL database`);
      assert.equal(env.PORT, '8080', `${name}: PORT`);
    }
  });

  it('starts services only after healthy servers, and checks their readiness', () => {
    for (const name of ['kafka', 'postgres'])
      assert.ok(services[name]?.healthcheck?.test.length, `${name} has no healthcheck`);
    for (const name of distributed) {
      const s = services[name]!;
      assert.equal(
        s.depends_on?.kafka?.condition,
        'service_healthy',
        `${name} must wait for a healthy kafka`,
      );
      assert.equal(
        s.depends_on?.postgres?.condition,
        'service_healthy',
        `${name} must wait for a healthy postgres`,
      );
      assert.ok(
        s.healthcheck?.test.join(' ').includes('/readyz'),
        `${name}: its healthcheck must ask /readyz`,
      );
    }
  });
});
