// The container image's own package URL (purl-spec types/oci): pkg:oci/<last path segment>@<digest>, with the
// repository it was referenced from in repository_url and the tag, when the reference had one, in tag.
import { PackageURL } from 'packageurl-js';

export interface ImageReference {
  /** Registry host and repository path as referenced, without tag or digest ("registry.example/shop/payment-api"). */
  repository: string;
  tag?: string;
}

// A docker reference: [host[:port]/]path[:tag][@digest]. Anything else (an archive path, a layout dir) is not one.
const REFERENCE =
  /^((?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)(?::([\w][\w.-]{0,127}))?(?:@sha256:[0-9a-f]{64})?$/;

export function parseImageReference(ref: string): ImageReference | undefined {
  const m = REFERENCE.exec(ref.trim());
  if (!m) return undefined;
  return m[2] ? { repository: m[1]!, tag: m[2] } : { repository: m[1]! };
}

/** The reference an image is best known by: its first repo tag, else its name when that is a reference. */
export function imageReferenceOf(name: string, repoTags: readonly string[]): ImageReference | undefined {
  for (const candidate of [...repoTags, name]) {
    const ref = parseImageReference(candidate);
    if (ref) return ref;
  }
  return undefined;
}

export function imagePurl(
  name: string,
  reference: ImageReference | undefined,
  digest: string,
  architecture?: string,
): string {
  const last = reference
    ? reference.repository.split('/').pop()!
    : // A local archive or layout directory: its file name, as `docker save` archives are usually named.
      name
        .split('/')
        .filter(Boolean)
        .pop()!
        .replace(/\.(tar|tar\.gz|tgz|oci)$/i, '')
        .toLowerCase();
  const qualifiers: Record<string, string> = {};
  if (architecture) qualifiers['arch'] = architecture;
  if (reference) qualifiers['repository_url'] = reference.repository;
  if (reference?.tag) qualifiers['tag'] = reference.tag;
  return new PackageURL('oci', undefined, last, digest, qualifiers).toString();
}
