// `infra/local/kafka.sh smoke`: proves that kafkajs, the client vigil uses, can do against the pinned broker
// what the event log needs: admin (createTopics, describeCluster, fetchTopicMetadata, fetchTopicOffsets,
// fetchOffsets, describeGroups, deleteTopics), an idempotent acks=-1 producer, and a consumer group of two members
// that split the partitions and commit. Prints what the broker answered.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';

const brokers = (process.argv[2] ?? '127.0.0.1:9092').split(',');
const kafka = new Kafka({ clientId: 'vigil-kafka-smoke', brokers, logLevel: logLevel.ERROR });
const suffix = randomUUID().slice(0, 8);
const topic = `smoke.${suffix}`;
const groupId = `smoke-${suffix}`;
const total = 50;

const admin = kafka.admin();
await admin.connect();
const cluster = await admin.describeCluster();
await admin.createTopics({
  waitForLeaders: true,
  topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
});
const meta = await admin.fetchTopicMetadata({ topics: [topic] });

const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await producer.connect();
await producer.send({
  topic,
  acks: -1,
  messages: Array.from({ length: total }, (_, i) => ({
    key: `k${i % 5}`,
    value: `v${i}`,
    headers: { n: String(i) },
  })),
});
await producer.disconnect();

// Two members of one group: each gets a share of the 3 partitions, and together they see every message once.
const seen = new Set();
const partitionsByMember = [new Set(), new Set()];
const consumers = [0, 1].map(() =>
  kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 1000 }),
);
await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`consumed ${seen.size} of ${total} within 30 s`)), 30000);
  consumers.forEach(async (consumer, member) => {
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          partitionsByMember[member].add(partition);
          seen.add(message.value.toString());
          await consumer.commitOffsets([
            { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
          ]);
          if (seen.size === total) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    } catch (err) {
      reject(err);
    }
  });
});
const [group] = (await admin.describeGroups([groupId])).groups;
await Promise.all(consumers.map((c) => c.disconnect()));
const ends = await admin.fetchTopicOffsets(topic);

const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
const committed = offsets[0].partitions.reduce((sum, p) => sum + Number(p.offset), 0);
await admin.deleteTopics({ topics: [topic] });
await admin.disconnect();

console.log(
  `cluster ${cluster.clusterId}, brokers ${cluster.brokers.map((b) => `${b.host}:${b.port}`).join(',')}`,
);
console.log(`topic ${topic}: ${meta.topics[0].partitions.length} partitions`);
console.log(
  `produced ${total} (idempotent, acks=-1), log end offsets sum ${ends.reduce((n, p) => n + Number(p.offset), 0)}`,
);
console.log(
  `group ${groupId}: ${group.state} with ${group.members.length} members (protocol ${group.protocol})`,
);
console.log(
  `consumed ${seen.size}; partitions per member: ${partitionsByMember.map((p) => [...p].sort().join(',') || '-').join(' | ')}`,
);
console.log(`committed offsets sum ${committed}`);
if (seen.size !== total || committed !== total) {
  console.error('smoke: the consumer group did not commit every message');
  process.exit(1);
}
