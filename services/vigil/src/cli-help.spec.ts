import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandUsage } from './cli-help.js';

const HELP = `vigil 0.1.0

Usage:
  vigil scan image <ref|archive>         scan a container image
  vigil scan k8s <file|dir>... | --live  audit Kubernetes manifests
  vigil exception accept --owner O --expires DATE
        [--kind risk|compensating]
  vigil exception revoke <id> --reason TEXT | exception list
                                         risk acceptances (events on the log)
  vigil report [--snapshot N]            the latest snapshot

Command flags:
  scan:   image <ref|archive> [--platform os/arch];
          k8s <file|dir>...
  exception, attest: accept and revoke request a snapshot
  report: --snapshot N

Exit codes: 0 done
`;

describe('commandUsage', () => {
  it("picks a command's usage entries, continuation lines included, and its command-flag notes", () => {
    assert.equal(
      commandUsage(HELP, 'exception'),
      [
        'Usage:',
        '  vigil exception accept --owner O --expires DATE',
        '        [--kind risk|compensating]',
        '  vigil exception revoke <id> --reason TEXT | exception list',
        '                                         risk acceptances (events on the log)',
        '',
        'Command flags:',
        '  exception, attest: accept and revoke request a snapshot',
      ].join('\n'),
    );
  });

  it('narrows to the entry naming the subcommand, also after a bar, and keeps all when none names it', () => {
    assert.match(
      commandUsage(HELP, 'scan', 'k8s')!,
      /^Usage:\n {2}vigil scan k8s [^\n]*\n\nCommand flags:\n {2}scan:/,
    );
    assert.doesNotMatch(commandUsage(HELP, 'scan', 'k8s')!, /vigil scan image/);
    assert.match(commandUsage(HELP, 'exception', 'list')!, /^Usage:\n {2}vigil exception revoke/);
    assert.doesNotMatch(commandUsage(HELP, 'exception', 'list')!, /accept --owner/);
    assert.match(commandUsage(HELP, 'scan', 'host')!, /vigil scan image[\s\S]*vigil scan k8s/);
  });

  it('has nothing for a command the help does not list', () => {
    assert.equal(commandUsage(HELP, 'nosuch'), undefined);
    assert.equal(commandUsage(HELP, 'attest'), undefined, 'a flag note alone is no usage entry');
  });
});
