import { type RootFs } from '../root-fs.js';

export interface AuditRule {
  text: string;
  file: string;
  line: number;
  /** -w path (file or directory watch). */
  watch?: string;
  /** -p permissions; a -w watch without -p covers rwxa. */
  perms?: string;
  /** -a action,list. */
  action?: string;
  syscalls: string[];
  /** -F field=value pairs. */
  fields: Map<string, string>;
  /** -e value of a control rule. */
  enable?: string;
}

export type AuditLoad =
  { kind: 'ok'; rules: AuditRule[]; files: string[] } | { kind: 'error'; message: string };

/**
 * The audit rules auditd loads: /etc/audit/rules.d/*.rules concatenated in lexical order (augenrules), or, when
 * that directory holds no rules file, /etc/audit/audit.rules.
 */
export function loadAuditRules(fs: RootFs): AuditLoad {
  const listed = fs.list('/etc/audit/rules.d');
  if (listed.kind === 'error') return listed;
  let files =
    listed.kind === 'ok'
      ? listed.names.filter((n) => n.endsWith('.rules')).map((n) => `/etc/audit/rules.d/${n}`)
      : [];
  if (files.length === 0) files = ['/etc/audit/audit.rules'];
  const rules: AuditRule[] = [];
  const read: string[] = [];
  for (const file of files) {
    const r = fs.read(file);
    if (r.kind === 'error') return r;
    if (r.kind !== 'ok') continue;
    read.push(file);
    r.text.split('\n').forEach((raw, i) => {
      const text = raw.trim();
      if (text === '' || text.startsWith('#')) return;
      rules.push(parseAuditRule(text, file, i + 1));
    });
  }
  return { kind: 'ok', rules, files: read };
}

export function parseAuditRule(text: string, file: string, line: number): AuditRule {
  const tokens = text.split(/\s+/);
  const rule: AuditRule = { text, file, line, syscalls: [], fields: new Map() };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    const next = tokens[i + 1];
    switch (t) {
      case '-w':
        rule.watch = next;
        i++;
        break;
      case '-p':
        rule.perms = next;
        i++;
        break;
      case '-a':
      case '-A':
        rule.action = next;
        i++;
        break;
      case '-S':
        rule.syscalls.push(...(next ?? '').split(','));
        i++;
        break;
      case '-F': {
        const m = /^([^=!<>&]+)(=|!=)(.*)$/.exec(next ?? '');
        if (m && m[2] === '=') rule.fields.set(m[1] as string, m[3] as string);
        i++;
        break;
      }
      case '-e':
        rule.enable = next;
        i++;
        break;
      default:
        break;
    }
  }
  return rule;
}
