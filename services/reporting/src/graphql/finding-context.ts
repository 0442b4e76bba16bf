import { Field, Int, ObjectType } from '@nestjs/graphql';
import { Finding } from './models.js';

@ObjectType({
  description: 'One reason the correlator ranks a finding where it does, with the points it added',
})
export class PriorityFactor {
  @Field(() => Int) points!: number;
  @Field() text!: string;
}

@ObjectType({
  description:
    'Why a finding matters here: the correlated findings that reference it, and for a correlated finding what it joins',
})
export class CorrelatedContext {
  @Field(() => [Finding], { description: 'Correlated findings that name this finding among those they join' })
  referencedBy!: Finding[];
  @Field(() => [Finding], {
    description: 'For a correlated finding: the findings it joins (empty otherwise)',
  })
  joins!: Finding[];
  @Field(() => [String], {
    description: 'The asset keys of the finding and of the findings it joins, sorted',
  })
  assets!: string[];
  @Field(() => [PriorityFactor], {
    description: 'For a correlated finding: its priority factors, as the correlator rendered them',
  })
  priorityFactors!: PriorityFactor[];
}

/**
 * The correlator's rendering of its factors (libs/correlate renderPriority): "+30 base severity high; 0 egress
 * restricted". A part that does not start with points is kept whole with 0, so nothing the correlator said is lost.
 */
export function parsePriorityFactors(rendered: string): PriorityFactor[] {
  if (!rendered.trim()) return [];
  return rendered.split('; ').map((part) => {
    const m = /^([+-]?\d+(?:\.\d+)?) (.*)$/s.exec(part.trim());
    return m ? { points: Math.round(Number(m[1])), text: m[2] ?? '' } : { points: 0, text: part.trim() };
  });
}
