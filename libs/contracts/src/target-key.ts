import { type MessageInitShape } from '@bufbuild/protobuf';
import { type TargetSchema } from './gen/vigil/v1/scan_pb.js';

/** The target key of a live cluster scan. */
export const LIVE_TARGET_KEY = 'live';

/**
 * The key a scan's target is known by within its scope; resolution goes by (scanner, scope, target key):
 * image → the reference as asked for (repository:tag; the digest is recorded, not part of the key, so a new digest
 * under the same tag supersedes the old), manifests → their source, live cluster → "live", node → the node name,
 * runtime events → their source.
 */
export function targetKeyOf(target: MessageInitShape<typeof TargetSchema>): string {
  const ref = target.ref;
  let key: string | undefined;
  switch (ref?.case) {
    case 'image':
      key = ref.value.ref || (ref.value.digest ? `@${ref.value.digest}` : undefined);
      break;
    case 'manifests':
      key = ref.value.source;
      break;
    case 'liveCluster':
      key = LIVE_TARGET_KEY;
      break;
    case 'node':
      key = ref.value.node;
      break;
    case 'runtimeEvents':
      key = ref.value.source;
      break;
    default:
      throw new Error(
        'targetKeyOf: the target has no ref (image, manifests, liveCluster, node or runtimeEvents)',
      );
  }
  if (!key) throw new Error(`targetKeyOf: the ${ref.case} target names nothing to key it by`);
  return key;
}
