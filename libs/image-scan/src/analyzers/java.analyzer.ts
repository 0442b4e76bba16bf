// Java packages: jar/war/ear archives (pom.properties first, then MANIFEST.MF's OSGi Bundle-SymbolicName or
// Implementation-* fields; nested jars such as BOOT-INF/lib/*.jar opened recursively) and pom.xml (properties,
// dependencyManagement versions; dependencyManagement alone declares no dependency). Coordinates are groupId:artifactId.
// An image reader keeps of a jar only the entries read here (java-kept.ts), which read the same as the jar.
import {
  type ExtractedPackage,
  type FileEntry,
  MalformedInputError,
  type PackageAnalyzer,
  readText,
} from './analyzer.js';
import { type LockEntry, baseName, toPackage } from './lockfile.js';
import { MAX_JAR_DEPTH, isManifest, isNestedArchive, isPomProperties, jarMetadataBlob } from './java-kept.js';
import { readZip } from './zip.js';

const ID = 'java';
const VERSION = 1;
const FOUND_BY = { id: ID, version: VERSION };

/** Artifacts whose manifests name only the artifact; the group is well known. */
const KNOWN_GROUPS: Record<string, string> = {
  'spring-web': 'org.springframework',
  'spring-core': 'org.springframework',
  'spring-beans': 'org.springframework',
  'spring-context': 'org.springframework',
  'spring-webmvc': 'org.springframework',
  'spring-expression': 'org.springframework',
  'spring-aop': 'org.springframework',
  'spring-jdbc': 'org.springframework',
  'log4j-core': 'org.apache.logging.log4j',
  'log4j-api': 'org.apache.logging.log4j',
};

function properties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t === '' || t.startsWith('#') || t.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:]?\s*(.*)$/.exec(t);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

function manifest(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith(' ') && last) out.set(last, out.get(last)! + line.slice(1));
    else {
      const colon = line.indexOf(':');
      if (colon > 0) {
        last = line.slice(0, colon).trim();
        out.set(last, line.slice(colon + 1).trim());
      }
    }
  }
  return out;
}

function fromManifest(m: Map<string, string>): LockEntry | undefined {
  const symbolic = m.get('Bundle-SymbolicName')?.split(';')[0]?.trim();
  const bundleVersion = m.get('Bundle-Version');
  if (symbolic && bundleVersion)
    return { name: `${symbolic}:${symbolic.slice(symbolic.lastIndexOf('.') + 1)}`, version: bundleVersion };
  const title = m.get('Implementation-Title');
  const version = m.get('Implementation-Version');
  const group = m.get('Implementation-Vendor-Id') ?? (title ? KNOWN_GROUPS[title] : undefined);
  if (title && version && group) return { name: `${group}:${title}`, version };
  return undefined;
}

export function jarPackages(bytes: Uint8Array, label: string, depth = 0): LockEntry[] {
  let entries;
  try {
    entries = readZip(bytes, label);
  } catch (e) {
    throw new MalformedInputError(label, (e as Error).message.replace(`${label}: `, ''));
  }
  const out: LockEntry[] = [];
  const decode = (b: Uint8Array): string => new TextDecoder().decode(b);
  for (const e of entries.filter((x) => isPomProperties(x.name))) {
    const p = properties(decode(e.read()));
    const g = p.get('groupId');
    const a = p.get('artifactId');
    const v = p.get('version');
    if (g && a && v) out.push({ name: `${g}:${a}`, version: v });
  }
  if (out.length === 0) {
    const mf = entries.find((x) => isManifest(x.name));
    const fromMf = mf ? fromManifest(manifest(decode(mf.read()))) : undefined;
    if (fromMf) out.push(fromMf);
  }
  if (depth < MAX_JAR_DEPTH) {
    for (const e of entries.filter((x) => isNestedArchive(x.name)))
      out.push(...jarPackages(e.read(), `${label}!${e.name}`, depth + 1));
  }
  return out;
}

interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

/** A small XML reader for POMs: elements and text; comments, processing instructions and doctypes skipped. */
export function parseXml(text: string, path: string): XmlElement {
  const src = text
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<\?[\s\S]*?\?>/g, '')
    .replace(/<!DOCTYPE[^>]*>/gi, '');
  const root: XmlElement = { name: '#document', children: [], text: '' };
  const stack = [root];
  const re = /<!\[CDATA\[([\s\S]*?)\]\]>|<(\/?)([A-Za-z_][\w.:-]*)[^>]*?(\/?)>|([^<]+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(src))) {
    const top = stack[stack.length - 1]!;
    if (m[1] !== undefined) top.text += m[1];
    else if (m[5] !== undefined) top.text += m[5];
    else if (m[2] === '/') {
      if (top.name !== m[3]) throw new MalformedInputError(path, `</${m[3]}> closes <${top.name}>`);
      stack.pop();
    } else {
      const el: XmlElement = { name: m[3]!.replace(/^.*:/, ''), children: [], text: '' };
      top.children.push(el);
      if (m[4] !== '/') stack.push(el);
    }
  }
  if (stack.length !== 1)
    throw new MalformedInputError(path, `<${stack[stack.length - 1]!.name}> is never closed`);
  return root;
}

const child = (el: XmlElement | undefined, name: string): XmlElement | undefined =>
  el?.children.find((c) => c.name === name);
const textOf = (el: XmlElement | undefined, name: string): string | undefined =>
  child(el, name)?.text.trim() || undefined;

export function parsePom(text: string, path: string): LockEntry[] {
  const project = child(parseXml(text, path), 'project');
  if (!project) throw new MalformedInputError(path, 'no <project> element');
  const props = new Map<string, string>();
  for (const p of child(project, 'properties')?.children ?? []) props.set(p.name, p.text.trim());
  const parent = child(project, 'parent');
  const version = textOf(project, 'version') ?? textOf(parent, 'version');
  const group = textOf(project, 'groupId') ?? textOf(parent, 'groupId');
  if (version) props.set('project.version', version);
  if (group) props.set('project.groupId', group);
  const interpolate = (v: string | undefined): string | undefined => {
    let s = v;
    for (let i = 0; s && i < 10 && s.includes('${'); i++)
      s = s.replace(/\$\{([^}]+)\}/g, (all, k: string) => props.get(k) ?? all);
    return s;
  };
  const managed = new Map<string, string>();
  for (const d of child(child(project, 'dependencyManagement'), 'dependencies')?.children ?? []) {
    const v = interpolate(textOf(d, 'version'));
    if (v) managed.set(`${interpolate(textOf(d, 'groupId'))}:${interpolate(textOf(d, 'artifactId'))}`, v);
  }
  const out: LockEntry[] = [];
  for (const d of child(project, 'dependencies')?.children.filter((c) => c.name === 'dependency') ?? []) {
    const name = `${interpolate(textOf(d, 'groupId'))}:${interpolate(textOf(d, 'artifactId'))}`;
    let v = interpolate(textOf(d, 'version')) ?? managed.get(name);
    if (!v || v.includes('${')) continue; // unresolved without the remote parent POM
    // A range pins nothing; report its lower bound, the oldest version the build may pick.
    const range = /^[[(]\s*([^,\]\)]*)\s*,/.exec(v);
    if (range) v = range[1]!.trim();
    if (v) out.push({ name, version: v, dev: textOf(d, 'scope') === 'test' });
  }
  return out;
}

export const javaAnalyzer: PackageAnalyzer = {
  kind: 'packages',
  id: ID,
  version: VERSION,
  concerns: (path) => baseName(path) === 'pom.xml' || isNestedArchive(path),
  keptContent(path, bytes) {
    if (!isNestedArchive(path)) return undefined;
    let blob: Uint8Array;
    try {
      blob = jarMetadataBlob(bytes, path);
    } catch {
      // Kept whole, so analyze reports what is wrong with it against the file, as it always did.
      return undefined;
    }
    return blob.length < bytes.length ? blob : undefined;
  },
  async analyze(files: FileEntry[]) {
    const out: ExtractedPackage[] = [];
    for (const f of files) {
      const entries =
        baseName(f.path) === 'pom.xml'
          ? parsePom(await readText(f), f.path)
          : jarPackages(await f.read(), f.path);
      out.push(...entries.map((e) => toPackage('Maven', e, f.path, FOUND_BY)));
    }
    return out;
  },
};
