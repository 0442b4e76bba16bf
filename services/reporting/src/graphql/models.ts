import { Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { ExceptionKindWord } from './exception.models.js';

// The API's types, code first. Their SDL is committed as services/reporting/schema.graphql (a second contract
// beside proto/): a change here shows up there, and the SDL test fails until the file is regenerated.

export enum RequirementStatusWord {
  in_place = 'in_place',
  not_in_place = 'not_in_place',
  not_tested = 'not_tested',
  not_applicable = 'not_applicable',
  manually_attested = 'manually_attested',
}
registerEnumType(RequirementStatusWord, { name: 'RequirementStatus' });

export enum SeverityWord {
  CRITICAL = 'CRITICAL',
  HIGH = 'HIGH',
  MEDIUM = 'MEDIUM',
  LOW = 'LOW',
  UNKNOWN = 'UNKNOWN',
}
registerEnumType(SeverityWord, { name: 'Severity' });

export enum FindingStatusWord {
  open = 'open',
  resolved = 'resolved',
}
registerEnumType(FindingStatusWord, { name: 'FindingStatus' });

export enum ScanKindWord {
  image = 'image',
  live_cluster = 'live_cluster',
}
registerEnumType(ScanKindWord, {
  name: 'ScanKind',
  description:
    'What a scan requested over the API looks at: a registry image, or the live cluster of the scope',
});

@ObjectType()
export class PageInfo {
  @Field(() => String, { nullable: true }) endCursor!: string | null;
  @Field() hasNextPage!: boolean;
}

@ObjectType()
export class RequirementSummary {
  @Field(() => Int) inPlace!: number;
  @Field(() => Int) notInPlace!: number;
  @Field(() => Int) notTested!: number;
  @Field(() => Int) notApplicable!: number;
  @Field(() => Int) manuallyAttested!: number;
  @Field(() => Int) total!: number;
}

@ObjectType()
export class FindingCounts {
  @Field(() => Int) critical!: number;
  @Field(() => Int) high!: number;
  @Field(() => Int) medium!: number;
  @Field(() => Int) low!: number;
  @Field(() => Int) unknown!: number;
  @Field(() => Int) total!: number;
}

@ObjectType()
export class Evidence {
  @Field() key!: string;
  @Field() value!: string;
}

@ObjectType()
export class Requirement {
  @Field(() => ID) id!: string;
  @Field() title!: string;
  @Field(() => RequirementStatusWord) status!: RequirementStatusWord;
  @Field({
    description:
      'Why the status is what it is (not_tested, not_applicable), or what manual evidence is needed',
  })
  reason!: string;
  @Field(() => [String]) findingIds!: string[];
  @Field(() => [String]) exceptedFindingIds!: string[];
  @Field(() => [String]) exceptionIds!: string[];
  @Field(() => Int) findingCount!: number;
  @Field(() => [Evidence]) evidence!: Evidence[];
}

@ObjectType({
  description: 'A principal requirement (1-12) or an appendix (A1, A2, A3) and the requirements under it',
})
export class RequirementGroup {
  @Field(() => ID) id!: string;
  @Field(() => RequirementSummary) summary!: RequirementSummary;
  @Field(() => [Requirement]) requirements!: Requirement[];
}

@ObjectType()
export class Snapshot {
  @Field() scope!: string;
  @Field(() => Int) version!: number;
  @Field() frameworkVersion!: string;
  @Field() contentHash!: string;
  @Field(() => String, { nullable: true }) previousHash!: string | null;
  @Field() createdAt!: Date;
  @Field({ description: 'The completed scan that made this version; empty when none did' }) scanId!: string;
}

@ObjectType()
export class SnapshotConnection {
  @Field(() => [Snapshot]) nodes!: Snapshot[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int) totalCount!: number;
}

@ObjectType()
export class Scope {
  @Field(() => ID) key!: string;
  @Field() tenant!: string;
  @Field() cluster!: string;
  @Field(() => Int, { nullable: true }) latestVersion!: number | null;
}

@ObjectType()
export class Finding {
  @Field(() => ID) id!: string;
  @Field() source!: string;
  @Field() ruleId!: string;
  @Field() title!: string;
  @Field(() => SeverityWord) severity!: SeverityWord;
  @Field(() => Number, {
    nullable: true,
    description:
      'Contextual risk from the correlator, when it scored the finding (higher first); null otherwise',
  })
  priority!: number | null;
  @Field(() => [String]) pciRequirements!: string[];
  @Field(() => [String], {
    description:
      'Requirements the finding is supporting evidence for without testing them (never failed by it)',
  })
  supportingPciRequirements!: string[];
  @Field() assetKey!: string;
  @Field(() => FindingStatusWord) status!: FindingStatusWord;
  @Field() firstSeen!: Date;
  @Field() lastSeen!: Date;
  @Field(() => Date, { nullable: true }) resolvedAt!: Date | null;
  @Field(() => String, { nullable: true }) packageName!: string | null;
  @Field(() => String, { nullable: true }) installedVersion!: string | null;
  @Field(() => String, { nullable: true }) fixedVersion!: string | null;
  @Field(() => String, { nullable: true }) remediation!: string | null;
}

@ObjectType()
export class FindingConnection {
  @Field(() => [Finding]) nodes!: Finding[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int) totalCount!: number;
}

@InputType()
export class FindingFilter {
  @Field(() => [SeverityWord], { nullable: true }) severity?: SeverityWord[];
  @Field({ nullable: true, description: 'A requirement id (6.3.1) or a principal requirement (6)' })
  requirement?: string;
  @Field({ nullable: true, description: 'image, config, runtime, host or correlated' }) source?: string;
  @Field({ nullable: true, description: 'The asset key, or a prefix of it ending in /' }) asset?: string;
  @Field(() => FindingStatusWord, { nullable: true, description: 'Default open' }) status?: FindingStatusWord;
  @Field({ nullable: true, description: 'true: only correlated findings; false: none of them' })
  correlated?: boolean;
}

@ObjectType()
export class FindingChange {
  @Field() findingId!: string;
  @Field(() => [String]) fields!: string[];
}

@ObjectType()
export class RequirementChange {
  @Field() id!: string;
  @Field(() => RequirementStatusWord, { nullable: true }) from!: RequirementStatusWord | null;
  @Field(() => RequirementStatusWord, { nullable: true }) to!: RequirementStatusWord | null;
}

@ObjectType()
export class SnapshotDiff {
  @Field() scope!: string;
  @Field(() => Int) from!: number;
  @Field(() => Int) to!: number;
  @Field(() => [Finding], { description: 'Open in the later version, not in the earlier' }) added!: Finding[];
  @Field(() => [Finding], { description: 'Open in the earlier version, not in the later' })
  resolved!: Finding[];
  @Field(() => [String], {
    description:
      'Of the resolved, the runtime detections closed by the 7-day quiet period (not seen again, not fixed)',
  })
  closedQuietIds!: string[];
  @Field(() => [FindingChange]) changed!: FindingChange[];
  @Field(() => [RequirementChange]) requirements!: RequirementChange[];
}

@ObjectType()
export class Asset {
  @Field() kind!: string;
  @Field() key!: string;
  @Field({ description: 'The inventory item as canonical JSON' }) detail!: string;
}

@ObjectType({
  description: 'An exception as a snapshot lists it: its standing at the snapshot and what it did in it',
})
export class RiskException {
  @Field(() => ID) id!: string;
  @Field(() => Int, { description: 'The snapshot version this listing is from' }) snapshotVersion!: number;
  @Field(() => ExceptionKindWord) kind!: ExceptionKindWord;
  @Field() owner!: string;
  @Field() justification!: string;
  @Field(() => Date, { nullable: true }) expiresAt!: Date | null;
  @Field() expireOnFix!: boolean;
  @Field({ description: 'active, expired, revoked, lapsed_on_fix or no_expiry (recorded without an expiry)' })
  standing!: string;
  @Field({
    description:
      'What the report lists it as: used (it kept coveredFindingIds from failing their requirements), ' +
      'matched_nothing (active, but no open finding matched it), or its standing when it does not apply',
  })
  use!: string;
  @Field(() => [String], { description: 'Open findings it keeps from failing (only while active)' })
  coveredFindingIds!: string[];
  @Field(() => [String], { description: 'Open findings it matches while it does not apply' })
  uncoveredFindingIds!: string[];
  @Field(() => [String]) pciRequirements!: string[];
  @Field(() => [String]) approvers!: string[];
  @Field(() => String, { nullable: true }) revokedBy!: string | null;
  @Field(() => String, { nullable: true }) revokeReason!: string | null;
}

@InputType()
export class ScanRequestInput {
  @Field() scope!: string;
  @Field(() => ScanKindWord) kind!: ScanKindWord;
  @Field({ nullable: true, description: 'For kind image: registry/repository[:tag][@sha256:...]' })
  imageRef?: string;
}

@ObjectType()
export class RequestedScan {
  @Field(() => ID) scanId!: string;
  @Field() targetKey!: string;
}

@ObjectType()
export class CreatedSnapshot {
  @Field() scope!: string;
  @Field(() => Int) version!: number;
  @Field() contentHash!: string;
}
