import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { corpusPath, repoRoot } from '@vigil/testing';
import { explainNetwork, renderNetworkExplanation } from './explain.js';
import { contextOf, load } from './network.spec-helper.js';

const boutique = corpusPath('k8s', 'manifests', 'microservices-demo');

test('explain: who reaches Online Boutique paymentservice, with both sides of every connection', async () => {
  const objs = await load([join(boutique, 'kubernetes-manifests.yaml'), join(boutique, 'network-policies')]);
  const e = explainNetwork(objs, 'default/paymentservice');
  assert.equal(e.workload, 'Deployment/default/paymentservice');
  assert.equal(e.ingress.class, 'restricted');
  assert.deepEqual(e.ingress.workloads, [
    {
      workload: 'Deployment/default/checkoutservice',
      ports: ['TCP 50051'],
      egressVia: ['checkoutservice spec.egress[0]'],
      ingressVia: ['paymentservice spec.ingress[0]'],
    },
  ]);
  assert.deepEqual(e.ingress.external, []);
  // Its egress is open ("- {}"), but in-cluster it only gets through to pods whose ingress admits it: frontend.
  assert.equal(e.egress.class, 'open');
  assert.deepEqual(
    e.egress.workloads.map((w) => w.workload),
    ['Deployment/default/frontend'],
  );
  assert.deepEqual(e.egress.external, ['any address on every port (paymentservice spec.egress[0])']);
  const cart = explainNetwork(objs, 'Deployment/default/cartservice');
  assert.deepEqual(
    cart.ingress.workloads.map((w) => `${w.workload} ${w.ports.join(',')}`),
    ['Deployment/default/frontend TCP 7070', 'Deployment/default/checkoutservice TCP 7070'],
  );
  assert.deepEqual(
    cart.egress.workloads.filter((w) => w.workload.endsWith('redis-cart')).map((w) => w.ports),
    [['TCP 6379']],
  );
  const text = renderNetworkExplanation(e);
  assert.match(text, /Ingress \(what can reach it\): restricted — isolated by deny-all, paymentservice/);
  assert.match(
    text,
    /paymentservice spec\.ingress\[0\]: from pods app=checkoutservice of the same namespace \[Deployment\/default\/checkoutservice\] on TCP 50051/,
  );
});

test('explain: Acme Pay payment-api — isolated ingress from checkout-web only, egress open because nothing enforces it', async () => {
  const ctx = contextOf(await load([join(repoRoot(), 'examples', 'payments', 'k8s')]));
  const e = explainNetwork(ctx, 'payments/payment-api');
  assert.equal(e.cde, true);
  assert.deepEqual(e.ingress.workloads, [
    {
      workload: 'Deployment/storefront/checkout-web',
      ports: ['TCP 8443'],
      egressVia: ['not isolated'],
      ingressVia: ['payment-api-from-checkout spec.ingress[0]'],
    },
  ]);
  assert.equal(
    e.egress.verdict,
    'selected by default-deny-ingress, payment-api-from-checkout, but none enforces egress: every destination is allowed',
  );
  assert.deepEqual(e.egress.external, ['any address']);
  // Reaching the tokenizer is limited by the tokenizer's own ingress rule to TCP 8080.
  assert.deepEqual(e.egress.workloads.find((w) => w.workload === 'Deployment/payments/tokenizer')?.ports, [
    'TCP 8080',
  ]);
  const ledger = explainNetwork(ctx, 'StatefulSet/payments/ledger-db');
  assert.deepEqual(
    ledger.ingress.workloads.map((w) => w.workload),
    [
      'Deployment/payments/payment-api',
      'Deployment/payments/tokenizer',
      'Deployment/storefront/checkout-web',
    ],
  );
  // node-agent runs in the host network: its connections come from the node's address, which no pod selector matches.
  assert.ok(!ledger.ingress.rules[0]!.peers[0]!.includes('node-agent'));
  const web = explainNetwork(ctx, 'storefront/checkout-web');
  assert.equal(web.ingress.verdict, 'no NetworkPolicy selects the pod: every source is allowed');
  assert.deepEqual(web.exposure, {
    services: ['Service/storefront/checkout-web LoadBalancer (external) ports 80/TCP'],
    ingresses: [
      'Ingress/storefront/checkout-web hosts shop.acme-pay.example without TLS for shop.acme-pay.example',
    ],
  });
});

test('explain: unknown and badly written pod references are errors that say what exists', async () => {
  const objs = await load([join(repoRoot(), 'examples', 'payments', 'k8s')]);
  assert.throws(
    () => explainNetwork(objs, 'payments/nope'),
    /pod "payments\/nope": no workload of that name in the input \(namespace payments has Deployment\/payments\/payment-api, Deployment\/payments\/tokenizer, StatefulSet\/payments\/ledger-db\)/,
  );
  assert.throws(
    () => explainNetwork(objs, 'payment-api'),
    /expected namespace\/name or Kind\/namespace\/name/,
  );
  assert.throws(() => explainNetwork(objs, 'Pod/payments/payment-api'), /no workload of that name/);
});
