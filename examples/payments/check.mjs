#!/usr/bin/env node
// Checks that the Acme Pay example environment is internally sound, so the scanners' tests can trust it:
//   - every advisory is valid OSV (against ../shared/schemas/osv/schema.json when it is there) and carries our
//     provenance marker, and every one of them affects a package the example actually installs;
//   - every manifest is well-formed Kubernetes and every name it refers to exists;
//   - the image builds reproducibly, and reading the docker-archive and OCI layout back (with our own tar
//     reader) gives exactly the described root filesystem, with the whiteout applied;
//   - the Falco file holds the alerts, the noise and the one internal event it is meant to;
//   - the node fixture's node.json and files/ agree.
// Exit code 0 when everything holds, 1 otherwise. Usage: node examples/payments/check.mjs

import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { parseAllDocuments } from 'yaml';
import { buildExampleImage, IMAGE_REF, WHITED_OUT_PATH } from './image/build.mjs';
import { readTar, TYPE_DIRECTORY, TYPE_FILE } from './image/tar.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..');
const OSV_SCHEMA = join(repoRoot, '..', 'shared', 'schemas', 'osv', 'schema.json');
const PROVENANCE = 'written by the vigil project from public facts for the example environment';

const failures = [];
let checks = 0;
function check(condition, message) {
  checks++;
  if (!condition) failures.push(message);
  return condition;
}
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

async function filesUnder(dir) {
  const out = [];
  async function walk(current) {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else out.push(relative(dir, full).split(sep).join('/'));
    }
  }
  await walk(dir);
  return out.sort();
}

// ---------------------------------------------------------------------------------------------------------------
// Version orders: dpkg (Debian Policy 5.6.12) and SemVer 2.0.0, enough to decide the example's matches.

function dpkgOrder(c) {
  if (c === undefined) return 0;
  if (c === '~') return -1;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

function dpkgPartCompare(a, b) {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !/\d/.test(a[i])) || (j < b.length && !/\d/.test(b[j]))) {
      const x = i < a.length && !/\d/.test(a[i]) ? dpkgOrder(a[i]) : 0;
      const y = j < b.length && !/\d/.test(b[j]) ? dpkgOrder(b[j]) : 0;
      if (x !== y) return x - y;
      if (i < a.length && !/\d/.test(a[i])) i++;
      if (j < b.length && !/\d/.test(b[j])) j++;
    }
    let m = i;
    while (m < a.length && /\d/.test(a[m])) m++;
    let n = j;
    while (n < b.length && /\d/.test(b[n])) n++;
    const x = BigInt(a.slice(i, m) || '0');
    const y = BigInt(b.slice(j, n) || '0');
    if (x !== y) return x < y ? -1 : 1;
    i = m;
    j = n;
  }
  return 0;
}

function parseDpkgVersion(v) {
  const colon = v.indexOf(':');
  const epoch = colon === -1 ? 0 : Number(v.slice(0, colon));
  const rest = colon === -1 ? v : v.slice(colon + 1);
  const dash = rest.lastIndexOf('-');
  return {
    epoch,
    upstream: dash === -1 ? rest : rest.slice(0, dash),
    revision: dash === -1 ? '' : rest.slice(dash + 1),
  };
}

export function compareDpkg(a, b) {
  const x = parseDpkgVersion(a);
  const y = parseDpkgVersion(b);
  if (x.epoch !== y.epoch) return x.epoch - y.epoch;
  return dpkgPartCompare(x.upstream, y.upstream) || dpkgPartCompare(x.revision, y.revision);
}

export function compareSemver(a, b) {
  const parse = (v) => {
    const m = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+.*)?$/.exec(v);
    if (!m) throw new Error(`"${v}" is not a SemVer version`);
    return { core: m.slice(1, 4).map(Number), pre: m[4] ? m[4].split('.') : [] };
  };
  if (a === '0' || b === '0') return a === b ? 0 : a === '0' ? -1 : 1;
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) if (x.core[i] !== y.core[i]) return x.core[i] - y.core[i];
  if (!x.pre.length || !y.pre.length) return y.pre.length - x.pre.length;
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    if (x.pre[i] === undefined) return -1;
    if (y.pre[i] === undefined) return 1;
    const nx = /^\d+$/.test(x.pre[i]);
    const ny = /^\d+$/.test(y.pre[i]);
    if (nx && ny && Number(x.pre[i]) !== Number(y.pre[i])) return Number(x.pre[i]) - Number(y.pre[i]);
    if (nx !== ny) return nx ? -1 : 1;
    if (x.pre[i] !== y.pre[i]) return x.pre[i] < y.pre[i] ? -1 : 1;
  }
  return 0;
}

// OSV range events, introduced/fixed/last_affected, evaluated in the range's version order.
function inRange(version, events, compare) {
  let affected = false;
  for (const event of [...events].sort((p, q) => compare(Object.values(p)[0], Object.values(q)[0]))) {
    if (event.introduced !== undefined && compare(version, event.introduced) >= 0) affected = true;
    if (event.fixed !== undefined && compare(version, event.fixed) >= 0) affected = false;
    if (event.last_affected !== undefined && compare(version, event.last_affected) > 0) affected = false;
  }
  return affected;
}

// ---------------------------------------------------------------------------------------------------------------
// A validator for the JSON Schema keywords the OSV schema uses (draft 2020-12 subset).

function validateSchema(root, schema, value, path, errors) {
  if (schema === true) return;
  if (schema === false) return void errors.push(`${path}: not allowed`);
  if (schema.$ref) {
    const target = schema.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce((node, key) => node?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], root);
    if (!target) return void errors.push(`${path}: unresolvable $ref ${schema.$ref}`);
    validateSchema(root, target, value, path, errors);
  }
  const typeOf = (v) =>
    v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;
  if (schema.type) {
    const types = [].concat(schema.type);
    const t = typeOf(value);
    if (!types.includes(t) && !(t === 'integer' && types.includes('number'))) {
      return void errors.push(`${path}: is ${t}, schema wants ${types.join('|')}`);
    }
  }
  if ('const' in schema && JSON.stringify(schema.const) !== JSON.stringify(value))
    errors.push(`${path}: must be ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value)))
    errors.push(`${path}: "${value}" not in enum`);
  if (schema.pattern && typeof value === 'string' && !new RegExp(schema.pattern, 'u').test(value)) {
    errors.push(
      `${path}: "${value}" does not match ${schema.pattern.slice(0, 60)}${schema.pattern.length > 60 ? '...' : ''}`,
    );
  }
  if (schema.format === 'date-time' && typeof value === 'string' && Number.isNaN(Date.parse(value)))
    errors.push(`${path}: not a date-time`);
  if (schema.format === 'uri' && typeof value === 'string' && !URL.canParse(value))
    errors.push(`${path}: not a URI`);
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      errors.push(`${path}: fewer than ${schema.minItems} items`);
    if (schema.items)
      value.forEach((item, i) => validateSchema(root, schema.items, item, `${path}[${i}]`, errors));
    if (schema.contains && !value.some((item) => tryValidate(root, schema.contains, item)))
      errors.push(`${path}: no item matches "contains"`);
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const key of schema.required ?? [])
      if (!(key in value)) errors.push(`${path}: missing required "${key}"`);
    for (const [key, sub] of Object.entries(schema.properties ?? {})) {
      if (key in value) validateSchema(root, sub, value[key], `${path}.${key}`, errors);
    }
    if (schema.additionalProperties !== undefined) {
      for (const key of Object.keys(value)) {
        if (!(key in (schema.properties ?? {})))
          validateSchema(root, schema.additionalProperties, value[key], `${path}.${key}`, errors);
      }
    }
  }
  for (const sub of schema.allOf ?? []) validateSchema(root, sub, value, path, errors);
  if (schema.oneOf && schema.oneOf.filter((sub) => tryValidate(root, sub, value)).length !== 1)
    errors.push(`${path}: must match exactly one of "oneOf"`);
  if (schema.not && tryValidate(root, schema.not, value)) errors.push(`${path}: matches a "not" schema`);
  if (schema.if) {
    const branch = tryValidate(root, schema.if, value) ? schema.then : schema.else;
    if (branch) validateSchema(root, branch, value, path, errors);
  }
}

function tryValidate(root, schema, value) {
  const errors = [];
  validateSchema(root, schema, value, '', errors);
  return errors.length === 0;
}

// ---------------------------------------------------------------------------------------------------------------

function parseDpkgStatus(text) {
  return text
    .split(/\n\n+/)
    .filter((stanza) => stanza.trim())
    .map((stanza) => {
      const fields = {};
      let last;
      for (const line of stanza.split('\n')) {
        if (/^\s/.test(line) && last) fields[last] += '\n' + line;
        else {
          const colon = line.indexOf(':');
          last = line.slice(0, colon);
          fields[last] = line.slice(colon + 1).trim();
        }
      }
      // "Source: bash (5.2.15-2)" names the source version when it differs from the binary's (binNMUs).
      const m = /^(\S+)(?:\s+\((.+)\))?$/.exec(fields.Source ?? '');
      return {
        name: fields.Package,
        version: fields.Version,
        status: fields.Status,
        architecture: fields.Architecture,
        multiArch: fields['Multi-Arch'],
        sourceName: m ? m[1] : fields.Package,
        sourceVersion: m?.[2] ?? fields.Version,
      };
    });
}

async function checkAdvisories(inventories) {
  const dir = join(here, 'advisories');
  const schema = existsSync(OSV_SCHEMA) ? JSON.parse(await readFile(OSV_SCHEMA, 'utf8')) : null;
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  const matches = [];
  for (const name of names) {
    const where = `advisories/${name}`;
    const record = JSON.parse(await readFile(join(dir, name), 'utf8'));
    check(name === `${record.id}.json`, `${where}: file name does not match id ${record.id}`);
    if (schema) {
      const errors = [];
      validateSchema(schema, schema, record, record.id, errors);
      check(errors.length === 0, `${where}: not valid OSV: ${errors.join('; ')}`);
    }
    check(
      record.database_specific?.source === PROVENANCE,
      `${where}: database_specific.source is not the example provenance marker`,
    );
    const cves = [...(record.aliases ?? []), ...(record.upstream ?? [])].filter((id) =>
      id.startsWith('CVE-'),
    );
    check(
      cves.length > 0 && cves.every((id) => /^CVE-\d{4}-\d{4,}$/.test(id)),
      `${where}: needs CVE ids in aliases or upstream`,
    );
    for (const s of record.severity ?? []) {
      check(
        /^CVSS:3\.1\/AV:[NALP]\/AC:[LH]\/PR:[NLH]\/UI:[NR]\/S:[UC]\/C:[NLH]\/I:[NLH]\/A:[NLH]$/.test(s.score),
        `${where}: CVSS vector ${s.score} is malformed`,
      );
    }
    let hit = false;
    for (const affected of record.affected) {
      const { ecosystem, name: pkg } = affected.package;
      for (const inv of inventories) {
        for (const p of inv.packages) {
          if (p.ecosystem !== ecosystem || p.matchName !== pkg) continue;
          for (const range of affected.ranges) {
            const compare = range.type === 'SEMVER' ? compareSemver : compareDpkg;
            const version =
              range.type === 'ECOSYSTEM' && ecosystem.startsWith('Debian') ? p.sourceVersion : p.version;
            if (inRange(version, range.events, compare)) {
              hit = true;
              const fixed = range.events.find((e) => e.fixed)?.fixed ?? '(none)';
              matches.push({
                where: inv.name,
                id: record.id,
                cves: cves.join(' '),
                pkg: p.name,
                version: p.version,
                fixed,
              });
            }
          }
        }
      }
    }
    check(hit, `${where}: affects no package of the example image or node, so it tests nothing`);
  }
  console.log(
    `advisories: ${names.length} OSV records, ${schema ? 'validated against ' + relative(repoRoot, OSV_SCHEMA) : 'OSV schema not found at ' + OSV_SCHEMA + ' (structure checks only)'}`,
  );
  for (const m of matches)
    console.log(
      `  ${m.where.padEnd(6)} ${m.pkg.padEnd(13)} ${m.version.padEnd(17)} ${m.id.padEnd(20)} ${m.cves.padEnd(44)} fixed ${m.fixed}`,
    );
  return matches;
}

async function loadInventories() {
  const image = parseDpkgStatus(await readFile(join(here, 'image/rootfs/var/lib/dpkg/status'), 'utf8'));
  const lock = JSON.parse(await readFile(join(here, 'image/rootfs/app/package-lock.json'), 'utf8'));
  check(lock.lockfileVersion === 3, 'package-lock.json: lockfileVersion is not 3');
  const pkgJson = JSON.parse(await readFile(join(here, 'image/rootfs/app/package.json'), 'utf8'));
  check(
    JSON.stringify(lock.packages[''].dependencies) === JSON.stringify(pkgJson.dependencies),
    'package-lock.json: root dependencies differ from package.json',
  );
  const npm = Object.entries(lock.packages)
    .filter(([key]) => key.startsWith('node_modules/'))
    .map(([key, entry]) => {
      const name = key.slice('node_modules/'.length);
      check(
        entry.resolved === `https://registry.npmjs.org/${name}/-/${name}-${entry.version}.tgz`,
        `package-lock.json: ${name} resolved URL is not the registry tarball`,
      );
      check(
        /^sha512-[A-Za-z0-9+/]{86}==$/.test(entry.integrity ?? ''),
        `package-lock.json: ${name} has no sha512 integrity`,
      );
      for (const dep of Object.keys(entry.dependencies ?? {}))
        check(
          `node_modules/${dep}` in lock.packages,
          `package-lock.json: ${name} depends on ${dep}, which is not locked`,
        );
      return {
        ecosystem: 'npm',
        name,
        matchName: name,
        version: entry.version,
        sourceVersion: entry.version,
      };
    });
  const node = parseDpkgStatus(await readFile(join(here, 'node/files/var/lib/dpkg/status'), 'utf8'));
  for (const p of [...image, ...node]) {
    check(
      p.name && p.version && p.status === 'install ok installed' && p.architecture,
      `dpkg status: stanza ${p.name ?? '?'} lacks Package, Version, Status or Architecture`,
    );
  }
  for (const p of image) {
    const list = `${p.name}${p.multiArch === 'same' ? ':' + p.architecture : ''}.list`;
    check(
      existsSync(join(here, 'image/rootfs/var/lib/dpkg/info', list)),
      `image: dpkg info/${list} is missing for ${p.name}`,
    );
  }
  const deb = (pkgs) => pkgs.map((p) => ({ ...p, ecosystem: 'Debian:12', matchName: p.sourceName }));
  const osRelease = await readFile(join(here, 'image/rootfs/etc/os-release'), 'utf8');
  check(
    /^ID=debian$/m.test(osRelease) && /^VERSION_ID="12"$/m.test(osRelease),
    'image: os-release is not Debian 12',
  );
  console.log(
    `inventory: image ${image.length} dpkg + ${npm.length} npm packages, node ${node.length} dpkg packages`,
  );
  return [
    { name: 'image', packages: [...deb(image), ...npm] },
    { name: 'node', packages: deb(node) },
  ];
}

// ---------------------------------------------------------------------------------------------------------------

const API_VERSION = {
  Namespace: 'v1',
  ServiceAccount: 'v1',
  ConfigMap: 'v1',
  Secret: 'v1',
  Service: 'v1',
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  Ingress: 'networking.k8s.io/v1',
  NetworkPolicy: 'networking.k8s.io/v1',
  Role: 'rbac.authorization.k8s.io/v1',
  RoleBinding: 'rbac.authorization.k8s.io/v1',
  ClusterRole: 'rbac.authorization.k8s.io/v1',
  ClusterRoleBinding: 'rbac.authorization.k8s.io/v1',
};
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);
const BUILT_IN_CLUSTER_ROLES = new Set(['cluster-admin', 'admin', 'edit', 'view']);
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const IMAGE =
  /^[a-z0-9.-]+(?::\d+)?(?:\/[a-z0-9._-]+)+(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$|^[a-z0-9._-]+\/[a-z0-9._-]+(?::[\w][\w.-]{0,127})?$/;

async function checkManifests() {
  const dir = join(here, 'k8s');
  const objects = [];
  for (const name of (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort()) {
    const docs = parseAllDocuments(await readFile(join(dir, name), 'utf8'));
    docs.forEach((doc, i) => {
      const where = `k8s/${name} document ${i + 1}`;
      if (!check(doc.errors.length === 0, `${where}: YAML error ${doc.errors[0]?.message}`)) return;
      const obj = doc.toJS();
      const { kind, apiVersion, metadata } = obj ?? {};
      if (!check(kind in API_VERSION, `${where}: unexpected kind ${kind}`)) return;
      check(
        apiVersion === API_VERSION[kind],
        `${where}: ${kind} should be ${API_VERSION[kind]}, is ${apiVersion}`,
      );
      check(
        typeof metadata?.name === 'string' &&
          DNS_SUBDOMAIN.test(metadata.name) &&
          metadata.name.length <= 253,
        `${where}: bad metadata.name ${metadata?.name}`,
      );
      check(
        CLUSTER_SCOPED.has(kind) ? !metadata.namespace : DNS_LABEL.test(metadata.namespace ?? ''),
        `${where}: ${kind} ${metadata.name} has the wrong namespace scope`,
      );
      objects.push({ ...obj, where });
    });
  }
  const find = (kind, ns, name) =>
    objects.find(
      (o) =>
        o.kind === kind &&
        o.metadata.name === name &&
        (CLUSTER_SCOPED.has(kind) || o.metadata.namespace === ns),
    );
  const labelsMatch = (selector, labels) =>
    Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
  for (const o of objects) {
    const ns = o.metadata.namespace;
    if (!CLUSTER_SCOPED.has(o.kind))
      check(find('Namespace', null, ns), `${o.where}: namespace ${ns} is not defined`);
    if (['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind)) {
      const pod = o.spec.template;
      check(
        labelsMatch(o.spec.selector.matchLabels, pod.metadata.labels),
        `${o.where}: selector does not match the pod template labels`,
      );
      check(
        find('ServiceAccount', ns, pod.spec.serviceAccountName ?? 'default') || !pod.spec.serviceAccountName,
        `${o.where}: service account ${pod.spec.serviceAccountName} not defined`,
      );
      if (o.kind === 'StatefulSet')
        check(
          find('Service', ns, o.spec.serviceName),
          `${o.where}: serviceName ${o.spec.serviceName} not defined`,
        );
      const volumes = new Set((pod.spec.volumes ?? []).map((v) => v.name));
      for (const v of pod.spec.volumes ?? [])
        if (v.secret)
          check(
            find('Secret', ns, v.secret.secretName),
            `${o.where}: volume secret ${v.secret.secretName} not defined`,
          );
      for (const claim of o.spec.volumeClaimTemplates ?? []) volumes.add(claim.metadata.name);
      for (const c of pod.spec.containers) {
        check(
          IMAGE.test(c.image),
          `${o.where}: container ${c.name} image "${c.image}" is not a valid reference`,
        );
        for (const m of c.volumeMounts ?? [])
          check(volumes.has(m.name), `${o.where}: container ${c.name} mounts unknown volume ${m.name}`);
        for (const e of c.envFrom ?? [])
          if (e.configMapRef)
            check(
              find('ConfigMap', ns, e.configMapRef.name),
              `${o.where}: configMap ${e.configMapRef.name} not defined`,
            );
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (ref)
            check(
              find('Secret', ns, ref.name)?.stringData?.[ref.key] !== undefined,
              `${o.where}: secret key ${ref.name}/${ref.key} not defined`,
            );
        }
      }
    }
    if (o.kind === 'Service' && o.spec.selector) {
      const backed = objects.some(
        (w) =>
          ['Deployment', 'StatefulSet', 'DaemonSet'].includes(w.kind) &&
          w.metadata.namespace === ns &&
          labelsMatch(o.spec.selector, w.spec.template.metadata.labels),
      );
      check(backed, `${o.where}: Service ${o.metadata.name} selects no workload`);
    }
    if (o.kind === 'Ingress') {
      for (const rule of o.spec.rules)
        for (const p of rule.http.paths)
          check(
            find('Service', ns, p.backend.service.name),
            `${o.where}: backend ${p.backend.service.name} not defined`,
          );
    }
    if (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') {
      const { kind, name } = o.roleRef;
      check(
        find(kind, ns, name) || (kind === 'ClusterRole' && BUILT_IN_CLUSTER_ROLES.has(name)),
        `${o.where}: roleRef ${kind} ${name} not defined`,
      );
      for (const s of o.subjects)
        if (s.kind === 'ServiceAccount')
          check(
            find('ServiceAccount', s.namespace, s.name),
            `${o.where}: subject ServiceAccount ${s.namespace}/${s.name} not defined`,
          );
    }
  }
  const cde = objects
    .filter((o) => o.kind === 'Namespace' && o.metadata.labels?.['pci-scope'] === 'cde')
    .map((o) => o.metadata.name);
  check(cde.join() === 'payments', `k8s: the CDE namespaces are [${cde}], expected [payments]`);
  const counts = {};
  for (const o of objects) counts[o.kind] = (counts[o.kind] ?? 0) + 1;
  console.log(
    `manifests: ${objects.length} objects (${Object.entries(counts)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ')}); CDE namespaces: ${cde.join(', ')}`,
  );
}

// ---------------------------------------------------------------------------------------------------------------

// Applies a layer to a file map the way container runtimes do: .wh..wh..opq empties the directory from lower
// layers, .wh.<name> deletes <name>, anything else is added or replaced.
function applyLayer(fs, entries, layerIndex) {
  for (const e of entries) {
    const path = e.path.replace(/\/$/, '');
    const slash = path.lastIndexOf('/');
    const parent = path.slice(0, slash + 1);
    const base = path.slice(slash + 1);
    if (base === '.wh..wh..opq') {
      for (const key of [...fs.keys()])
        if (key.startsWith(parent) && fs.get(key).layer < layerIndex) fs.delete(key);
    } else if (base.startsWith('.wh.')) {
      const target = parent + base.slice(4);
      for (const key of [...fs.keys()]) if (key === target || key.startsWith(target + '/')) fs.delete(key);
    } else {
      fs.set(path, { type: e.type, content: e.content, mode: e.mode, layer: layerIndex });
    }
  }
}

async function checkImage() {
  const a = await mkdtemp(join(tmpdir(), 'vigil-example-a-'));
  const b = await mkdtemp(join(tmpdir(), 'vigil-example-b-'));
  try {
    const first = await buildExampleImage(a);
    const second = await buildExampleImage(b);
    // The two builds differ only in where they wrote; everything content-addressed must be equal.
    const strip = (result) => JSON.stringify({ ...result, dockerArchive: undefined, ociLayout: undefined });
    check(
      strip(first) === strip(second),
      `image: two builds gave different digests:\n${strip(first)}\n${strip(second)}`,
    );

    const archive = readTar(await readFile(first.dockerArchive), first.dockerArchive);
    const byPath = new Map(archive.map((e) => [e.path, e]));
    const manifest = JSON.parse(byPath.get('manifest.json')?.content ?? '[]');
    check(
      manifest.length === 1 && manifest[0].RepoTags?.[0] === IMAGE_REF,
      `image: manifest.json does not tag ${IMAGE_REF}`,
    );
    const configEntry = byPath.get(manifest[0].Config);
    check(
      configEntry && `sha256:${sha256(configEntry.content)}` === first.configDigest,
      'image: config file name is not its own digest',
    );
    const config = JSON.parse(configEntry.content);
    check(config.architecture === 'amd64' && config.os === 'linux', 'image: config is not linux/amd64');
    check(
      config.history.filter((h) => !h.empty_layer).length === manifest[0].Layers.length,
      'image: history does not count one entry per layer',
    );
    const repositories = JSON.parse(byPath.get('repositories')?.content ?? '{}');
    check(
      repositories['registry.example.com/acme/payment-api']?.['1.4.2'] ===
        manifest[0].Layers.at(-1).split('/')[0],
      'image: repositories does not point the tag at the top layer',
    );

    const squashed = new Map();
    const layerTars = [];
    manifest[0].Layers.forEach((layerPath, i) => {
      const tar = byPath.get(layerPath)?.content;
      if (!check(tar, `image: layer ${layerPath} missing from the archive`)) return;
      layerTars.push(tar);
      check(
        `sha256:${sha256(tar)}` === config.rootfs.diff_ids[i],
        `image: layer ${i + 1} digest differs from config diff_id`,
      );
      const entries = readTar(tar, `${first.dockerArchive}!${layerPath}`);
      check(
        entries.every((e) => e.uid === 0 && e.gid === 0),
        `image: layer ${i + 1} has entries not owned by 0:0`,
      );
      check(
        entries.every((e) => !e.path.startsWith('/') && !e.path.split('/').includes('..')),
        `image: layer ${i + 1} has absolute or ../ paths`,
      );
      check(
        new Set(entries.map((e) => e.mtime)).size === 1,
        `image: layer ${i + 1} entries do not share one mtime`,
      );
      if (i === 0)
        check(
          entries.some((e) => e.path === WHITED_OUT_PATH),
          `image: layer 1 does not carry ${WHITED_OUT_PATH}`,
        );
      applyLayer(squashed, entries, i);
    });
    check(!squashed.has(WHITED_OUT_PATH), `image: whiteout did not remove ${WHITED_OUT_PATH}`);
    check(
      squashed.has('etc/apt/sources.list.d'),
      'image: whiteout removed the directory instead of the file',
    );

    const rootfs = join(here, 'image/rootfs');
    const expected = await filesUnder(rootfs);
    const actualFiles = [...squashed]
      .filter(([, v]) => v.type === TYPE_FILE)
      .map(([k]) => k)
      .sort();
    check(
      JSON.stringify(actualFiles) === JSON.stringify(expected),
      `image: squashed files differ from rootfs/: ${actualFiles
        .filter((f) => !expected.includes(f))
        .concat(expected.filter((f) => !actualFiles.includes(f)))
        .join(', ')}`,
    );
    for (const path of expected) {
      const file = squashed.get(path);
      if (file)
        check(
          Buffer.compare(file.content, await readFile(join(rootfs, path))) === 0,
          `image: ${path} content differs from rootfs/`,
        );
    }
    check(
      [...squashed.values()].every((v) => v.type !== TYPE_DIRECTORY || v.mode === 0o755),
      'image: a directory is not mode 0755',
    );
    const appLayer = [...squashed].filter(([k]) => k.startsWith('app/')).every(([, v]) => v.layer === 1);
    check(appLayer, 'image: app files do not all come from layer 2');

    // OCI layout: the same config and, once decompressed, the same layer bytes; every blob named by its digest.
    const layout = first.ociLayout;
    const blob = async (digest) => {
      const bytes = await readFile(join(layout, 'blobs', 'sha256', digest.replace('sha256:', '')));
      check(`sha256:${sha256(bytes)}` === digest, `oci: blob ${digest} does not hash to its name`);
      return bytes;
    };
    check(
      JSON.parse(await readFile(join(layout, 'oci-layout'), 'utf8')).imageLayoutVersion === '1.0.0',
      'oci: oci-layout version is not 1.0.0',
    );
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
    check(
      index.manifests[0].annotations['org.opencontainers.image.ref.name'] === '1.4.2',
      'oci: index does not name the tag 1.4.2',
    );
    const ociManifest = JSON.parse(await blob(index.manifests[0].digest));
    check(
      ociManifest.config.digest === first.configDigest,
      'oci: manifest config is not the docker-archive config',
    );
    await blob(ociManifest.config.digest);
    for (const [i, layer] of ociManifest.layers.entries()) {
      const bytes = await blob(layer.digest);
      check(layer.size === bytes.length, `oci: layer ${i + 1} size differs from its descriptor`);
      check(
        Buffer.compare(gunzipSync(bytes), layerTars[i]) === 0,
        `oci: layer ${i + 1} does not decompress to the docker-archive layer`,
      );
    }
    // A second, independent reader when one is installed: skopeo verifies every blob digest as it reads.
    const skopeo = spawnSync('skopeo', ['--version'], { encoding: 'utf8' });
    const skopeoRead = [];
    if (skopeo.status === 0) {
      for (const ref of [`docker-archive:${first.dockerArchive}`, `oci:${layout}:1.4.2`]) {
        const out = spawnSync('skopeo', ['inspect', '--config', ref], { encoding: 'utf8' });
        if (check(out.status === 0, `skopeo: cannot inspect ${ref}: ${out.stderr.trim()}`)) {
          const diffIds = JSON.parse(out.stdout).rootfs.diff_ids.join();
          check(diffIds === first.diffIds.join(), `skopeo: ${ref} reports other diff_ids: ${diffIds}`);
          skopeoRead.push(ref.split(':')[0]);
        }
      }
    } else {
    }
    // The README quotes the digests that depend only on the files here; a change to the rootfs must update it.
    const readme = await readFile(join(here, 'README.md'), 'utf8');
    for (const digest of [first.configDigest, ...first.diffIds]) {
      check(
        readme.includes(digest),
        `README.md: does not quote the current digest ${digest}; update its image table`,
      );
    }
    console.log(
      `image: ${IMAGE_REF} built twice, identical digests; ${manifest[0].Layers.length} layers read back with our tar reader, whiteout of /${WHITED_OUT_PATH} applied, ${expected.length} files equal rootfs/`,
    );
    console.log(
      skopeoRead.length
        ? `  skopeo (${skopeo.stdout.trim()}) also read ${skopeoRead.join(' and ')}: same diff_ids`
        : '  skopeo not installed: read back with our own reader only',
    );
    console.log(`  config ${first.configDigest}`);
    console.log(`  OCI manifest ${first.manifestDigest}`);
    first.diffIds.forEach((d, i) =>
      console.log(`  layer ${i + 1} diff_id ${d}  gzip ${first.compressedLayerDigests[i]}`),
    );
  } finally {
    await rm(a, { recursive: true, force: true });
    await rm(b, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------

const SYSLOG_PREFIX = /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ [\w.-]+(?:\[\d+\])?: (\{.*\})$/;

async function checkFalco() {
  const file = join(here, 'runtime/falco-alerts.jsonl');
  const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l.length > 0);
  const alerts = [];
  const internal = [];
  let noise = 0;
  let prefixed = 0;
  for (const line of lines) {
    let text = line;
    const m = SYSLOG_PREFIX.exec(line);
    if (m) {
      text = m[1];
      prefixed++;
    }
    let event;
    try {
      event = JSON.parse(text);
    } catch {
      noise++;
      continue;
    }
    (event.source === 'internal' ? internal : alerts).push(event);
  }
  for (const a of alerts) {
    const where = `runtime: alert "${a.rule}" at ${a.time}`;
    check(
      ['time', 'rule', 'priority', 'output', 'source', 'tags', 'hostname', 'output_fields'].every(
        (k) => k in a,
      ),
      `${where}: lacks a Falco JSON field`,
    );
    check(
      ['container.id', 'k8s.ns.name', 'k8s.pod.name', 'proc.name', 'proc.cmdline'].every(
        (k) => k in a.output_fields,
      ),
      `${where}: lacks container, pod or process fields`,
    );
    check(
      a.output.startsWith(a.time.replace('Z', '+0000')),
      `${where}: output does not start with the event time`,
    );
    check(
      ['Emergency', 'Alert', 'Critical', 'Error', 'Warning', 'Notice', 'Informational', 'Debug'].includes(
        a.priority,
      ),
      `${where}: unknown priority ${a.priority}`,
    );
  }
  const legacyPci = alerts.flatMap((a) => a.tags.filter((t) => t.startsWith('PCI_DSS_')));
  check(
    alerts.length === 10 && internal.length === 1 && noise === 6 && prefixed === 1,
    `runtime: expected 10 alerts, 1 internal event, 6 noise lines and 1 syslog-prefixed alert; got ${alerts.length}, ${internal.length}, ${noise}, ${prefixed}`,
  );
  check(
    internal[0]?.rule === 'Falco internal: metrics snapshot',
    'runtime: the internal event is not the metrics snapshot',
  );
  console.log(
    `runtime: ${lines.length} lines = ${alerts.length} alerts (${prefixed} behind a syslog prefix) + ${internal.length} internal metrics event + ${noise} banner lines; legacy tags ${[...new Set(legacyPci)].join(', ')}`,
  );
}

async function checkNode() {
  const dir = join(here, 'node');
  const node = JSON.parse(await readFile(join(dir, 'node.json'), 'utf8'));
  const listed = [];
  for (const [path, meta] of Object.entries(node.files)) {
    check(
      path.startsWith('/') && /^0[0-7]{3}$/.test(meta.mode) && meta.owner && meta.group,
      `node: ${path} lacks an absolute path, an octal mode or an owner`,
    );
    if (meta.content !== null) {
      check(
        meta.content === `files${path}` && existsSync(join(dir, meta.content)),
        `node: ${path} content ${meta.content} is missing`,
      );
      listed.push(meta.content);
    }
  }
  const present = (await filesUnder(join(dir, 'files'))).map((f) => `files/${f}`);
  check(
    JSON.stringify(present) === JSON.stringify(listed.sort()),
    `node: files/ and node.json disagree: ${present.filter((f) => !listed.includes(f)).join(', ')}`,
  );
  const kubelet = node.processes.find((p) => p.name === 'kubelet');
  check(
    kubelet?.cmdline.includes('--config=/var/lib/kubelet/config.yaml'),
    'node: the kubelet process does not name its config file',
  );
  const [config] = parseAllDocuments(
    await readFile(join(dir, 'files/var/lib/kubelet/config.yaml'), 'utf8'),
  ).map((d) => d.toJS());
  check(
    config.kind === 'KubeletConfiguration' && config.apiVersion === 'kubelet.config.k8s.io/v1beta1',
    'node: kubelet config.yaml is not a KubeletConfiguration',
  );
  check(
    config.authentication.anonymous.enabled === true && config.readOnlyPort === 10255,
    'node: the kubelet weaknesses the README describes are not in config.yaml',
  );
  console.log(
    `node: ${node.hostname}, ${Object.keys(node.files).length} files with modes and owners, ${node.processes.length} processes, kubelet config parsed`,
  );
}

async function main() {
  const inventories = await loadInventories();
  await checkAdvisories(inventories);
  await checkManifests();
  await checkImage();
  await checkFalco();
  await checkNode();
  if (failures.length) {
    console.error(`\n${failures.length} of ${checks} checks failed:`);
    for (const f of failures) console.error(`  - ${f}`);
    process.exitCode = 1;
  } else {
    console.log(`\nall ${checks} checks passed`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.stack : String(error));
    process.exitCode = 1;
  });
}
