import { type AuditContext } from '../checks/check.model.js';
import { defaultContext } from '../context.js';
import { loadManifests, parseManifestText } from '../load/manifest-loader.js';
import { type LoadedObject } from '../model/k8s-object.js';

export function contextOf(objects: LoadedObject[]): AuditContext {
  return defaultContext(objects);
}

export async function contextOfPaths(...paths: string[]): Promise<AuditContext> {
  const loaded = await loadManifests(paths, { maxFileBytes: 8 * 1024 * 1024, maxAliasCount: 50 });
  if (loaded.errors.length) throw new Error(loaded.errors.map((e) => `${e.file}: ${e.message}`).join('; '));
  return contextOf(loaded.objects);
}

export function contextOfYaml(yaml: string): AuditContext {
  const result = { objects: [] as LoadedObject[], errors: [] as { file: string; message: string }[] };
  parseManifestText(yaml, 'inline.yaml', { maxFileBytes: 1 << 20, maxAliasCount: 50 }, result);
  if (result.errors.length) throw new Error(result.errors.map((e) => e.message).join('; '));
  return contextOf(result.objects);
}
