import { Inject, UseGuards } from '@nestjs/common';
import { Args, Context, Info, Int, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import type { GraphQLResolveInfo } from 'graphql';
import { InventoryItemSchema, toJson } from '@vigil/contracts';
import { isRequirementId } from '@vigil/pci';
import type { ReportState } from '@vigil/report';
import { SEVERITIES, type FindingFilterQuery, type ReportingStore, type StoredSeverity } from '@vigil/store';
import {
  SnapshotReads,
  exceptionListingOf,
  exceptionOf,
  findingFromRow,
  priorityFactorsOf,
  type ScopedFinding,
} from './api-data.js';
import { ERROR_CODES, apiError } from './api-errors.js';
import { CorrelatedContext, parsePriorityFactors } from './finding-context.js';
import type { ApiContext } from './auth.js';
import { decodeCursor, encodeCursor, pageSize, selectsField } from './cursor.js';
import {
  Asset,
  Finding,
  FindingConnection,
  FindingFilter,
  FindingStatusWord,
  RiskException,
} from './models.js';
import { PermissionGuard, Requires } from './permission.guard.js';
import { seesScope } from './permissions.js';
import type { QueryLimits } from './query-limits.js';
import { API_LIMITS, API_SNAPSHOTS, API_STATE, API_STORE } from './tokens.js';
import { FindingTotals } from './finding-totals.js';

type Position = { p: number | null; s: string; id: string };
const isPosition = (v: unknown): v is Position =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Position).id === 'string' &&
  SEVERITIES.includes((v as Position).s as StoredSeverity) &&
  ((v as Position).p === null || typeof (v as Position).p === 'number');

@Resolver(() => Finding)
@UseGuards(PermissionGuard)
export class FindingResolver {
  private readonly totals: FindingTotals;

  constructor(
    @Inject(API_STORE) private readonly store: ReportingStore,
    @Inject(API_LIMITS) private readonly limits: QueryLimits,
    @Inject(API_STATE) private readonly state: () => ReportState,
    @Inject(API_SNAPSHOTS) private readonly snapshots: SnapshotReads,
  ) {
    this.totals = new FindingTotals(store);
  }

  @Query(() => FindingConnection, {
    description: 'A scope’s current findings, by priority where the correlator gave one, else by severity',
  })
  @Requires('read')
  async findings(
    @Context() ctx: ApiContext,
    @Info() info: GraphQLResolveInfo,
    @Args('scope') scope: string,
    @Args('filter', { type: () => FindingFilter, nullable: true }) filter?: FindingFilter,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { nullable: true }) after?: string,
  ): Promise<FindingConnection> {
    const size = pageSize(first, this.limits.maxPage);
    const cursor = after ? decodeCursor(after, isPosition) : undefined;
    // An id that is not one would match nothing and read as "no findings for it".
    if (filter?.requirement && !isRequirementId(filter.requirement))
      throw apiError(
        ERROR_CODES.badInput,
        `filter.requirement: "${filter.requirement.slice(0, 40)}" is not a PCI DSS v4.0.1 requirement id (e.g. 6 or 6.3.1)`,
      );
    if (!seesScope(ctx.principal, scope))
      return { nodes: [], pageInfo: { endCursor: null, hasNextPage: false }, totalCount: 0 };
    const query: FindingFilterQuery = {
      scope,
      status: filter?.status ?? FindingStatusWord.open,
      ...(filter?.severity?.length ? { severities: filter.severity } : {}),
      ...(filter?.requirement ? { requirement: filter.requirement } : {}),
      ...(filter?.source ? { source: filter.source } : {}),
      ...(filter?.asset ? { asset: filter.asset } : {}),
      ...(filter?.correlated !== undefined && filter.correlated !== null
        ? { correlated: filter.correlated }
        : {}),
    };
    // Counting visits every matching row, the page only its first rows: only a query that shows the total asks
    // for it, beside the page, and it is counted once per change of the scope's findings (FindingTotals).
    const [page, total] = await Promise.all([
      this.store.queryFindings({
        ...query,
        ...(cursor
          ? { after: { priority: cursor.p, severity: cursor.s as StoredSeverity, findingId: cursor.id } }
          : {}),
        limit: size,
      }),
      selectsField(info, 'totalCount') ? this.totals.total(query) : undefined,
    ]);
    const nodes = page.rows.map(findingFromRow);
    const last = page.rows[page.rows.length - 1];
    return {
      nodes,
      pageInfo: {
        endCursor: last
          ? encodeCursor({ p: last.priority ?? null, s: last.severity, id: last.findingId })
          : null,
        hasNextPage: page.hasMore,
      },
      // Not selected, so never sent: the field stays non-null for the queries that ask for it.
      totalCount: total ?? 0,
    };
  }

  @ResolveField(() => CorrelatedContext, {
    nullable: true,
    description:
      'The correlated findings that reference this one, and for a correlated finding the findings and assets it joins; null outside a scope’s current findings',
  })
  async correlatedContext(
    @Context() ctx: ApiContext,
    @Parent() finding: ScopedFinding,
  ): Promise<CorrelatedContext | null> {
    const scope = finding.scope;
    if (!scope || !seesScope(ctx.principal, scope)) return null;
    const [self] = await this.store.findingsByIds(scope, [finding.id]);
    if (!self) return null;
    const referencedBy = await this.store.findingsReferencing(scope, finding.id);
    const joins = await this.store.findingsByIds(scope, self.relatedFindingIds ?? []);
    const assets = [...new Set([self.assetKey, ...joins.map((j) => j.assetKey)].filter((k) => k))].sort();
    return {
      referencedBy: referencedBy.map(findingFromRow),
      joins: joins.map(findingFromRow),
      assets,
      priorityFactors: parsePriorityFactors(priorityFactorsOf(self)),
    };
  }

  @Query(() => [Asset], {
    description: 'What the scanners observed in a scope (workloads, images, nodes, ...)',
  })
  @Requires('read')
  assets(
    @Context() ctx: ApiContext,
    @Args('scope') scope: string,
    @Args('kind', {
      nullable: true,
      description: 'cluster, namespace, workload, container, image, node, ...',
    })
    kind?: string,
  ): Asset[] {
    if (!seesScope(ctx.principal, scope)) return [];
    const s = this.state().scopes.get(scope);
    if (!s) return [];
    const out: Asset[] = [];
    for (const record of s.inventory.values()) {
      const itemKind = record.item.item.case ?? '';
      if (kind && itemKind !== kind) continue;
      out.push({
        kind: itemKind,
        key: record.key,
        detail: JSON.stringify(toJson(InventoryItemSchema, record.item)),
      });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  @Query(() => [RiskException], {
    description:
      'The exceptions of a snapshot (the latest unless version is given) with their standing and what they did ' +
      'in it: used, matched nothing, expired, lapsed on fix, revoked, or never valid for want of an expiry',
  })
  @Requires('read')
  async exceptions(
    @Context() ctx: ApiContext,
    @Args('scope') scope: string,
    @Args('version', { type: () => Int, nullable: true }) version?: number,
  ): Promise<RiskException[]> {
    if (!seesScope(ctx.principal, scope)) return [];
    const head = await this.snapshots.head(scope, version ?? undefined);
    if (!head) return [];
    const digest = await this.snapshots.digest(scope, head.version);
    if (!digest) throw new Error(`snapshot ${scope} v${head.version} listed but not readable`);
    return exceptionListingOf(digest.exceptions).map((x) => exceptionOf(x.use, x.listedAs, head.version));
  }
}
