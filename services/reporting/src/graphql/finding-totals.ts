import type { FindingFilterQuery, ReportingReader } from '@vigil/store';

// Enough for every filter a deployment's dashboards keep asking about; beyond it the least recently used goes.
const TOTALS_KEPT = 512;

/**
 * The totals of finding queries. A total counts every matching row (at 200,000 findings a quarter of a second of
 * database time when the table is cached, seconds when it is not), while a scope's findings change only in a
 * transaction that records new events of the scope: so a total is kept with the scope's event count when it was
 * taken, and counted again once that count has moved. The event count is read before counting, so a kept total is never older than the count it is kept under.
 * Concurrent requests for the same total share one count.
 */
export class FindingTotals {
  private readonly kept = new Map<string, { events: number; total: Promise<number> }>();

  constructor(private readonly store: ReportingReader) {}

  async total(query: FindingFilterQuery): Promise<number> {
    const key = JSON.stringify([
      query.scope,
      query.status,
      [...(query.severities ?? [])].sort(),
      query.requirement ?? null,
      query.source ?? null,
      query.asset ?? null,
      query.correlated ?? null,
    ]);
    const events = await this.store.countEvents(query.scope);
    const hit = this.kept.get(key);
    if (hit && hit.events === events) {
      this.kept.delete(key);
      this.kept.set(key, hit);
      return hit.total;
    }
    const total = this.store.countFindings(query);
    const entry = { events, total };
    this.kept.set(key, entry);
    total.catch(() => {
      if (this.kept.get(key) === entry) this.kept.delete(key);
    });
    if (this.kept.size > TOTALS_KEPT) this.kept.delete(this.kept.keys().next().value as string);
    return total;
  }
}
