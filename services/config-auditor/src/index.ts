export { ConfigAuditorModule, type ConfigAuditorModuleOptions } from './config-auditor.module.js';
export { CONFIG_AUDITOR_GROUP, configAuditorEngine } from './scan-request.consumer.js';
export { configAuditorOptions, type ConfigAuditorConfig } from './config-auditor.options.js';
export { LiveAuditTrigger, type LiveAuditTriggerOptions } from './live-audit.trigger.js';
