export { ConfigAuditorModule, type ConfigAuditorModuleOptions } from './config-auditor.module.js';
export { ScanRequestConsumer, CONFIG_AUDITOR_GROUP, configAuditorEngine } from './scan-request.consumer.js';
