import { MAPPING_DATA } from './mapping.data.js';
import { type FindingMapping } from './mapping.model.js';

const byKey = new Map<string, FindingMapping>(MAPPING_DATA.map((m) => [m.key, m]));

/** Every finding-type key the mapping knows, in catalog order (image, k8s, node, runtime, extra). */
export function mappingKeys(): readonly string[] {
  return MAPPING_DATA.map((m) => m.key);
}

/** The full mapping entry for a finding type, with reasons; throws on an unknown key like requirementsFor. */
export function findingMapping(key: string): FindingMapping {
  const m = byKey.get(key);
  if (!m) {
    throw new Error(
      `unknown finding type "${key}" for the PCI DSS mapping; valid keys: ${mappingKeys().join(', ')}`,
    );
  }
  return m;
}

/** The v4.0.1 ids a finding type is primary and secondary evidence for. */
export function requirementsFor(key: string): { primary: string[]; secondary: string[] } {
  const m = findingMapping(key);
  return { primary: m.primary.map((r) => r.id), secondary: m.secondary.map((r) => r.id) };
}
