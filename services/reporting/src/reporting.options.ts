import { databaseOptions, defineOptions, opt } from '@vigil/config';

export const reportingOptions = defineOptions({
  ...databaseOptions,
  entityType: opt.enum({
    env: 'VIGIL_ENTITY_TYPE',
    fileKey: 'reporting.entityType',
    values: ['merchant', 'service_provider'],
    default: 'merchant',
    description: 'Assessed entity: service-provider-only requirements are not applicable to a merchant',
  }),
});
