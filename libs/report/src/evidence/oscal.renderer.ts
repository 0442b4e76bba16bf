import { createHash } from 'node:crypto';
import { RequirementStatus, type ComplianceReport } from '@vigil/contracts';
import { isoOf, statusWord } from './evidence-csv.js';

// A snapshot as NIST OSCAL 1.1.3 assessment results: one result (the snapshot), one observation and one finding
// per requirement. OSCAL's objective status has only satisfied / not-satisfied, so vigil's five statuses are kept
// beside it as a property in vigil's namespace:
//   in_place, manually_attested → satisfied (reason pass); not_applicable → satisfied (reason other);
//   not_in_place → not-satisfied (fail); not_tested → not-satisfied (other).
// UUIDs are name-based (version 5 layout over SHA-256 of the content hash and the item), so the same snapshot gives
// the same document.

export const OSCAL_VERSION = '1.1.3';
export const VIGIL_OSCAL_NS = 'https://vigil.dev/ns/oscal';

export interface OscalInput {
  readonly report: ComplianceReport;
  readonly bundleCreatedAt: Date;
  readonly producer: string;
  readonly keyFingerprint: string;
}

type Json = Record<string, unknown>;

export function toOscalAssessmentResults(i: OscalInput): Json {
  const r = i.report;
  const seed = r.contentHash;
  const id = (what: string) => nameUuid(seed, what);
  const scope = r.scope ? [r.scope.tenant, r.scope.cluster].filter(Boolean).join('/') : '';
  const collected = isoOf(r.generatedAt) || i.bundleCreatedAt.toISOString();
  const observations: Json[] = [];
  const findings: Json[] = [];
  for (const req of r.requirements) {
    const word = statusWord(req.status);
    const obsUuid = id(`observation:${req.id}`);
    const lines = [
      `vigil status: ${word}.`,
      ...(req.reason ? [req.reason] : []),
      ...(req.findingIds.length ? [`${req.findingIds.length} open finding(s): see findings.csv.`] : []),
      ...(req.exceptedFindingIds.length
        ? [`${req.exceptedFindingIds.length} finding(s) accepted under ${req.exceptionIds.join(', ')}.`]
        : []),
    ];
    observations.push({
      uuid: obsUuid,
      title: `PCI DSS ${req.id}`,
      description: lines.join('\n\n'),
      props: [prop('requirement-status', word)],
      methods: [req.status === RequirementStatus.MANUALLY_ATTESTED ? 'EXAMINE' : 'TEST'],
      ...(req.evidence.length
        ? {
            'relevant-evidence': [
              {
                description: 'Evidence recorded by vigil for this requirement',
                remarks: req.evidence.map((e) => `- ${e.key}: ${e.value}`).join('\n'),
              },
            ],
          }
        : {}),
      collected,
    });
    const state = oscalState(req.status);
    findings.push({
      uuid: id(`finding:${req.id}`),
      title: `PCI DSS ${req.id} ${req.title}`.trim(),
      description: lines.join('\n\n'),
      target: {
        type: 'objective-id',
        'target-id': controlId(req.id),
        status: { state: state.state, reason: state.reason },
        props: [prop('requirement-status', word)],
      },
      'related-observations': [{ 'observation-uuid': obsUuid }],
    });
  }
  const planUuid = id('assessment-plan');
  const snapshotUuid = id('snapshot');
  return {
    'assessment-results': {
      uuid: id('assessment-results'),
      metadata: {
        title: `PCI DSS v${r.frameworkVersion} assessment results — ${scope}, snapshot ${r.snapshotVersion}`,
        'last-modified': i.bundleCreatedAt.toISOString(),
        version: String(r.snapshotVersion),
        'oscal-version': OSCAL_VERSION,
        props: [
          prop('scope', scope || 'default'),
          prop('content-hash', r.contentHash),
          ...(r.previousHash ? [prop('previous-hash', r.previousHash)] : []),
          prop('signing-key-fingerprint', i.keyFingerprint),
          prop('producer', i.producer),
        ],
      },
      'import-ap': {
        href: `#${planUuid}`,
        remarks:
          'vigil assesses continuously from its event log; there is no separate assessment plan document.',
      },
      results: [
        {
          uuid: id('result'),
          title: `Snapshot ${r.snapshotVersion} of ${scope}`,
          description: `Automated PCI DSS v${r.frameworkVersion} assessment of ${scope} from the events up to ${r.logPosition.map((p) => `${p.topic}[${p.partition}]@${p.offset}`).join(', ') || 'the start of the log'}.`,
          start: collected,
          end: collected,
          props: [prop('snapshot-version', String(r.snapshotVersion))],
          'reviewed-controls': {
            'control-selections': [
              { 'include-controls': r.requirements.map((q) => ({ 'control-id': controlId(q.id) })) },
            ],
          },
          observations,
          findings,
        },
      ],
      'back-matter': {
        resources: [
          {
            uuid: planUuid,
            title: 'Assessment plan',
            description: 'Continuous automated assessment by vigil; no assessment plan document is produced.',
          },
          {
            uuid: snapshotUuid,
            title: `Snapshot ${r.snapshotVersion} content`,
            description: 'The canonical snapshot content the content hash covers.',
            rlinks: [
              {
                href: 'snapshot.canonical.json',
                'media-type': 'application/json',
                hashes: [{ algorithm: 'SHA-256', value: r.contentHash.replace(/^sha256:/, '') }],
              },
            ],
          },
        ],
      },
    },
  };
}

/** A requirement id as an OSCAL control id (a token must start with a letter): `6.3.3` → `pcidss-6.3.3`. */
export function controlId(requirementId: string): string {
  return `pcidss-${requirementId}`;
}

function oscalState(s: RequirementStatus): { state: string; reason: string } {
  switch (s) {
    case RequirementStatus.IN_PLACE:
    case RequirementStatus.MANUALLY_ATTESTED:
      return { state: 'satisfied', reason: 'pass' };
    case RequirementStatus.NOT_APPLICABLE:
      return { state: 'satisfied', reason: 'other' };
    case RequirementStatus.NOT_IN_PLACE:
      return { state: 'not-satisfied', reason: 'fail' };
    default:
      return { state: 'not-satisfied', reason: 'other' };
  }
}

function prop(name: string, value: string): Json {
  return { name, ns: VIGIL_OSCAL_NS, value };
}

function nameUuid(seed: string, name: string): string {
  const h = createHash('sha256').update(`${seed}\u0000${name}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
