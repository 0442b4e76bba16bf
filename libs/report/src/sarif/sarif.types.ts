// The part of SARIF 2.1.0 (OASIS, errata 01) that vigil writes. Property names are the spec's.

export type SarifLevel = 'error' | 'warning' | 'note' | 'none';

export type PropertyBag = Record<string, unknown>;

export interface SarifMessage {
  text: string;
  markdown?: string;
}

export interface ArtifactLocation {
  uri: string;
  uriBaseId?: string;
  description?: SarifMessage;
}

export interface Region {
  startLine: number;
}

export interface PhysicalLocation {
  artifactLocation: ArtifactLocation;
  region?: Region;
}

export interface LogicalLocation {
  name?: string;
  fullyQualifiedName?: string;
  kind?: string;
}

export interface SarifLocation {
  id?: number;
  physicalLocation?: PhysicalLocation;
  logicalLocations?: LogicalLocation[];
  message?: SarifMessage;
}

export interface ReportingDescriptor {
  id: string;
  name?: string;
  shortDescription: SarifMessage;
  fullDescription?: SarifMessage;
  help: SarifMessage;
  helpUri?: string;
  defaultConfiguration: { level: SarifLevel };
  properties: PropertyBag;
}

export interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: SarifLevel;
  message: SarifMessage;
  locations: SarifLocation[];
  relatedLocations?: SarifLocation[];
  partialFingerprints: Record<string, string>;
  /** SARIF 2.1.0 §3.27.23: an accepted risk is an external suppression, so code scanning does not show it open. */
  suppressions?: SarifSuppression[];
  properties: PropertyBag;
}

export interface SarifSuppression {
  kind: 'external';
  status: 'accepted';
  justification: string;
  properties: PropertyBag;
}

export interface SarifRun {
  tool: {
    driver: {
      name: string;
      version: string;
      semanticVersion?: string;
      informationUri?: string;
      rules: ReportingDescriptor[];
    };
  };
  originalUriBaseIds?: Record<string, ArtifactLocation>;
  results: SarifResult[];
  columnKind: 'utf16CodeUnits';
  properties: PropertyBag;
}

export interface SarifLog {
  $schema: string;
  version: '2.1.0';
  runs: SarifRun[];
}
