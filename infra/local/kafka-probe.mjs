// Used by kafka.sh: one metadata round trip through kafkajs (the client vigil uses) against the local broker.
// Prints the cluster id and exits 0 when the broker answers; exits 1 with the reason on stderr otherwise.
let kafkajs;
try {
  kafkajs = await import('kafkajs');
} catch {
  console.error('kafka-probe: kafkajs is not installed; run npm ci at the repository root first');
  process.exit(3);
}
const { Kafka, logLevel } = kafkajs.default ?? kafkajs;

const brokers = (process.argv[2] ?? '').split(',').filter(Boolean);
if (brokers.length === 0) {
  console.error('kafka-probe: pass the brokers as host:port[,host:port]');
  process.exit(2);
}
const kafka = new Kafka({
  clientId: 'vigil-kafka-probe',
  brokers,
  logLevel: logLevel.NOTHING,
  connectionTimeout: 2000,
  requestTimeout: 5000,
  retry: { retries: 0 },
});
const admin = kafka.admin();
try {
  await admin.connect();
  const cluster = await admin.describeCluster();
  console.log(cluster.clusterId);
  await admin.disconnect();
} catch (err) {
  console.error(`kafka-probe: ${brokers.join(',')} did not answer a metadata request: ${err.message}`);
  await admin.disconnect().catch(() => {});
  process.exit(1);
}
