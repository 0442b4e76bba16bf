import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acquireServers, pinnedKafkaVersion, tcpAnswers } from './servers.js';

describe('acquireServers with servers from the environment', () => {
  it('fails at once, naming the variable, when KAFKA_BROKERS is not host:port', async () => {
    await assert.rejects(
      acquireServers({ env: { KAFKA_BROKERS: 'localhost', DATABASE_URL: 'postgresql://x@127.0.0.1:1/x' } }),
      /KAFKA_BROKERS: "localhost" is not host:port/,
    );
  });

  it('fails, naming the variable, when the brokers it lists do not answer', async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused immediately.
    await assert.rejects(
      acquireServers({ env: { KAFKA_BROKERS: '127.0.0.1:1', DATABASE_URL: 'postgresql://x@127.0.0.1:1/x' } }),
      /KAFKA_BROKERS=127\.0\.0\.1:1 is set, but none of its brokers accepts a TCP connection/,
    );
  });
});

describe('tcpAnswers', () => {
  it('is false for a refused port and for a host that never answers within the timeout', async () => {
    assert.equal(await tcpAnswers('127.0.0.1', 1, 1_000), false);
    // TEST-NET-1 (RFC 5737) is never routed; the probe must give up at its timeout, not at the kernel's connect
    // timeout (over two minutes), so the bound is far from the 300 ms asked for, whatever the machine's load.
    const started = Date.now();
    assert.equal(await tcpAnswers('192.0.2.1', 9092, 300), false);
    assert.ok(Date.now() - started < 30_000);
  });
});

describe('pinnedKafkaVersion', () => {
  it('reads the one pinned 4.x broker version from infra/local/kafka/pom.xml', () => {
    assert.match(pinnedKafkaVersion(), /^4\.\d+\.\d+$/);
  });
});
