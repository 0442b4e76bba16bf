import { readFile, stat } from 'node:fs/promises';
import { ScanStatus, ScannerKind, type ScanRequested } from '@vigil/contracts';
import { type ScanEngine, type ScanResult } from '@vigil/nest-kit';
import {
  DEFAULT_READ_LIMITS,
  RUNTIME_FORMATS,
  RuntimeInputError,
  ingestEvents,
  isRuntimeFormat,
  type IngestEventsResult,
} from '@vigil/runtime-rules';
import { assetsOf, findingEvents, severityCounts, skippedSummary, unitsOf } from './runtime-findings.js';

/** Replicas of the runtime-ingest share this group and split the partitions of scan.requests.runtime. */
export const RUNTIME_INGEST_GROUP = 'vigil.runtime-ingest';

// Request options this scanner reads; any other key is rejected so a typo does not pass silently.
//   input-name: how messages name the input when the source path is a spool file (the CLI's stdin)
const OPTION_KEYS = new Set(['input-name']);

export interface RuntimeIngestEngineOptions {
  /** Time of events that carry none; default the wall clock. */
  clock?: () => Date;
}

/**
 * The runtime-ingest's engine: a runtime-events target (sensor format and a file path) is read with
 * @vigil/runtime-rules' noise-tolerant reader and turned into PCI-mapped findings, one FindingReported each. The
 * completion lists every finding id, the assets and units, and says in `error` how many lines were not events
 * (the contracts have no other field for it); input with no event at all fails the scan, naming the input.
 */
export function runtimeIngestEngine(options: RuntimeIngestEngineOptions = {}): ScanEngine {
  const clock = options.clock ?? (() => new Date());
  return {
    scanner: ScannerKind.RUNTIME,
    name: 'runtime-rules',
    async scan(request: ScanRequested): Promise<ScanResult> {
      const ref = request.target?.ref;
      if (ref?.case !== 'runtimeEvents' || !ref.value.source)
        return {
          status: ScanStatus.FAILED,
          error: `scan ${request.scanId}: the runtime ingest needs a runtime-events target with a source path (got ${ref?.case ?? 'no target'})`,
        };
      const { format, source } = ref.value;
      if (!isRuntimeFormat(format))
        return {
          status: ScanStatus.FAILED,
          error: `scan ${request.scanId}: runtime events format "${format}" is not one of ${RUNTIME_FORMATS.join(', ')}`,
        };
      const unknown = Object.keys(request.options).filter((k) => !OPTION_KEYS.has(k));
      if (unknown.length)
        return {
          status: ScanStatus.FAILED,
          error: `scan ${request.scanId}: unknown option(s) ${unknown.join(', ')} (the runtime ingest reads ${[...OPTION_KEYS].join(', ')})`,
        };
      const name = request.options['input-name'] || source;
      let input: Uint8Array;
      try {
        // Refused before reading, so a wrong path to a huge file does not fill the process's memory.
        const size = (await stat(source)).size;
        if (size > DEFAULT_READ_LIMITS.maxInputBytes)
          return {
            status: ScanStatus.FAILED,
            error: `${name}: ${size} bytes is over the ${DEFAULT_READ_LIMITS.maxInputBytes}-byte input limit`,
          };
        input = await readFile(source);
      } catch (err) {
        return { status: ScanStatus.FAILED, error: `${name}: cannot read (${(err as Error).message})` };
      }
      let result: IngestEventsResult;
      try {
        result = ingestEvents({ input, format, clock, cluster: request.scope?.cluster || undefined, name });
      } catch (err) {
        if (err instanceof RuntimeInputError) return { status: ScanStatus.FAILED, error: err.message };
        throw err;
      }
      return {
        status: ScanStatus.OK,
        error: skippedSummary(result),
        events: findingEvents(result.findings, request.scanId),
        findingIds: result.findings.map((f) => f.id),
        assets: assetsOf(result.findings),
        units: unitsOf(result),
        counts: severityCounts(result.findings),
      };
    },
  };
}
