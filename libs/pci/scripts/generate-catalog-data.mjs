#!/usr/bin/env node
// Writes src/catalog.data.ts from the reference facts (ids, nesting, applicability, scanner coverage, future-dated
// flags) and a tab-separated file of our own titles (`<id>\t<title>` per line). Used to create the data module;
// afterwards the data module is the source of truth and catalog.spec.ts checks it still agrees with the facts.
//
//   node libs/pci/scripts/generate-catalog-data.mjs ../shared/pci/requirements-v4.0.1.json titles.tsv > libs/pci/src/catalog.data.ts
import { readFileSync } from 'node:fs';

const [factsPath, titlesPath] = process.argv.slice(2);
if (!factsPath || !titlesPath) {
  console.error('usage: generate-catalog-data.mjs <requirements-v4.0.1.json> <titles.tsv>');
  process.exit(2);
}
const facts = JSON.parse(readFileSync(factsPath, 'utf8'));
const titles = new Map();
readFileSync(titlesPath, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .forEach((line, i) => {
    const [id, title, extra] = line.split('\t');
    if (!id || !title || extra !== undefined) throw new Error(`${titlesPath}:${i + 1}: expected "<id>\\t<title>"`);
    if (titles.has(id)) throw new Error(`${titlesPath}:${i + 1}: duplicate id ${id}`);
    titles.set(id, title);
  });

const q = (s) => `'${String(s).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const lines = facts.map((e) => {
  const title = titles.get(e.id);
  if (!title) throw new Error(`no title for ${e.id}`);
  if (title === e.title_paraphrase) throw new Error(`title of ${e.id} repeats the reference wording`);
  const parts = [
    `id: ${q(e.id)}`,
    `parent: ${e.parent === null ? 'null' : q(e.parent)}`,
    `level: ${q(e.level)}`,
    `title: ${q(title)}`,
    `applicability: ${q(e.applicability)}`,
    `automatable: [${e.automatable.map(q).join(', ')}]`,
    `coverage: ${q(e.coverage)}`,
    `futureDated: ${e.future_dated === false ? 'false' : q(e.future_dated)}`,
  ];
  if (e.goal !== undefined) parts.push(`goal: ${e.goal}`);
  if (e.aliases?.length) parts.push(`aliases: [${e.aliases.map(q).join(', ')}]`);
  return `  { ${parts.join(', ')} },`;
});
const unknown = [...titles.keys()].filter((id) => !facts.some((e) => e.id === id));
if (unknown.length) throw new Error(`titles for ids not in the facts: ${unknown.join(', ')}`);

process.stdout.write(`// PCI DSS v4.0.1: every defined id, in the standard's order. Ids, nesting, applicability, scanner coverage and
// future-dated flags are facts transcribed from the reference set; titles are our own short summaries, not the
// standard's wording (read the official document for that). Generated once by scripts/generate-catalog-data.mjs;
// edit here, catalog.spec.ts keeps it in line with the reference facts.
import { type Requirement } from './requirement.model.js';

// One entry per line keeps the table reviewable.
// prettier-ignore
export const CATALOG_DATA: readonly Requirement[] = [
${lines.join('\n')}
];
`);
