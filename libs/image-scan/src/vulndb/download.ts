// Downloading OSV's per-ecosystem dumps (<base>/<Ecosystem>/all.zip) with plain fetch. A dump is written to
// "<file>.part" and renamed into place only when complete, so the zip already on disk stays whole whatever
// happens; an interrupted download resumes with an HTTP Range request guarded by If-Range (the ETag, else the
// Last-Modified of the first response), and a finished one is revalidated with If-None-Match.
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const OSV_DUMP_BASE_URL = 'https://osv-vulnerabilities.storage.googleapis.com';

export interface DownloadOptions {
  /** Where dumps are kept (the data dir's vulndb directory). */
  dir: string;
  baseUrl?: string;
  /** Longest wait for the server to answer or for the next bytes of the body. Default 30 s. */
  idleTimeoutMs?: number;
  fetch?: typeof globalThis.fetch;
  onProgress?: (line: string) => void;
}

export interface DownloadResult {
  ecosystem: string;
  url: string;
  path: string;
  bytes: number;
  /** The server said the copy on disk is current (304): nothing was downloaded. */
  notModified: boolean;
  /** Bytes already on disk from an interrupted download that were kept. */
  resumedFrom: number;
}

/** The download failed; `offline` when the server never answered (no network, DNS, refused, timed out). */
export class DownloadError extends Error {
  constructor(
    readonly url: string,
    readonly problem: string,
    readonly offline: boolean,
  ) {
    super(`${url}: ${problem}`);
    this.name = 'DownloadError';
  }
}

interface Validators {
  url: string;
  etag?: string;
  lastModified?: string;
}

export function dumpUrl(ecosystem: string, baseUrl = OSV_DUMP_BASE_URL): string {
  return `${baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(ecosystem)}/all.zip`;
}

/** The file a dump is kept in: one per ecosystem, its name safe on any filesystem. */
export function dumpPath(dir: string, ecosystem: string): string {
  return join(dir, `${ecosystem.replace(/[^A-Za-z0-9._-]+/g, '_')}-all.zip`);
}

async function readValidators(path: string, url: string): Promise<Validators | undefined> {
  try {
    const v = JSON.parse(await readFile(path, 'utf8')) as Validators;
    return v.url === url ? v : undefined;
  } catch {
    return undefined;
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

function describeFailure(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'no answer (timed out)';
  const cause = e?.cause?.code ?? e?.cause?.message;
  return cause ? `${e.message ?? 'fetch failed'} (${cause})` : (e?.message ?? String(err));
}

/** Downloads (or resumes, or revalidates) one ecosystem's dump. */
export async function downloadOsvDump(ecosystem: string, options: DownloadOptions): Promise<DownloadResult> {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const url = dumpUrl(ecosystem, options.baseUrl);
  const path = dumpPath(options.dir, ecosystem);
  const part = `${path}.part`;
  const idle = options.idleTimeoutMs ?? 30_000;
  await mkdir(options.dir, { recursive: true });

  const partValidators = await readValidators(`${part}.json`, url);
  let offset = partValidators ? await sizeOf(part) : 0;
  const current = (await sizeOf(path)) > 0 ? await readValidators(`${path}.json`, url) : undefined;

  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  const ifRange = partValidators?.etag ?? partValidators?.lastModified;
  if (offset > 0 && ifRange) {
    headers['range'] = `bytes=${offset}-`;
    headers['if-range'] = ifRange;
  } else {
    offset = 0;
    if (current?.etag) headers['if-none-match'] = current.etag;
    else if (current?.lastModified) headers['if-modified-since'] = current.lastModified;
  }

  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(), idle);
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), idle);
  };
  let res: Response;
  try {
    res = await fetchFn(url, { headers, signal: controller.signal, redirect: 'follow' });
  } catch (err) {
    clearTimeout(timer);
    throw new DownloadError(url, `cannot download: ${describeFailure(err)}`, true);
  }
  try {
    if (res.status === 304) {
      await res.body?.cancel();
      return { ecosystem, url, path, bytes: await sizeOf(path), notModified: true, resumedFrom: 0 };
    }
    let append = false;
    if (res.status === 206 && offset > 0) {
      const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
      if (!range || Number(range[1]) !== offset) {
        await res.body?.cancel();
        await rm(part, { force: true });
        await rm(`${part}.json`, { force: true });
        throw new DownloadError(
          url,
          `the server resumed at the wrong offset (${res.headers.get('content-range')})`,
          false,
        );
      }
      append = true;
    } else if (res.status !== 200) {
      await res.body?.cancel();
      throw new DownloadError(url, `HTTP ${res.status} ${res.statusText}`.trim(), false);
    }
    if (!append) offset = 0;
    const validators: Validators = {
      url,
      ...(res.headers.get('etag') ? { etag: res.headers.get('etag')! } : {}),
      ...(res.headers.get('last-modified') ? { lastModified: res.headers.get('last-modified')! } : {}),
    };
    // The part file's validators are those of the representation its first bytes came from.
    if (!append) await writeFile(`${part}.json`, JSON.stringify(validators));
    if (offset > 0) options.onProgress?.(`${ecosystem}: resuming at byte ${offset}`);
    const length = Number(res.headers.get('content-length') ?? NaN);
    const expected = Number.isFinite(length) ? offset + length : undefined;
    const out = createWriteStream(part, { flags: append ? 'a' : 'w' });
    const closed = new Promise<void>((resolve, reject) => {
      out.on('close', resolve);
      out.on('error', reject);
    });
    let written = offset;
    try {
      if (!res.body) throw new Error('the response has no body');
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        touch();
        written += value.length;
        if (!out.write(value)) await new Promise<void>((r) => out.once('drain', r));
      }
    } catch (err) {
      out.end();
      await closed.catch(() => undefined);
      throw new DownloadError(
        url,
        `download interrupted after ${written} bytes (kept for resuming): ${describeFailure(err)}`,
        false,
      );
    }
    out.end();
    await closed;
    if (expected !== undefined && written !== expected)
      throw new DownloadError(
        url,
        `download ended at ${written} of ${expected} bytes (kept for resuming)`,
        false,
      );
    await rename(part, path);
    await writeFile(`${path}.json`, JSON.stringify(validators));
    await rm(`${part}.json`, { force: true });
    return { ecosystem, url, path, bytes: written, notModified: false, resumedFrom: append ? offset : 0 };
  } finally {
    clearTimeout(timer);
  }
}
