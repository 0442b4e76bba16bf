// The shared PCI DSS v4.0.1 reference file, read in place (never copied into the repo): what every report the CLI
// prints is checked against, independently of libs/pci's own copy of the catalog.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@vigil/testing';

export interface CatalogEntry {
  id: string;
  level: 'principal' | 'appendix' | 'section' | 'requirement' | 'sub-requirement';
  applicability: string;
}

export function sharedCatalogPath(): string {
  return join(repoRoot(), '..', 'shared', 'pci', 'requirements-v4.0.1.json');
}

export function sharedCatalog(): CatalogEntry[] {
  return JSON.parse(readFileSync(sharedCatalogPath(), 'utf8')) as CatalogEntry[];
}

/** The ids a snapshot assesses: requirements and sub-requirements (sections and principals only group them). */
export function assessableIds(catalog: CatalogEntry[] = sharedCatalog()): Map<string, CatalogEntry> {
  return new Map(
    catalog.filter((e) => e.level === 'requirement' || e.level === 'sub-requirement').map((e) => [e.id, e]),
  );
}

/**
 * Whether a merchant that declares nothing special (no service provision, no designation, no issuing, no
 * customized approach, no SSL/early-TLS POS terminals) is assessed against the entry: only `all` applies.
 */
export function appliesToPlainMerchant(entry: CatalogEntry): boolean {
  return entry.applicability === 'all';
}
