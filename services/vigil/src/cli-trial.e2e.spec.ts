// A fresh user's trial of the CLI, through the real `vigil` binary on a fresh embedded data dir: after the example
// manifests are scanned, an exception and an attestation take effect in the next `vigil report` (or say they do
// not yet, with --no-snapshot), accepted findings are counted apart from open ones, a mistyped --cluster is
// refused, the requester is the OS user, every finding line names its requirements and tells its container apart,
// and messages name their command one way.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { corpusPath, repoRoot } from '@vigil/testing';
import { osUser } from './cli-user.js';
import { vigilCli, type Run } from './vigil-cli.spec-helper.js';

const root = repoRoot();
const tmp = mkdtempSync(join(tmpdir(), 'vigil-trial-'));
const dataDir = join(tmp, 'data');

const vigil = vigilCli(dataDir);

function ok(r: Run, what: string): Run {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

async function snapshots(): Promise<{ scope: string; version: number; trigger: { by?: string[] } }[]> {
  return JSON.parse(ok(await vigil('snapshots', '--format', 'json'), 'vigil snapshots').stdout).snapshots;
}

const footer = (report: string) => report.split('\n').find((l) => l.startsWith('Findings: '));

// An acceptance runs at most 12 months (PCI DSS 12.3.1 review): six months from today is always within that.
const EXPIRES = new Date(Date.now() + 182 * 24 * 3600 * 1000).toISOString().slice(0, 10);

// The last day an acceptance may run to: the same day 12 calendar months from today (UTC), as vigil computes it.
function inAYear(): string {
  const d = new Date();
  const target = new Date(Date.UTC(d.getUTCFullYear() + 1, d.getUTCMonth(), 1));
  const last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), last));
  return target.toISOString().slice(0, 10);
}

const ACCEPT = [
  'exception',
  'accept',
  '--owner',
  'payments-platform',
  '--justification',
  'the log shipper needs root until its v2 image',
  '--approver',
  'ciso@acme.example',
  '--expires',
  EXPIRES,
  '--rule',
  'k8s/run-as-root',
];

describe('a fresh user trial of the vigil CLI', () => {
  let scan: Run;
  before(async () => {
    scan = ok(await vigil('scan', 'k8s', 'examples/payments/k8s'), 'vigil scan k8s');
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('prints every config finding once, with its container and its requirements', () => {
    const rows = scan.stdout.split('\n').filter((l) => /^(CRITICAL|HIGH|MEDIUM|LOW|UNKNOWN)\s/.test(l));
    assert.equal(rows.length, 40);
    assert.deepEqual(
      rows.filter((r, i) => rows.indexOf(r) !== i),
      [],
    );
    // The last column is the PCI DSS ids: never empty, supporting ones in parentheses.
    assert.deepEqual(
      rows.filter((r) => !/\s\(?[0-9A][0-9A.,]*\)?$/.test(r)),
      [],
    );
    assert.ok(rows.some((r) => /k8s\/run-as-root\s+payments\/payment-api\/log-shipper\s+2\.2\.6/.test(r)));
    assert.ok(rows.some((r) => /k8s\/run-as-root\s+payments\/payment-api\/api\s+2\.2\.6/.test(r)));
    assert.ok(
      rows.some((r) => /net\/no-ingress-networkpolicy\s+storefront\/checkout-web\s+\(1\.2\.1,/.test(r)),
    );
  });

  it('refuses a --cluster with no recorded events on every command that would publish into it', async () => {
    for (const args of [
      ['snapshots', 'create', '--cluster', 'nosuchcluster'],
      [...ACCEPT, '--cluster', 'nosuchcluster'],
      [
        'attest',
        '12.10.1',
        '--statement',
        'IR plan tested',
        '--evidence',
        'README.md',
        '--cluster',
        'nosuchcluster',
      ],
    ]) {
      const r = await vigil(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(
        r.stderr,
        /^vigil (snapshots create|exception accept|attest): cluster "nosuchcluster" has no recorded events; the clusters with recorded events are default; nothing was published\n$/,
      );
    }
    assert.deepEqual(
      (await snapshots()).map((s) => s.scope),
      ['default'],
    );
    // Listing is filtered by --cluster, and a cluster with no events is refused there too.
    const listed = await vigil('snapshots', '--cluster', 'nosuchcluster');
    assert.equal(listed.code, 2, listed.stderr);
    assert.match(
      listed.stderr,
      /^vigil snapshots: cluster "nosuchcluster" has no recorded events; .*; nothing to list\n$/,
    );
    // So is exception list: an empty list for a mistyped cluster would read as "no exceptions".
    const exceptions = await vigil('exception', 'list', '--cluster', 'nosuchcluster');
    assert.equal(exceptions.code, 2, exceptions.stderr);
    assert.match(
      exceptions.stderr,
      /^vigil exception list: cluster "nosuchcluster" has no recorded events; .*; nothing to list\n$/,
    );
    ok(await vigil('exception', 'list', '--cluster', 'default'), 'vigil exception list --cluster default');
    const own = JSON.parse(
      ok(await vigil('snapshots', '--cluster', 'default', '--format', 'json'), 'vigil snapshots --cluster')
        .stdout,
    );
    assert.ok(
      own.snapshots.length > 0 && own.snapshots.every((s: { scope: string }) => s.scope === 'default'),
    );
  });

  it('puts an accepted exception in the next report, counted apart from the open findings', async () => {
    const counts = (report: string) => {
      const m =
        /^Findings: (\d+) open \(\d+ CRITICAL · \d+ HIGH · (\d+) MEDIUM · \d+ LOW · \d+ UNKNOWN\), (\d+) accepted$/.exec(
          footer(report) ?? '',
        );
      assert.ok(m, `footer of ${report.slice(-400)}`);
      return { open: Number(m[1]), medium: Number(m[2]), accepted: Number(m[3]) };
    };
    const before = counts(ok(await vigil('report'), 'vigil report').stdout);
    assert.equal(before.accepted, 0);
    const accepted = ok(await vigil(...ACCEPT), 'vigil exception accept').stdout.split('\n');
    const id = /^(exc-[0-9a-f-]{36}) recorded for cluster default/.exec(accepted[0] ?? '')?.[1];
    assert.ok(id, accepted.join('\n'));
    const version =
      /^snapshot (\d+) of default includes it \(sha256:[0-9a-f]{64}\); vigil report shows it$/.exec(
        accepted[1] ?? '',
      )?.[1];
    assert.ok(version, accepted.join('\n'));
    const report = ok(await vigil('report'), 'vigil report').stdout;
    assert.match(report, new RegExp(`snapshot ${version} · `));
    // The three run-as-root findings (two containers of payment-api, one of node-agent, all MEDIUM) are accepted:
    // still in the snapshot, no longer counted open.
    assert.deepEqual(counts(report), { open: before.open - 3, medium: before.medium - 3, accepted: 3 });
    assert.match(report, new RegExp(`Exceptions in use \\(1\\)\\n  ${id}`));
    // The version was requested by the OS user running the CLI.
    const made = (await snapshots()).find((s) => s.version === Number(version));
    assert.deepEqual(made?.trigger.by, [`cli:${osUser()}`]);

    const revoked = ok(
      await vigil('exception', 'revoke', id, '--reason', 'v2 image runs as 10001'),
      'revoke',
    );
    assert.match(revoked.stdout, new RegExp(`\\nsnapshot ${Number(version) + 1} of default includes it`));
    assert.deepEqual(counts(ok(await vigil('report'), 'vigil report').stdout), { ...before });
  });

  it('says when an attestation is not in a snapshot yet (--no-snapshot), and is once one is made', async () => {
    const r = ok(
      await vigil(
        'attest',
        '12.10.1',
        '--statement',
        'IR plan tested',
        '--evidence',
        'README.md',
        '--no-snapshot',
      ),
      'vigil attest --no-snapshot',
    );
    assert.match(
      r.stdout,
      /\nnot in a snapshot yet: vigil report shows it from the next snapshot of default/,
    );
    const id = /^(att-[0-9a-f-]{36}) attests 12\.10\.1/.exec(r.stdout)?.[1];
    assert.ok(id, r.stdout);
    assert.doesNotMatch(ok(await vigil('report'), 'vigil report').stdout, new RegExp(id));
    ok(await vigil('snapshots', 'create'), 'vigil snapshots create');
    assert.match(
      ok(await vigil('report'), 'vigil report').stdout,
      new RegExp(`Attestations \\(1\\)\\n  ${id}`),
    );
  });

  it('says why an attestation of a requirement that is not applicable does not decide its status', async () => {
    // 3.3.3 applies to issuers and those supporting issuing services: not to a merchant, the default entity type.
    const r = ok(
      await vigil('attest', '3.3.3', '--statement', 'no SAD is stored', '--evidence', 'README.md'),
      'vigil attest 3.3.3',
    );
    assert.match(
      r.stdout,
      /\nsnapshot \d+ of default includes it \(sha256:[0-9a-f]{64}\); vigil report shows it; 3\.3\.3 stays not_applicable \(.+\), so the attestation does not decide its status\n$/,
    );
  });

  it('--help after a command shows that command, its flags and the options only it takes', async () => {
    const k8s = await vigil('scan', 'k8s', '--help');
    assert.equal(k8s.code, 0, k8s.stderr);
    assert.match(k8s.stdout, /^Usage:\n {2}vigil scan k8s <file\|dir>\.\.\. \| --live /);
    assert.match(
      k8s.stdout,
      /\n {2}--cde-label <string> +Label that puts a namespace or pod in the cardholder data/,
    );
    assert.doesNotMatch(k8s.stdout, /vigil db migrate|--signing-key|vigil scan image/);
    assert.match(k8s.stdout, /and the exit codes: vigil --help\n$/);
    const all = await vigil('--help');
    assert.match(all.stdout, /vigil db migrate[\s\S]*--data-dir/);
  });

  it('acknowledges a runtime detection, and the version it requests no longer holds it open', async () => {
    const alerts = corpusPath('runtime', 'falco-alerts', 'docs-terminal-shell-critical', 'alerts.jsonl');
    const ingested = JSON.parse(
      ok(await vigil('ingest', 'falco', alerts, '--format', 'json'), 'vigil ingest falco').stdout,
    ) as { findings: { id: string }[] };
    const id = ingested.findings[0]?.id;
    assert.ok(id, 'the alert is a finding');
    const acked = ok(await vigil('ack', id, '--reason', 'the on-call engineer, ticket SEC-101'), 'vigil ack');
    assert.match(
      acked.stdout,
      new RegExp(
        `^${id} acknowledged by \\S+ at \\S+\\nsnapshot \\d+ of default includes it \\(sha256:[0-9a-f]{64}\\); ${id} is no longer open there\\n$`,
      ),
    );
    const report = JSON.parse(ok(await vigil('report', '--format', 'json'), 'vigil report').stdout) as {
      findings: { id: string }[];
    };
    assert.ok(!report.findings.some((f) => f.id === id));
  });

  it('names the command and subcommand the same way in every message', async () => {
    const cases: [string[], string][] = [
      [['exception', 'accept', '--expires', '2099-12-31'], 'vigil exception accept: --owner is required'],
      [['exception', 'revoke', 'exc-1'], 'vigil exception revoke: --reason is required'],
      [
        ['attest', 'revoke', 'att-1'],
        'vigil attest revoke: att-1: --reason is required (say why it no longer holds)',
      ],
      [['attest', '12.10.1'], 'vigil attest: 12.10.1: --statement is required (what the evidence shows)'],
      [['ack', 'runtime-1'], 'vigil ack: runtime-1: --reason is required (say why it is acknowledged)'],
      [
        ['report', '--format', 'xml'],
        'vigil report: --format xml is not one of table|json|sarif|cyclonedx|csv|html|junit',
      ],
      [
        ['report', '--no-snapshot'],
        'vigil report: --no-snapshot is only for vigil exception accept|revoke, vigil attest and vigil ack (it skips the snapshot they request)',
      ],
      [
        [...ACCEPT.slice(0, -4), '--expires', '9999-12-31', '--rule', 'k8s/run-as-root'],
        `vigil exception accept: --expires 9999-12-31 is more than 12 months ahead (at most ${inAYear()}; PCI DSS 12.3.1 wants an accepted risk reviewed at least once every 12 months)`,
      ],
      [['explain', 'network', 'payments/api'], 'vigil explain network: give at least one --manifests PATH'],
      [
        ['ci', '--image', './no-such-image.tar', '--fail-on', 'high'],
        `vigil ci: --image: ${join(root, 'no-such-image.tar')} does not exist`,
      ],
      [
        ['evidence', 'export', '-o', join(tmp, 'no-such-dir', 'bundle.zip')],
        `vigil evidence export: cannot write ${join(tmp, 'no-such-dir', 'bundle.zip')}: folder ${join(tmp, 'no-such-dir')} does not exist`,
      ],
      [
        ['attest', '12.10.1', '--statement', 's', '--evidence', 'README.md', '--valid-until', '9999-12-31'],
        `vigil attest: --valid-until 9999-12-31 is more than 12 months ahead (at most ${inAYear()}; an annual assessment relies on manual evidence from the last 12 months)`,
      ],
    ];
    for (const [args, line] of cases) {
      const r = await vigil(...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stderr, `${line}\n`);
    }
  });

  it('assesses the example node with as many checks as the README says', async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const host =
      /\| host-assessor [^\n]*\| (\d+) checks: [^\n]*, and with advisory data loaded a (\d+)th: the node's own OS packages/.exec(
        readme,
      );
    assert.ok(host, 'the README names the host-assessor check count');
    assert.equal(Number(host[2]), Number(host[1]) + 1);
    // No advisory data in this data dir: the package check does not run.
    const r = ok(
      await vigil('scan', 'host', '--root', 'examples/payments/node/files', '--node', 'pay-worker-1'),
      'vigil scan host',
    );
    assert.match(r.stdout, new RegExp(`\\n${host[1]} checks: `));
  });
});
