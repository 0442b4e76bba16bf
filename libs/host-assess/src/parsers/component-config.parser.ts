import { posix } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { type RootFs } from '../root-fs.js';

export type ConfigTree = Record<string, unknown>;

export type LoadedConfig =
  | { kind: 'ok'; path: string; tree: ConfigTree; dropIns: string[] }
  | { kind: 'absent'; path: string }
  | { kind: 'error'; path: string; message: string };

/**
 * A component's YAML or JSON config file (kubelet --config, kube-proxy --config), with the kubelet's --config-dir
 * drop-ins (*.conf, lexical order) merged over it the way the kubelet merges them: maps field by field, lists and
 * scalars replaced.
 */
export function loadComponentConfig(fs: RootFs, path: string, dropInDir?: string): LoadedConfig {
  const read = fs.read(path);
  if (read.kind === 'absent') return { kind: 'absent', path };
  if (read.kind === 'error') return { kind: 'error', path, message: read.message };
  let tree: ConfigTree;
  try {
    tree = asTree(parseYaml(read.text), path);
  } catch (err) {
    return { kind: 'error', path, message: `${path}: not valid YAML or JSON: ${(err as Error).message}` };
  }
  const dropIns: string[] = [];
  if (dropInDir) {
    const listed = fs.list(dropInDir);
    if (listed.kind === 'error') return { kind: 'error', path: dropInDir, message: listed.message };
    if (listed.kind === 'ok') {
      for (const name of listed.names.filter((n) => n.endsWith('.conf'))) {
        const dropPath = posix.join(dropInDir, name);
        const dropRead = fs.read(dropPath);
        if (dropRead.kind === 'error') return { kind: 'error', path: dropPath, message: dropRead.message };
        if (dropRead.kind !== 'ok') continue;
        try {
          tree = mergeTree(tree, asTree(parseYaml(dropRead.text), dropPath));
        } catch (err) {
          return {
            kind: 'error',
            path: dropPath,
            message: `${dropPath}: not valid YAML or JSON: ${(err as Error).message}`,
          };
        }
        dropIns.push(dropPath);
      }
    }
  }
  return { kind: 'ok', path, tree, dropIns };
}

function asTree(value: unknown, path: string): ConfigTree {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new Error(`${path}: top level is not a mapping`);
  return value as ConfigTree;
}

function mergeTree(base: ConfigTree, over: ConfigTree): ConfigTree {
  const out: ConfigTree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isMap(b) && isMap(v) ? mergeTree(b, v) : v;
  }
  return out;
}

function isMap(v: unknown): v is ConfigTree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A dotted key ("authentication.anonymous.enabled"; a trailing [] joins a list with commas), as a string. */
export function configValue(tree: ConfigTree, key: string): string | undefined {
  let cur: unknown = tree;
  for (const part of key.replace(/\[\]$/, '').split('.')) {
    if (!isMap(cur)) return undefined;
    cur = cur[part];
  }
  if (cur === undefined || cur === null) return undefined;
  if (Array.isArray(cur)) return cur.map(String).join(',');
  if (isMap(cur)) return JSON.stringify(cur);
  return String(cur);
}
