export { HostAssessorModule, type HostAssessorModuleOptions } from './host-assessor.module.js';
export { HOST_ASSESSOR_GROUP, hostAssessorEngine } from './scan-request.consumer.js';
