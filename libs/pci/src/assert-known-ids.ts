import { canonicalId, FRAMEWORK_VERSION, isAssessableLevel, requirement } from './catalog.js';

export interface AssertKnownOptions {
  /** Also accept section, principal and appendix ids (for roll-up output); findings never carry those. */
  allowRollup?: boolean;
}

/**
 * Throws unless every id is a canonical PCI DSS v4.0.1 id that findings may carry (a requirement or
 * sub-requirement). Engines call this in their tests on every id they emit; `where` names the emitter.
 */
export function assertKnownRequirementIds(
  ids: Iterable<string>,
  where: string,
  options: AssertKnownOptions = {},
): void {
  const problems: string[] = [];
  for (const id of ids) {
    const canonical = canonicalId(id);
    if (canonical === undefined) problems.push(`"${id}" is not a v${FRAMEWORK_VERSION} id`);
    else if (canonical !== id) problems.push(`"${id}" is an alias; emit "${canonical}"`);
    else if (!options.allowRollup && !isAssessableLevel(id)) {
      problems.push(
        `"${id}" is a ${requirement(id)?.level} id; findings map to requirements or sub-requirements`,
      );
    }
  }
  if (problems.length > 0) throw new Error(`${where}: ${problems.join('; ')}`);
}
