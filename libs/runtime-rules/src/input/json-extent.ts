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
