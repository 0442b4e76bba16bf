export { opt, defineOptions, flagOf } from './option.js';
export type { Option, OptionDecls, OptionType, ConfigOf, AnySpec } from './option.js';
export { loadConfig, parseArgv, parseDuration, requireOption, ConfigError } from './load-config.js';
export type { ConfigSource, LoadConfigInput, ParsedArgv, ParseArgvOptions } from './load-config.js';
export { describeOptions, redactConfig } from './describe.js';
export { configFileOptions, readConfigFile } from './config-file.js';
export {
  eventLogOptions,
  databaseOptions,
  httpOptions,
  telemetryOptions,
  instanceOptions,
  EVENT_LOG_KINDS,
  LOG_LEVELS,
} from './common-options.js';
export type { EventLogKind, LogLevel } from './common-options.js';
