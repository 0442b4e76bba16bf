import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusPath } from '@vigil/testing';
import {
  DEFAULT_LOADER_LIMITS,
  describeLoadErrors,
  loadManifests,
  parseManifestText,
  type LoadResult,
} from './manifest-loader.js';
import { resourceKey } from '../model/k8s-object.js';

function parse(text: string, limits = DEFAULT_LOADER_LIMITS): Pick<LoadResult, 'objects' | 'errors'> {
  const result: Pick<LoadResult, 'objects' | 'errors'> = { objects: [], errors: [] };
  parseManifestText(text, 'in.yaml', limits, result);
  return result;
}

test('a bad document is reported with file, document and line, and the other documents are still read', () => {
  const r = parse(`apiVersion: v1
kind: ConfigMap
metadata: { name: first }
---
apiVersion: v1
kind: Pod
metadata: { name: [broken
---
apiVersion: v1
kind: Service
metadata: { name: last }
`);
  assert.deepEqual(r.objects.map(resourceKey), ['ConfigMap/default/first', 'Service/default/last']);
  assert.equal(r.errors.length, 1);
  assert.equal(r.errors[0]!.file, 'in.yaml');
  assert.equal(r.errors[0]!.document, 1);
  assert.ok((r.errors[0]!.line ?? 0) >= 5, `line ${r.errors[0]!.line}`);
  assert.match(r.errors[0]!.message, /^invalid YAML/);
});

test('a YAML alias bomb is refused for its document only', () => {
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++)
    bomb.push(
      `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
        .fill(`*${String.fromCharCode(96 + i)}`)
        .join(',')}]`,
    );
  const r = parse(
    `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: bomb }\ndata:\n${bomb.map((l) => `  ${l}`).join('\n')}\n---\napiVersion: v1\nkind: Namespace\nmetadata: { name: ok }\n`,
  );
  assert.deepEqual(r.objects.map(resourceKey), ['Namespace//ok']);
  assert.equal(r.errors.length, 1);
  assert.equal(r.errors[0]!.document, 0);
  assert.match(r.errors[0]!.message, /alias/i);
});

test('an oversized file is refused before parsing, naming the limit', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'config-audit-'));
  try {
    await writeFile(
      join(dir, 'big.yaml'),
      `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: big }\ndata:\n  blob: "${'x'.repeat(2048)}"\n`,
    );
    await writeFile(join(dir, 'small.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: { name: small }\n');
    const r = await loadManifests([dir], { ...DEFAULT_LOADER_LIMITS, maxFileBytes: 1024 });
    assert.deepEqual(r.objects.map(resourceKey), ['Namespace//small']);
    assert.equal(r.errors.length, 1);
    assert.equal(r.errors[0]!.file, join(dir, 'big.yaml'));
    assert.match(r.errors[0]!.message, /over the 1024-byte limit/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('kind List, typed lists without item kinds, and JSON are flattened into their objects', () => {
  const r = parse(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'PodList',
      items: [{ metadata: { name: 'p1', namespace: 'a' }, spec: { containers: [] } }],
    }),
  );
  assert.deepEqual(r.objects.map(resourceKey), ['Pod/a/p1']);
  assert.equal(r.objects[0]!.source.item, 0);
  const list = parse(
    'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: { name: s }\n- just-a-string\n',
  );
  assert.deepEqual(list.objects.map(resourceKey), ['Service/default/s']);
  assert.match(list.errors[0]!.message, /item 1 is not a Kubernetes object/);
});

test('a wrong apiVersion or a missing kind is an error for that document', () => {
  const r = parse(
    'apiVersion: v1\nkind: Deployment\nmetadata: { name: d }\n---\napiVersion: v1\nmetadata: { name: x }\n',
  );
  assert.equal(r.objects.length, 0);
  assert.match(r.errors[0]!.message, /apiVersion v1 does not serve Deployment \(expected apps\/v1/);
  assert.equal(r.errors[1]!.document, 1);
  assert.match(r.errors[1]!.message, /has no kind/);
});

test('the errors of a load are described per problem, with its first three places and how many more', () => {
  const r: LoadResult = { objects: [], errors: [], files: [] };
  for (const f of ['a.json', 'b.json', 'c.json', 'd.json', 'e.json'])
    parseManifestText('{"x": 1}', f, DEFAULT_LOADER_LIMITS, r);
  parseManifestText('kind: Pod\nmetadata: {}\n', 'pod.yaml', DEFAULT_LOADER_LIMITS, r);
  parseManifestText('{"y": 2}', 'f.json', DEFAULT_LOADER_LIMITS, r);
  assert.equal(r.errors.length, 7);
  assert.equal(
    describeLoadErrors(r.errors),
    `${r.errors[0]!.message} (6: a.json document 0 line 1, b.json document 0 line 1, c.json document 0 line 1, and 3 more); ` +
      `pod.yaml document 0 line 1: ${r.errors[5]!.message}`,
  );
  assert.match(r.errors[0]!.message, /has no kind/);
});

test('a pod spec, container list or metadata of the wrong type is refused for its document; snippets are not', () => {
  const r = parse(
    [
      'apiVersion: v1\nkind: Pod\nmetadata: { name: a }\nspec: { containers: notalist }',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: b }\nspec: { template: { spec: { initContainers: [1] } } }',
      'apiVersion: batch/v1\nkind: CronJob\nmetadata: { name: c }\nspec: { jobTemplate: [] }',
      'apiVersion: v1\nkind: Service\nmetadata: just-a-string',
      // What peers lint: no name, no containers.
      'apiVersion: apps/v1\nkind: DaemonSet\nspec: { template: { spec: { hostNetwork: true } } }',
    ].join('\n---\n'),
  );
  assert.deepEqual(
    r.errors.map((e) => [e.document, e.message]),
    [
      [0, 'Pod: spec.containers is not a list; not audited'],
      [1, 'Deployment: spec.template.spec.initContainers[0] is not a mapping; not audited'],
      [2, 'CronJob: spec.jobTemplate is not a mapping; not audited'],
      [3, 'Service: metadata is not a mapping; not audited'],
    ],
  );
  assert.deepEqual(
    r.objects.map((o) => o.raw['kind']),
    ['DaemonSet'],
  );
});

test('a document nested too deeply to parse is refused naming that, not the engine error', () => {
  const r = parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
  assert.equal(r.objects.length, 0);
  assert.match(r.errors[0]!.message, /nested too deeply to read/);
  assert.doesNotMatch(r.errors[0]!.message, /call stack/);
});

test('an unreadable path throws and names it', async () => {
  await assert.rejects(loadManifests(['/nonexistent/x']), /cannot read manifests at \/nonexistent\/x/);
});

test('the real-world manifests of the corpus load; the only unreadable documents are the kubelet host-data dumps', async () => {
  const r = await loadManifests([corpusPath('k8s', 'manifests')]);
  assert.ok(r.objects.length >= 450, `${r.objects.length} objects`);
  const unexpected = r.errors.filter((e) => !e.file.includes('/node-config/kubescape-hostdata/'));
  assert.deepEqual(unexpected, []);
  // Those dumps are kubelet-info JSON, not Kubernetes objects: the error says so.
  for (const e of r.errors) assert.match(e.message, /has no kind/);
});

test('a directory is read recursively in name order, manifests only', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'config-audit-'));
  try {
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'b.yml'), 'apiVersion: v1\nkind: Namespace\nmetadata: { name: b }\n');
    await writeFile(join(dir, 'a.json'), '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}}');
    await writeFile(join(dir, 'sub', 'c.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: { name: c }\n');
    await writeFile(join(dir, 'notes.txt'), 'not a manifest');
    const r = await loadManifests([dir]);
    assert.deepEqual(r.objects.map(resourceKey), ['Namespace//a', 'Namespace//b', 'Namespace//c']);
    assert.deepEqual(r.errors, []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
