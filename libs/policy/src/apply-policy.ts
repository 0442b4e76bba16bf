import { type PolicyFinding, type Severity } from './finding.model.js';
import { ruleMatches } from './ignore-match.js';
import { type IgnoreRule } from './ignore-rule.model.js';
import { exceedsThreshold } from './severity.js';

export interface PolicyOptions {
  /** `--fail-on`: fail when a kept finding is at or above this severity. No threshold: never fail. */
  readonly threshold?: Severity;
  readonly ignores?: readonly IgnoreRule[];
  /** The clock, injected: decides which rules have expired. */
  readonly now: Date;
}

export interface PolicyResult<F extends PolicyFinding> {
  /** Findings that still count, in input order. */
  readonly kept: F[];
  /** Findings an accepted risk covers, with the first rule (in file order) that matched. */
  readonly ignored: { finding: F; rule: IgnoreRule }[];
  /** Rules past their expiry: they no longer apply and should be reported so someone renews or drops them. */
  readonly expiredRules: IgnoreRule[];
  /** Live rules that matched nothing in this finding list. */
  readonly unusedRules: IgnoreRule[];
  readonly failed: boolean;
  /** 0 done, 1 policy failed: the CLI's exit code for this result. */
  readonly exitCode: 0 | 1;
}

/** True when the rule no longer applies at `now` (expiry instant included). */
export function isExpired(rule: IgnoreRule, now: Date): boolean {
  return rule.expiresAt !== undefined && now.getTime() >= rule.expiresAt.getTime();
}

/** Applies accepted risks and the severity gate to a finding list. Pure: same input, same result. */
export function applyPolicy<F extends PolicyFinding>(
  findings: readonly F[],
  options: PolicyOptions,
): PolicyResult<F> {
  const { now, threshold, ignores = [] } = options;
  if (!(now instanceof Date) || Number.isNaN(now.getTime()))
    throw new Error('applyPolicy: "now" must be a valid Date');
  const expiredRules = ignores.filter((r) => isExpired(r, now));
  const live = ignores.filter((r) => !isExpired(r, now));
  const used = new Set<IgnoreRule>();
  const kept: F[] = [];
  const ignored: { finding: F; rule: IgnoreRule }[] = [];
  for (const finding of findings) {
    const rule = live.find((r) => ruleMatches(r, finding));
    if (rule) {
      used.add(rule);
      ignored.push({ finding, rule });
    } else kept.push(finding);
  }
  const failed = threshold !== undefined && exceedsThreshold(kept, threshold);
  return {
    kept,
    ignored,
    expiredRules,
    unusedRules: live.filter((r) => !used.has(r)),
    failed,
    exitCode: failed ? 1 : 0,
  };
}
