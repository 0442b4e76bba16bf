import { Inject, UseGuards } from '@nestjs/common';
import { Args, Context, Int, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { diffSnapshots } from '@vigil/report';
import type { ReportingStore } from '@vigil/store';
import { ERROR_CODES, apiError } from './api-errors.js';
import {
  SnapshotReads,
  findingFromMessage,
  requirementGroups,
  requirementOf,
  snapshotOf,
  statusWord,
} from './api-data.js';
import type { ApiContext } from './auth.js';
import { decodeCursor, encodeCursor, pageSize } from './cursor.js';
import {
  FindingCounts,
  FindingStatusWord,
  Requirement,
  RequirementGroup,
  RequirementStatusWord,
  RequirementSummary,
  Scope,
  Snapshot,
  SnapshotConnection,
  SnapshotDiff,
} from './models.js';
import { PermissionGuard, Requires } from './permission.guard.js';
import { seesScope } from './permissions.js';
import { API_LIMITS, API_SNAPSHOTS, API_STORE } from './tokens.js';
import type { QueryLimits } from './query-limits.js';

const isVersion = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1;

@Resolver(() => Snapshot)
@UseGuards(PermissionGuard)
export class SnapshotResolver {
  constructor(
    @Inject(API_STORE) private readonly store: ReportingStore,
    @Inject(API_LIMITS) private readonly limits: QueryLimits,
    @Inject(API_SNAPSHOTS) private readonly reports: SnapshotReads,
  ) {}

  @Query(() => [Scope], { description: 'The clusters the caller may see that have anything recorded' })
  @Requires('read')
  async scopes(@Context() ctx: ApiContext): Promise<Scope[]> {
    const out: Scope[] = [];
    for (const key of await this.store.scopes()) {
      if (!seesScope(ctx.principal, key)) continue;
      const slash = key.indexOf('/');
      const latest = (await this.store.listSnapshots(key)).at(-1);
      out.push({
        key,
        tenant: slash >= 0 ? key.slice(0, slash) : '',
        cluster: slash >= 0 ? key.slice(slash + 1) : key,
        latestVersion: latest?.version ?? null,
      });
    }
    return out;
  }

  @Query(() => SnapshotConnection, { description: 'A scope’s snapshots, newest first' })
  @Requires('read')
  async snapshots(
    @Context() ctx: ApiContext,
    @Args('scope') scope: string,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { nullable: true }) after?: string,
  ): Promise<SnapshotConnection> {
    const size = pageSize(first, this.limits.maxPage);
    if (!seesScope(ctx.principal, scope))
      return { nodes: [], pageInfo: { endCursor: null, hasNextPage: false }, totalCount: 0 };
    const all = (await this.store.listSnapshots(scope)).reverse();
    const below = after ? decodeCursor(after, isVersion) : Infinity;
    const rest = all.filter((s) => s.version < below);
    const page = rest.slice(0, size);
    const last = page[page.length - 1];
    return {
      nodes: page.map(snapshotOf),
      pageInfo: { endCursor: last ? encodeCursor(last.version) : null, hasNextPage: rest.length > size },
      totalCount: all.length,
    };
  }

  @Query(() => Snapshot, { nullable: true, description: 'One version of a scope, or its latest' })
  @Requires('read')
  async snapshot(
    @Context() ctx: ApiContext,
    @Args('scope') scope: string,
    @Args('version', { type: () => Int, nullable: true }) version?: number,
  ): Promise<Snapshot | null> {
    if (!seesScope(ctx.principal, scope)) return null;
    // One indexed row without content, shared by concurrent requests: this is the summary dashboards poll.
    const info = await this.reports.head(scope, version ?? undefined);
    return info ? snapshotOf(info) : null;
  }

  @Query(() => SnapshotDiff, {
    nullable: true,
    description: 'What changed from one version of a scope to another: findings and requirement statuses',
  })
  @Requires('read')
  async diff(
    @Context() ctx: ApiContext,
    @Args('scope') scope: string,
    @Args('from', { type: () => Int }) from: number,
    @Args('to', { type: () => Int }) to: number,
  ): Promise<SnapshotDiff | null> {
    if (!seesScope(ctx.principal, scope)) return null;
    const [a, b] = [await this.reports.report(scope, from), await this.reports.report(scope, to)];
    if (!a || !b)
      throw apiError(ERROR_CODES.notFound, `scope ${scope} has no snapshot version ${!a ? from : to}`);
    const d = diffSnapshots(a, b);
    return {
      scope,
      from,
      to,
      added: (d.findings?.added ?? []).map((f) => findingFromMessage(f, FindingStatusWord.open)),
      resolved: (d.findings?.resolved ?? []).map((f) => findingFromMessage(f, FindingStatusWord.resolved)),
      closedQuietIds: [...(d.findings?.closedQuietIds ?? [])],
      changed: (d.findings?.changed ?? []).map((c) => ({ findingId: c.findingId, fields: [...c.fields] })),
      requirements: d.requirements.map((r) => ({ id: r.id, from: statusWord(r.from), to: statusWord(r.to) })),
    };
  }

  @ResolveField(() => RequirementSummary)
  async summary(@Parent() s: Snapshot): Promise<RequirementSummary> {
    return { ...(await this.digest(s)).summary };
  }

  @ResolveField(() => FindingCounts)
  async findingCounts(@Parent() s: Snapshot): Promise<FindingCounts> {
    return { ...(await this.digest(s)).findingCounts };
  }

  @ResolveField(() => [RequirementGroup], { description: 'The requirement tree with statuses and counts' })
  async requirementTree(@Parent() s: Snapshot): Promise<RequirementGroup[]> {
    return requirementGroups(await this.load(s));
  }

  @ResolveField(() => [Requirement])
  async requirements(
    @Parent() s: Snapshot,
    @Args('status', { type: () => RequirementStatusWord, nullable: true }) status?: RequirementStatusWord,
  ): Promise<Requirement[]> {
    const all = (await this.load(s)).requirements.map(requirementOf);
    return status ? all.filter((r) => r.status === status) : all;
  }

  private async digest(s: Snapshot) {
    const digest = await this.reports.digest(s.scope, s.version);
    if (!digest) throw new Error(`snapshot ${s.scope} v${s.version} listed but not readable`);
    return digest;
  }

  private async load(s: Snapshot) {
    const report = await this.reports.report(s.scope, s.version);
    if (!report) throw new Error(`snapshot ${s.scope} v${s.version} listed but not readable`);
    return report;
  }
}
