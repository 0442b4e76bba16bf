// Pins what the audit reports on the real-world manifests of the corpus (../shared/corpus/k8s/manifests), one
// summary per folder: its load errors and the sorted `ruleId  resource  field` line of every finding. The
// expectation lives in real-manifests.expected.json beside this file and was reviewed by hand against the
// manifests; a change to any check shows up here as a diff to review rather than passing silently.
//
// With VIGIL_UPDATE_PINS=1 the spec rewrites the expectation from the current audit instead of comparing (and
// passes). Use it to accept a deliberate change, then review the file's git diff finding by finding:
//   cd libs/config-audit && npx tsc -b && VIGIL_UPDATE_PINS=1 node --test dist/cases/real-manifests.spec.js
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { corpusPath, fixedClock, repoRoot } from '@vigil/testing';
import { auditManifests } from '../audit.js';

interface FolderSummary {
  /** "file: message" (file relative to the folder, with the document index when the error is about one). */
  errors: string[];
  /**
   * "ruleId  resource  field", sorted; resource is Kind/namespace/name (an unnamed object gets the asset's
   * "(unnamed file#document)" name). Repeated lines are kept so a duplicate finding shows.
   */
  findings: string[];
}

// Read from and written to the source tree: dist is rebuilt and would lose a rewrite.
const EXPECTED_FILE = join(
  repoRoot(),
  'libs',
  'config-audit',
  'src',
  'cases',
  'real-manifests.expected.json',
);
const MANIFESTS = corpusPath('k8s', 'manifests');
const UPDATE = process.env['VIGIL_UPDATE_PINS'] === '1';

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function folders(): string[] {
  return readdirSync(MANIFESTS, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort(byCodePoint);
}

async function summarize(folder: string): Promise<FolderSummary> {
  const root = join(MANIFESTS, folder);
  const result = await auditManifests({
    paths: [root],
    cluster: 'corpus',
    clock: fixedClock('2026-12-01T00:00:00Z'),
  });
  const errors = result.errors.map(
    (e) => `${relative(root, e.file)}${e.document === undefined ? '' : `#${e.document}`}: ${e.message}`,
  );
  const findings = result.findings
    .map((f) => {
      const key = f.evidence.find((e) => e.key === 'resource')?.value ?? '(no resource)';
      // Config files (EncryptionConfiguration, audit Policy) have no name; the asset names them by file and document.
      const resource = key.endsWith('/') && f.asset ? `${key}${f.asset.name}` : key;
      return `${f.ruleId}  ${resource}  ${f.detection?.field ?? ''}`;
    })
    .sort(byCodePoint);
  return { errors: errors.sort(byCodePoint), findings };
}

function readExpected(): Record<string, FolderSummary> {
  let text: string;
  try {
    text = readFileSync(EXPECTED_FILE, 'utf8');
  } catch (err) {
    throw new Error(
      `cannot read ${EXPECTED_FILE} (${(err as Error).message}); create it with VIGIL_UPDATE_PINS=1 and review it`,
      { cause: err },
    );
  }
  return JSON.parse(text) as Record<string, FolderSummary>;
}

test('the audit of each real-world manifests folder matches its reviewed expectation', async (t) => {
  const actual: Record<string, FolderSummary> = {};
  for (const folder of folders()) actual[folder] = await summarize(folder);

  if (UPDATE) {
    writeFileSync(EXPECTED_FILE, `${JSON.stringify(actual, null, 2)}\n`);
    t.diagnostic(`rewrote ${EXPECTED_FILE}; review its diff before committing`);
    return;
  }

  const expected = readExpected();
  // A folder added to or removed from the corpus needs a reviewed expectation, not a silent pass.
  assert.deepEqual(Object.keys(actual), Object.keys(expected).sort(byCodePoint), 'folders of the corpus');
  for (const folder of Object.keys(actual)) {
    await t.test(folder, () => {
      t.diagnostic(
        `${folder}: ${actual[folder]!.findings.length} findings, ${actual[folder]!.errors.length} load errors`,
      );
      assert.deepEqual(actual[folder]!.errors, expected[folder]!.errors, `${folder}: load errors`);
      assert.deepEqual(actual[folder]!.findings, expected[folder]!.findings, `${folder}: findings`);
    });
  }
});
