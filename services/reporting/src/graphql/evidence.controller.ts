import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import type { ReportingStore } from '@vigil/store';
import { GraphQLError } from 'graphql';
import { authenticate, type TokenVerifier } from './auth.js';
import { EVIDENCE_PATH, bundleFileName, parseEvidenceMediaType } from './evidence-bundles.js';
import { allows, seesScope } from './permissions.js';
import { API_STORE, API_TOKENS } from './tokens.js';

const FILE = /^(sha256:[0-9a-f]{64})\.zip$/;
// Written in slices of the one buffer the store read, so a slow client holds back the writes (backpressure)
// instead of the whole bundle being queued in the socket at once; slicing copies nothing.
const CHUNK = 1 << 20;

function problem(res: ServerResponse, status: number, error: string, headers: Record<string, string> = {}) {
  if (res.headersSent) return;
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.end(JSON.stringify({ error }));
}

/**
 * GET /v1/evidence/<id>.zip: a bundle exportEvidence stored. The same bearer tokens and cluster scoping as the
 * GraphQL API: no token is 401; a bundle of a scope the token does not see answers exactly as an unknown id (404),
 * so ids of other clusters' bundles cannot be probed. Downloading needs `read` only: the bundle holds nothing of
 * its scope a viewer cannot already read; building and signing one is what evidence:export guards.
 */
@Controller(EVIDENCE_PATH.slice(1))
export class EvidenceController {
  constructor(
    @Inject(API_STORE) private readonly store: ReportingStore,
    @Inject(API_TOKENS) private readonly tokens: TokenVerifier,
  ) {}

  @Get(':file')
  async download(
    @Param('file') file: string,
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
  ): Promise<void> {
    let principal;
    try {
      principal = await authenticate(req.headers.authorization, this.tokens);
    } catch (err) {
      if (!(err instanceof GraphQLError)) throw err;
      const http = err.extensions['http'] as { headers?: Map<string, string> } | undefined;
      return problem(res, 401, err.message, Object.fromEntries(http?.headers ?? []));
    }
    if (!allows(principal, 'read'))
      return problem(res, 403, `role ${principal.role} may not read evidence bundles`);
    const notFound = () => problem(res, 404, `no evidence bundle ${file}`);
    const id = FILE.exec(file)?.[1];
    if (!id)
      return problem(res, 404, `no evidence bundle ${file}: a bundle is named sha256:<64 lowercase hex>.zip`);
    const blob = await this.store.getBlob(id);
    const info = blob && parseEvidenceMediaType(blob.mediaType);
    if (!blob || !info || !seesScope(principal, info.scope)) return notFound();

    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/zip');
    res.setHeader('Content-Length', String(blob.content.byteLength));
    res.setHeader('Content-Disposition', `attachment; filename="${bundleFileName(info)}"`);
    res.setHeader('ETag', `"${id}"`);
    // Evidence is the deployment's: no shared cache keeps a copy.
    res.setHeader('Cache-Control', 'private, no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const content = blob.content;
    await pipeline(
      Readable.from(
        (function* () {
          for (let at = 0; at < content.byteLength; at += CHUNK) yield content.subarray(at, at + CHUNK);
        })(),
        { objectMode: false },
      ),
      res,
    ).catch(() => {
      // The client went away mid-download; the socket is closed already and there is nothing to answer.
      res.destroy();
    });
  }
}
