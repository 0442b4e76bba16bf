// The choice of one manifest out of an image index ("linux/amd64", "linux/arm64/v8", "linux/arm/v7"), with
// containerd's normalization (aarch64 = arm64, arm64's variant is v8 unless
// said otherwise, arm's is v7).
import type { Platform } from '../image/platform.js';
import { ImageError } from '../image/source.js';

export interface PlatformDescriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  platform?: { os?: string; architecture?: string; variant?: string; 'os.version'?: string };
  annotations?: Record<string, string>;
}

export function formatIndexPlatform(p: { os?: string; architecture?: string; variant?: string }): string {
  return [p.os ?? 'unknown', p.architecture ?? 'unknown', ...(p.variant ? [p.variant] : [])].join('/');
}

export function normalizePlatform(p: { os?: string; architecture?: string; variant?: string }): Platform {
  const os = (p.os ?? '').toLowerCase();
  let architecture = (p.architecture ?? '').toLowerCase();
  let variant = p.variant?.toLowerCase() || undefined;
  switch (architecture) {
    case 'x86_64':
    case 'x86-64':
      architecture = 'amd64';
      break;
    case 'i386':
    case 'i686':
      architecture = '386';
      break;
    case 'aarch64':
    case 'arm64':
      architecture = 'arm64';
      if (variant === '8' || variant === undefined) variant = 'v8';
      break;
    case 'armhf':
      architecture = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      architecture = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      if (variant === undefined) variant = 'v7';
      else if (/^[5-8]$/.test(variant)) variant = `v${variant}`;
      break;
  }
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function platformMatches(
  wanted: Platform,
  candidate: { os?: string; architecture?: string; variant?: string },
): boolean {
  const w = normalizePlatform(wanted);
  const c = normalizePlatform(candidate);
  if (w.os !== c.os || w.architecture !== c.architecture) return false;
  // An arch with no variant in the request accepts any variant (amd64 v2/v3 builds), except where the
  // normalization gave one (arm64 → v8, arm → v7).
  return w.variant === undefined || w.variant === c.variant;
}

/** Attestation manifests (buildx provenance, SBOMs) sit in indexes as "unknown/unknown"; they are not images. */
function isAttestation(d: PlatformDescriptor): boolean {
  return d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest';
}

/**
 * The manifest of an index for the wanted platform. Throws, listing the platforms the index has, when none
 * fits. The first match wins, as in docker.
 */
export function selectPlatform(
  manifests: PlatformDescriptor[],
  wanted: Platform,
  image: string,
): PlatformDescriptor {
  const images = manifests.filter((d) => !isAttestation(d));
  const match = images.find((d) => d.platform && platformMatches(wanted, d.platform));
  if (match) return match;
  const available = [
    ...new Set(images.map((d) => (d.platform ? formatIndexPlatform(d.platform) : 'unspecified'))),
  ];
  throw new PlatformNotFoundError(image, formatIndexPlatform(wanted), available);
}

export class PlatformNotFoundError extends ImageError {
  constructor(
    image: string,
    readonly wanted: string,
    readonly available: string[],
  ) {
    super(
      image,
      `no image for platform ${wanted} in the image index; it has ${available.length ? available.join(', ') : 'no platform-specific images'}`,
    );
    this.name = 'PlatformNotFoundError';
  }
}
