import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, extname } from 'node:path';
import type { EnvelopePayloadInit } from '@vigil/contracts';
import {
  ExceptionInputError,
  attestationRevoked,
  knownRequirement,
  parseDeadline,
  requirementAttested,
} from '@vigil/report';
import { osUser } from '../cli-user.js';
import type { Deployment } from '../deployment.js';
import type { Output } from '../output.js';
import { UsageError, commandName, usageError } from '../usage-error.js';
import { publish, requireRecorded, snapshotLine, type CommandFlags } from './exception.command.js';
import type { SnapshotRequester } from './snapshots.command.js';

// `vigil attest` records manual evidence for a requirement automation cannot fully test. The files stay with the
// assessor's evidence; the log keeps their names, sizes and SHA-256 hashes, which prove later which files they were.

/** The command's flags, declared in main.ts's command flag table (--reason and --by are shared). */
export const ATTEST_FLAGS = {
  statement: { type: 'string' },
  evidence: { type: 'string', multiple: true },
  'valid-until': { type: 'string' },
} as const;

export interface AttestCommandInput {
  deployment: Pick<Deployment, 'eventLog'>;
  /** The positionals after `attest`: `<requirement>` or `revoke <id>`. */
  args: readonly string[];
  flags: CommandFlags;
  cluster: string;
  out: Output;
  clock?: () => Date;
  /** What attestArgs made of the same input already, so the evidence is not read twice. */
  prepared?: Awaited<ReturnType<typeof attestArgs>>;
  /** As for `vigil exception`: request the snapshot that includes the change (absent with --no-snapshot). */
  snapshot?: SnapshotRequester;
}

const MEDIA_TYPES: Record<string, string> = {
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.yaml': 'application/yaml',
  '.yml': 'application/yaml',
  '.zip': 'application/zip',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

export interface HashedFile {
  name: string;
  sha256: string;
  size: number;
  mediaType: string;
}

/** Hashes one evidence file; refuses a path that is missing or not a regular file, naming it. */
export async function hashEvidenceFile(path: string): Promise<HashedFile> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw usageError('attest', undefined, `evidence ${path} is not a regular file`);
    size = s.size;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw usageError(
      'attest',
      undefined,
      `evidence ${path} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (err as Error).message})`}`,
    );
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return {
    name: basename(path),
    sha256: `sha256:${hash.digest('hex')}`,
    size,
    mediaType: MEDIA_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
  };
}

/** Checks the arguments and reads the evidence before the deployment opens. */
export async function attestArgs(
  i: Pick<AttestCommandInput, 'args' | 'flags' | 'cluster' | 'clock'>,
): Promise<{ payload: EnvelopePayloadInit; key: string; done: string }> {
  const now = (i.clock ?? (() => new Date()))();
  const by = str(i.flags, 'by') ?? `${osUser()}@${hostname()}`;
  const [first, ...rest] = i.args;
  const sub = first === 'revoke' ? 'revoke' : undefined;
  const problem = (text: string) => usageError('attest', sub, text);
  try {
    if (first === 'revoke') {
      const [id, ...more] = rest;
      if (!id || more.length > 0) throw problem('give exactly one attestation id');
      const reason = str(i.flags, 'reason');
      if (!reason?.trim()) throw problem(`${id}: --reason is required (say why it no longer holds)`);
      const value = attestationRevoked({ cluster: i.cluster, attestationId: id, by, reason });
      return {
        payload: { case: 'attestationRevoked', value },
        key: id,
        done: `${id} revoked for cluster ${i.cluster} by ${by}`,
      };
    }
    if (!first) throw problem('give a requirement id (e.g. vigil attest 12.10.1 ...)');
    // Checked before any file is read, so a typo in the id is the first thing reported.
    const requirementId = knownRequirement(first);
    const statement = str(i.flags, 'statement');
    if (!statement?.trim()) throw problem(`${first}: --statement is required (what the evidence shows)`);
    const files = list(i.flags, 'evidence');
    // `--evidence A B` leaves B as an argument: paths after the requirement are evidence too.
    if (rest.length > 0 && files.length === 0)
      throw problem(`${first}: unexpected argument "${rest[0]}" (one requirement per attestation)`);
    files.push(...rest);
    if (files.length === 0) throw problem(`${first}: give at least one --evidence FILE`);
    const attachments: HashedFile[] = [];
    for (const f of files) attachments.push(await hashEvidenceFile(f));
    const validText = str(i.flags, 'valid-until');
    const validUntil = validText !== undefined ? parseDeadline(validText, '--valid-until') : undefined;
    const value = requirementAttested({
      cluster: i.cluster,
      requirementId,
      by,
      statement,
      attachments,
      ...(validUntil ? { validUntil, validUntilLabel: `--valid-until ${validText}` } : {}),
      now,
    });
    return {
      payload: { case: 'requirementAttested', value },
      key: value.attestationId,
      done: [
        `${value.attestationId} attests ${requirementId} for cluster ${i.cluster} by ${by}`,
        ...attachments.map((a) => `  ${a.sha256}  ${a.size} bytes  ${a.name}`),
      ].join('\n'),
    };
  } catch (err) {
    if (err instanceof ExceptionInputError) throw problem(err.message);
    throw err;
  }
}

/**
 * `vigil attest <requirement> --statement TEXT --evidence FILE... [--valid-until DATE] [--by NAME]`,
 * `vigil attest revoke <id> --reason TEXT [--by NAME]`.
 */
export async function attestCommand(i: AttestCommandInput): Promise<number> {
  const now = (i.clock ?? (() => new Date()))();
  const event = i.prepared ?? (await attestArgs({ ...i, clock: () => now }));
  if (event.payload.case === 'attestationRevoked')
    await requireRecorded(i.deployment, i.cluster, 'attestation', event.key);
  await publish(i.deployment, event.payload, i.cluster, event.key, now);
  i.out.result(event.done);
  const revoked = event.payload.case === 'attestationRevoked';
  i.out.result(
    await snapshotLine(i, {
      command: commandName('attest', revoked ? 'revoke' : undefined),
      reason: `attestation ${event.key} ${revoked ? 'revoked' : 'recorded'}`,
      what: 'attestation',
      id: event.key,
    }),
  );
  return 0;
}

function str(flags: CommandFlags, name: string): string | undefined {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
}

function list(flags: CommandFlags, name: string): string[] {
  const v = flags[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
}
