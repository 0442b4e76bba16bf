import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { canonicalImageRef, create, type CanonicalImageRef } from '@vigil/contracts';
import {
  ImageTargetSchema,
  ManifestTargetSchema,
  LiveClusterTargetSchema,
  NodeTargetSchema,
  ScannerKind,
  TargetKind,
  TargetSchema,
  type Target,
} from '@vigil/contracts';
import { UsageError } from '../usage-error.js';

export type ScanKind = 'image' | 'rootfs' | 'fs' | 'k8s' | 'host';

export interface ScanTarget {
  scanner: ScannerKind;
  target: Target;
  /** The scan request's scanner options. */
  options?: Record<string, string>;
}

/**
 * Turns `vigil scan <kind> ...` arguments into the scan's target. The target key is what later scans of the same
 * thing share, so that one resolves the other: an image's repository:tag (a new digest under the same tag
 * supersedes the old), a manifest source's absolute path or `live`, a node's name.
 */
export function scanTarget(
  kind: string,
  args: string[],
  flags: {
    root?: string;
    node?: string;
    live?: boolean;
    kubeconfig?: string;
    context?: string;
    manifests?: readonly string[];
  },
): ScanTarget {
  switch (kind) {
    case 'image':
      return imageTarget(args);
    case 'rootfs':
    case 'fs':
      return directoryTarget(kind, args);
    case 'k8s':
      return configTarget(args, flags);
    case 'host':
      return hostTarget(args, flags);
    case '':
      throw new UsageError('vigil scan: give a scan kind: image|rootfs|fs|k8s|host');
    default:
      throw new UsageError(
        `vigil scan: unknown scan kind "${kind}" (expected image, rootfs, fs, k8s or host)`,
      );
  }
}

function imageTarget(args: string[]): ScanTarget {
  const [what, ...rest] = args;
  if (!what?.trim() || rest.length > 0)
    throw new UsageError('vigil scan image: give exactly one image reference or archive path');
  const path = resolve(what);
  // Something that reads as a path (./x, ../x, /x, *.tar) names a file, not a registry image.
  if (!existsSync(path) && /^(\.{1,2})?\/|\.(tar|tgz|tar\.gz)$/.test(what)) {
    throw new UsageError(`vigil scan image: ${path} does not exist`);
  }
  if (existsSync(path)) {
    readable(path, 'vigil scan image:');
    // An archive (docker save tar, OCI layout dir or oci-archive tar): its key is the tag it carries when the
    // scanner reads it; until then the path stands for it.
    const image = create(ImageTargetSchema, { archivePath: path, ref: '' });
    return {
      scanner: ScannerKind.IMAGE,
      target: create(TargetSchema, {
        kind: TargetKind.IMAGE,
        key: path,
        ref: { case: 'image', value: image },
      }),
    };
  }
  const ref = normalizeImageRef(what);
  const image = create(ImageTargetSchema, { ref: ref.ref, digest: ref.digest });
  return {
    scanner: ScannerKind.IMAGE,
    target: create(TargetSchema, {
      kind: TargetKind.IMAGE,
      key: ref.key,
      ref: { case: 'image', value: image },
    }),
  };
}

// A root filesystem (a mounted node, a build stage) or a source tree's lockfiles: the image scanner reads the
// directory as it would an image's merged layers. The path is the key, so rescanning it resolves what was fixed.
function directoryTarget(kind: 'rootfs' | 'fs', args: string[]): ScanTarget {
  if (args.length !== 1 || !args[0]?.trim())
    throw new UsageError(`vigil scan ${kind}: give exactly one directory`);
  const path = resolve(args[0] as string);
  if (!existsSync(path) || !statSync(path).isDirectory())
    throw new UsageError(`vigil scan ${kind}: ${path} is not a directory`);
  readable(path, `vigil scan ${kind}:`);
  const image = create(ImageTargetSchema, { archivePath: path, ref: '' });
  return {
    scanner: ScannerKind.IMAGE,
    target: create(TargetSchema, { kind: TargetKind.IMAGE, key: path, ref: { case: 'image', value: image } }),
    options: { input: kind },
  };
}

function configTarget(
  args: string[],
  flags: { live?: boolean; kubeconfig?: string; context?: string; manifests?: readonly string[] },
): ScanTarget {
  const paths = [...args, ...(flags.manifests ?? [])];
  const live = flags.live === true || flags.kubeconfig !== undefined || flags.context !== undefined;
  if (live) {
    if (paths.length > 0)
      throw new UsageError(
        'vigil scan k8s: give manifests or a live cluster (--live, --kubeconfig, --context), not both',
      );
    if (flags.kubeconfig !== undefined) {
      if (!flags.kubeconfig.trim()) throw new UsageError('vigil scan k8s: --kubeconfig is empty');
      if (!existsSync(resolve(flags.kubeconfig)))
        throw new UsageError(`vigil scan k8s: --kubeconfig ${resolve(flags.kubeconfig)} does not exist`);
      readable(resolve(flags.kubeconfig), 'vigil scan k8s: --kubeconfig');
    }
    if (flags.context !== undefined && !flags.context.trim())
      throw new UsageError('vigil scan k8s: --context is empty');
    if (flags.kubeconfig !== undefined) checkKubeconfig(resolve(flags.kubeconfig), flags.context);
    const value = create(LiveClusterTargetSchema, {
      context: flags.context ?? '',
      kubeconfig: flags.kubeconfig ? resolve(flags.kubeconfig) : '',
    });
    return {
      scanner: ScannerKind.CONFIG,
      target: create(TargetSchema, {
        kind: TargetKind.LIVE_CLUSTER,
        // One live cluster per scope: a context names how it is reached, not what it is.
        key: 'live',
        ref: { case: 'liveCluster', value },
      }),
    };
  }
  if (paths.length === 0 || paths.some((p) => !p.trim()))
    throw new UsageError(
      'vigil scan k8s: give manifest files or directories (as arguments or --manifests PATH), or --live',
    );
  const sources = [...new Set(paths.map((p) => resolve(p)))];
  for (const source of sources) {
    if (!existsSync(source)) throw new UsageError(`vigil scan k8s: ${source} does not exist`);
    readable(source, 'vigil scan k8s:');
  }
  const value = create(ManifestTargetSchema, { source: sources[0]!, sources });
  return {
    scanner: ScannerKind.CONFIG,
    target: create(TargetSchema, {
      kind: TargetKind.MANIFESTS,
      // The same set of paths is the same target whatever order it was given in.
      key: [...sources].sort().join('+'),
      ref: { case: 'manifests', value },
    }),
  };
}

function hostTarget(args: string[], flags: { root?: string; node?: string }): ScanTarget {
  if (args.length > 0)
    throw new UsageError('vigil scan host: use --root PATH and --node NAME, not positional arguments');
  const rootPath = resolve(flags.root ?? '/');
  if (!existsSync(rootPath) || !statSync(rootPath).isDirectory()) {
    throw new UsageError(`vigil scan host: --root ${rootPath} is not a directory`);
  }
  readable(rootPath, 'vigil scan host: --root');
  const node = flags.node ?? nodeName(rootPath);
  if (!node)
    throw new UsageError(`vigil scan host: ${rootPath} has no etc/hostname; name the node with --node NAME`);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/.test(node)) {
    throw new UsageError(
      `vigil scan host: --node "${node.slice(0, 60)}" is not a node name (letters, digits, dot, dash, underscore; at most 253)`,
    );
  }
  const value = create(NodeTargetSchema, { node, rootPath });
  return {
    scanner: ScannerKind.HOST,
    target: create(TargetSchema, { kind: TargetKind.NODE, key: node, ref: { case: 'node', value } }),
  };
}

function readable(path: string, what: string): void {
  try {
    accessSync(path, constants.R_OK | (statSync(path).isDirectory() ? constants.X_OK : 0));
  } catch {
    throw new UsageError(`${what} ${path} cannot be read by this user`);
  }
}

// The node's own name: its /etc/hostname under the root, else this machine's when the root is "/".
function nodeName(rootPath: string): string {
  try {
    const name = readFileSync(join(rootPath, 'etc/hostname'), 'utf8').trim();
    if (name) return name;
  } catch {
    // no hostname file in the fixture
  }
  return rootPath === '/' ? hostname() : '';
}

export type ImageRef = CanonicalImageRef;

/** The image reference made explicit (see canonicalImageRef); a malformed one is a usage error naming it. */
export function normalizeImageRef(input: string): ImageRef {
  const ref = canonicalImageRef(input);
  if (typeof ref === 'string') throw new UsageError(`vigil scan image: ${ref}`);
  return ref;
}

/**
 * A kubeconfig the auditor could not use is the user's mistake, found before anything is requested or stored:
 * not YAML, not a kubeconfig, no such context, or no current context to fall back on.
 */
function checkKubeconfig(path: string, context: string | undefined): void {
  const what = `vigil scan k8s: --kubeconfig ${path}`;
  if (!statSync(path).isFile()) throw new UsageError(`${what} is not a file`);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'), { maxAliasCount: 50 });
  } catch (err) {
    throw new UsageError(`${what} is not YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const config =
    doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>) : {};
  const contexts = Array.isArray(config['contexts'])
    ? (config['contexts'] as unknown[]).map((c) => String((c as { name?: unknown })?.name ?? ''))
    : [];
  if (config['kind'] !== 'Config' && contexts.length === 0)
    throw new UsageError(`${what} is not a kubeconfig (no kind: Config, no contexts)`);
  const wanted = context ?? (typeof config['current-context'] === 'string' ? config['current-context'] : '');
  if (!wanted)
    throw new UsageError(
      `${what} sets no current-context; name one with --context (contexts: ${contexts.join(', ') || 'none'})`,
    );
  if (!contexts.includes(wanted))
    throw new UsageError(`${what} has no context "${wanted}" (contexts: ${contexts.join(', ') || 'none'})`);
}
