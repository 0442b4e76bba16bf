import { parseAllDocuments } from 'yaml';
import { type AuditContext } from '../checks/check.model.js';
import { loadManifests } from '../load/manifest-loader.js';
import { type Json, type LoadedObject } from '../model/k8s-object.js';
import { defaultContext } from '../context.js';

/** Objects written in a test (the pods a recipe's walkthrough starts, a policy variant). */
export function objects(yaml: string, file = 'test.yaml'): LoadedObject[] {
  return parseAllDocuments(yaml).map((d, i) => ({
    raw: d.toJS() as Json,
    source: { file, document: i, line: undefined, item: undefined },
  }));
}

/** Loads real manifests through the auditor's loader; a load error fails the test instead of hiding a policy. */
export async function load(paths: string[]): Promise<LoadedObject[]> {
  const r = await loadManifests(paths);
  if (r.errors.length)
    throw new Error(`load errors: ${r.errors.map((e) => `${e.file}: ${e.message}`).join('; ')}`);
  return r.objects;
}

export const contextOf = (objs: LoadedObject[], cdeLabel?: { key: string; value: string }): AuditContext =>
  defaultContext(objs, cdeLabel);
