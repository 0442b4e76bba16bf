// Every case of ../shared/corpus/image/images: real `docker save` archives. The layer cases check the merged
// filesystem after each layer (chain_layers) and the not-found answer for dangling links; alpine-311 checks the
// image metadata and, through the analyzers, its 14 apk packages.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { corpusPath } from '@vigil/testing';
import { extractPackages } from '../analyzers/extract.js';
import { isWanted } from '../analyzers/registry.js';
import { openImage } from './open-image.js';
import { squashImage } from './squash.js';

interface ChainFile {
  path: string;
  content?: string;
  content_repeat?: { text: string; times: number };
}

interface Case {
  format: string;
  inputs: string[];
  chain_layers?: { index: number; ignore: boolean; files: ChainFile[] }[];
  on_read?: { error: string };
  image?: {
    repo_tags: string[];
    config_digest: string;
    architecture: string;
    os: string;
    created: string;
    layers: { diff_id: string; created_by: string; uncompressed_size: number }[];
  };
  os?: { family: string; version: string; release: string };
  package_db?: string;
  packages?: { name: string; version: string; arch: string; source_name: string; source_version: string }[];
}

const root = corpusPath('image', 'images');
const cases = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

async function load(name: string): Promise<Case> {
  const { readFile } = await import('node:fs/promises');
  return JSON.parse(await readFile(join(root, name, 'expected.json'), 'utf8')) as Case;
}

function expectedText(f: ChainFile): string | undefined {
  if (f.content !== undefined) return f.content;
  if (f.content_repeat) return f.content_repeat.text.repeat(f.content_repeat.times);
  return undefined;
}

describe('corpus images', () => {
  it('has the six cases the README lists', () => {
    assert.equal(cases.length, 6);
  });

  for (const name of cases) {
    it(name, async () => {
      const c = await load(name);
      const source = await openImage(join(root, name, c.inputs[0]!));
      try {
        assert.equal(source.kind, 'docker-archive');
        for (const chain of c.chain_layers ?? []) {
          if (chain.ignore) continue;
          const squashed = await squashImage(source, { wanted: () => true, layerCount: chain.index + 1 });
          assert.equal(squashed.layers.length, chain.index + 1);
          for (const f of chain.files) {
            const file = squashed.file(f.path);
            const want = expectedText(f);
            if (c.on_read) {
              // Dangling links: the target was never added, so every listed path must be not-found.
              assert.equal(file, undefined, `${name} layer ${chain.index}: ${f.path} should not resolve`);
              continue;
            }
            assert.ok(file, `${name} layer ${chain.index}: ${f.path} missing`);
            assert.equal(Buffer.from(await file.read()).toString('utf8'), want, `${name}: ${f.path}`);
            assert.ok(file.size > 0);
          }
        }
        if (c.image) {
          const img = c.image;
          assert.deepEqual(source.repoTags, img.repo_tags);
          assert.equal(source.configDigest, img.config_digest);
          assert.equal(source.config.architecture, img.architecture);
          assert.equal(source.config.os, img.os);
          assert.equal(source.config.created, img.created);
          const squashed = await squashImage(source, { wanted: isWanted });
          assert.deepEqual(
            squashed.layers.map((l) => ({
              diff_id: l.diffId,
              created_by: l.createdBy,
              uncompressed_size: l.size,
            })),
            img.layers,
          );
          assert.ok(squashed.file(c.package_db!), 'the apk database is kept');
          const { os, packages } = await extractPackages(squashed.files);
          assert.equal(os?.id, c.os!.family);
          assert.equal(os?.version_id, c.os!.version);
          assert.deepEqual(
            packages
              .map((p) => [p.name, p.version, p.arch, p.sourceName, p.sourceVersion ?? p.version])
              .sort(),
            c.packages!.map((p) => [p.name, p.version, p.arch, p.source_name, p.source_version]).sort(),
          );
          assert.ok(packages.every((p) => p.ecosystem === `Alpine:v${c.os!.release}`));
          assert.ok(packages.every((p) => p.location === c.package_db));
        }
      } finally {
        await source.close();
      }
    });
  }
});
