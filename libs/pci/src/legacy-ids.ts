import { canonicalId } from './catalog.js';
import { LEGACY_REMAP_DATA, type LegacyRemapEntry, type LegacySource } from './legacy-remap.data.js';

export interface LegacyRemap {
  /** v4.0.1 ids, closest fit first. */
  ids: string[];
  /** The v3.2.1 number found in the input. */
  from: string;
  /** What the old number covered. */
  meaning: string;
  sources: LegacySource[];
}

const byLegacy = new Map<string, LegacyRemapEntry>(LEGACY_REMAP_DATA.map((e) => [e.legacy, e]));

// Falco rule tags (`PCI_DSS_10.2.5`) and Wazuh-style groups (`pci_dss_10.2.4`); a bare number is taken as v3.2.1
// because the caller says it is legacy.
const LEGACY_TAG = /^(?:pci_dss_)?(\d{1,2}(?:\.\d{1,2}){0,3})$/i;

/** The v3.2.1 number inside a tool tag such as `PCI_DSS_10.2.5`, or undefined when the input is not such a tag. */
export function legacyNumberOf(input: string): string | undefined {
  return LEGACY_TAG.exec(input.trim())?.[1];
}

/** True when the input looks like a v3.2.1-era tool tag (`PCI_DSS_…`, `pci_dss_…`), known to the table or not. */
export function isLegacyTag(input: string): boolean {
  return /^pci_dss_\d/i.test(input.trim());
}

/**
 * Remaps a v3.2.1 number found in tool output to v4.0.1 ids. Unknown numbers give undefined: callers report them
 * as unmapped rather than passing them through, since many v3.2.1 numbers mean something else in v4.
 */
export function remapLegacyId(input: string): LegacyRemap | undefined {
  const number = legacyNumberOf(input);
  if (number === undefined) return undefined;
  const entry = byLegacy.get(number);
  if (!entry) return undefined;
  return { ids: [...entry.ids], from: number, meaning: entry.meaning, sources: [...entry.sources] };
}

/** The whole v3.2.1 → v4.0.1 table, for documentation and reports. */
export function legacyRemapTable(): readonly LegacyRemapEntry[] {
  return LEGACY_REMAP_DATA;
}

// Forms a v4 id takes in our inputs: bare (`6.3.3`), prefixed by `Req`/`Requirement`, or by `PCI DSS` with an
// optional v4 version (`PCI DSS 8.2.8`, `PCI DSS v4.0.1 8.2.8`). Appendix ids are matched case-insensitively.
const V4_ID =
  /^(?:(?:req(?:uirement)?\.?|pci[ -]dss(?:[ -]v?4(?:\.0(?:\.1)?)?)?)[ :-]*)?([Aa]?\d{1,2}(?:\.\d{1,2}){0,4})$/i;

/**
 * The canonical v4.0.1 id written in a string (`6.3.3`, `Req 6.3.3`, `PCI DSS 6.3.3`, `a3.3.1.2` → `A3.3.1.1`),
 * or undefined when it names no catalog id. Legacy tool tags (`PCI_DSS_10.2.5`) are not v4 ids and give undefined:
 * use remapLegacyId for them.
 */
export function normalizeRequirementId(input: string): string | undefined {
  const m = V4_ID.exec(input.trim());
  if (!m?.[1]) return undefined;
  const id = m[1].replace(/^a/, 'A');
  return canonicalId(id);
}

/**
 * Splits a list of v4 ids as written in check metadata (`8.2.2 / 2.2.2`, `10.2.1.5, 10.2.2`) and normalizes each;
 * throws naming every entry that is not a catalog id.
 */
export function parseRequirementList(input: string, where = 'requirement list'): string[] {
  const parts = input
    .split(/[/,;]/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const ids: string[] = [];
  const bad: string[] = [];
  for (const p of parts) {
    const id = normalizeRequirementId(p);
    if (id === undefined) bad.push(p);
    else if (!ids.includes(id)) ids.push(id);
  }
  if (bad.length > 0) {
    throw new Error(
      `${where}: not PCI DSS v4.0.1 ids: ${bad.map((b) => `"${b}"`).join(', ')} (in "${input}")`,
    );
  }
  return ids;
}
