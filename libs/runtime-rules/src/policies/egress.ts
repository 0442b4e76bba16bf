// Addresses that stay inside the cluster or the host: egress policy is about what leaves them.
const INTERNAL: readonly [number, number][] = [
  cidr('10.0.0.0/8'),
  cidr('172.16.0.0/12'),
  cidr('192.168.0.0/16'),
  cidr('127.0.0.0/8'),
  cidr('169.254.0.0/16'),
  cidr('100.64.0.0/10'),
  cidr('0.0.0.0/32'),
];

function ipv4(ip: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return (((parts[0] ?? 0) << 24) | ((parts[1] ?? 0) << 16) | ((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) >>> 0;
}

function cidr(text: string): [number, number] {
  const [base, bits] = text.split('/');
  const ip = ipv4(base ?? '');
  const n = Number(bits ?? '32');
  if (ip === null || !Number.isInteger(n) || n < 0 || n > 32)
    throw new Error(`egress allow-list: "${text}" is not an IPv4 CIDR`);
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  return [(ip & mask) >>> 0, mask];
}

function inRange(ip: number, [base, mask]: [number, number]): boolean {
  return (ip & mask) >>> 0 === base;
}

/**
 * Why a connection to `ip` leaves the allowed set, or null when it is internal or allowed. Allow-list entries are
 * IPv4 CIDRs (a bare address is a /32) or exact host names matched against the resolved name.
 */
export function isOutsideAllowed(ip: string, name: string | null, allow: readonly string[]): string | null {
  const n = ipv4(ip);
  if (n === null) {
    if (ip === '::1' || /^f[cd]|^fe80/i.test(ip)) return null;
  } else if (INTERNAL.some((r) => inRange(n, r))) return null;
  for (const entry of allow) {
    if (/^[\d./]+$/.test(entry)) {
      if (n !== null && inRange(n, cidr(entry.includes('/') ? entry : `${entry}/32`))) return null;
    } else if (name !== null && name.toLowerCase() === entry.toLowerCase()) return null;
  }
  return allow.length === 0
    ? 'a public address and no egress allow-list is declared'
    : 'a public address not on the egress allow-list';
}
