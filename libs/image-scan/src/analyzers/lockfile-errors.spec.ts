// Malformed lockfiles: the error names the file and the problem.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FileEntry } from './analyzer.js';
import { extractPackages } from './extract.js';

const file = (path: string, text: string): FileEntry => ({
  path,
  read: async () => new TextEncoder().encode(text),
});
const fails = (path: string, text: string, message: RegExp): Promise<void> =>
  assert.rejects(extractPackages([file(path, text)]), message);

describe('malformed lockfiles', () => {
  it('package-lock.json that is not JSON', () =>
    fails(
      'app/package-lock.json',
      '{"lockfileVersion": 2,',
      /^Error: app\/package-lock\.json: not valid JSON|app\/package-lock\.json: not valid JSON/,
    ));
  it('package-lock.json entry without a version', () =>
    fails(
      'package-lock.json',
      '{"lockfileVersion":3,"packages":{"":{},"node_modules/a":{}}}',
      /package-lock\.json: packages\["node_modules\/a"\] has no version/,
    ));
  it('yarn.lock v1 entry without a version', () =>
    fails('yarn.lock', 'a@^1:\n  resolved "x"\n', /yarn\.lock: entry a at line 1 has no version/));
  it('pnpm-lock.yaml of an unknown version', () =>
    fails('pnpm-lock.yaml', 'lockfileVersion: 3\n', /pnpm-lock\.yaml: unsupported pnpm lockfileVersion 3/));
  it('Cargo.lock that is not TOML', () =>
    fails('Cargo.lock', '[[package]\nname = "x"\n', /Cargo\.lock: not valid TOML/));
  it('go.mod without a module directive', () => fails('go.mod', 'go 1.22\n', /go\.mod: no module directive/));
  it('go.sum with a broken line', () =>
    fails('go.sum', 'github.com/a/b v1.0.0\n', /go\.sum: line 1: expected "module version hash"/));
  it('uv.lock without a root package', () =>
    fails('uv.lock', 'version = 1\n[[package]]\nname = "a"\nversion = "1"\n', /uv\.lock: no root package/));
  it('composer.lock entry without a version', () =>
    fails(
      'composer.lock',
      '{"packages":[{"name":"a/b"}]}',
      /composer\.lock: packages\[\] entry without name and version/,
    ));
});

describe('language packages the corpus does not cover', () => {
  it('reads UTF-16 requirements and installed METADATA, with PEP 503 purls', async () => {
    const utf16 = new Uint8Array([
      0xff,
      0xfe,
      ...Array.from('Flask_Login==0.6.3\n').flatMap((c) => [c.charCodeAt(0), 0]),
    ]);
    const { packages } = await extractPackages([
      { path: 'requirements.txt', read: async () => utf16 },
      file(
        'usr/lib/python3/site-packages/PyYAML-6.0.1.dist-info/METADATA',
        'Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0.1\n\nbody',
      ),
      file('app/node_modules/@babel/core/package.json', '{"name":"@babel/core","version":"7.24.0"}'),
    ]);
    assert.deepEqual(
      packages.map((p) => [p.ecosystem, p.name, p.version, p.purl]),
      [
        ['npm', '@babel/core', '7.24.0', 'pkg:npm/%40babel/core@7.24.0'],
        ['PyPI', 'Flask_Login', '0.6.3', 'pkg:pypi/flask-login@0.6.3'],
        ['PyPI', 'PyYAML', '6.0.1', 'pkg:pypi/pyyaml@6.0.1'],
      ],
    );
  });
  it('go.mod: a local-path replacement drops the module', async () => {
    const { packages } = await extractPackages([
      file(
        'go.mod',
        'module example.com/m\n\ngo 1.20\n\nrequire (\n\texample.com/a v1.0.0\n\texample.com/b v1.2.0\n)\n\nreplace example.com/a => ../a\n',
      ),
    ]);
    assert.deepEqual(
      packages.map((p) => `${p.name}@${p.version}:${p.relationship}`),
      ['example.com/m@:root', 'example.com/b@v1.2.0:direct'],
    );
    assert.equal(packages[1]!.purl, 'pkg:golang/example.com/b@v1.2.0');
  });
});

describe('malformed Java inputs', () => {
  it('a .jar that is not a zip archive', () =>
    fails('app/lib/a.jar', 'not a zip', /app\/lib\/a\.jar: not a zip archive/));
  it('a pom.xml with a mismatched tag', () =>
    fails('pom.xml', '<project><dependencies></project>', /pom\.xml: <\/project> closes <dependencies>/));
});
