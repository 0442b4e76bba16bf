import { flagOf, type ConfigOf, type Option, type OptionDecls } from './option.js';

const REDACTED = '[redacted]';

function placeholder(option: Option<unknown>): string {
  const spec = option.spec as { values?: readonly string[] };
  switch (option.type) {
    case 'bool':
      return '';
    case 'enum':
      return ` <${spec.values!.join('|')}>`;
    case 'list':
      return spec.values ? ` <${spec.values.join('|')},...>` : ' <a,b,...>';
    default:
      return ` <${option.type}>`;
  }
}

function formatDefault(option: Option<unknown>): string | undefined {
  const value = option.spec.default;
  if (value === undefined) return option.spec.required ? 'required' : undefined;
  if (option.spec.secret) return `default ${REDACTED}`;
  if (option.type === 'duration') return `default ${String(value)}ms`;
  return `default ${Array.isArray(value) ? value.join(',') : String(value)}`;
}

/** Help text for the declared options, one per line: flag, env var, description, default. */
export function describeOptions(decls: OptionDecls): string {
  const rows = Object.entries(decls).map(([name, option]) => {
    const left = `--${flagOf(name, option)}${placeholder(option)}`;
    const notes = [option.spec.env ? `env ${option.spec.env}` : undefined, formatDefault(option)].filter(
      Boolean,
    );
    return { left, right: `${option.spec.description}${notes.length ? ` (${notes.join(', ')})` : ''}` };
  });
  const width = Math.min(40, Math.max(0, ...rows.map((r) => r.left.length)));
  return rows.map((r) => `  ${r.left.padEnd(width)}  ${r.right}`).join('\n');
}

/** The loaded configuration with secret values replaced, safe to log or print. */
export function redactConfig<D extends OptionDecls>(decls: D, config: ConfigOf<D>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(decls)) {
    const value = (config as Record<string, unknown>)[name];
    out[name] = option.spec.secret && value !== undefined ? REDACTED : value;
  }
  return out;
}
