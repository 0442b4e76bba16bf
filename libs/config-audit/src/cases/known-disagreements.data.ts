/**
 * Corpus expectations this auditor does not follow because Kubernetes semantics or PCI DSS say otherwise. Keyed by
 * "<peer>/<case>|<topic>|<resource>|<container>". Each is still run and shown; it counts as a disagreement, never
 * as a match, and the runner fails if the auditor starts agreeing (the entry is then stale).
 */
export const KNOWN_DISAGREEMENTS: Record<string, string> = {};
