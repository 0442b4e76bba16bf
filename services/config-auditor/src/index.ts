export { ConfigAuditorModule, type ConfigAuditorModuleOptions } from './config-auditor.module.js';
export { CONFIG_AUDITOR_GROUP, configAuditorEngine } from './scan-request.consumer.js';
