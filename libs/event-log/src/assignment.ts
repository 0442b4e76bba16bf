// Which member of a consumer group reads which partition on the embedded log. Every member computes this from the
// same inputs (the live members and the topics' partition counts), so they agree without a coordinator: members
// sorted by id, partitions sorted by (topic, partition), dealt out round-robin among the members reading each topic.

export interface GroupMember {
  memberId: string;
  topics: readonly string[];
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function assignPartitions(
  members: readonly GroupMember[],
  topics: ReadonlyMap<string, number>,
): Map<string, TopicPartition[]> {
  const sorted = [...members].sort((a, b) => byString(a.memberId, b.memberId));
  const out = new Map<string, TopicPartition[]>(sorted.map((m) => [m.memberId, []]));
  const topicNames = [...topics.keys()].sort(byString);
  let turn = 0;
  for (const topic of topicNames) {
    const readers = sorted.filter((m) => m.topics.includes(topic));
    if (readers.length === 0) continue;
    const count = topics.get(topic)!;
    for (let partition = 0; partition < count; partition++) {
      out.get(readers[turn % readers.length]!.memberId)!.push({ topic, partition });
      turn++;
    }
  }
  return out;
}
