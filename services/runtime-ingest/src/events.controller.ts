import { type IncomingMessage, type ServerResponse } from 'node:http';
import { Body, Controller, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { RuntimeEventsIngest, problem, tooLarge, type IngestReply } from './events-ingest.service.js';

export const RUNTIME_EVENTS_INGEST = 'vigil:runtime-events-ingest';
/** Where the body reader leaves the raw request body for the controller. */
export const RAW_BODY = Symbol('vigil.runtime-ingest.raw-body');
export const EVENTS_PATH = '/v1/events';

type IngestRequest = IncomingMessage & { [RAW_BODY]?: Buffer };

export function sendReply(res: ServerResponse, reply: IngestReply): void {
  if (res.headersSent) return;
  res.statusCode = reply.status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
  res.end(JSON.stringify(reply.body));
}

/**
 * Reads the raw body of POST /v1/events/* before any JSON parser sees it: sensors send JSON lines under
 * `application/json`, which a JSON body parser would refuse, and audit batches larger than its default limit.
 * Checks the token first, so an unauthenticated client cannot make the service buffer a body; stops keeping bytes
 * at the limit and answers 413 (the rest is read and discarded, so the client sees the answer, not a reset).
 */
export function eventsBodyReader(ingest: RuntimeEventsIngest) {
  const limit = ingest.options.maxBodyBytes;
  return (req: IngestRequest, res: ServerResponse, next: (err?: unknown) => void): void => {
    if (req.method !== 'POST') {
      next();
      return;
    }
    const name = `POST ${(req as { originalUrl?: string }).originalUrl ?? req.url ?? EVENTS_PATH}`;
    const denied = ingest.authorize(req.headers.authorization);
    if (denied) {
      req.resume();
      sendReply(res, denied);
      return;
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      sendReply(res, tooLarge(name, declared, limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('error', (err) => next(err));
    req.on('end', () => {
      if (size > limit) {
        sendReply(res, tooLarge(name, size, limit));
        return;
      }
      req[RAW_BODY] = Buffer.concat(chunks, size);
      next();
    });
  };
}

/** The sensors' HTTP outputs: Falco http_output and falcosidekick, Tetragon shippers, the audit webhook backend. */
@Controller('v1/events')
export class RuntimeEventsController {
  constructor(@Inject(RUNTIME_EVENTS_INGEST) private readonly ingest: RuntimeEventsIngest) {}

  @Post(':source')
  async post(
    @Param('source') source: string,
    @Req() req: IngestRequest,
    @Res() res: ServerResponse,
  ): Promise<void> {
    // Checked again here: the reader is what makes this route safe, so a route without it must not serve.
    const denied = this.ingest.authorize(req.headers.authorization);
    if (denied) return sendReply(res, denied);
    const body = req[RAW_BODY];
    if (!body)
      return sendReply(res, problem(500, 'the runtime-ingest body reader did not run for this request'));
    sendReply(res, await this.ingest.ingest(source, body));
  }
}

/** Acknowledging a runtime detection closes its window (see @vigil/report runtime-window). */
@Controller('v1/detections')
export class DetectionsController {
  constructor(@Inject(RUNTIME_EVENTS_INGEST) private readonly ingest: RuntimeEventsIngest) {}

  @Post(':id/ack')
  async ack(
    @Param('id') id: string,
    @Body() body: unknown,
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
  ): Promise<void> {
    const denied = this.ingest.authorize(req.headers.authorization);
    if (denied) return sendReply(res, denied);
    sendReply(res, await this.ingest.acknowledge(id, body));
  }
}
