// Alpine (and Wolfi/Chainguard) packages from lib/apk/db/installed: one record per package, single-letter keys.
// P name, V version, A arch, o origin (the source package Alpine advisories are keyed by), L license,
// F a directory and R a file in the last F directory.
import { type ExtractedPackage, MalformedInputError, type PackageAnalyzer, readText } from './analyzer.js';
import { osvEcosystem } from './os-release.analyzer.js';
import { purl } from './purl.js';

const DB = 'lib/apk/db/installed';

export const apkAnalyzer: PackageAnalyzer = {
  kind: 'packages',
  id: 'apk',
  version: 1,
  concerns: (path) => path === DB,
  async analyze(files, context) {
    const os = context.os;
    const ecosystem = osvEcosystem(os, 'Alpine');
    const namespace = os?.id ?? 'alpine';
    const distro = os?.id && os.version_id ? `${os.id}-${os.version_id}` : undefined;
    const out: ExtractedPackage[] = [];
    for (const db of files) {
      const lines = (await readText(db)).split(/\r?\n/);
      let rec: Record<string, string> = {};
      let filesOf: string[] = [];
      let dir = '';
      let start = 0;
      const flush = (end: number): void => {
        const name = rec['P'];
        const version = rec['V'];
        if (name && version) {
          const pkg: ExtractedPackage = {
            ecosystem,
            name,
            version,
            sourceName: rec['o'] ?? name,
            sourceVersion: version,
            purl: purl('apk', namespace, name, version, { arch: rec['A'], distro }),
            installedFiles: filesOf,
            location: db.path,
            lines: [start + 1, end],
            foundBy: { id: 'apk', version: 1 },
          };
          if (rec['A']) pkg.arch = rec['A'];
          if (rec['L']) pkg.licenses = [rec['L']];
          out.push(pkg);
        }
        rec = {};
        filesOf = [];
        dir = '';
      };
      lines.forEach((line, i) => {
        if (line.trim() === '') {
          if (Object.keys(rec).length) flush(i);
          return;
        }
        if (Object.keys(rec).length === 0) start = i;
        if (line[1] !== ':')
          throw new MalformedInputError(
            db.path,
            `line ${i + 1}: expected "X:value", got ${JSON.stringify(line.slice(0, 40))}`,
          );
        const key = line[0]!;
        const value = line.slice(2);
        if (key === 'F') dir = value;
        else if (key === 'R') filesOf.push(dir ? `${dir}/${value}` : value);
        else if (!(key in rec)) rec[key] = value;
      });
      if (Object.keys(rec).length) flush(lines.length);
    }
    return out;
  },
};
