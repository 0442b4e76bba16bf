import { readFileSync } from 'node:fs';
import { ConfigError } from './load-config.js';
import { defineOptions, opt } from './option.js';

/** Where a config file comes from; its keys are the options' `fileKey`s (e.g. `{"kafka":{"brokers":["k:9092"]}}`). */
export const configFileOptions = defineOptions({
  configFile: opt.string({
    env: 'VIGIL_CONFIG',
    flag: 'config',
    description:
      'A JSON file of options, keyed as kafka.brokers, http.port, database.url... (env and flags win over it)',
  }),
});

/** Reads a JSON config file for loadConfig's `file`; any problem is a ConfigError naming the file. */
export function readConfigFile(
  path: string,
  source = 'env VIGIL_CONFIG or flag --config',
): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      'configFile',
      source,
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      'configFile',
      source,
      `${path} is not valid JSON: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError('configFile', source, `${path} must hold a JSON object`);
  }
  return parsed as Record<string, unknown>;
}
