// Test-only: builds policy findings from real advisories and a real image of the shared corpus, read in place.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type PolicyFinding } from './finding.model.js';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'nx.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no nx.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

const CORPUS = join(repoRoot(), '..', 'shared', 'corpus', 'image');

interface OsvRecord {
  id: string;
  aliases?: string[];
  affected: { package: { ecosystem: string; name: string; purl?: string } }[];
  database_specific?: { severity?: string };
}

export function osvRecord(id: string): OsvRecord {
  return JSON.parse(readFileSync(join(CORPUS, 'advisories', 'records', `${id}.json`), 'utf8')) as OsvRecord;
}

/** The alpine:3.11 archive's tag and config digest, as its expectation file records them. */
export function alpineImage(): { ref: string; digest: string } {
  const expected = JSON.parse(
    readFileSync(join(CORPUS, 'images', 'alpine-311-docker-archive', 'expected.json'), 'utf8'),
  ) as { image: { repo_tags: string[]; config_digest: string } };
  return { ref: expected.image.repo_tags[0] as string, digest: expected.image.config_digest };
}

const GHSA_SEVERITY: Record<string, string> = {
  CRITICAL: 'CRITICAL',
  HIGH: 'HIGH',
  MODERATE: 'MEDIUM',
  LOW: 'LOW',
};

/**
 * A finding as an image scanner would emit it for an OSV record matched in a workload: rule id is the CVE alias
 * when there is one, else the advisory id; the advisory id and other aliases go to aliases.
 */
export function findingFromOsv(
  recordId: string,
  at: { version: string; cluster: string; namespace: string; workload: string; location: string },
): PolicyFinding {
  const r = osvRecord(recordId);
  const affected = r.affected[0];
  if (!affected) throw new Error(`${recordId} has no affected package`);
  const cve = (r.aliases ?? []).find((a) => a.startsWith('CVE-'));
  const image = alpineImage();
  const purlType: Record<string, string> = { npm: 'npm', Go: 'golang', 'crates.io': 'cargo', Maven: 'maven' };
  const purl =
    affected.package.purl ??
    `pkg:${purlType[affected.package.ecosystem] ?? 'generic'}/${affected.package.name}`;
  return {
    id: `image:${at.cluster}/${at.namespace}/${at.workload}:${recordId}:${affected.package.name}`,
    ruleId: cve ?? r.id,
    aliases: [r.id, ...(r.aliases ?? []).filter((a) => a !== cve)],
    severity: GHSA_SEVERITY[r.database_specific?.severity ?? ''] ?? 'UNKNOWN',
    source: 'image',
    asset: {
      kind: 'Deployment',
      cluster: at.cluster,
      namespace: at.namespace,
      name: at.workload,
      container: at.workload,
      imageRef: image.ref,
      imageDigest: image.digest,
    },
    package: {
      ecosystem: affected.package.ecosystem,
      name: affected.package.name,
      version: at.version,
      purl: `${purl}@${at.version}`,
    },
    locations: [at.location],
  };
}
