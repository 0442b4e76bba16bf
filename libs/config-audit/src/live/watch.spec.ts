// Real: client-node's Watch and request machinery, the recorded pod watch stream of a kind 1.36 cluster.
// Fake: the API server replaying it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { corpusPath, startFakeApiServer, type FakeApiServer } from '@vigil/testing';
import { type Json } from '../model/k8s-object.js';
import { watchCluster, type ClusterEvent, type ClusterWatchError } from './watch.js';

type Event = ClusterEvent | ClusterWatchError;

const recordedWatch = (): Json[] => {
  const exchanges = JSON.parse(
    readFileSync(corpusPath('k8s', 'api', 'recorded', 'v1-36', 'watch_event-watch_pods.json'), 'utf8'),
  ) as { response_body: string }[];
  return exchanges[0]!.response_body
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Json);
};

async function withServer<T>(
  options: Parameters<typeof startFakeApiServer>[0],
  fn: (s: FakeApiServer) => Promise<T>,
): Promise<T> {
  const server = await startFakeApiServer(options);
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

const nameOf = (e: Event) => ('object' in e ? (e.object.raw['metadata'] as Json)['name'] : undefined);

/** Collects events until `until` says stop, then aborts and drains; fails the test if the stream does not end. */
async function collect(
  stream: AsyncIterable<Event>,
  controller: AbortController,
  until: (events: Event[], last: Event) => boolean,
  onEvent?: (e: Event) => void,
): Promise<Event[]> {
  const events: Event[] = [];
  const guard = setTimeout(() => controller.abort(), 10_000);
  try {
    for await (const e of stream) {
      events.push(e);
      onEvent?.(e);
      if (!controller.signal.aborted && until(events, e)) controller.abort();
    }
  } finally {
    clearTimeout(guard);
  }
  return events;
}

test('watchCluster lists, then gives the recorded watch events in order from the list resourceVersion', async () => {
  await withServer({}, async (server) => {
    const controller = new AbortController();
    const started = Date.now();
    const events = await collect(
      watchCluster({ kubeconfig: server.kubeconfigPath, kinds: ['Pod'], signal: controller.signal }),
      controller,
      (_all, last) => last.type === 'BOOKMARK',
    );
    assert.ok(Date.now() - started < 5000, 'abort ends the stream promptly');
    const listed = events.filter((e) => e.type === 'ADDED' && 'phase' in e && e.phase === 'list');
    assert.equal(listed.length, 8);

    const watched = events.filter((e): e is ClusterEvent => 'phase' in e && e.phase === 'watch');
    const recorded = recordedWatch();
    assert.deepEqual(
      watched.slice(0, recorded.length).map((e) => [e.type, nameOf(e)]),
      recorded.map((r) => [r['type'], ((r['object'] as Json)['metadata'] as Json)['name']]),
    );
    assert.deepEqual(watched[0]!.object.raw, recorded[0]!['object']);
    assert.equal(watched[0]!.object.source.file, 'live:kind-fake/Pod');
    assert.equal(watched.at(-1)!.type, 'BOOKMARK');

    const watch = server.requests.find((r) => r.query['watch'] === 'true')!;
    assert.equal(watch.path, '/api/v1/pods');
    assert.equal(watch.query['resourceVersion'], '554', 'the watch starts where the list ended');
    assert.equal(watch.query['allowWatchBookmarks'], 'true');
    assert.ok(!events.some((e) => e.type === 'ERROR'));
  });
});

test('a 410 Gone re-lists and reports what changed meanwhile, then watches on', async () => {
  await withServer({ goneOnFirstWatch: ['pods'] }, async (server) => {
    const controller = new AbortController();
    let changed = false;
    const events = await collect(
      watchCluster({ kubeconfig: server.kubeconfigPath, kinds: ['Pod'], signal: controller.signal }),
      controller,
      (_all, last) => last.type === 'BOOKMARK',
      (e) => {
        // While the first watch is being answered 410, the cluster loses kube-proxy's pod.
        if (
          !changed &&
          'phase' in e &&
          e.phase === 'list' &&
          String(nameOf(e)).startsWith('kube-scheduler')
        ) {
          changed = true;
          assert.ok(server.removeObject('v1', 'Pod', 'kube-system', 'kube-proxy-hsdvx'));
        }
      },
    );
    const lists = server.requests.filter((r) => r.path === '/api/v1/pods' && r.query['watch'] === undefined);
    assert.equal(lists.length, 2, 'listed, then re-listed after the 410');
    const watches = server.requests.filter((r) => r.path === '/api/v1/pods' && r.query['watch'] === 'true');
    assert.equal(watches.length, 2);

    const relisted = events.filter((e): e is ClusterEvent => 'phase' in e && e.phase === 'relist');
    assert.deepEqual(
      relisted.map((e) => [e.type, nameOf(e)]),
      [['DELETED', 'kube-proxy-hsdvx']],
    );
    const watched = events.filter(
      (e): e is ClusterEvent => 'phase' in e && e.phase === 'watch' && e.type === 'ADDED',
    );
    assert.deepEqual(
      watched.map(nameOf),
      recordedWatch().map((r) => ((r['object'] as Json)['metadata'] as Json)['name']),
    );
    // The second watch starts at the re-list's resourceVersion, bumped by the removal.
    assert.equal(watches[1]!.query['resourceVersion'], '555');
  });
});

test('a forbidden kind is an ERROR event while the others are watched; bad credentials throw', async () => {
  await withServer({ forbidden: ['apps/deployments'] }, async (server) => {
    const controller = new AbortController();
    const events = await collect(
      watchCluster({
        kubeconfig: server.kubeconfigPath,
        kinds: ['Pod', 'Deployment'],
        signal: controller.signal,
      }),
      controller,
      (_all, last) => last.type === 'BOOKMARK',
    );
    const errors = events.filter((e): e is ClusterWatchError => e.type === 'ERROR');
    assert.deepEqual(
      errors.map((e) => [e.kind, e.retrying]),
      [['Deployment', false]],
    );
    assert.match(errors[0]!.error.message, /cannot list Deployment .* 403/);
    assert.ok(events.some((e) => e.type === 'ADDED' && e.kind === 'Pod'));

    const wrong = server.writeKubeconfig({ token: 'nope' });
    await assert.rejects(async () => {
      for await (const _e of watchCluster({ kubeconfig: wrong, kinds: ['Pod'] })) {
        assert.fail('no event expected with a wrong token');
      }
    }, /rejected the credentials/);
  });
});
