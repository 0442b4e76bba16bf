import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { corpusPath, repoRoot } from '@vigil/testing';
import { auditObjects, type AuditedOutcome } from '../audit.js';
import { WORKLOAD_CHECKS } from '../checks/workload.checks.js';
import { loadManifests } from '../load/manifest-loader.js';
import { namespaceOf, obj, type Json, type LoadedObject } from '../model/k8s-object.js';
import { schemaErrors } from './kube-schema.spec-helper.js';
import { applyStrategicMerge } from './strategic-merge.js';

const OWNED = new Set(WORKLOAD_CHECKS.map((c) => c.id));

interface Input {
  label: string;
  path: string;
}

async function inputs(): Promise<Input[]> {
  const out: Input[] = [];
  const cases = corpusPath('k8s', 'cases');
  for (const peer of (await readdir(cases, { withFileTypes: true })).filter((d) => d.isDirectory()))
    for (const c of (await readdir(join(cases, peer.name), { withFileTypes: true })).filter((d) =>
      d.isDirectory(),
    ))
      out.push({ label: `cases/${peer.name}/${c.name}`, path: join(cases, peer.name, c.name, 'input') });
  out.push({ label: 'manifests', path: corpusPath('k8s', 'manifests') });
  out.push({ label: 'examples/payments/k8s', path: join(repoRoot(), 'examples', 'payments', 'k8s') });
  return out.sort((a, b) => (a.label < b.label ? -1 : 1));
}

/** A patch that names its own apiVersion, kind and name is an object to create (a NetworkPolicy), not a change. */
function isNewObject(patch: Json): boolean {
  return (
    typeof patch['apiVersion'] === 'string' &&
    typeof patch['kind'] === 'string' &&
    Boolean(obj(patch['metadata'])?.['name'])
  );
}

// The same Kind/namespace/name occurs in several corpus files, so an outcome is identified by where its object was read.
const origin = (o: LoadedObject) => `${o.source.file}#${o.source.document}.${o.source.item ?? '-'}`;
const identity = (o: AuditedOutcome) =>
  `${origin(o.subject)}|${o.resource}|${o.container ?? ''}|${o.detail ?? ''}|${o.field}`;

interface Tally {
  patched: number;
  schemaValid: number;
  noSchema: number;
  fixed: number;
  failing: number;
  withoutPatch: number;
}

interface Problem {
  checkId: string;
  input: string;
  where: string;
  problem: string;
}

test('every remediation patch is schema-valid for its kind and makes its check pass', async (t) => {
  const tally = new Map<string, Tally>();
  const row = (id: string): Tally => {
    if (!tally.has(id))
      tally.set(id, { patched: 0, schemaValid: 0, noSchema: 0, fixed: 0, failing: 0, withoutPatch: 0 });
    return tally.get(id)!;
  };
  const invalid: Problem[] = [];
  const notFixed: Problem[] = [];
  for (const input of await inputs()) {
    const loaded = await loadManifests([input.path]);
    const objects = loaded.objects;
    const before = auditObjects(objects, { cluster: 'corpus' }).outcomes;
    const failingBefore = new Map<string, Set<string>>();
    for (const o of before.filter((x) => !x.pass)) {
      if (!failingBefore.has(o.checkId)) failingBefore.set(o.checkId, new Set());
      failingBefore.get(o.checkId)!.add(identity(o));
    }
    for (const o of before) {
      if (o.pass) continue;
      const r = row(o.checkId);
      r.failing++;
      if (!o.patch) {
        r.withoutPatch++;
        continue;
      }
      r.patched++;
      const where = `${o.resource}${o.container ? ` ${o.container}` : ''} ${o.field} (${relative(input.path, o.subject.source.file) || '.'}#${o.subject.source.document}${o.subject.source.item === undefined ? '' : `.${o.subject.source.item}`})`;
      const creates = isNewObject(o.patch);
      let result: Json;
      try {
        result = creates ? o.patch : applyStrategicMerge(o.subject.raw, o.patch);
      } catch (err) {
        invalid.push({ checkId: o.checkId, input: input.label, where, problem: (err as Error).message });
        continue;
      }
      // A corpus object may itself break the schema (a case about an unnamed container); only what the patch adds
      // counts against it.
      const after = await schemaErrors(result);
      if (after === undefined) r.noSchema++;
      else {
        const already = creates ? [] : ((await schemaErrors(o.subject.raw)) ?? []);
        const added = after.filter((e) => !already.includes(e));
        if (added.length === 0) r.schemaValid++;
        else invalid.push({ checkId: o.checkId, input: input.label, where, problem: added.join('; ') });
      }
      // Only the subject's namespace and cluster-scoped objects can change a namespaced object's verdict; leaving
      // the rest out keeps a thousand re-runs over the corpus cheap.
      const ns = namespaceOf(o.subject);
      const scope = objects.filter((x) => namespaceOf(x) === ns || namespaceOf(x) === '');
      const patchedObjects: LoadedObject[] = creates
        ? [
            ...scope,
            { raw: result, source: { ...o.subject.source, file: `${o.subject.source.file} (patch)` } },
          ]
        : scope.map((x) => (x === o.subject ? { ...x, raw: result } : x));
      const rerun = auditObjects(patchedObjects, { cluster: 'corpus', checks: [o.checkId] }).outcomes;
      const stillFailing = rerun
        .filter((x) => !x.pass && origin(x.subject) === origin(o.subject))
        .map(identity);
      const known = failingBefore.get(o.checkId) ?? new Set();
      const introduced = stillFailing.filter((k) => !known.has(k));
      if (!stillFailing.includes(identity(o)) && introduced.length === 0) r.fixed++;
      else
        notFixed.push({
          checkId: o.checkId,
          input: input.label,
          where,
          problem: stillFailing.includes(identity(o))
            ? 'still fails after its patch'
            : `the patch makes ${introduced.join(', ')} fail`,
        });
    }
  }
  for (const [id, r] of [...tally].sort())
    t.diagnostic(
      `${id}: ${r.failing} failing, ${r.patched} with a patch (${r.schemaValid} schema-valid, ${r.noSchema} kind without a schema), ${r.fixed} pass after it, ${r.withoutPatch} without a patch`,
    );
  for (const p of invalid) t.diagnostic(`invalid patch: ${p.checkId} ${p.input} ${p.where}: ${p.problem}`);
  for (const p of notFixed) t.diagnostic(`not fixed: ${p.checkId} ${p.input} ${p.where}: ${p.problem}`);

  const owned = (p: Problem) => OWNED.has(p.checkId);
  assert.deepEqual(invalid.filter(owned), []);
  assert.deepEqual(notFixed.filter(owned), []);
  // The gate means something only if the corpus exercises the patches: every patching workload check ran.
  for (const id of [
    'k8s/privileged',
    'k8s/host-namespaces',
    'k8s/host-path-mount',
    'k8s/run-as-root',
    'k8s/privilege-escalation',
    'k8s/added-capabilities',
    'k8s/no-readonly-rootfs',
    'k8s/no-seccomp',
    'k8s/secrets-in-env',
    'k8s/secrets-in-configmap',
    'k8s/automount-sa-token',
    'k8s/no-resource-limits',
    'k8s/container-runtime-socket',
    'k8s/host-port',
  ])
    assert.ok((tally.get(id)?.schemaValid ?? 0) > 0, `${id}: no patch validated against a schema`);
});
