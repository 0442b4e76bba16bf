// Real: the committed schema.graphql (the API's own SDL) and graphql-js validation. Nothing else is involved.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildSchema, parse, validate } from 'graphql';
import { DEFAULT_QUERY_LIMITS, queryLimitsRule, type QueryLimits } from './query-limits.js';

const schema = buildSchema(readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8'));

function check(query: string, limits: Partial<QueryLimits> = {}) {
  return validate(schema, parse(query), [queryLimitsRule({ ...DEFAULT_QUERY_LIMITS, ...limits })]);
}

describe('query limits', () => {
  it('measures depth through fragments and inline fragments', () => {
    const q = `fragment E on Requirement { evidence { key } }
      query Tree { snapshot(scope: "p") { requirementTree { requirements { ... on Requirement { ...E } } } } }`;
    assert.deepEqual(check(q, { maxDepth: 5 }), []);
    const [err, ...rest] = check(q, { maxDepth: 4 });
    assert.equal(rest.length, 0);
    assert.equal(err?.message, 'operation "Tree" is nested 5 levels deep; the query depth limit is 4');
    assert.equal(err?.extensions['code'], 'QUERY_TOO_DEEP');
  });

  it('multiplies nested fields by page sizes and list lengths, and counts a variable page as the largest', () => {
    // findings 1 + nodes 10 + id 10 + severity 10 = 31.
    const literal = `{ findings(scope: "p", first: 10) { nodes { id severity } } }`;
    assert.deepEqual(check(literal, { maxCost: 31 }), []);
    assert.match(
      check(literal, { maxCost: 30 })[0]?.message ?? '',
      /estimated cost of 31; the query cost limit is 30/,
    );
    // With $n unknown at validation, the page is maxPage (100): 1 + 100 + 100.
    const variable = `query F($n: Int) { findings(scope: "p", first: $n) { nodes { id } } }`;
    assert.match(check(variable, { maxCost: 200 })[0]?.message ?? '', /cost of 201;/);
    // An unpaged list (requirementTree) counts as listSize entries: snapshot 1 + tree 1 + 25 ids.
    assert.match(
      check(`{ snapshot(scope: "p") { requirementTree { id } } }`, { maxCost: 26 })[0]?.message ?? '',
      /cost of 27;/,
    );
  });

  it('leaves introspection and small queries alone at the defaults', () => {
    assert.deepEqual(
      check(`{ __schema { types { name fields { name } } } scopes { key latestVersion } }`),
      [],
    );
  });
});
