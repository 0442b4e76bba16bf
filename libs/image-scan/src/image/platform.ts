// Platforms as "os/architecture[/variant]", matched the way container runtimes do (arm64 is arm64/v8 unless said).

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export const DEFAULT_PLATFORM: Platform = { os: 'linux', architecture: 'amd64' };

const ARCH_ALIASES: Record<string, string> = {
  x86_64: 'amd64',
  'x86-64': 'amd64',
  aarch64: 'arm64',
  armhf: 'arm',
};

export function parsePlatform(text: string): Platform {
  const [os, architecture, variant, extra] = text.split('/');
  if (!os || !architecture || extra !== undefined) {
    throw new Error(
      `bad platform ${JSON.stringify(text)}: expected os/architecture[/variant], e.g. linux/arm64/v8`,
    );
  }
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

function normalArch(arch: string): string {
  return ARCH_ALIASES[arch] ?? arch;
}

function normalVariant(arch: string, variant: string | undefined): string | undefined {
  if (variant) return variant;
  if (arch === 'arm64') return 'v8';
  return undefined;
}

/** True when an image built for `have` serves a request for `want`. */
export function platformMatches(want: Platform, have: Partial<Platform>): boolean {
  if (have.os !== want.os) return false;
  const arch = normalArch(want.architecture);
  if (normalArch(have.architecture ?? '') !== arch) return false;
  if (want.variant === undefined) return true;
  return normalVariant(arch, have.variant) === normalVariant(arch, want.variant);
}
