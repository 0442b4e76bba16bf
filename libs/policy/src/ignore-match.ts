import { type PolicyFinding } from './finding.model.js';
import { type IgnoreRule } from './ignore-rule.model.js';

/** True when the rule's id names the finding and every scope field the rule sets matches it. */
export function ruleMatches(rule: IgnoreRule, finding: PolicyFinding): boolean {
  const want = rule.id.toLowerCase();
  const names = [finding.id, finding.ruleId, ...(finding.aliases ?? [])];
  if (!names.some((n) => n.toLowerCase() === want)) return false;
  const asset = finding.asset ?? {};
  return (
    anyOf(rule.cluster, (c) => asset.cluster === c) &&
    anyOf(rule.namespace, (n) => asset.namespace === n) &&
    anyOf(rule.workload, (w) => workloadMatches(w, asset.kind, asset.name)) &&
    anyOf(rule.image, (i) => imageMatches(i, asset.imageRef, asset.imageDigest)) &&
    anyOf(rule.package, (p) => packageMatches(p, finding.package?.name, finding.package?.purl)) &&
    anyOf(rule.path, (g) => (finding.locations ?? []).some((loc) => globMatches(g, loc)))
  );
}

function anyOf(values: readonly string[] | undefined, test: (v: string) => boolean): boolean {
  return values === undefined || values.some(test);
}

function workloadMatches(want: string, kind: string | undefined, name: string | undefined): boolean {
  if (!name) return false;
  const slash = want.indexOf('/');
  if (slash < 0) return want === name;
  return want.slice(slash + 1) === name && want.slice(0, slash).toLowerCase() === (kind ?? '').toLowerCase();
}

interface ImageParts {
  repository: string;
  tag?: string;
  digest?: string;
}

// Docker Hub short names (`nginx`, `bitnami/redis`) and their long form name the same repository.
function normalizeRepository(repo: string): string {
  const first = repo.split('/')[0] ?? '';
  const hasRegistry =
    repo.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  const full = hasRegistry ? repo : `docker.io/${repo}`;
  const parts = full.split('/');
  if (parts[0] === 'docker.io' && parts.length === 2) return `docker.io/library/${parts[1]}`;
  return full;
}

export function splitImageRef(ref: string): ImageParts {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return {
    repository: normalizeRepository(rest),
    ...(tag !== undefined && { tag }),
    ...(digest !== undefined && { digest }),
  };
}

function imageMatches(want: string, imageRef: string | undefined, imageDigest: string | undefined): boolean {
  const have = imageRef ? splitImageRef(imageRef) : undefined;
  const digests = [imageDigest, have?.digest].filter((d): d is string => !!d);
  if (/^sha256:[0-9a-f]+$/i.test(want)) return digests.some((d) => d.toLowerCase() === want.toLowerCase());
  if (!have) return false;
  const w = splitImageRef(want);
  if (w.repository !== have.repository) return false;
  if (w.digest !== undefined) return digests.some((d) => d.toLowerCase() === w.digest?.toLowerCase());
  if (w.tag !== undefined) return w.tag === have.tag;
  return true;
}

// A purl without its qualifiers and subpath; the version is kept only when asked for.
function purlBase(purl: string, keepVersion: boolean): string {
  const core = purl.split('#')[0]?.split('?')[0] ?? purl;
  const at = core.lastIndexOf('@');
  const noVersion = at > core.indexOf('/') ? core.slice(0, at) : core;
  const base = keepVersion ? core : noVersion;
  return base.replace(/^pkg:([^/]+)/i, (_m, type: string) => `pkg:${type.toLowerCase()}`);
}

function packageMatches(want: string, name: string | undefined, purl: string | undefined): boolean {
  if (!want.startsWith('pkg:')) return name === want;
  if (!purl) return false;
  const core = want.split('#')[0]?.split('?')[0] ?? want;
  const wantsVersion = core.lastIndexOf('@') > core.indexOf('/');
  return purlBase(want, wantsVersion) === purlBase(purl, wantsVersion);
}

const globCache = new Map<string, RegExp>();

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` also matches no directory at all, so `**/x` matches `x`.
        const slash = glob[i + 2] === '/';
        re += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const stripLead = (p: string): string => p.replace(/^(?:\.\/|\/)+/, '');

/** Glob match over a path; a leading `/` or `./` is ignored on both sides. */
export function globMatches(glob: string, path: string): boolean {
  const g = stripLead(glob);
  let re = globCache.get(g);
  if (!re) {
    re = globToRegExp(g);
    globCache.set(g, re);
  }
  return re.test(stripLead(path));
}
