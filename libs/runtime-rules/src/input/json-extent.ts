// Finds where one JSON value ends without parsing it, so a value can span lines (pretty-printed exports) and so
// hostile input is refused by size or depth before JSON.parse ever sees it.

export type ExtentResult =
  | { ok: true; end: number }
  | { ok: false; problem: 'unterminated' | 'too-large' | 'too-deep'; scanned: number };

/**
 * Scans from `start` (which must hold `{` or `[`) to the end of that value, up to `limit` (exclusive).
 * `end` is the index just after the closing bracket.
 */
export function jsonExtent(
  text: string,
  start: number,
  limit: number,
  maxBytes: number,
  maxDepth: number,
): ExtentResult {
  let depth = 0;
  let inString = false;
  const stop = Math.min(limit, start + maxBytes);
  for (let i = start; i < stop; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      // Jump to the next quote natively; it closes the string unless an odd run of backslashes escapes it.
      let q = text.indexOf('"', i);
      while (q !== -1 && q < stop) {
        let bs = 0;
        while (text.charCodeAt(q - 1 - bs) === 0x5c) bs++;
        if (bs % 2 === 0) break;
        q = text.indexOf('"', q + 1);
      }
      if (q === -1 || q >= stop) break;
      i = q;
      inString = false;
      continue;
    }
    if (c === 0x22 /* " */) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      if (depth > maxDepth) return { ok: false, problem: 'too-deep', scanned: i - start };
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
      if (depth === 0) return { ok: true, end: i + 1 };
    }
  }
  return stop < limit
    ? { ok: false, problem: 'too-large', scanned: stop - start }
    : { ok: false, problem: 'unterminated', scanned: stop - start };
}

export type ListExtentResult =
  | { ok: true; end: number; largestElement: number }
  | { ok: false; problem: 'unterminated' | 'too-deep'; scanned: number };

/**
 * Like jsonExtent with no size bound, for a value that may be a list of events (a JSON array, an audit EventList):
 * also measures the largest object or array that is an element of some array, so a caller can bound each event
 * rather than the list. Elements that are strings or numbers are not measured: they are not events.
 */
export function jsonListExtent(
  text: string,
  start: number,
  limit: number,
  maxDepth: number,
): ListExtentResult {
  // Per open container: whether it is an array, and where it started.
  const isArray = new Uint8Array(maxDepth + 2);
  const starts = new Int32Array(maxDepth + 2);
  let depth = 0;
  let largest = 0;
  for (let i = start; i < limit; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let q = text.indexOf('"', i + 1);
      while (q !== -1 && q < limit) {
        let bs = 0;
        while (text.charCodeAt(q - 1 - bs) === 0x5c) bs++;
        if (bs % 2 === 0) break;
        q = text.indexOf('"', q + 1);
      }
      if (q === -1 || q >= limit) break;
      i = q;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      if (depth > maxDepth) return { ok: false, problem: 'too-deep', scanned: i - start };
      isArray[depth] = c === 0x5b ? 1 : 0;
      starts[depth] = i;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (depth > 1 && isArray[depth - 1] === 1) largest = Math.max(largest, i + 1 - (starts[depth] ?? i));
      depth--;
      if (depth === 0) return { ok: true, end: i + 1, largestElement: largest };
    }
  }
  return { ok: false, problem: 'unterminated', scanned: limit - start };
}
