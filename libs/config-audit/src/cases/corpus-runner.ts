import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { auditManifests, type AuditedOutcome } from '../audit.js';
import { KNOWN_DISAGREEMENTS } from './known-disagreements.data.js';
import { DETAIL_ASSERTED_TOPICS, TOPIC_TO_CHECK } from './topic-map.data.js';

interface ExpectedFinding {
  topic: string;
  expected: 'pass' | 'fail';
  peer?: string;
  container?: string;
  detail?: string;
  resource?: string;
  note?: string;
}

export interface CaseVerdict {
  key: string;
  peer: string;
  caseName: string;
  topic: string;
  resource: string;
  container: string;
  expected: 'pass' | 'fail';
  /** "none" when no check produced an outcome for the resource (and container). */
  actual: 'pass' | 'fail' | 'none' | 'uncovered';
  status: 'match' | 'mismatch' | 'known-disagreement' | 'uncovered';
  reason?: string;
  errors: string[];
}

function verdictOf(
  outcomes: AuditedOutcome[],
  checkId: string,
  e: ExpectedFinding,
  resource: string,
): 'pass' | 'fail' | 'none' {
  const relevant = outcomes.filter(
    (o) =>
      o.checkId === checkId &&
      o.resource === resource &&
      // A pod-level outcome (hostPath volume, host namespace) concerns every container of the pod.
      (e.container === undefined || o.container === undefined || o.container === e.container) &&
      (!DETAIL_ASSERTED_TOPICS.has(e.topic) || e.detail === undefined || o.detail === e.detail),
  );
  if (relevant.length === 0) return 'none';
  return relevant.some((o) => !o.pass) ? 'fail' : 'pass';
}

/** Audits every case under `casesDir` (<peer>/<case>/input + expected.json) and compares with its expectations. */
export async function runCorpusCases(casesDir: string): Promise<CaseVerdict[]> {
  const verdicts: CaseVerdict[] = [];
  const peers = (await readdir(casesDir, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  for (const peer of peers) {
    const cases = (await readdir(join(casesDir, peer), { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    for (const caseName of cases) {
      const dir = join(casesDir, peer, caseName);
      const expected = JSON.parse(await readFile(join(dir, 'expected.json'), 'utf8')) as {
        resource: string;
        findings: ExpectedFinding[];
      };
      const audit = await auditManifests({ paths: [join(dir, 'input')], cluster: 'corpus' });
      const errors = audit.errors.map((e) => `${e.file}#${e.document ?? '-'}: ${e.message}`);
      for (const e of expected.findings) {
        const resource = e.resource ?? expected.resource;
        const key = `${peer}/${caseName}|${e.topic}|${resource}|${e.container ?? ''}${DETAIL_ASSERTED_TOPICS.has(e.topic) && e.detail ? `|${e.detail}` : ''}`;
        const base = {
          key,
          peer,
          caseName,
          topic: e.topic,
          resource,
          container: e.container ?? '',
          expected: e.expected,
          errors,
        };
        const mapped = TOPIC_TO_CHECK[e.topic];
        if (mapped === undefined || typeof mapped !== 'string') {
          verdicts.push({
            ...base,
            actual: 'uncovered',
            status: 'uncovered',
            reason: mapped ? mapped.uncovered : `topic ${e.topic} is not in the topic map`,
          });
          continue;
        }
        const actual = verdictOf(audit.outcomes, mapped, e, resource);
        const known = KNOWN_DISAGREEMENTS[key];
        const status = actual === e.expected ? 'match' : known ? 'known-disagreement' : 'mismatch';
        verdicts.push({ ...base, actual, status, ...(known ? { reason: known } : {}) });
      }
    }
  }
  return verdicts;
}
