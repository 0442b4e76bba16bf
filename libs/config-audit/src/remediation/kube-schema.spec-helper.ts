import { type Json } from '../model/k8s-object.js';

interface ModelClass {
  new (data: unknown): { validate(): void };
}

interface AjvLikeError {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

const models = new Map<string, ModelClass | undefined>();

/**
 * The kubernetes-models class for an apiVersion and kind ("apps/v1" + "Deployment" → kubernetes-models/apps/v1/
 * Deployment), or undefined when the package has no schema for it (OpenShift kinds, removed versions, config
 * files such as EncryptionConfiguration that are not API objects).
 */
export async function modelFor(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  const id = `${apiVersion}/${kind}`;
  if (models.has(id)) return models.get(id);
  let found: ModelClass | undefined;
  if (/^[a-z0-9.]+(\/[a-z0-9]+)?$/.test(apiVersion) && /^[A-Za-z]+$/.test(kind)) {
    try {
      const mod = (await import(`kubernetes-models/${apiVersion}/${kind}`)) as Record<string, unknown>;
      found = typeof mod[kind] === 'function' ? (mod[kind] as ModelClass) : undefined;
    } catch {
      found = undefined;
    }
  }
  models.set(id, found);
  return found;
}

/**
 * Schema errors of an object against the OpenAPI schema of its kind, each "instancePath: message" (empty when
 * valid), or undefined when no schema is known for the kind.
 */
export async function schemaErrors(raw: Json): Promise<string[] | undefined> {
  const Model = await modelFor(String(raw['apiVersion'] ?? ''), String(raw['kind'] ?? ''));
  if (!Model) return undefined;
  try {
    new Model(raw).validate();
    return [];
  } catch (err) {
    const list = (err as { errors?: AjvLikeError[] }).errors;
    if (!Array.isArray(list)) return [(err as Error).message];
    return list.map(
      (e) =>
        `${e.instancePath || '/'}: ${e.message ?? 'invalid'}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''}`,
    );
  }
}
