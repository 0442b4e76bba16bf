export interface LoginDefsEntry {
  value: string;
  line: number;
}

/** /etc/login.defs: "KEY value" separated by whitespace, # comments; the last occurrence wins as in shadow-utils' getdef. */
export function parseLoginDefs(text: string): Map<string, LoginDefsEntry> {
  const out = new Map<string, LoginDefsEntry>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(\S+)\s+(.*)$/.exec(line);
    if (!m) return;
    out.set(m[1] as string, { value: (m[2] as string).trim().replace(/^"(.*)"$/, '$1'), line: i + 1 });
  });
  return out;
}
