import { parseRequirementList, requirementsFor } from '@vigil/pci';
import { type CheckOutcome } from '../check.model.js';

/**
 * PCI DSS v4.0.1 ids of a check: a finding-type key of the shared mapping ("node.sshd_root_login" → its primary
 * ids), a catalogue hint ("8.2.2 / 2.2.2"), or both joined with "+".
 */
export function pciIds(spec: string, where: string): string[] {
  const ids: string[] = [];
  for (const part of spec.split('+').map((p) => p.trim())) {
    const found = part.startsWith('node.')
      ? requirementsFor(part).primary
      : parseRequirementList(part, `check ${where}`);
    for (const id of found) if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

/** kube-bench's "N or more restrictive": the mode has no permission bit that the limit lacks. */
export function bitmaskOk(mode: number, limit: number): boolean {
  return (mode & ~limit & 0o7777) === 0;
}

export function describeMode(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

export function errorOutcome(file: string, message: string): CheckOutcome {
  return {
    status: 'error',
    field: file,
    expected: 'a readable file',
    actual: 'unreadable',
    reason: message,
    location: file,
  };
}
