export { CorrelatorModule, type CorrelatorModuleOptions } from './correlator.module.js';
export {
  FindingsConsumer,
  CORRELATOR_GROUP,
  CORRELATOR_TOPICS,
  createCorrelatorHandler,
} from './findings.consumer.js';
