// WWW-Authenticate challenges (RFC 9110 section 11.6.1) as registries send them:
//   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"
//   Basic realm="Registry Realm"
// One header may carry several challenges, and fetch joins repeated headers with ", ", so the parser reads a
// list of challenges, each a scheme followed by comma-separated auth-params.

export interface Challenge {
  /** Lowercase scheme: "bearer", "basic", … */
  scheme: string;
  /** Parameter names lowercased; values unquoted. */
  params: Record<string, string>;
}

export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let i = 0;
  const n = header.length;
  const skipSpace = () => {
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  const readToken = () => {
    const start = i;
    while (i < n && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  // RFC 9110 allows only a token unquoted, but some registries send bare URLs: read up to the next separator.
  const readBare = () => {
    const start = i;
    while (i < n && header[i] !== ',' && header[i] !== ' ' && header[i] !== '\t') i++;
    return header.slice(start, i);
  };
  const readQuoted = () => {
    // header[i] is the opening quote.
    i++;
    let value = '';
    while (i < n && header[i] !== '"') {
      if (header[i] === '\\' && i + 1 < n) i++;
      value += header[i];
      i++;
    }
    i++;
    return value;
  };

  let current: Challenge | undefined;
  while (i < n) {
    skipSpace();
    if (header[i] === ',') {
      i++;
      continue;
    }
    const token = readToken();
    if (token === '') {
      // Not a token: skip the character rather than loop on it.
      i++;
      continue;
    }
    skipSpace();
    if (header[i] === '=' && current) {
      // An auth-param of the current challenge (or token68 padding, which registries never send).
      i++;
      skipSpace();
      const value = header[i] === '"' ? readQuoted() : readBare();
      current.params[token.toLowerCase()] = value;
      continue;
    }
    current = { scheme: token.toLowerCase(), params: {} };
    challenges.push(current);
  }
  return challenges;
}
