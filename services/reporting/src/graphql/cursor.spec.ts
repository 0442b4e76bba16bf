// Real graphql-js execution: the info a resolver gets is the one Apollo hands the findings resolver.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSchema, graphql, type GraphQLResolveInfo } from 'graphql';
import { selectsField } from './cursor.js';

const schema = buildSchema(`
  type Connection { totalCount: Int! nodes: [Int!]! }
  type Query { findings: Connection! }
`);

async function asksForTotal(source: string): Promise<boolean | undefined> {
  let asked: boolean | undefined;
  const result = await graphql({
    schema,
    source,
    rootValue: {
      findings: (_args: unknown, _ctx: unknown, info: GraphQLResolveInfo) => {
        asked = selectsField(info, 'totalCount');
        return { totalCount: 0, nodes: [] };
      },
    },
  });
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  return asked;
}

describe('selectsField', () => {
  it('sees the field asked directly or under an alias, and not when it is left out', async () => {
    assert.equal(await asksForTotal('{ findings { totalCount nodes } }'), true);
    assert.equal(await asksForTotal('{ findings { n: totalCount } }'), true);
    assert.equal(await asksForTotal('{ findings { nodes } }'), false);
  });

  it('looks into named and inline fragments', async () => {
    assert.equal(
      await asksForTotal('{ findings { ...Counted } } fragment Counted on Connection { totalCount }'),
      true,
    );
    assert.equal(
      await asksForTotal('{ findings { ...Listed } } fragment Listed on Connection { nodes }'),
      false,
    );
    assert.equal(await asksForTotal('{ findings { ... on Connection { totalCount } } }'), true);
  });
});
