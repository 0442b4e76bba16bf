export {
  acquireServers,
  pinnedKafkaVersion,
  tcpAnswers,
  type AcquireOptions,
  type Servers,
  type ServerInfo,
  type ServerSource,
} from './servers.js';
export { repoRoot, corpusPath } from './repo-paths.js';
export { fixedClock, type FixedClock } from './fixed-clock.js';
export { uniqueName } from './unique-name.js';
export { freshDatabase, type FreshDatabase } from './fresh-database.js';
export {
  startRegistry,
  type StartRegistryOptions,
  type TestRegistry,
  type RegistryAuth,
} from './registry-server.js';
export {
  writeTestImage,
  tarBytes,
  type TestImageSpec,
  type TestLayer,
  type TestImageFile,
  type TestImageConfig,
  type TestImageCorruption,
  type TestPlatform,
  type TestCompression,
  type TarMember,
  type WrittenTestImage,
  type WrittenLayer,
} from './oci-image.js';
export {
  startFakeApiServer,
  type FakeApiServer,
  type FakeApiServerOptions,
  type FakeApiRequest,
} from './k8s-api-server.js';
