// `vigil ci`, the pipeline gate, through the real CLI on the embedded default: the example image and manifests of
// examples/payments fail `--fail-on critical`, with SARIF that validates against the SARIF 2.1.0 schema and JUnit
// that the JDK's XSD validator accepts against the strict Ant JUnit schema; the same run against the first run's
// `vigil report --format json` passes (nothing is new); a baseline that is not a report exits 2 naming it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { repoRoot } from '@vigil/testing';
import { explain, freshTempDir, runVigil, type Json } from './vigil-cli.js';

const schemas = join(repoRoot(), '..', 'shared', 'schemas');

const VALIDATOR = `
import javax.xml.XMLConstants;
import javax.xml.transform.stream.StreamSource;
import javax.xml.validation.SchemaFactory;
public class Validate {
  public static void main(String[] a) throws Exception {
    SchemaFactory f = SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI);
    f.newSchema(new StreamSource(new java.io.File(a[0]))).newValidator().validate(new StreamSource(new java.io.File(a[1])));
    System.out.println("valid");
  }
}
`;

function validSarif(log: unknown): string[] {
  const ajv = new Ajv({ allErrors: true, schemaId: 'auto', format: 'full', logger: false });
  ajv.addMetaSchema(
    JSON.parse(readFileSync(join(repoRoot(), 'node_modules/ajv/lib/refs/json-schema-draft-04.json'), 'utf8')),
  );
  const schema = JSON.parse(readFileSync(join(schemas, 'sarif/2.1.0/sarif-schema-2.1.0.json'), 'utf8'));
  const ok = ajv.validate(schema, log);
  return ok ? [] : (ajv.errors ?? []).map((e) => `${e.dataPath} ${e.message}`);
}

describe('vigil ci on the example platform', () => {
  const tmp = freshTempDir('ci');
  const common = ['--data-dir', tmp.dataDir];
  let imageTar = '';
  const gate = () => [
    'ci',
    '--image',
    imageTar,
    '--manifests',
    'examples/payments/k8s',
    '--fail-on',
    'critical',
    ...common,
  ];

  before(async () => {
    const r = spawnSync(process.execPath, ['examples/payments/image/build.mjs', join(tmp.dir, 'image')], {
      cwd: repoRoot(),
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `image build failed:\n${r.stdout}\n${r.stderr}`);
    imageTar = join(tmp.dir, 'image', 'payment-api.tar');
    writeFileSync(join(tmp.dir, 'Validate.java'), VALIDATOR);
    const args = ['db', 'import', 'examples/payments/advisories', ...common];
    const imported = await runVigil(args);
    assert.equal(imported.code, 0, explain(args, imported));
  });
  after(() => tmp.remove());

  test('fails --fail-on critical and writes schema-valid SARIF and JUnit', async () => {
    const sarifPath = join(tmp.dir, 'vigil.sarif');
    const junitPath = join(tmp.dir, 'vigil-junit.xml');
    const args = [...gate(), '--sarif', sarifPath, '--junit', junitPath];
    const r = await runVigil(args);
    assert.equal(r.code, 1, explain(args, r));
    assert.match(r.stdout, /policy failed: \d+ finding\(s\) at or above CRITICAL/);
    assert.match(r.stdout, /payment-api\.tar: ok, \d+ finding\(s\)/);
    assert.match(r.stdout, /examples\/payments\/k8s: ok, \d+ finding\(s\)/);
    assert.match(r.stdout, /failing requirements: .*6\.3\.1/);

    const sarif = JSON.parse(readFileSync(sarifPath, 'utf8')) as Json;
    assert.deepEqual(validSarif(sarif), []);
    const ruleIds = new Set((sarif.runs[0].results as Json[]).map((x) => x.ruleId));
    // DSA-5532-1 fixes CVE-2023-5363 in the image's libssl3; the example's minimist 1.2.5 has CVE-2021-44906.
    assert.ok(ruleIds.has('CVE-2023-5363') && ruleIds.has('CVE-2021-44906'), [...ruleIds].join(' '));

    const v = spawnSync(
      'java',
      [join(tmp.dir, 'Validate.java'), join(schemas, 'junit/ant/JUnit.xsd'), junitPath],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(v.status, 0, `JUnit XML against the Ant schema:\n${v.stdout}${v.stderr}`);
    const xml = readFileSync(junitPath, 'utf8');
    const failed = [
      ...xml.matchAll(/<testcase classname="[^"]*" name="(\S+) [^"]*" time="0">\n\s*<failure /g),
    ].map((m) => m[1]);
    assert.ok(failed.includes('6.3.1'), `6.3.1 fails: ${failed.join(' ')}`);
    assert.match(xml, /CRITICAL CVE-2021-44906 minimist@1\.2\.5/);
    // Every failing test case is a requirement the summary named, and the other way round.
    const named = /failing requirements: (.*)/.exec(r.stdout)![1]!.split(', ');
    assert.deepEqual([...failed].sort(), [...named].sort());
  });

  test('passes against the first run as baseline: nothing is new', async () => {
    const reportArgs = ['report', '--format', 'json', ...common];
    const report = await runVigil(reportArgs);
    assert.ok(report.stdout.trim().startsWith('{'), explain(reportArgs, report));
    const baseline = join(tmp.dir, 'report.json');
    writeFileSync(baseline, report.stdout);
    const args = [...gate(), '--baseline', baseline];
    const r = await runVigil(args);
    assert.equal(r.code, 0, explain(args, r));
    assert.match(
      r.stdout,
      new RegExp(`0 new against the baseline \\(${baseline.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`),
    );
    assert.match(r.stdout, /policy passed/);
  });

  test('vigil report --format junit is the same shape, failing at --fail-on', async () => {
    const args = ['report', '--format', 'junit', '--fail-on', 'critical', ...common];
    const r = await runVigil(args);
    assert.equal(r.code, 1, explain(args, r));
    const file = join(tmp.dir, 'report-junit.xml');
    writeFileSync(file, r.stdout);
    const v = spawnSync(
      'java',
      [join(tmp.dir, 'Validate.java'), join(schemas, 'junit/ant/JUnit.xsd'), file],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(v.status, 0, `JUnit XML against the Ant schema:\n${v.stdout}${v.stderr}`);
    const failures = [...r.stdout.matchAll(/<failure message="\d+ open finding\(s\): ([^"]*)"/g)].map(
      (m) => m[1],
    );
    assert.ok(failures.length > 0, 'the critical findings fail their requirements');
    for (const f of failures)
      assert.match(f!, /^\d+ critical$/, 'only critical findings fail at --fail-on critical');
  });

  test('a scan leaves out what its ignore file accepts, names it, and passes the gate it would fail', async () => {
    const ignoreFile = join(tmp.dir, 'vigilignore.yaml');
    writeFileSync(
      ignoreFile,
      'ignores:\n  - id: CVE-2021-44906\n    reason: minimist only parses build-time arguments here\n',
    );
    const scan = (...more: string[]) => ['scan', 'image', imageTar, ...more, ...common];
    const json = await runVigil(scan('--format', 'json', '--ignore-file', ignoreFile));
    assert.equal(json.code, 0, explain(scan('--format', 'json', '--ignore-file', ignoreFile), json));
    const all = await runVigil(scan('--format', 'json'));
    const rules = (r: { stdout: string }) =>
      ((JSON.parse(r.stdout) as Json).findings as Json[]).map((f) => f.ruleId as string);
    assert.ok(rules(all).includes('CVE-2021-44906'));
    assert.deepEqual(
      rules(json).sort(),
      rules(all)
        .filter((r) => r !== 'CVE-2021-44906')
        .sort(),
    );
    const table = await runVigil(scan('--ignore-file', ignoreFile, '--fail-on', 'critical'));
    assert.equal(table.code, 0, explain(scan('--ignore-file', ignoreFile, '--fail-on', 'critical'), table));
    assert.doesNotMatch(table.stdout, /CVE-2021-44906 .*minimist/);
    assert.match(table.stdout, /^1 finding\(s\) accepted by the ignore file, not listed: CVE-2021-44906$/m);
    const failing = await runVigil(scan('--fail-on', 'critical'));
    assert.equal(failing.code, 1, explain(scan('--fail-on', 'critical'), failing));
  });

  test('a baseline that is not a report exits 2 naming it', async () => {
    const bad = join(tmp.dir, 'not-a-report.json');
    writeFileSync(bad, '{"runs": []}');
    for (const [baseline, why] of [
      [bad, /not a vigil report/],
      [join(tmp.dir, 'missing.json'), /cannot read it \(ENOENT\)/],
      ['999', /has no snapshot version 999/],
    ] as const) {
      const args = [...gate(), '--baseline', baseline];
      const r = await runVigil(args);
      assert.equal(r.code, 2, explain(args, r));
      assert.ok(r.stderr.includes(`--baseline ${baseline}`), r.stderr);
      assert.match(r.stderr, why);
    }
  });

  test('an output that cannot be written exits 2 before anything is scanned', async () => {
    const before = await runVigil(['snapshots', '--format', 'json', ...common]);
    assert.match(before.stdout, /"version"/, 'the runs before made versions to compare with');
    for (const flag of ['--sarif', '--junit']) {
      const path = join(tmp.dir, 'no-such-dir', 'out');
      const args = [...gate(), flag, path];
      const r = await runVigil(args);
      assert.equal(r.code, 2, explain(args, r));
      assert.match(
        r.stderr,
        new RegExp(`${flag} .*no-such-dir/out: cannot write it \\(its directory: ENOENT\\)`),
      );
    }
    const after = await runVigil(['snapshots', '--format', 'json', ...common]);
    assert.equal(after.stdout, before.stdout, 'no scan ran, so no snapshot version was added');
  });

  test('manifests that cannot be audited exit 2 before the image is scanned, naming each problem once', async () => {
    const before = await runVigil(['snapshots', '--format', 'json', ...common]);
    const dir = join(tmp.dir, 'bad-manifests');
    mkdirSync(dir);
    // A billion-laughs bomb, and two JSON files that are not Kubernetes objects.
    const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    writeFileSync(join(dir, 'bomb.yaml'), bomb.join('\n'));
    writeFileSync(join(dir, 'a.json'), '{"expected": []}');
    writeFileSync(join(dir, 'b.json'), '{"expected": [1]}');
    const args = ['ci', '--image', imageTar, '--manifests', dir, '--fail-on', 'critical', ...common];
    const r = await runVigil(args);
    assert.equal(r.code, 2, explain(args, r));
    assert.match(
      r.stderr,
      /^vigil ci: --manifests: 3 input\(s\) cannot be audited, so nothing was scanned: document has no kind \(2: \S+\/a\.json document 0 line 1, \S+\/b\.json document 0 line 1\); \S+\/bomb\.yaml document 0 line 1: Excessive alias count/m,
    );
    const after = await runVigil(['snapshots', '--format', 'json', ...common]);
    assert.equal(after.stdout, before.stdout, 'the image was not scanned, so no snapshot version was added');
  });
});
