// Optional enrichment files: CISA's Known Exploited Vulnerabilities catalog (JSON, as
// https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json) and FIRST's EPSS scores
// (CSV with a "#model_version:...,score_date:..." comment line, as epss_scores-current.csv[.gz]).
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { MalformedInputError } from '../analyzers/analyzer.js';

export interface KevEntry {
  dateAdded: string;
  dueDate?: string;
  ransomware?: boolean;
}

export interface KevCatalog {
  version?: string;
  released?: string;
  entries: Map<string, KevEntry>;
}

export interface EpssEntry {
  score: number;
  percentile: number;
}

export interface EpssTable {
  model?: string;
  date?: string;
  scores: Map<string, EpssEntry>;
}

const DATE = /^\d{4}-\d{2}-\d{2}/;

export function parseKevCatalog(text: string, label: string): KevCatalog {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new MalformedInputError(label, `not JSON (${(err as Error).message})`);
  }
  const doc = json as { catalogVersion?: unknown; dateReleased?: unknown; vulnerabilities?: unknown };
  if (typeof json !== 'object' || json === null || !Array.isArray(doc.vulnerabilities))
    throw new MalformedInputError(label, 'not a KEV catalog: no "vulnerabilities" list');
  const entries = new Map<string, KevEntry>();
  doc.vulnerabilities.forEach((v: unknown, i: number) => {
    const e = v as {
      cveID?: unknown;
      dateAdded?: unknown;
      dueDate?: unknown;
      knownRansomwareCampaignUse?: unknown;
    };
    if (typeof e?.cveID !== 'string' || !/^CVE-\d{4}-\d+$/.test(e.cveID))
      throw new MalformedInputError(label, `vulnerabilities[${i}] has no valid "cveID"`);
    if (typeof e.dateAdded !== 'string' || !DATE.test(e.dateAdded))
      throw new MalformedInputError(label, `vulnerabilities[${i}] (${e.cveID}) has no valid "dateAdded"`);
    const ransomware = e.knownRansomwareCampaignUse;
    entries.set(e.cveID, {
      dateAdded: e.dateAdded,
      ...(typeof e.dueDate === 'string' && DATE.test(e.dueDate) ? { dueDate: e.dueDate } : {}),
      ...(typeof ransomware === 'string' && ransomware !== ''
        ? { ransomware: ransomware.toLowerCase() === 'known' }
        : {}),
    });
  });
  return {
    entries,
    ...(typeof doc.catalogVersion === 'string' ? { version: doc.catalogVersion } : {}),
    ...(typeof doc.dateReleased === 'string' ? { released: doc.dateReleased } : {}),
  };
}

export async function loadKevCatalog(path: string): Promise<KevCatalog> {
  return parseKevCatalog(await readText(path), path);
}

export function parseEpss(text: string, label: string): EpssTable {
  const lines = text.split(/\r?\n/);
  let i = 0;
  let model: string | undefined;
  let date: string | undefined;
  while (i < lines.length && lines[i]!.startsWith('#')) {
    for (const part of lines[i]!.slice(1).split(',')) {
      const [k, ...rest] = part.split(':');
      const v = rest.join(':').trim();
      if (k?.trim() === 'model_version') model = v;
      if (k?.trim() === 'score_date') date = v;
    }
    i++;
  }
  const header = (lines[i] ?? '').split(',').map((h) => h.trim().toLowerCase());
  const cveCol = header.indexOf('cve');
  const epssCol = header.indexOf('epss');
  const pctCol = header.indexOf('percentile');
  if (cveCol === -1 || epssCol === -1 || pctCol === -1)
    throw new MalformedInputError(label, `line ${i + 1}: expected a header "cve,epss,percentile"`);
  const scores = new Map<string, EpssEntry>();
  for (let n = i + 1; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (!line) continue;
    const cells = line.split(',');
    const cve = cells[cveCol]?.trim() ?? '';
    const score = Number(cells[epssCol]);
    const percentile = Number(cells[pctCol]);
    if (!/^CVE-\d{4}-\d+$/.test(cve) || !(score >= 0 && score <= 1) || !(percentile >= 0 && percentile <= 1))
      throw new MalformedInputError(
        label,
        `line ${n + 1}: not "CVE-id,score,percentile": ${JSON.stringify(line)}`,
      );
    scores.set(cve, { score, percentile });
  }
  return { scores, ...(model ? { model } : {}), ...(date ? { date } : {}) };
}

export async function loadEpss(path: string): Promise<EpssTable> {
  return parseEpss(await readText(path), path);
}

async function readText(path: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new MalformedInputError(
      path,
      `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  // FIRST publishes the EPSS CSV gzipped.
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: 512 * 1024 * 1024 });
    } catch (err) {
      throw new MalformedInputError(path, `not a readable gzip file (${(err as Error).message})`);
    }
  }
  return bytes.toString('utf8').replace(/^\uFEFF/, '');
}
