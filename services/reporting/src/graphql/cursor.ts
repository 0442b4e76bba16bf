import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { ERROR_CODES, apiError } from './api-errors.js';

// Opaque cursors: base64url of the position's JSON. Callers must not build them; a bad one is their input error.
export function encodeCursor(position: unknown): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

export function decodeCursor<T>(cursor: string, check: (v: unknown) => v is T): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (!check(value))
    throw apiError(ERROR_CODES.badInput, `after: "${cursor.slice(0, 40)}" is not a cursor this API gave out`);
  return value;
}

/**
 * first, within the page limit. One over it is refused rather than cut short: a client that asked for 500 and got
 * 100 without a word would take them for all there are.
 */
export function pageSize(first: number | undefined, max: number): number {
  if (first === undefined || first === null) return Math.min(50, max);
  if (!Number.isInteger(first) || first < 1)
    throw apiError(ERROR_CODES.badInput, `first: ${first} is not a page size (1 to ${max})`);
  if (first > max)
    throw apiError(
      ERROR_CODES.badInput,
      `first: ${first} is over the page limit of ${max} (ask for at most ${max} and page on with after)`,
    );
  return first;
}

/**
 * Whether the query asks for this field of the resolved field's result (through fragments too), so a connection
 * computes its total only for a query that shows it.
 */
export function selectsField(info: GraphQLResolveInfo, name: string): boolean {
  const seen = new Set<string>();
  const within = (set: SelectionSetNode | undefined): boolean =>
    (set?.selections ?? []).some((s) => {
      if (s.kind === Kind.FIELD) return s.name.value === name;
      if (s.kind === Kind.INLINE_FRAGMENT) return within(s.selectionSet);
      const fragment = info.fragments[s.name.value];
      if (!fragment || seen.has(s.name.value)) return false;
      seen.add(s.name.value);
      return within(fragment.selectionSet);
    });
  return info.fieldNodes.some((f) => within(f.selectionSet));
}
