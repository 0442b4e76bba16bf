// Test-only: locate the reference facts in ../shared (next to the repository root) and read them in place.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'nx.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no nx.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

export const SHARED_DIR = join(repoRoot(), '..', 'shared');
export const PACKAGE_DIR = join(repoRoot(), 'libs', 'pci');

export interface ReferenceRequirement {
  id: string;
  parent: string | null;
  level: string;
  title_paraphrase: string;
  applicability: string;
  automatable: string[];
  coverage: string;
  future_dated: false | 'whole' | 'bullet';
  goal?: number;
  aliases?: string[];
  note?: string;
}

export interface ReferenceMapping {
  key: string;
  scanner: string[];
  primary: { id: string; reason: string }[];
  secondary: { id: string; reason: string }[];
}

export function referenceRequirements(): ReferenceRequirement[] {
  return JSON.parse(
    readFileSync(join(SHARED_DIR, 'pci', 'requirements-v4.0.1.json'), 'utf8'),
  ) as ReferenceRequirement[];
}

export function referenceMappings(): ReferenceMapping[] {
  return JSON.parse(
    readFileSync(join(SHARED_DIR, 'pci', 'mapping-reference.json'), 'utf8'),
  ) as ReferenceMapping[];
}

export function referenceMarkdown(): string {
  return readFileSync(join(SHARED_DIR, 'pci', 'mapping-reference.md'), 'utf8');
}

/** Every file under a directory, recursively. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}
