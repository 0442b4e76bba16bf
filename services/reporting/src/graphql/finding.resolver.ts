import { Inject, UseGuards } from '@nestjs/common';
import { Args, Context, Int, Query, Resolver } from '@nestjs/graphql';
import { InventoryItemSchema, timestampDate, toJson } from '@vigil/contracts';
import type { ReportState } from '@vigil/report';
import type { ReportingStore } from '@vigil/store';
import { compareFindings, findingFromRow, principalOf } from './api-data.js';
import type { ApiContext } from './auth.js';
import { decodeCursor, encodeCursor, pageSize } from './cursor.js';
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
import { API_LIMITS, API_STATE, API_STORE } from './tokens.js';

type Position = { p: number | null; s: string; id: string };
const isPosition = (v: unknown): v is Position =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Position).id === 'string' &&
  typeof (v as Position).s === 'string' &&
  ((v as Position).p === null || typeof (v as Position).p === 'number');

@Resolver()
@UseGuards(PermissionGuard)
export class FindingResolver {
  constructor(
    @Inject(API_STORE) private readonly store: ReportingStore,
    @Inject(API_LIMITS) private readonly limits: QueryLimits,
    @Inject(API_STATE) private readonly state: () => ReportState,
  ) {}

  @Query(() => FindingConnection, {
    description: 'A scope’s current findings, by priority where the correlator gave one, else by severity',
  })
  @Requires('read')
  async findings(
    @Context() ctx: ApiContext,
    @Args('scope') scope: string,
    @Args('filter', { type: () => FindingFilter, nullable: true }) filter?: FindingFilter,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { nullable: true }) after?: string,
  ): Promise<FindingConnection> {
    const size = pageSize(first, this.limits.maxPage);
    const cursor = after ? decodeCursor(after, isPosition) : undefined;
    if (!seesScope(ctx.principal, scope))
      return { nodes: [], pageInfo: { endCursor: null, hasNextPage: false }, totalCount: 0 };
    const status = filter?.status ?? FindingStatusWord.open;
    const rows = await this.store.findingsForScope(scope, status);
    const severities = filter?.severity?.length ? new Set<string>(filter.severity) : undefined;
    const requirement = filter?.requirement;
    const matching = rows.filter(
      (r) =>
        (!severities || severities.has(r.severity)) &&
        (!filter?.source || r.source === filter.source) &&
        (!filter?.asset ||
          r.assetKey === filter.asset ||
          (filter.asset.endsWith('/') && r.assetKey.startsWith(filter.asset))) &&
        (!requirement ||
          r.pciRequirements.some((id) => id === requirement || principalOf(id) === requirement)),
    );
    const sorted = matching.map(findingFromRow).sort(compareFindings);
    const start = cursor
      ? sorted.findIndex(
          (f) =>
            compareFindings(f, {
              ...f,
              id: cursor.id,
              priority: cursor.p,
              severity: cursor.s as Finding['severity'],
            }) > 0,
        )
      : 0;
    const rest = start < 0 ? [] : sorted.slice(start);
    const page = rest.slice(0, size);
    const last = page[page.length - 1];
    return {
      nodes: page,
      pageInfo: {
        endCursor: last ? encodeCursor({ p: last.priority, s: last.severity, id: last.id }) : null,
        hasNextPage: rest.length > size,
      },
      totalCount: sorted.length,
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

  @Query(() => [RiskException], { description: 'Risk acceptances recorded for a scope, with their standing' })
  @Requires('read')
  exceptions(@Context() ctx: ApiContext, @Args('scope') scope: string): RiskException[] {
    if (!seesScope(ctx.principal, scope)) return [];
    const s = this.state().scopes.get(scope);
    if (!s) return [];
    const asOf = s.asOf ? timestampDate(s.asOf as Parameters<typeof timestampDate>[0]) : undefined;
    return [...s.exceptions.values()]
      .map((x) => {
        const r = x.recorded;
        const expiresAt = r.expiresAt ? timestampDate(r.expiresAt) : null;
        const standing = s.revocations.has(x.id)
          ? 'revoked'
          : expiresAt && asOf && expiresAt.getTime() <= asOf.getTime()
            ? 'expired'
            : 'active';
        return {
          id: x.id,
          owner: r.owner,
          justification: r.justification,
          expiresAt,
          expireOnFix: r.expireOnFix,
          standing,
          pciRequirements: [...r.pciRequirements],
          approvers: r.approvers.map((a) => a.name),
        };
      })
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  }
}
