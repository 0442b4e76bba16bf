import { arr, obj, str, stringMap } from '../model/k8s-object.js';

/**
 * Label selector semantics (metav1.LabelSelector): matchLabels and matchExpressions are ANDed; an empty selector
 * matches everything. Keys other than those two are not fields of a selector; the API server drops them, so a
 * selector written as bare labels ends up empty and selects every pod.
 */
export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  return compileSelector(selector)(labels);
}

/** The selector as a predicate, parsed once: policies are matched against thousands of pods. */
export function compileSelector(selector: unknown): (labels: Record<string, string>) => boolean {
  const s = obj(selector) ?? {};
  const equal = Object.entries(stringMap(s['matchLabels']));
  const terms: ((labels: Record<string, string>) => boolean)[] = [];
  for (const e of arr(s['matchExpressions'])) {
    const x = obj(e) ?? {};
    const key = str(x['key']) ?? '';
    const values = new Set(arr(x['values']).map(String));
    switch (str(x['operator'])) {
      case 'In':
        terms.push((l) => key in l && values.has(l[key]!));
        break;
      case 'NotIn':
        terms.push((l) => !(key in l) || !values.has(l[key]!));
        break;
      case 'Exists':
        terms.push((l) => key in l);
        break;
      case 'DoesNotExist':
        terms.push((l) => !(key in l));
        break;
      default:
        return () => false; // an unknown operator is invalid and selects nothing
    }
  }
  return (labels) => {
    for (const [k, v] of equal) if (labels[k] !== v) return false;
    for (const t of terms) if (!t(labels)) return false;
    return true;
  };
}

/** True when the selector has no effective term, so it selects everything in its scope. */
export function selectsEverything(selector: unknown): boolean {
  const s = obj(selector) ?? {};
  return Object.keys(stringMap(s['matchLabels'])).length === 0 && arr(s['matchExpressions']).length === 0;
}

/** The selector in kubectl's notation ("app=web,tier in (a,b)"), "(all)" when it selects everything. */
export function renderSelector(selector: unknown): string {
  const s = obj(selector) ?? {};
  const parts = Object.entries(stringMap(s['matchLabels'])).map(([k, v]) => `${k}=${v}`);
  for (const e of arr(s['matchExpressions'])) {
    const x = obj(e) ?? {};
    const key = str(x['key']) ?? '';
    const values = arr(x['values']).map(String).join(',');
    switch (str(x['operator'])) {
      case 'In':
        parts.push(`${key} in (${values})`);
        break;
      case 'NotIn':
        parts.push(`${key} notin (${values})`);
        break;
      case 'Exists':
        parts.push(key);
        break;
      case 'DoesNotExist':
        parts.push(`!${key}`);
        break;
      default:
        parts.push(`${key} ${String(x['operator'])}?`);
    }
  }
  return parts.length ? parts.join(',') : '(all)';
}

/**
 * A per-namespace index from label key=value to the items carrying it, so a selector with matchLabels (or an In
 * expression) is checked only against the smallest candidate list instead of every item of the namespace.
 */
export class LabelIndex<T> {
  private readonly all: T[] = [];
  private readonly byLabel = new Map<string, T[]>();

  add(item: T, labels: Record<string, string>): void {
    this.all.push(item);
    for (const [k, v] of Object.entries(labels)) {
      const key = `${k}=${v}`;
      let list = this.byLabel.get(key);
      if (!list) this.byLabel.set(key, (list = []));
      list.push(item);
    }
  }

  get items(): readonly T[] {
    return this.all;
  }

  select(selector: unknown, labelsOf: (item: T) => Record<string, string>): T[] {
    if (selectsEverything(selector)) return this.all;
    const s = obj(selector) ?? {};
    let best: readonly T[] = this.all;
    for (const [k, v] of Object.entries(stringMap(s['matchLabels']))) {
      const list = this.byLabel.get(`${k}=${v}`) ?? [];
      if (list.length < best.length) best = list;
    }
    for (const e of arr(s['matchExpressions'])) {
      const x = obj(e) ?? {};
      if (str(x['operator']) !== 'In') continue;
      const key = str(x['key']) ?? '';
      const values = arr(x['values']).map(String);
      const n = values.reduce((sum, v) => sum + (this.byLabel.get(`${key}=${v}`)?.length ?? 0), 0);
      if (n < best.length) best = values.flatMap((v) => this.byLabel.get(`${key}=${v}`) ?? []);
    }
    const matches = compileSelector(selector);
    return best.filter((item) => matches(labelsOf(item)));
  }
}
