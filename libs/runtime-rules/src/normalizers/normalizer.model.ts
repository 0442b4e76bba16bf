import {
  type RuntimeDetection,
  type RuntimeEvent,
  type SensorKind,
  type WorkloadRef,
} from '../detection.model.js';

export type JsonObject = Record<string, unknown>;

/**
 * Port for what the event does not say: the workload and image behind a container or pod, from inventory events.
 * Optional everywhere; without it the workload is derived from the pod name.
 */
export interface RuntimeInventoryPort {
  workloadOf(ref: {
    node: string | null;
    containerId: string | null;
    namespace: string | null;
    pod: string | null;
  }): { namespace?: string; pod?: string; workload?: WorkloadRef; image?: string } | undefined;
  /**
   * True when `path` is a file some package (or the SBOM) of `image` installs, false when it is not, undefined when
   * the image's file lists are unknown. Drives the `runtime/drift` policy.
   */
  imageShipsFile?(image: string, path: string): boolean | undefined;
}

export interface RuntimePolicyConfig {
  /**
   * Destinations (IPv4 CIDRs or exact host names) CDE workloads may reach. Private, loopback and link-local ranges
   * are always allowed: `runtime/unexpected-egress` is about traffic leaving the cluster network.
   */
  egressAllowList: readonly string[];
  /**
   * A node whose sensor sends heartbeats (Falco metrics snapshots) and then nothing for longer than this is a
   * sensor-health finding (10.7.2).
   */
  sensorSilenceMs: number;
}

export interface NormalizeContext {
  line: number;
  clock: () => Date;
  inventory?: RuntimeInventoryPort;
}

export type NormalizeOutcome =
  | { event: RuntimeEvent }
  /** The sensor's own health/telemetry records (Falco metrics snapshots, heartbeats): never a detection. */
  | {
      telemetry: string;
      node: string | null;
      drops: number | null;
      /** RFC 3339 as the sensor wrote it; null when the record has none. */
      time: string | null;
      /** `drop-alert`: Falco's "syscall event drop" alert, a drop even when it carries no count. */
      kind: 'metrics' | 'drop-alert' | 'other';
    };

export interface RuntimeNormalizer {
  /** Stable kebab-case id; never changes once published. */
  readonly id: string;
  readonly sensor: SensorKind;
  /** Bumped whenever the normalized output of the same input changes. */
  readonly version: number;
  /** Cheap shape test on a parsed JSON object: does this object come from my sensor? */
  concerns(value: JsonObject): boolean;
  normalize(value: JsonObject, ctx: NormalizeContext): NormalizeOutcome;
  /** Which of the normalized events are detections, with vigil's own policies applied. */
  detect(event: RuntimeEvent, ctx: DetectContext, raw: JsonObject): RuntimeDetection[];
}

export interface DetectContext {
  inventory?: RuntimeInventoryPort;
  policy: RuntimePolicyConfig;
}
