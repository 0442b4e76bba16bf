import { type WorkloadRef } from '../detection.model.js';
import { type JsonObject } from './normalizer.model.js';

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// Falco prints `<NA>` for fields that have no value for the event; it means the same as a missing field.
export function str(v: unknown): string | null {
  if (typeof v === 'string') return v === '' || v === '<NA>' ? null : v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return null;
}

export function num(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v);
  return null;
}

export function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x !== '') : [];
}

export function obj(v: unknown): JsonObject | undefined {
  return isObject(v) ? v : undefined;
}

const RUNTIME_SCHEME = /^[a-z0-9-]+:\/\//;

/** Container ids come as `docker://<64 hex>`, `containerd://...` or Falco's 12-hex short id; compare on the hex. */
export function bareContainerId(id: string | null): string | null {
  if (id === null) return null;
  return id.replace(RUNTIME_SCHEME, '');
}

// Kubernetes' name generator uses consonants and digits without vowels or look-alikes, so a pod-template hash and
// the random pod suffix are recognisable: <deployment>-<template hash>-<5 chars>.
const SAFE = '[bcdfghjklmnpqrstvwxz2456789]';
const DEPLOYMENT_POD = new RegExp(`^(.+)-(${SAFE}{6,10})-(${SAFE}{5})$`);
const STATEFULSET_POD = /^(.+)-(\d+)$/;

/**
 * The controller behind a pod, as far as its name tells. `<name>-<hash>-<xxxxx>` is a Deployment's ReplicaSet; a
 * single random suffix fits DaemonSets, Jobs and bare ReplicaSets alike, so such pods stay `Pod` (an inventory
 * lookup knows better).
 */
export function workloadFromPodName(pod: string | null): WorkloadRef | null {
  if (pod === null) return null;
  const d = DEPLOYMENT_POD.exec(pod);
  if (d?.[1]) return { kind: 'Deployment', name: d[1], from: 'pod-name' };
  const s = STATEFULSET_POD.exec(pod);
  if (s?.[1]) return { kind: 'StatefulSet', name: s[1], from: 'pod-name' };
  return { kind: 'Pod', name: pod, from: 'pod' };
}

export function basename(path: string | null): string | null {
  if (path === null) return null;
  const i = path.lastIndexOf('/');
  return i >= 0 ? path.slice(i + 1) || null : path;
}

/** `10.42.1.15:51544->198.51.100.23:4444` (Falco's fd.name / connection for sockets). */
export function parseConnection(
  text: string | null,
): { localIp: string; localPort: number; peerIp: string; peerPort: number } | null {
  if (text === null) return null;
  const m = /^\[?([0-9a-fA-F.:]+?)\]?:(\d+)->\[?([0-9a-fA-F.:]+?)\]?:(\d+)$/.exec(text.trim());
  if (!m?.[1] || !m[2] || !m[3] || !m[4]) return null;
  return { localIp: m[1], localPort: Number(m[2]), peerIp: m[3], peerPort: Number(m[4]) };
}
