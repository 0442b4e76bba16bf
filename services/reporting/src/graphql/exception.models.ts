import { Field, ID, InputType, ObjectType, registerEnumType } from '@nestjs/graphql';

// Inputs and results of the exception and attestation mutations. The events they publish are
// ExceptionRecorded/ExceptionRevoked and RequirementAttested/AttestationRevoked, checked by @vigil/report's
// exception-events.ts exactly as `vigil exception` and `vigil attest` are.

export enum ExceptionKindWord {
  risk_acceptance = 'risk_acceptance',
  compensating_control = 'compensating_control',
}
registerEnumType(ExceptionKindWord, {
  name: 'ExceptionKind',
  description: 'What an exception rests on: an accepted risk, or a compensating control (PCI DSS Appendix B)',
});

@InputType({
  description:
    'Which findings an exception covers. Every criterion given must match (AND); within a list any value may (OR). ' +
    'At least one criterion is required',
})
export class FindingSelectorInput {
  @Field(() => [String], { nullable: true }) findingIds?: string[];
  @Field(() => [String], { nullable: true, description: 'CVE, advisory or check ids (aliases match too)' })
  ruleIds?: string[];
  @Field(() => [String], {
    nullable: true,
    description: 'image, config, rbac (a config source), runtime, host',
  })
  sources?: string[];
  @Field({ nullable: true }) namespace?: string;
  @Field({ nullable: true, description: 'KIND/NAME, e.g. Deployment/payment-api' }) workload?: string;
  @Field({ nullable: true, description: 'sha256:<64 hex>' }) imageDigest?: string;
  @Field({ nullable: true, description: 'Image repository without tag or digest' }) imageRepository?: string;
  @Field(() => [String], { nullable: true, description: 'Package names, or purls without version' })
  packages?: string[];
  @Field(() => [String], { nullable: true, description: 'Exact paths, or directory prefixes ending in "/"' })
  paths?: string[];
}

@InputType()
export class AcceptRiskInput {
  @Field() scope!: string;
  @Field(() => FindingSelectorInput) selector!: FindingSelectorInput;
  @Field() owner!: string;
  @Field() justification!: string;
  @Field({ description: 'Who approved it, by name' }) approver!: string;
  @Field(() => Date, { description: 'A hard expiry in the future; required' }) expiresAt!: Date;
  @Field({ nullable: true, description: 'Lapse once every covered finding is resolved' })
  expireOnFix?: boolean;
  @Field(() => ExceptionKindWord, { nullable: true }) kind?: ExceptionKindWord;
  @Field(() => [String], {
    nullable: true,
    description: 'Limit it to these requirements; empty means every requirement its findings fail',
  })
  pciRequirements?: string[];
}

@InputType()
export class RevokeInput {
  @Field() scope!: string;
  @Field(() => ID) id!: string;
  @Field() reason!: string;
}

@InputType()
export class AttachmentInput {
  @Field() name!: string;
  @Field({ description: 'sha256:<64 hex> of the file, which stays with the assessor' }) sha256!: string;
  @Field({ description: 'Bytes, as a decimal string' }) size!: string;
  @Field({ nullable: true }) mediaType?: string;
}

@InputType()
export class AttestRequirementInput {
  @Field() scope!: string;
  @Field({ description: 'PCI DSS v4.0.1 requirement or sub-requirement id, e.g. 12.10.1' })
  requirementId!: string;
  @Field({ description: 'What the evidence shows' }) statement!: string;
  @Field({ nullable: true, description: 'Who attests; default the token (api:<token id>)' })
  attestedBy?: string;
  @Field(() => [AttachmentInput]) attachments!: AttachmentInput[];
  @Field(() => Date, { nullable: true, description: 'When it must be renewed; unset means until revoked' })
  validUntil?: Date;
}

@ObjectType()
export class RecordedEvent {
  @Field(() => ID, { description: 'The exception or attestation id' }) id!: string;
  @Field() scope!: string;
  @Field({ description: 'The event id on the log' }) eventId!: string;
}
