// What an image reader keeps of a jar: its metadata entries alone, as a small zip. Checked on the corpus's jars, on
// the real jars of this machine (Maven's lib dir, the JDKs, ~/.m2), on a war with jars nested two deep built by
// the JDK's `jar` tool, and through squashImage: every one gives the packages the whole file gives.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { corpusPath, writeTestImage } from '@vigil/testing';
import { openImage } from '../image/open-image.js';
import { squashImage } from '../image/squash.js';
import type { ExtractedPackage, FileEntry } from './analyzer.js';
import { extractPackages } from './extract.js';
import { MAX_JAR_DEPTH, jarMetadataBlob } from './java-kept.js';
import { isWanted, isWantedContent, keptContentOf } from './registry.js';
import { readZip } from './zip.js';

const work = mkdtempSync(join(tmpdir(), 'vigil-jarkept-'));
after(() => rmSync(work, { recursive: true, force: true }));

const file = (path: string, bytes: Uint8Array): FileEntry => ({ path, read: async () => bytes });
const packagesOf = async (path: string, bytes: Uint8Array): Promise<ExtractedPackage[]> =>
  (await extractPackages([file(path, bytes)])).packages;
const read = (path: string): Uint8Array => new Uint8Array(readFileSync(path));

/** Every .jar under dir, sorted, at most `limit` of them. */
function jarsUnder(dir: string, limit: number): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    } catch {
      return;
    }
    for (const e of entries) {
      if (out.length >= limit) return;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.jar')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

const jdk = '/usr/lib/jvm';
const machineJars = [
  ...jarsUnder('/usr/share/maven/lib', 100),
  ...jarsUnder(jdk, 20),
  ...jarsUnder(join(process.env.HOME ?? '/root', '.m2/repository'), 300),
];

function jarTool(args: string[], cwd: string): void {
  const r = spawnSync('jar', args, { cwd, encoding: 'utf8' });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `jar ${args.join(' ')}: ${r.stderr}`);
}
const hasJarTool = (): boolean => !spawnSync('jar', ['--version']).error;

describe('jars kept by their metadata', () => {
  it('the corpus jars: kept bytes give the same packages, field for field', async () => {
    const dir = corpusPath('image', 'lockfiles');
    const cases = readdirSync(dir).filter((c) => c.startsWith('jar-'));
    assert.ok(cases.length >= 4, `${cases.length} jar cases`);
    for (const c of cases) {
      for (const name of readdirSync(join(dir, c)).filter((n) => /\.(jar|war|ear)$/.test(n))) {
        const path = `app/lib/${name}`;
        const bytes = read(join(dir, c, name));
        // The blob itself, whatever its size: a jar this small is kept whole, its blob would be no smaller.
        const blob = jarMetadataBlob(bytes, path);
        const kept = keptContentOf([path], bytes);
        assert.equal(
          kept === undefined,
          blob.length >= bytes.length,
          `${c}/${name}: ${blob.length} of ${bytes.length}`,
        );
        const whole = await packagesOf(path, bytes);
        assert.ok(whole.length > 0, `${c}/${name}: packages`);
        assert.deepEqual(await packagesOf(path, blob), whole, `${c}/${name}`);
      }
    }
  });

  it("this machine's jars: the same packages from a few percent of the bytes", async (t) => {
    if (machineJars.length < 20) return t.skip(`only ${machineJars.length} jars on this machine`);
    let wholeBytes = 0;
    let keptBytes = 0;
    let packages = 0;
    for (const jar of machineJars) {
      const bytes = read(jar);
      const path = `opt/app/lib/${jar.slice(jar.lastIndexOf('/') + 1)}`;
      const kept = keptContentOf([path], bytes) ?? bytes;
      wholeBytes += bytes.length;
      keptBytes += kept.length;
      const whole = await packagesOf(path, bytes);
      packages += whole.length;
      assert.deepEqual(await packagesOf(path, kept), whole, jar);
    }
    t.diagnostic(
      `${machineJars.length} jars, ${packages} packages, kept ${keptBytes} of ${wholeBytes} bytes`,
    );
    assert.ok(packages > machineJars.length / 2, `${packages} packages from ${machineJars.length} jars`);
    assert.ok(keptBytes < wholeBytes / 20, `kept ${keptBytes} of ${wholeBytes} bytes`);
  });

  it('a war built by the jar tool, jars nested two deep, stored and deflated: same packages, same names', async (t) => {
    if (!hasJarTool()) return t.skip('no jar tool (JDK) on this machine');
    // Jars that name a package (many old ones in ~/.m2 carry neither pom.properties nor a usable manifest).
    const libs: string[] = [];
    for (const j of machineJars.filter((x) => !x.startsWith(jdk))) {
      if (libs.length === 12) break;
      if ((await packagesOf('a.jar', read(j))).length > 0) libs.push(j);
    }
    if (libs.length < 6) return t.skip('too few real jars to nest');
    const root = join(work, 'war');
    // inner.jar (stored, as Spring Boot writes BOOT-INF/lib) holds three real jars of its own.
    mkdirSync(join(root, 'inner/lib'), { recursive: true });
    for (const j of libs.slice(0, 3))
      copyFileSync(j, join(root, 'inner/lib', j.slice(j.lastIndexOf('/') + 1)));
    writeFileSync(join(root, 'inner/README'), 'no metadata of its own but the manifest jar writes\n');
    jarTool(['--create', '--no-compress', '--file', join(root, 'inner.jar'), '-C', 'inner', '.'], root);
    mkdirSync(join(root, 'app/WEB-INF/lib'), { recursive: true });
    mkdirSync(join(root, 'app/WEB-INF/classes'), { recursive: true });
    for (const j of libs.slice(3))
      copyFileSync(j, join(root, 'app/WEB-INF/lib', j.slice(j.lastIndexOf('/') + 1)));
    copyFileSync(join(root, 'inner.jar'), join(root, 'app/WEB-INF/lib/inner.jar'));
    writeFileSync(join(root, 'app/WEB-INF/classes/App.class'), Buffer.alloc(4096, 0xca));
    jarTool(['--create', '--file', join(root, 'app.war'), '-C', 'app', '.'], root);

    const path = 'usr/local/tomcat/webapps/app.war';
    const bytes = read(join(root, 'app.war'));
    const kept = keptContentOf([path], bytes);
    assert.ok(kept, 'cut down');
    const whole = await packagesOf(path, bytes);
    assert.ok(whole.length >= libs.length, `${whole.length} packages from ${libs.length} nested jars`);
    assert.deepEqual(await packagesOf(path, kept), whole);
    assert.ok(whole.every((p) => p.location === path));
    assert.ok(kept.length < bytes.length / 10, `${kept.length} of ${bytes.length} bytes`);

    // The kept bytes are a zip the JDK reads: the outer entries are the war's metadata and its jars, in order.
    writeFileSync(join(root, 'kept.war'), kept);
    const listed = spawnSync('jar', ['--list', '--file', join(root, 'kept.war')], { encoding: 'utf8' });
    assert.equal(listed.status, 0, listed.stderr);
    const expected = readZip(bytes, path)
      .map((e) => e.name)
      .filter(
        (n) =>
          /\.(jar|war|ear)$/i.test(n) || /(^|\/)pom\.properties$/.test(n) || n === 'META-INF/MANIFEST.MF',
      );
    assert.deepEqual(listed.stdout.trim().split('\n'), expected);
    const inner = readZip(kept, 'kept').find((e) => e.name === 'WEB-INF/lib/inner.jar')!;
    assert.deepEqual(
      readZip(inner.read(), 'inner')
        .map((e) => e.name)
        .filter((n) => n.endsWith('.jar'))
        .sort(),
      libs
        .slice(0, 3)
        .map((j) => `lib/${j.slice(j.lastIndexOf('/') + 1)}`)
        .sort(),
    );
  });

  it('jars nested past the depth the analyzer opens are dropped, and the packages are the same', async (t) => {
    if (!hasJarTool()) return t.skip('no jar tool (JDK) on this machine');
    const real: string[] = [];
    for (const j of machineJars.filter((x) => !x.startsWith(jdk))) {
      if (real.length === MAX_JAR_DEPTH + 2) break;
      if ((await packagesOf('a.jar', read(j))).length === 1) real.push(j);
    }
    if (real.length < MAX_JAR_DEPTH + 2) return t.skip('too few real jars to nest');
    // level-k.jar holds real jar k and level-(k+1).jar; level-0 is the file in the image, at depth 0.
    const root = join(work, 'deep');
    let inner: string | undefined;
    for (let k = MAX_JAR_DEPTH + 1; k >= 0; k--) {
      const stage = join(root, `stage-${k}`);
      mkdirSync(stage, { recursive: true });
      copyFileSync(real[k]!, join(stage, `real-${k}.jar`));
      if (inner) copyFileSync(inner, join(stage, `level-${k + 1}.jar`));
      inner = join(root, `level-${k}.jar`);
      jarTool(['--create', '--file', inner, '-C', stage, '.'], root);
    }
    const path = 'opt/app/level-0.jar';
    const bytes = read(inner!);
    const kept = keptContentOf([path], bytes)!;
    const whole = await packagesOf(path, bytes);
    assert.deepEqual(await packagesOf(path, kept), whole);
    // Real jars 0..MAX_JAR_DEPTH-1 sit at depths 1..MAX_JAR_DEPTH and are read; the one below is not.
    const expected = await Promise.all(
      real.slice(0, MAX_JAR_DEPTH).map(async (j) => (await packagesOf(path, read(j)))[0]),
    );
    assert.deepEqual(whole.map((p) => p.purl).sort(), expected.map((p) => p!.purl).sort());
    // The deepest level kept holds no archives: nothing would read them.
    let level = kept;
    for (let k = 1; k <= MAX_JAR_DEPTH; k++) {
      level = readZip(level, `level-${k - 1}`)
        .find((e) => e.name === `level-${k}.jar`)!
        .read();
    }
    assert.deepEqual(
      readZip(level, 'deepest').map((e) => e.name),
      ['META-INF/MANIFEST.MF'],
    );
  });

  it('a jar that cannot be parsed is kept whole, so the error still names it', async () => {
    const good = read(join(corpusPath('image', 'lockfiles'), 'jar-pom-properties/package-name.jar'));
    assert.equal(keptContentOf(['app/lib/a.jar'], new TextEncoder().encode('not a zip at all')), undefined);
    const truncated = good.subarray(0, good.length - 30);
    assert.equal(keptContentOf(['app/lib/a.jar'], truncated), undefined);
    await assert.rejects(packagesOf('app/lib/a.jar', truncated), /app\/lib\/a\.jar: /);
    assert.throws(() => jarMetadataBlob(truncated, 'app/lib/a.jar'), /app\/lib\/a\.jar: /);
    // pom.xml is read whole; an alias some other analyzer also wants keeps the file whole.
    assert.equal(keptContentOf(['app/pom.xml'], good), undefined);
    assert.equal(keptContentOf(['app/lib/a.jar', 'app/package-lock.json'], good), undefined);
  });

  it('an image of jars holds only their metadata and reports the same packages, within a tight kept limit', async (t) => {
    if (machineJars.length < 20) return t.skip('needs real jars');
    const jars = machineJars.slice(0, 60);
    const files = jars.map((j, i) => ({
      path: `opt/app/lib/${i}-${j.slice(j.lastIndexOf('/') + 1)}`,
      content: read(j),
    }));
    const total = files.reduce((s, f) => s + f.content.length, 0);
    const out = join(work, 'jar-image.tar');
    await writeTestImage(out, { format: 'docker-archive', layers: [{ files, compression: 'gzip' }] });
    const source = await openImage(out);
    try {
      // Far below the jars' size: only what is kept counts.
      const limits = { maxKeptBytes: Math.ceil(total / 10) };
      const squashed = await squashImage(source, {
        wanted: isWanted,
        wantedContent: isWantedContent,
        keptContent: keptContentOf,
        limits,
      });
      const held = (await Promise.all(squashed.files.map(async (f) => (await f.read()).length))).reduce(
        (s, n) => s + n,
        0,
      );
      assert.equal(squashed.files.length, files.length);
      assert.ok(held < total / 20, `held ${held} of ${total} bytes`);
      const got = (await extractPackages(squashed.files)).packages;
      const want = (await Promise.all(files.map((f) => packagesOf(f.path, f.content)))).flat();
      const key = (p: ExtractedPackage) => JSON.stringify(p);
      assert.deepEqual(got.map(key).sort(), want.map(key).sort());
      await assert.rejects(
        squashImage(source, { wanted: isWanted, limits }),
        /kept files pass the limit/,
        'kept whole, the same jars pass the limit',
      );
    } finally {
      await source.close();
    }
  });

  it('a jar reached only through a link: cut down when the link is known first, whole when it comes later', async (t) => {
    const jar = machineJars.find((j) => j.includes('/.m2/') && readFileSync(j).length > 100_000);
    if (!jar) return t.skip('needs a real jar of some size');
    const content = read(jar);
    const want = await packagesOf('opt/app/lib/app.jar', content);
    assert.equal(want.length, 1, jar);
    const link = { path: 'opt/app/lib/app.jar', type: 'symlink' as const, linkTarget: '../../store/blob-1' };
    const blob = { path: 'opt/store/blob-1', content };
    const cases = [
      { name: 'link first', layers: [{ files: [link, blob] }], cut: true },
      // Known only after the file streamed by: the second pass keeps it by its real path, which no analyzer wants.
      { name: 'link in a later layer', layers: [{ files: [blob] }, { files: [link] }], cut: false },
    ];
    for (const c of cases) {
      const out = join(work, `alias-${c.cut}.tar`);
      await writeTestImage(out, { format: 'docker-archive', layers: c.layers });
      const source = await openImage(out);
      try {
        const squashed = await squashImage(source, {
          wanted: isWanted,
          wantedContent: isWantedContent,
          keptContent: keptContentOf,
        });
        assert.deepEqual(
          squashed.files.map((f) => f.path),
          ['opt/app/lib/app.jar'],
          c.name,
        );
        const held = (await squashed.files[0]!.read()).length;
        assert.equal(held < content.length, c.cut, `${c.name}: held ${held} of ${content.length} bytes`);
        assert.deepEqual((await extractPackages(squashed.files)).packages, want, c.name);
      } finally {
        await source.close();
      }
    }
  });
});
