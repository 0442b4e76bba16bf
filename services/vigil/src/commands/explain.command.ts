import { explainNetwork, loadManifests, renderNetworkExplanation } from '@vigil/config-audit';
import { UsageError } from '../usage-error.js';

export interface ExplainCommandArgs {
  manifests: string[];
  /** namespace/name or Kind/namespace/name of a workload in the manifests. */
  pod: string;
  format: 'table' | 'json';
  cdeLabel?: { key: string; value: string };
}

/**
 * `vigil explain network <pod> --manifests PATH...`: what the pod can reach and what can reach it under the
 * manifests' NetworkPolicies, and why. Exit code 0; bad arguments or an unknown pod are usage errors (exit 2).
 */
export async function explainCommand(
  args: ExplainCommandArgs,
  out: { write(s: string): void },
): Promise<number> {
  if (args.manifests.length === 0)
    throw new UsageError('vigil explain network: give at least one --manifests PATH');
  if (!args.pod)
    throw new UsageError('vigil explain network: name the pod as namespace/name or Kind/namespace/name');
  let loaded;
  try {
    loaded = await loadManifests(args.manifests);
  } catch (err) {
    throw new UsageError(`vigil explain network: ${(err as Error).message}`);
  }
  let explanation;
  try {
    explanation = explainNetwork(loaded.objects, args.pod, args.cdeLabel ? { cdeLabel: args.cdeLabel } : {});
  } catch (err) {
    throw new UsageError(`vigil explain network: ${(err as Error).message}`);
  }
  // Documents that could not be read are said, not hidden: a policy among them would change the answer.
  const problems = loaded.errors.map((e) => `${e.file}#${e.document ?? '-'}: ${e.message}`);
  if (args.format === 'json')
    out.write(JSON.stringify({ ...explanation, loadErrors: problems }, null, 2) + '\n');
  else {
    out.write(renderNetworkExplanation(explanation));
    if (problems.length)
      out.write(`\nNot read (the answer ignores them):\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
  }
  return 0;
}
