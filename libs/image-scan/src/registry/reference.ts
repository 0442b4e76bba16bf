// Image references as docker reads them (github.com/distribution/reference): an optional registry host, a
// lowercase repository path, a tag and/or a digest, normalized so that "alpine" and
// "docker.io/library/alpine:latest" name the same image.
import { ImageError } from '../image/source.js';

export const DOCKER_HUB = 'docker.io';
/** The host docker talks to for docker.io, and the key `docker login` writes into config.json. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
export const DOCKER_HUB_CONFIG_KEY = 'https://index.docker.io/v1/';

export interface ImageReference {
  /** The registry host[:port], e.g. "docker.io" (index.docker.io folded into it), "localhost:5000". */
  registry: string;
  /** The repository path inside the registry, e.g. "library/alpine". */
  repository: string;
  /** The tag; "latest" when neither a tag nor a digest was given. */
  tag?: string;
  /** "algorithm:hex" when the reference pins a digest. */
  digest?: string;
  /** The fully qualified form: "docker.io/library/alpine:3.11@sha256:…". */
  canonical: string;
  /** docker's short form ("alpine:3.11"), what `docker save` writes into RepoTags. */
  familiar: string;
}

export class InvalidReferenceError extends ImageError {
  constructor(
    readonly reference: string,
    problem: string,
  ) {
    super(reference, `invalid image reference: ${problem}`);
    this.name = 'InvalidReferenceError';
  }
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_LABEL = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_LABEL}(?:\\.${DOMAIN_LABEL})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const HEX_64 = /^[a-f0-9]{64}$/;
const NAME_MAX = 255;

/** Parses and normalizes an image reference; throws InvalidReferenceError saying what is wrong. */
export function parseReference(input: string): ImageReference {
  const ref = input.trim();
  if (ref === '') throw new InvalidReferenceError(input, 'it is empty');
  if (/\s/.test(ref)) throw new InvalidReferenceError(input, 'it contains whitespace');
  if (ref.includes('://'))
    throw new InvalidReferenceError(input, 'a reference has no URL scheme; write host/repository:tag');

  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    validateDigest(input, digest);
  }

  // A tag follows the last ':' only when no '/' comes after it; otherwise that ':' is a registry port.
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag))
      throw new InvalidReferenceError(
        input,
        `tag ${JSON.stringify(tag)} is not valid (letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-')`,
      );
  }
  if (rest === '') throw new InvalidReferenceError(input, 'it names no repository');
  if (HEX_64.test(rest) && !tag && !digest)
    throw new InvalidReferenceError(
      input,
      'a 64-character hexadecimal string is an image id, not a repository name',
    );

  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    // docker's rule: the first component is a host when it has a '.' or a ':', is "localhost", or has capitals.
    if (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase()) {
      registry = first;
      repository = rest.slice(slash + 1);
    }
  }
  if (!DOMAIN.test(registry))
    throw new InvalidReferenceError(
      input,
      `registry host ${JSON.stringify(registry)} is not a valid host[:port]`,
    );
  if (registry === 'index.docker.io') registry = DOCKER_HUB;
  if (repository === '') throw new InvalidReferenceError(input, 'it names no repository');
  if (repository !== repository.toLowerCase())
    throw new InvalidReferenceError(input, `repository name ${JSON.stringify(repository)} must be lowercase`);
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  for (const component of repository.split('/')) {
    if (!PATH_COMPONENT.test(component))
      throw new InvalidReferenceError(
        input,
        component === ''
          ? 'the repository path has an empty component'
          : `repository path component ${JSON.stringify(component)} is not valid (lowercase letters and digits, separated by '.', '_', '__' or '-')`,
      );
  }
  const name = `${registry}/${repository}`;
  if (name.length > NAME_MAX)
    throw new InvalidReferenceError(input, `the repository name is longer than ${NAME_MAX} characters`);
  if (!tag && !digest) tag = 'latest';

  const suffix = `${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
  return {
    registry,
    repository,
    ...(tag ? { tag } : {}),
    ...(digest ? { digest } : {}),
    canonical: `${name}${suffix}`,
    familiar: `${familiarName(registry, repository)}${suffix}`,
  };
}

function validateDigest(input: string, digest: string): void {
  if (!DIGEST.test(digest))
    throw new InvalidReferenceError(input, `digest ${JSON.stringify(digest)} is not algorithm:hex`);
  const [algorithm, hex = ''] = digest.split(':');
  const lengths: Record<string, number> = { sha256: 64, sha512: 128 };
  const want = lengths[algorithm ?? ''];
  if (want === undefined)
    throw new InvalidReferenceError(
      input,
      `digest algorithm ${JSON.stringify(algorithm)} is not supported (sha256, sha512)`,
    );
  if (!new RegExp(`^[a-f0-9]{${want}}$`).test(hex))
    throw new InvalidReferenceError(
      input,
      `a ${algorithm} digest is ${want} lowercase hexadecimal characters`,
    );
}

function familiarName(registry: string, repository: string): string {
  if (registry !== DOCKER_HUB) return `${registry}/${repository}`;
  return repository.startsWith('library/') && repository.split('/').length === 2
    ? repository.slice('library/'.length)
    : repository;
}

/** The host:port to send API requests to (docker.io's API lives on registry-1.docker.io). */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API_HOST : registry;
}

/** The "familiar" repository:tag of a reference, or undefined when it pins only a digest. */
export function familiarTag(ref: ImageReference): string | undefined {
  return ref.tag ? `${familiarName(ref.registry, ref.repository)}:${ref.tag}` : undefined;
}
