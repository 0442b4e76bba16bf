import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  IgnoreFileError,
  MAX_IGNORE_FILE_BYTES,
  loadIgnoreFile,
  parseExpiry,
  parseIgnoreFile,
} from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-policy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const F = 'vigil-ignore.yaml';
function errorOf(text: string): IgnoreFileError {
  try {
    parseIgnoreFile(text, F);
  } catch (err) {
    assert.ok(err instanceof IgnoreFileError, String(err));
    return err;
  }
  assert.fail('expected the ignore file to be rejected');
}

describe('ignore file: valid content', () => {
  it('reads entries with scope, expiry and owner, keeping where each was written', async () => {
    const path = write(
      'ok.yaml',
      [
        '# accepted risks for the payments cluster',
        'version: 1',
        'ignores:',
        '  - id: CVE-2022-24999',
        '    reason: qs is only used by the build tooling, never at runtime',
        '    owner: payments-team',
        '    expires: 2026-06-30',
        '    namespace: payments',
        '    workload: Deployment/payment-api',
        '    package: pkg:npm/qs',
        '    path: "app/node_modules/**"',
        '  - id: GHSA-mc8h-8q98-g5hr',
        '    reason: removal is tracked in PAY-142',
        '    image: [alpine:3.11, "sha256:a187dde48cd289ac374ad8539930628314bc581a481cdb41409c9289419ddb72"]',
        '    expires: 2026-03-01T12:00:00+01:00',
      ].join('\n'),
    );
    const file = await loadIgnoreFile(path);
    assert.equal(file.rules.length, 2);
    const [qs, rda] = file.rules;
    assert.deepEqual(qs, {
      id: 'CVE-2022-24999',
      reason: 'qs is only used by the build tooling, never at runtime',
      owner: 'payments-team',
      expires: '2026-06-30',
      expiresAt: new Date('2026-06-30T00:00:00.000Z'),
      namespace: ['payments'],
      workload: ['Deployment/payment-api'],
      package: ['pkg:npm/qs'],
      path: ['app/node_modules/**'],
      origin: { file: path, index: 0, line: 4 },
    });
    assert.deepEqual(rda?.image, [
      'alpine:3.11',
      'sha256:a187dde48cd289ac374ad8539930628314bc581a481cdb41409c9289419ddb72',
    ]);
    assert.equal(rda?.expiresAt?.toISOString(), '2026-03-01T11:00:00.000Z');
    assert.equal(rda?.origin.line, 12);
  });

  it('reads the same content written as JSON, and "name" for the workload', async () => {
    const path = write(
      'ok.json',
      JSON.stringify({
        ignores: [{ id: 'CVE-2022-41723', reason: 'HTTP/2 server not exposed', name: 'ledger' }],
      }),
    );
    const file = await loadIgnoreFile(path);
    assert.deepEqual(file.rules[0]?.workload, ['ledger']);
    assert.equal(file.rules[0]?.origin.line, 1);
  });

  it('treats an empty file or an empty list as no rules', () => {
    assert.deepEqual(parseIgnoreFile('', F).rules, []);
    assert.deepEqual(parseIgnoreFile('# nothing accepted yet\n', F).rules, []);
    assert.deepEqual(parseIgnoreFile('ignores: []\n', F).rules, []);
  });
});

describe('ignore file: errors name the file, the entry and the problem', () => {
  const cases: [string, string, string][] = [
    [
      'missing reason',
      'ignores:\n  - id: CVE-2022-24999\n',
      'ignores[0] (id CVE-2022-24999) at line 2: "reason" is required',
    ],
    [
      'blank reason',
      'ignores:\n  - id: CVE-2022-24999\n    reason: "  "\n',
      'ignores[0] (id CVE-2022-24999) at line 2: "reason" must be a non-empty string, found string "  "',
    ],
    ['missing id', 'ignores:\n  - reason: accepted\n', 'ignores[0] at line 2: "id" is required'],
    [
      'numeric id',
      'ignores:\n  - id: 2022\n    reason: x\n',
      'ignores[0] at line 2: "id" must be a non-empty string, found number 2022',
    ],
    [
      'bad date',
      'ignores:\n  - id: CVE-2022-24999\n    reason: x\n  - id: CVE-2022-41723\n    reason: y\n    expires: 2026-02-30\n',
      'ignores[1] (id CVE-2022-41723) at line 4: "expires" is not a valid ISO date (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ): "2026-02-30"',
    ],
    [
      'date in another format',
      'ignores:\n  - id: CVE-2022-24999\n    reason: x\n    expires: 30/06/2026\n',
      'ignores[0] (id CVE-2022-24999) at line 2: "expires" is not a valid ISO date (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ): "30/06/2026"',
    ],
    [
      'unknown field',
      'ignores:\n  - id: CVE-2022-24999\n    reason: x\n    severity: HIGH\n',
      'ignores[0] (id CVE-2022-24999) at line 2: unknown field "severity"; allowed: id, reason, expires, owner, cluster, namespace, workload, name, image, package, path',
    ],
    [
      'Trivy field name',
      'ignores:\n  - id: CVE-2022-24999\n    statement: x\n',
      'ignores[0] (id CVE-2022-24999) at line 2: unknown field "statement" (use "reason"); allowed: id, reason, expires, owner, cluster, namespace, workload, name, image, package, path',
    ],
    [
      'Trivy layout',
      'vulnerabilities:\n  - id: CVE-2022-24999\n',
      'unknown top-level field "vulnerabilities" (list every entry under "ignores", whatever its source); allowed: version, ignores',
    ],
    ['ignores not a list', 'ignores:\n  id: CVE-2022-24999\n', '"ignores" must be a list, found a mapping'],
    [
      'entry not a mapping',
      'ignores:\n  - CVE-2022-24999\n',
      'ignores[0] at line 2: expected a mapping with id and reason, found string "CVE-2022-24999"',
    ],
    [
      'top level a list',
      '- id: CVE-2022-24999\n',
      'expected a mapping with an "ignores" list at the top, found a list',
    ],
    [
      'empty scope list',
      'ignores:\n  - id: CVE-2022-24999\n    reason: x\n    namespace: []\n',
      'ignores[0] (id CVE-2022-24999) at line 2: "namespace" must not be an empty list',
    ],
    [
      'bad scope item',
      'ignores:\n  - id: CVE-2022-24999\n    reason: x\n    image: [alpine:3.11, 7]\n',
      'ignores[0] (id CVE-2022-24999) at line 2: "image"[1] must be a non-empty string, found number 7',
    ],
    [
      'workload twice',
      'ignores:\n  - id: CVE-2022-24999\n    reason: x\n    workload: a\n    name: b\n',
      'ignores[0] (id CVE-2022-24999) at line 2: give the workload as "workload" or "name", not both',
    ],
    ['version', 'version: 2\nignores: []\n', 'unsupported version number 2 (this release reads version 1)'],
    [
      'syntax error',
      'ignores:\n  - id: CVE-2022-24999\n    reason: [unclosed\n',
      'YAML syntax error at line 4, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
    [
      'duplicate key',
      'ignores:\n  - id: CVE-2022-24999\n    id: CVE-2022-41723\n    reason: x\n',
      'YAML syntax error at line 3, column 5: Map keys must be unique',
    ],
    [
      'two documents',
      'ignores: []\n---\nignores: []\n',
      'YAML syntax error at line 2, column 1: Source contains multiple documents; please use YAML.parseAllDocuments()',
    ],
  ];
  for (const [name, text, problem] of cases) {
    it(name, () => {
      const err = errorOf(text);
      assert.equal(err.message, `ignore file ${F}: ${problem}`);
      assert.equal(err.file, F);
    });
  }

  it('reports the entry index and line as fields', () => {
    const err = errorOf('ignores:\n  - id: a\n    reason: x\n\n  - id: b\n');
    assert.equal(err.index, 1);
    assert.equal(err.line, 5);
  });

  it('names a missing file', async () => {
    const path = join(dir, 'missing.yaml');
    await assert.rejects(loadIgnoreFile(path), { message: `ignore file ${path}: cannot be read: ENOENT` });
    await assert.rejects(loadIgnoreFile(dir), { message: `ignore file ${dir}: is not a regular file` });
  });

  it('refuses files over the size cap before reading them', async () => {
    const path = write('big.yaml', `ignores: []\n${'#'.repeat(MAX_IGNORE_FILE_BYTES)}\n`);
    await assert.rejects(loadIgnoreFile(path), {
      message: `ignore file ${path}: larger than ${MAX_IGNORE_FILE_BYTES} bytes (${MAX_IGNORE_FILE_BYTES + 13})`,
    });
  });

  it('rejects a billion-laughs document at the alias limit, before expanding it', () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      lines.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    lines.push('ignores: []');
    const err = errorOf(lines.join('\n'));
    assert.equal(
      err.message,
      `ignore file ${F}: cannot be expanded: Excessive alias count indicates a resource exhaustion attack`,
    );
  });

  it('still allows a few aliases for a shared scope', () => {
    const file = parseIgnoreFile(
      'ignores:\n  - id: CVE-2022-24999\n    reason: build only\n    namespace: &ns [payments, ledger]\n  - id: CVE-2022-41723\n    reason: not exposed\n    namespace: *ns\n',
      F,
    );
    assert.deepEqual(file.rules[1]?.namespace, ['payments', 'ledger']);
  });
});

describe('parseExpiry', () => {
  it('reads dates as 00:00 UTC and date-times with their zone', () => {
    assert.equal(parseExpiry('2024-02-29')?.toISOString(), '2024-02-29T00:00:00.000Z');
    assert.equal(parseExpiry('2026-06-30T23:59:59Z')?.toISOString(), '2026-06-30T23:59:59.000Z');
    assert.equal(parseExpiry('2026-06-30T10:00-02:00')?.toISOString(), '2026-06-30T12:00:00.000Z');
  });
  it('refuses impossible or zone-less values', () => {
    for (const v of [
      '2025-02-29',
      '2026-13-01',
      '2026-06-30T24:00:00Z',
      '2026-06-30T10:00:00',
      '2026-6-30',
      'tomorrow',
    ]) {
      assert.equal(parseExpiry(v), undefined, v);
    }
  });
});
