import { loadAuditRules, type AuditLoad } from './parsers/audit-rules.parser.js';
import { configValue, loadComponentConfig, type LoadedConfig } from './parsers/component-config.parser.js';
import { parseLoginDefs, type LoginDefsEntry } from './parsers/login-defs.parser.js';
import { loadSshdConfig, type SshdLoad } from './parsers/sshd-config.parser.js';
import { loadSysctl, type SysctlLoad } from './parsers/sysctl.parser.js';
import { loadTimeSync, type TimeSyncLoad } from './parsers/time-sync.parser.js';
import { NodeIdentity } from './node-identity.js';
import { parseFlags, readProcesses, type Flags, type NodeProcess } from './processes.js';
import { type RootFs } from './root-fs.js';

/** A running Kubernetes component: its process, flags and config file (from --config, with --config-dir drop-ins). */
export interface Component {
  process: NodeProcess;
  flags: Flags;
  config?: LoadedConfig;
}

export type LoginDefsLoad =
  | { kind: 'ok'; entries: Map<string, LoginDefsEntry> }
  | { kind: 'absent' }
  | { kind: 'error'; message: string };

/**
 * Everything the checks read about one node, each source parsed once on first use so a check that does not apply
 * costs nothing.
 */
export class NodeFacts {
  readonly identity: NodeIdentity;
  readonly processes: NodeProcess[];
  readonly processErrors: string[];
  private memo = new Map<string, unknown>();

  constructor(readonly fs: RootFs) {
    this.identity = NodeIdentity.load(fs);
    const { processes, errors } = readProcesses(fs);
    this.processes = processes;
    this.processErrors = errors;
  }

  private once<T>(key: string, load: () => T): T {
    if (!this.memo.has(key)) this.memo.set(key, load());
    return this.memo.get(key) as T;
  }

  get kubelet(): Component | undefined {
    return this.once('kubelet', () => this.component('kubelet', true));
  }

  get kubeProxy(): Component | undefined {
    return this.once('kube-proxy', () => this.component('kube-proxy', false));
  }

  /** A running component by its process name; the control-plane components are read without a config file. */
  componentNamed(name: string): Component | undefined {
    if (name === 'kubelet') return this.kubelet;
    if (name === 'kube-proxy') return this.kubeProxy;
    return this.once(`component:${name}`, () => this.component(name, false, false));
  }

  /** A host counts as a Kubernetes node when kubelet runs on it. */
  get isKubernetesNode(): boolean {
    return this.kubelet !== undefined;
  }

  get sshd(): SshdLoad {
    return this.once('sshd', () => loadSshdConfig(this.fs));
  }

  get loginDefs(): LoginDefsLoad {
    return this.once('login.defs', () => {
      const r = this.fs.read('/etc/login.defs');
      return r.kind === 'ok' ? { kind: 'ok', entries: parseLoginDefs(r.text) } : r;
    });
  }

  get sysctl(): SysctlLoad {
    return this.once('sysctl', () => loadSysctl(this.fs));
  }

  get timeSync(): TimeSyncLoad {
    return this.once('time', () => loadTimeSync(this.fs));
  }

  get auditRules(): AuditLoad {
    return this.once('audit', () => loadAuditRules(this.fs));
  }

  private component(name: string, withDropIns: boolean, withConfig = true): Component | undefined {
    const process = this.processes.find((p) => p.name === name);
    if (!process) return undefined;
    const flags = parseFlags(process.argv);
    const configPath = withConfig ? flags.get('config') : undefined;
    const config = configPath
      ? loadComponentConfig(this.fs, configPath, withDropIns ? flags.get('config-dir') : undefined)
      : undefined;
    return { process, flags, config };
  }
}

/** Where a kubelet/kube-proxy setting comes from: the flag wins over the config file (documented kubelet behaviour). */
export interface EffectiveSetting {
  from: 'flag' | 'config' | 'unset';
  value?: string;
  /** "kubelet --anonymous-auth" or "/var/lib/kubelet/config.yaml authentication.anonymous.enabled". */
  where: string;
}

export function effectiveSetting(component: Component, flag: string, configKey?: string): EffectiveSetting {
  const processName = component.process.name;
  const flagName = flag.replace(/^--/, '');
  if (!flag.startsWith('--')) {
    // A feature gate: --feature-gates=Name=true,Other=false
    const gates = component.flags.get('feature-gates');
    const gate = gates
      ?.split(',')
      .map((g) => g.split('='))
      .find(([k]) => k?.trim() === flagName);
    if (gate)
      return {
        from: 'flag',
        value: (gate[1] ?? 'true').trim(),
        where: `${processName} --feature-gates ${flagName}`,
      };
  } else if (component.flags.has(flagName)) {
    return { from: 'flag', value: component.flags.get(flagName), where: `${processName} --${flagName}` };
  }
  const cfg = component.config;
  if (configKey && cfg?.kind === 'ok') {
    const value = configValue(cfg.tree, configKey);
    const where = `${cfg.path} ${configKey}`;
    if (value !== undefined) return { from: 'config', value, where };
    return { from: 'unset', where: `${processName} ${flag} / ${where}` };
  }
  return { from: 'unset', where: `${processName} ${flag}` };
}
