import { hostname } from 'node:os';
import {
  ExceptionKind,
  FindingSource,
  RequirementStatus,
  decodeEnvelope,
  encodeEnvelope,
  newEnvelope,
  topicFor,
  TOPICS,
  type EnvelopePayloadInit,
  type EventEnvelope,
} from '@vigil/contracts';
import {
  ExceptionInputError,
  exceptionRecorded,
  exceptionRevoked,
  exceptionViews,
  findingSourceOf,
  fold,
  parseDeadline,
  reportFromContent,
  scopeStateOf,
  type ExceptionView,
} from '@vigil/report';
import { osUser } from '../cli-user.js';
import type { Deployment } from '../deployment.js';
import { table, type Output } from '../output.js';
import { VIGIL_VERSION } from '../pipeline.js';
import { commandName, usageError, type UsageError } from '../usage-error.js';
import { requestSnapshot, type SnapshotRequester } from './snapshots.command.js';

// `vigil exception ...` records risk acceptances and compensating controls as ExceptionRecorded/ExceptionRevoked
// on the exceptions topic: the one exception model every source's findings go through. The CLI ignore file
// (--ignore-file, libs/policy) is not a second model: it only filters what one local scan prints and gates on,
// is never published and never changes a compliance snapshot. An acceptance meant to count for PCI DSS is recorded
// here, with owner, approver and a hard expiry.

/** The command's flags, declared in main.ts's command flag table. */
export const EXCEPTION_FLAGS = {
  owner: { type: 'string' },
  justification: { type: 'string' },
  // Repeatable: an acceptance can carry several approvers, each recorded.
  approver: { type: 'string', multiple: true },
  expires: { type: 'string' },
  'expire-on-fix': { type: 'boolean' },
  kind: { type: 'string' },
  requirement: { type: 'string', multiple: true },
  finding: { type: 'string', multiple: true },
  rule: { type: 'string', multiple: true },
  source: { type: 'string', multiple: true },
  namespace: { type: 'string', multiple: true },
  workload: { type: 'string', multiple: true },
  'image-digest': { type: 'string', multiple: true },
  'image-repo': { type: 'string', multiple: true },
  package: { type: 'string', multiple: true },
  path: { type: 'string', multiple: true },
  // Also for `vigil attest`: record the event only, without the snapshot that makes it count in `vigil report`.
  'no-snapshot': { type: 'boolean' },
} as const;

export type CommandFlags = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface ExceptionCommandInput {
  deployment: Pick<Deployment, 'eventLog'>;
  /** accept | revoke | list */
  sub: string | undefined;
  args: readonly string[];
  flags: CommandFlags;
  cluster: string;
  format: string;
  out: Output;
  clock?: () => Date;
  /**
   * With it, accept and revoke also request a snapshot of the cluster and print the version that includes the
   * change, so the next `vigil report` shows it; without it (--no-snapshot) they say that none does yet.
   */
  snapshot?: SnapshotRequester;
}

/** Checks everything that can be checked before the deployment opens; returns the event to publish, if any. */
export function exceptionArgs(
  i: Pick<ExceptionCommandInput, 'sub' | 'args' | 'flags' | 'cluster' | 'clock'>,
): { payload: EnvelopePayloadInit; key: string; done: string } | undefined {
  const now = (i.clock ?? (() => new Date()))();
  try {
    switch (i.sub) {
      case 'accept': {
        if (i.args.length > 0) throw accept(`unexpected argument "${i.args[0]}" (criteria are flags)`);
        const expires = one(i.flags, 'expires');
        if (expires === undefined)
          throw accept('--expires DATE is required (every acceptance has a hard expiry)');
        const kind = one(i.flags, 'kind') ?? 'risk';
        if (kind !== 'risk' && kind !== 'compensating')
          throw accept(`--kind ${kind} is not risk or compensating`);
        const expiresAt = parseDeadline(expires, '--expires');
        const approvers = many(i.flags, 'approver').map((a) => a.trim());
        if (approvers.some((a) => a === '')) throw accept('--approver is empty');
        const value = exceptionRecorded({
          cluster: i.cluster,
          selector: selectorOf(i.flags),
          owner: need(i.flags, 'owner', 'accept'),
          justification: need(i.flags, 'justification', 'accept'),
          approver: approvers[0] ?? need(i.flags, 'approver', 'accept'),
          expiresAt,
          expiryLabel: `--expires ${expires}`,
          expireOnFix: i.flags['expire-on-fix'] === true,
          kind: kind === 'compensating' ? 'compensating_control' : 'risk_acceptance',
          pciRequirements: many(i.flags, 'requirement'),
          now,
        });
        // exceptionRecorded takes one approver; the others approved at the same moment.
        const first = value.approvers[0]!;
        value.approvers = [...new Set(approvers)].map((name) => ({ ...first, name }));
        return {
          payload: { case: 'exceptionRecorded', value },
          key: value.exceptionId,
          done: `${value.exceptionId} recorded for cluster ${i.cluster}, expires ${expiresAt.toISOString()}`,
        };
      }
      case 'revoke': {
        const [id, ...rest] = i.args;
        if (!id || rest.length > 0) throw usageError('exception', 'revoke', 'give exactly one exception id');
        const value = exceptionRevoked({
          cluster: i.cluster,
          exceptionId: id,
          by: one(i.flags, 'by') ?? `${osUser()}@${hostname()}`,
          reason: need(i.flags, 'reason', 'revoke'),
        });
        return {
          payload: { case: 'exceptionRevoked', value },
          key: id,
          done: `${id} revoked for cluster ${i.cluster} by ${value.revokedBy}`,
        };
      }
      case 'list':
        if (i.args.length > 0) throw usageError('exception', 'list', `unexpected argument "${i.args[0]}"`);
        return undefined;
      case undefined:
        throw usageError('exception', undefined, 'give a subcommand: accept|revoke|list');
      default:
        throw usageError('exception', undefined, `unknown subcommand "${i.sub}" (accept, revoke or list)`);
    }
  } catch (err) {
    if (err instanceof ExceptionInputError) throw usageError('exception', i.sub, err.message);
    throw err;
  }
}

function accept(problem: string): UsageError {
  return usageError('exception', 'accept', problem);
}

/**
 * `vigil exception accept --owner O --justification TEXT --approver NAME --expires DATE [criteria]...`,
 * `vigil exception revoke <id> --reason TEXT [--by NAME]`, `vigil exception list`.
 */
export async function exceptionCommand(i: ExceptionCommandInput): Promise<number> {
  const clock = i.clock ?? (() => new Date());
  const now = clock();
  const event = exceptionArgs({ ...i, clock: () => now });
  if (event === undefined) return listExceptions(i, now);
  if (event.payload.case === 'exceptionRevoked')
    await requireRecorded(i.deployment, i.cluster, 'exception', event.key);
  await publish(i.deployment, event.payload, i.cluster, event.key, now);
  i.out.result(event.done);
  const recorded = event.payload.case === 'exceptionRecorded';
  i.out.result(
    await snapshotLine(i, {
      command: commandName('exception', i.sub),
      reason: `exception ${event.key} ${recorded ? 'recorded' : 'revoked'}`,
      what: 'exception',
      id: event.key,
    }),
  );
  return 0;
}

/**
 * After an exception or attestation event: with a requester, a snapshot of the cluster that folds it, checked to
 * list it, and the line naming that version; without one (--no-snapshot), the line saying no snapshot has it yet.
 */
export async function snapshotLine(
  i: { cluster: string; snapshot?: SnapshotRequester | undefined },
  change: { command: string; reason: string; what: 'exception' | 'attestation' | 'detection'; id: string },
): Promise<string> {
  if (!i.snapshot)
    return (
      `not in a snapshot yet: vigil report shows it from the next snapshot of ${i.cluster} ` +
      `(the next scan, or vigil snapshots create --cluster ${i.cluster})`
    );
  // The event must be folded before the request is, or the version could be cut without it.
  await i.snapshot.waitUntilCaughtUp();
  const made = await requestSnapshot({
    ...i.snapshot,
    scope: i.cluster,
    reason: change.reason,
    command: change.command,
  });
  const stored = await i.snapshot.store.getSnapshot(made.scope, made.version);
  const report = stored ? reportFromContent(stored.content, stored.contentHash) : undefined;
  if (change.what === 'detection') {
    // A close covers the occurrences up to it: one seen again since keeps the detection open.
    const open = report?.findings.some((f) => f.id === change.id);
    return `snapshot ${made.version} of ${made.scope} includes it (${made.contentHash}); ${change.id} ${open ? 'is still open there: it was seen again after the close' : 'is no longer open there'}`;
  }
  const listed =
    change.what === 'exception'
      ? report?.exceptions.some((x) => x.exceptionId === change.id)
      : report?.attestations.some((x) => x.attestationId === change.id);
  if (!listed)
    throw new Error(
      `${change.command}: snapshot ${made.version} of ${made.scope} was made for ${change.id} but does not list it`,
    );
  const line = `snapshot ${made.version} of ${made.scope} includes it (${made.contentHash}); vigil report shows it`;
  // An attestation of a requirement that does not decide its status is recorded all the same: say why it does not.
  const use =
    change.what === 'attestation'
      ? report?.attestations.find((x) => x.attestationId === change.id)
      : undefined;
  const req =
    use && !use.decidedStatus ? report?.requirements.find((r) => r.id === use.requirementId) : undefined;
  if (!req) return line;
  return `${line}; ${req.id} stays ${RequirementStatus[req.status].toLowerCase()} (${req.reason}), so the attestation does not decide its status`;
}

export async function publish(
  deployment: Pick<Deployment, 'eventLog'>,
  payload: EnvelopePayloadInit,
  cluster: string,
  key: string,
  at: Date,
): Promise<EventEnvelope> {
  const env = newEnvelope({
    payload,
    scope: { tenant: '', cluster },
    subjectKey: key,
    producer: { service: 'vigil-cli', version: VIGIL_VERSION, instance: `${hostname()}-${process.pid}` },
    clock: () => at,
  });
  await deployment.eventLog.publish([{ topic: topicFor(env), key, value: encodeEnvelope(env) }]);
  return env;
}

/**
 * A revocation names something recorded in this cluster and not revoked yet: a typo must not leave an event that
 * reads as if an acceptance or attestation had been withdrawn.
 */
export async function requireRecorded(
  deployment: Pick<Deployment, 'eventLog'>,
  cluster: string,
  what: 'exception' | 'attestation',
  id: string,
): Promise<void> {
  let recorded = false;
  let revoked = false;
  for (const e of await readExceptionsTopic(deployment)) {
    if ((e.scope?.cluster ?? '') !== cluster) continue;
    const p = e.payload;
    if (what === 'exception') {
      if (p.case === 'exceptionRecorded' && p.value.exceptionId === id) recorded = true;
      if (p.case === 'exceptionRevoked' && p.value.exceptionId === id) revoked = true;
    } else {
      if (p.case === 'requirementAttested' && p.value.attestationId === id) recorded = true;
      if (p.case === 'attestationRevoked' && p.value.attestationId === id) revoked = true;
    }
  }
  const command = what === 'exception' ? 'exception' : 'attest';
  if (!recorded)
    throw usageError(
      command,
      'revoke',
      `${id}: no such ${what} in cluster "${cluster}"; nothing was published`,
    );
  if (revoked) throw usageError(command, 'revoke', `${id}: already revoked; nothing was published`);
}

/** Every exception and attestation event of the log, folded: what `list` reads. */
export async function readExceptionsTopic(
  deployment: Pick<Deployment, 'eventLog'>,
): Promise<EventEnvelope[]> {
  const events: EventEnvelope[] = [];
  await deployment.eventLog.replay([TOPICS.exceptions], async (records) => {
    for (const r of records) events.push(decodeEnvelope(r.value));
  });
  return events;
}

async function listExceptions(i: ExceptionCommandInput, now: Date): Promise<number> {
  const events = await readExceptionsTopic(i.deployment);
  const scope = scopeStateOf(fold(events), { cluster: i.cluster });
  // Standing as of now. Only the exceptions topic is read, so expire-on-fix lapses (which need the scans) show in
  // `vigil report`, not here.
  const views = scope ? exceptionViews(scope, timestampOf(now)) : [];
  if (i.format === 'json') {
    i.out.result(JSON.stringify(views.map(viewJson), null, 2));
    return 0;
  }
  if (i.format !== 'table')
    throw usageError('exception', 'list', `--format ${i.format} is not table or json`);
  if (views.length === 0) {
    i.out.result(`No exceptions recorded for cluster ${i.cluster}.`);
    return 0;
  }
  i.out.result(
    table(
      ['ID', 'KIND', 'STANDING', 'EXPIRES', 'OWNER', 'APPROVER', 'SELECTS'],
      views.map((v) => {
        const j = viewJson(v);
        return [j.id, j.kind, j.standing, j.expiresAt, j.owner, j.approvers.join(', '), j.selects];
      }),
    ),
  );
  return 0;
}

function viewJson(v: ExceptionView) {
  const x = v.exception.recorded;
  return {
    id: v.id,
    kind: v.kind === ExceptionKind.COMPENSATING_CONTROL ? 'compensating_control' : 'risk_acceptance',
    standing: v.standing,
    expiresAt: x.expiresAt
      ? new Date(Number(x.expiresAt.seconds) * 1000 + Math.floor(x.expiresAt.nanos / 1e6)).toISOString()
      : '',
    expireOnFix: x.expireOnFix,
    owner: x.owner,
    justification: x.justification,
    approvers: x.approvers.map((a) => a.name),
    pciRequirements: x.pciRequirements,
    selects: describeSelector(v),
    ...(v.revocation ? { revokedBy: v.revocation.revokedBy, revokeReason: v.revocation.reason } : {}),
  };
}

const sourceWords: Record<number, string> = {
  [FindingSource.IMAGE]: 'image',
  [FindingSource.CONFIG]: 'config',
  [FindingSource.RUNTIME]: 'runtime',
  [FindingSource.HOST]: 'host',
  [FindingSource.CORRELATED]: 'correlated',
};

function describeSelector(v: ExceptionView): string {
  const s = v.exception.recorded.selector;
  if (!s) return '';
  const parts: string[] = [];
  const add = (name: string, values: readonly string[]) => {
    if (values.length > 0) parts.push(`${name}=${values.join('|')}`);
  };
  add('finding', s.findingIds);
  add('rule', s.ruleIds);
  add(
    'source',
    s.sources.map((x) => sourceWords[x] ?? String(x)),
  );
  if (s.asset?.namespace) add('namespace', [s.asset.namespace]);
  if (s.asset?.name) add('workload', [`${s.asset.resourceKind}/${s.asset.name}`]);
  if (s.asset?.imageDigest) add('image-digest', [s.asset.imageDigest]);
  if (s.imageRepository) add('image-repo', [s.imageRepository]);
  add('package', s.packages);
  add('path', s.paths);
  return parts.join(' ');
}

// Repeated criteria of one kind OR (any may match); different kinds AND. The asset fields hold one value each.
function selectorOf(flags: CommandFlags) {
  const asset: { namespace?: string; name?: string; resourceKind?: string; imageDigest?: string } = {};
  const namespace = single(flags, 'namespace');
  if (namespace !== undefined) asset.namespace = namespace;
  const workload = single(flags, 'workload');
  if (workload !== undefined) {
    const m = /^([A-Za-z][A-Za-z0-9]*)\/([^/]+)$/.exec(workload);
    if (!m) throw accept(`--workload ${workload} is not KIND/NAME (e.g. Deployment/payment-api)`);
    asset.resourceKind = m[1] as string;
    asset.name = m[2] as string;
  }
  const digest = single(flags, 'image-digest');
  if (digest !== undefined) {
    if (!/^sha256:[0-9a-f]{64}$/.test(digest))
      throw accept(`--image-digest ${digest} is not "sha256:<64 hex>"`);
    asset.imageDigest = digest;
  }
  const repo = single(flags, 'image-repo');
  return {
    findingIds: many(flags, 'finding'),
    ruleIds: many(flags, 'rule'),
    sources: many(flags, 'source').map(findingSourceOf),
    ...(Object.keys(asset).length > 0 ? { asset } : {}),
    ...(repo !== undefined ? { imageRepository: repo } : {}),
    packages: many(flags, 'package'),
    paths: many(flags, 'path'),
  };
}

// Each value once, in the order given: a repeated --rule a --rule a selects rule a, once.
function many(flags: CommandFlags, name: string): string[] {
  const v = flags[name];
  if (v === undefined) return [];
  return [...new Set((Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string'))];
}

function single(flags: CommandFlags, name: string): string | undefined {
  const v = many(flags, name);
  if (v.length > 1) throw accept(`--${name} given ${v.length} times (an asset field holds one value)`);
  return v[0];
}

function one(flags: CommandFlags, name: string): string | undefined {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
}

function need(flags: CommandFlags, name: string, sub: 'accept' | 'revoke'): string {
  const v = one(flags, name);
  if (!v?.trim()) throw usageError('exception', sub, `--${name} is required`);
  return v;
}

function timestampOf(d: Date): { seconds: bigint; nanos: number } {
  const ms = d.getTime();
  const seconds = Math.floor(ms / 1000);
  return { seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}
