// Docker's reference rules, in one place: a scan asked for on the command line, over the API or joined by the
// correlator names an image the same way, so their target keys agree and one resolves the other. No registry
// means docker.io, a single-name repository there means library/, no tag means latest; a reference with only a
// digest keys on the digest.
export interface CanonicalImageRef {
  ref: string;
  digest: string;
  /** registry/repository:tag (or @digest when only a digest is given). */
  key: string;
}

/** The canonical reference, or a message saying what is wrong with it. Never a path: the API reads no files. */
export function canonicalImageRef(input: string): CanonicalImageRef | string {
  const text = input.trim();
  if (!/^[a-z0-9][a-z0-9._\-/:@]*$/i.test(text) || text.includes('..'))
    return `"${input.slice(0, 80)}" is not an image reference`;
  let rest = text;
  let digest = '';
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^sha256:[a-f0-9]{64}$/.test(digest)) return `"${input.slice(0, 80)}" has a malformed digest`;
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  let registry = hasRegistry ? first : 'docker.io';
  let path = hasRegistry ? rest.slice(slash + 1) : rest;
  if (registry === 'index.docker.io') registry = 'docker.io';
  let tag = '';
  const colon = path.lastIndexOf(':');
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
  }
  if (!path) return `"${input.slice(0, 80)}" names no repository`;
  if (registry === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  if (!tag && !digest) tag = 'latest';
  const repo = `${registry}/${path.toLowerCase()}`;
  const key = tag ? `${repo}:${tag}` : `${repo}@${digest}`;
  return { ref: digest ? `${key.split('@')[0]}@${digest}` : key, digest, key };
}
