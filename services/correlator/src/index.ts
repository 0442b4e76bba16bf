export { CorrelatorModule, type CorrelatorModuleOptions } from './correlator.module.js';
export { CorrelationConsumer, CORRELATOR_GROUP, CORRELATION_RUNNER } from './correlation.consumer.js';
export {
  CorrelationRunner,
  CORRELATOR_TOPICS,
  CORRELATOR_SCANNER,
  type CorrelationRunnerOptions,
  type PublishSummary,
} from './correlation.runner.js';
