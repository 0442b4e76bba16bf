import { FindingSource, ScannerKind, Severity } from '@vigil/contracts';

// The plain words the store's columns and the reports use for the contracts' enums.

export function scannerWord(kind: ScannerKind): string {
  return kind === ScannerKind.UNSPECIFIED ? '' : ScannerKind[kind].toLowerCase();
}

export function sourceWord(source: FindingSource): string {
  return source === FindingSource.UNSPECIFIED ? '' : FindingSource[source].toLowerCase();
}

export function severityWord(severity: Severity): 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'UNKNOWN' {
  switch (severity) {
    case Severity.CRITICAL:
      return 'CRITICAL';
    case Severity.HIGH:
      return 'HIGH';
    case Severity.MEDIUM:
      return 'MEDIUM';
    case Severity.LOW:
      return 'LOW';
    default:
      return 'UNKNOWN';
  }
}
