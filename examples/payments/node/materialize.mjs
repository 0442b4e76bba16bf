// Turns the pay-worker-1 fixture (files/ + node.json) into a real root filesystem: git keeps neither file modes
// and owners nor /proc, so they are applied here — modes and owners from node.json, the kubelet's and
// kube-proxy's command lines written to proc/<N>/cmdline — and the host assessor then reads it as it would read
// a node's / (or a DaemonSet's /host). Prints the root's path. Owners other than root need chown, i.e. root.
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { materializeFixture } from '@vigil/host-assess';

const here = dirname(fileURLToPath(import.meta.url));
const into = resolve(process.argv[2] ?? join(here, '../build/node-root'));
rmSync(into, { recursive: true, force: true });
const { root } = materializeFixture(here, into);
process.stdout.write(`${root}\n`);
