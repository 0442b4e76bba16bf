export { HostAssessorModule, type HostAssessorModuleOptions } from './host-assessor.module.js';
export {
  HOST_ASSESSOR_GROUP,
  HOST_CHECKS_MEDIA_TYPE,
  HOST_CHECKS_ROLE,
  HOST_PACKAGE_SCAN_MEDIA_TYPE,
  HOST_PACKAGE_SCAN_ROLE,
  PACKAGE_LIST_MEDIA_TYPE,
  PACKAGE_LIST_ROLE,
  assessNode,
  hostAssessorEngine,
  type HostAssessorEngineOptions,
  type NodeAssessment,
} from './scan-request.consumer.js';
export {
  HOST_PACKAGE_CHECK,
  osPackageFiles,
  scanHostPackages,
  type HostPackageScan,
  type HostPackageScanInput,
} from './host-packages.js';
export { hostAssessorOptions, type HostAssessorConfig } from './host-assessor.options.js';
