import {
  GraphQLError,
  Kind,
  getNamedType,
  getNullableType,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  type ASTVisitor,
  type GraphQLCompositeType,
  type GraphQLField,
  type SelectionSetNode,
  type ValidationContext,
  type ValueNode,
} from 'graphql';
import { ERROR_CODES } from './api-errors.js';

export interface QueryLimits {
  /** Deepest field nesting allowed (a top-level field is depth 1). */
  readonly maxDepth: number;
  /** Largest estimated cost allowed: every field costs 1, times how many parents it may be asked for. */
  readonly maxCost: number;
  /** The page size assumed for a paged field whose `first` is a variable or absent. */
  readonly maxPage: number;
  /** The length assumed for an unpaged list (requirements of a snapshot, assets of a scope). */
  readonly listSize: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxDepth: 8, maxCost: 20_000, maxPage: 100, listSize: 25 };

/**
 * A validation rule that refuses, before anything runs, a query nested deeper than maxDepth or whose estimated
 * cost exceeds maxCost. Validation has no variable values, so a `first: $n` counts as maxPage (resolvers clamp
 * pages to maxPage, so the estimate is an upper bound for paged fields). Fragments are followed; a fragment cycle
 * is left to graphql-js's own NoFragmentCycles rule.
 */
export function queryLimitsRule(limits: QueryLimits = DEFAULT_QUERY_LIMITS) {
  return (context: ValidationContext): ASTVisitor => {
    const measure = (
      set: SelectionSetNode,
      parent: GraphQLCompositeType | undefined,
      depth: number,
      multiplier: number,
      visiting: Set<string>,
    ): { depth: number; cost: number } => {
      let deepest = depth - 1;
      let cost = 0;
      for (const sel of set.selections) {
        let inner: { depth: number; cost: number } | undefined;
        if (sel.kind === Kind.FIELD) {
          if (sel.name.value.startsWith('__')) continue;
          const field = fieldOf(parent, sel.name.value);
          const factor = field ? listFactor(parent, field, sel.arguments ?? [], limits) : 1;
          cost += multiplier;
          deepest = Math.max(deepest, depth);
          if (sel.selectionSet) {
            const next = field ? getNamedType(field.type) : undefined;
            inner = measure(
              sel.selectionSet,
              next && isCompositeType(next) ? next : undefined,
              depth + 1,
              multiplier * factor,
              visiting,
            );
          }
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          const typed = sel.typeCondition
            ? context.getSchema().getType(sel.typeCondition.name.value)
            : parent;
          inner = measure(
            sel.selectionSet,
            typed && isCompositeType(typed) ? typed : parent,
            depth,
            multiplier,
            visiting,
          );
        } else {
          const name = sel.name.value;
          const fragment = context.getFragment(name);
          if (!fragment || visiting.has(name)) continue;
          visiting.add(name);
          const typed = context.getSchema().getType(fragment.typeCondition.name.value);
          inner = measure(
            fragment.selectionSet,
            typed && isCompositeType(typed) ? typed : parent,
            depth,
            multiplier,
            visiting,
          );
          visiting.delete(name);
        }
        if (inner) {
          deepest = Math.max(deepest, inner.depth);
          cost += inner.cost;
        }
      }
      return { depth: deepest, cost };
    };

    return {
      OperationDefinition(node) {
        const schema = context.getSchema();
        const root =
          node.operation === 'mutation'
            ? schema.getMutationType()
            : node.operation === 'subscription'
              ? schema.getSubscriptionType()
              : schema.getQueryType();
        const { depth, cost } = measure(node.selectionSet, root ?? undefined, 1, 1, new Set());
        const name = node.name ? `operation "${node.name.value}"` : 'the query';
        if (depth > limits.maxDepth) {
          context.reportError(
            new GraphQLError(
              `${name} is nested ${depth} levels deep; the query depth limit is ${limits.maxDepth}`,
              {
                nodes: [node],
                extensions: {
                  code: ERROR_CODES.tooDeep,
                  limit: 'depth',
                  max: limits.maxDepth,
                  actual: depth,
                },
              },
            ),
          );
        } else if (cost > limits.maxCost) {
          context.reportError(
            new GraphQLError(
              `${name} has an estimated cost of ${cost}; the query cost limit is ${limits.maxCost} (ask for smaller pages or fewer nested lists)`,
              {
                nodes: [node],
                extensions: { code: ERROR_CODES.tooCostly, limit: 'cost', max: limits.maxCost, actual: cost },
              },
            ),
          );
        }
        return false;
      },
    };
  };
}

function fieldOf(
  parent: GraphQLCompositeType | undefined,
  name: string,
): GraphQLField<unknown, unknown> | undefined {
  if (parent && (isObjectType(parent) || isInterfaceType(parent))) return parent.getFields()[name];
  return undefined;
}

// How many children a field may fan out to: its page size when it takes `first`, an assumed length for a plain
// list, else one. A connection's own node list is the page its field already counted.
function listFactor(
  parent: GraphQLCompositeType | undefined,
  field: GraphQLField<unknown, unknown>,
  args: readonly { name: { value: string }; value: ValueNode }[],
  limits: QueryLimits,
): number {
  if (field.args.some((a) => a.name === 'first')) {
    const given = args.find((a) => a.name.value === 'first')?.value;
    if (given?.kind === Kind.INT) return Math.max(1, Math.min(Number(given.value), limits.maxPage));
    return limits.maxPage;
  }
  if (parent?.name.endsWith('Connection')) return 1;
  return isListType(getNullableType(field.type)) ? limits.listSize : 1;
}
