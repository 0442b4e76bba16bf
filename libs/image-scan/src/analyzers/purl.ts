// Package URLs (github.com/package-url/purl-spec): pkg:type/namespace/name@version?qualifiers, each part
// percent-encoded, qualifiers sorted by key, empty ones dropped.

function encode(part: string): string {
  return encodeURIComponent(part).replace(/%2F/g, '/');
}

export function purl(
  type: string,
  namespace: string | undefined,
  name: string,
  version: string | undefined,
  qualifiers: Record<string, string | undefined> = {},
): string {
  let s = `pkg:${type}/`;
  if (namespace) s += `${namespace.split('/').map(encodeURIComponent).join('/')}/`;
  s += encodeURIComponent(name);
  if (version) s += `@${encodeURIComponent(version)}`;
  const q = Object.entries(qualifiers)
    .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k.toLowerCase()}=${encode(v)}`);
  if (q.length) s += `?${q.join('&')}`;
  return s;
}

/** The type of a purl ("deb", "npm"): the contracts' Package.ecosystem. */
export function purlType(purl: string): string {
  return purl.slice(4, purl.indexOf('/'));
}
