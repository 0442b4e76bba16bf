import { type Finding, NetworkIsolation, Severity } from '@vigil/contracts';

/** One reason a finding ranks where it does, with the points it added (0 for context that lowers nothing). */
export interface PriorityFactor {
  /** Stable kebab-case id: base-severity, known-exploited, epss, fix-available, cde, exposed, egress, runtime, in-use. */
  id: string;
  points: number;
  /** For an engineer and an auditor: "egress open: no NetworkPolicy restricts where the pods connect". */
  text: string;
}

export interface Priority {
  /** 0-100; the report sorts by it. */
  score: number;
  factors: PriorityFactor[];
}

/** What the asset graph knows around a finding. Absent facts are unknown, not false. */
export interface PriorityContext {
  cde?: boolean;
  /** External exposures, e.g. "Service/storefront/checkout-web (LoadBalancer)". */
  exposedBy?: string[];
  egress?: NetworkIsolation;
  /** Runtime detections in the same container, by rule id. */
  runtimeRules?: string[];
  /** Files of the vulnerable package a runtime event showed executed or opened. */
  inUseFiles?: string[];
}

const BASE: Record<Severity, number> = {
  [Severity.CRITICAL]: 40,
  [Severity.HIGH]: 30,
  [Severity.MEDIUM]: 20,
  [Severity.LOW]: 10,
  // No severity given is not the same as low: an unrated CVE may be anything.
  [Severity.UNKNOWN]: 15,
  [Severity.UNSPECIFIED]: 15,
};

const SEVERITY_WORD: Record<Severity, string> = {
  [Severity.CRITICAL]: 'critical',
  [Severity.HIGH]: 'high',
  [Severity.MEDIUM]: 'medium',
  [Severity.LOW]: 'low',
  [Severity.UNKNOWN]: 'unknown',
  [Severity.UNSPECIFIED]: 'unknown',
};

const evidence = (f: Finding, key: string) => f.evidence.find((e) => e.key === key)?.value;

/** The EPSS probability from the image scanner's evidence ("0.97 (percentile 0.99, 2024-05-01)"). */
export function epssOf(f: Finding): number | undefined {
  const v = evidence(f, 'epss');
  if (!v) return undefined;
  const n = Number.parseFloat(v);
  return Number.isFinite(n) && n >= 0 && n <= 1 ? n : undefined;
}

export const isKnownExploited = (f: Finding): boolean => Boolean(evidence(f, 'known-exploited'));

/**
 * Contextual priority: the finding's own severity, then what makes it likelier to be exploited (KEV, EPSS), then
 * what makes it matter more here (CDE scope, reachable from outside, open egress, runtime activity, code in use).
 * A fix being available adds a little: it is actionable now. The factors keep this order so two findings read alike.
 */
export function priorityOf(finding: Finding, ctx: PriorityContext): Priority {
  // One image finding runs in many workloads, and most of them place it alike (same CDE scope, egress, no runtime
  // activity): those share one Priority instead of building the same factors and texts again. Priorities are
  // never mutated, and a finding's messages are not either once decoded.
  const key = contextKey(ctx);
  let known = priorities.get(finding);
  if (!known) priorities.set(finding, (known = new Map()));
  let p = known.get(key);
  if (!p) known.set(key, (p = computePriority(finding, ctx)));
  return p;
}

const priorities = new WeakMap<Finding, Map<string, Priority>>();

/** Everything of a context that priorityOf reads, as text: equal keys give equal priorities. */
function contextKey(ctx: PriorityContext): string {
  const list = (l: readonly string[] | undefined) => (l?.length ? l.join('\n') : '');
  return `${ctx.cde ? 1 : 0}\u0000${ctx.egress ?? ''}\u0000${list(ctx.exposedBy)}\u0000${list(ctx.runtimeRules)}\u0000${list(ctx.inUseFiles)}`;
}

function computePriority(finding: Finding, ctx: PriorityContext): Priority {
  const factors: PriorityFactor[] = [];
  const cvss = finding.cvss?.score ? ` (CVSS ${finding.cvss.score})` : '';
  factors.push({
    id: 'base-severity',
    points: BASE[finding.severity] ?? 15,
    text: `base severity ${SEVERITY_WORD[finding.severity] ?? 'unknown'}${cvss}`,
  });
  const kev = evidence(finding, 'known-exploited');
  if (kev) factors.push({ id: 'known-exploited', points: 20, text: `known exploited: ${kev}` });
  const epss = epssOf(finding);
  if (epss !== undefined)
    factors.push({
      id: 'epss',
      points: Math.round(epss * 15),
      text: `EPSS ${epss}: probability of exploitation in 30 days`,
    });
  if (finding.package?.fixedVersion)
    factors.push({
      id: 'fix-available',
      points: 5,
      text: `fix available: ${finding.package.name} ${finding.package.fixedVersion}`,
    });
  if (ctx.cde) factors.push({ id: 'cde', points: 10, text: 'in the cardholder data environment' });
  if (ctx.exposedBy?.length)
    factors.push({
      id: 'exposed',
      points: 10,
      text: `reachable from outside the cluster via ${ctx.exposedBy.join(', ')}`,
    });
  if (ctx.egress !== undefined && ctx.egress !== NetworkIsolation.UNSPECIFIED) {
    const open = ctx.egress === NetworkIsolation.OPEN;
    factors.push({
      id: 'egress',
      points: open ? 10 : 0,
      text: open
        ? 'egress open: no NetworkPolicy restricts where the pods connect'
        : `egress ${ctx.egress === NetworkIsolation.ISOLATED ? 'isolated' : 'restricted'} by NetworkPolicy`,
    });
  }
  if (ctx.runtimeRules?.length)
    factors.push({
      id: 'runtime',
      points: 15,
      text: `runtime detections in the container: ${ctx.runtimeRules.join(', ')}`,
    });
  if (ctx.inUseFiles?.length)
    factors.push({ id: 'in-use', points: 10, text: `in use at runtime: ${ctx.inUseFiles.join(', ')}` });
  const score = Math.min(
    100,
    factors.reduce((s, f) => s + f.points, 0),
  );
  return { score, factors };
}

/** One line per factor, for evidence and reports: "+30 base severity high (CVSS 7.5)". */
export function renderPriority(p: Priority): string {
  return p.factors.map((f) => `${f.points > 0 ? '+' : ''}${f.points} ${f.text}`).join('; ');
}
