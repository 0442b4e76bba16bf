// One entry for local images: tells a docker save archive, an OCI layout directory and an oci-archive apart by
// what they contain (not by file name), then hands them to their reader. `path:tag` picks one image of several.
import { stat } from 'node:fs/promises';
import { type BlobStore, DirectoryStore, TarStore } from './blob-store.js';
import { readDockerArchive } from './docker-archive.js';
import { readOciLayout } from './oci-layout.js';
import { type Platform, parsePlatform } from './platform.js';
import { ImageError, type ImageSource } from './source.js';

export interface OpenImageOptions {
  /** "os/arch[/variant]" or a Platform; default linux/amd64 (a single-platform image is read whatever it is). */
  platform?: string | Platform;
  /** Parent directory for the temp copy of a compressed archive (default: the OS temp dir). */
  tempDir?: string;
  /** Most bytes a compressed archive may inflate to (default 24 GiB). */
  maxArchiveBytes?: number;
}

async function kindOf(path: string): Promise<'dir' | 'file' | undefined> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : undefined;
  } catch {
    return undefined;
  }
}

/** The path and the tag of `path:tag`, when `path` alone is not a file. */
async function splitTag(name: string): Promise<{ path: string; tag?: string; kind: 'dir' | 'file' }> {
  const direct = await kindOf(name);
  if (direct) return { path: name, kind: direct };
  // The tag may hold colons itself (`image.tar:registry:5000/app:1`): the path is the first prefix that exists.
  for (let colon = name.indexOf(':'); colon > 0; colon = name.indexOf(':', colon + 1)) {
    const path = name.slice(0, colon);
    const kind = await kindOf(path);
    if (kind) return { path, tag: name.slice(colon + 1), kind };
  }
  throw new ImageError(name, 'no such image file or directory');
}

export async function openImage(name: string, options: OpenImageOptions = {}): Promise<ImageSource> {
  const { path, tag, kind } = await splitTag(name);
  let platform: Platform | undefined;
  try {
    platform = typeof options.platform === 'string' ? parsePlatform(options.platform) : options.platform;
  } catch (err) {
    throw new ImageError(name, (err as Error).message);
  }
  const store: BlobStore =
    kind === 'dir'
      ? new DirectoryStore(name, path)
      : await TarStore.open(name, path, {
          tempDir: options.tempDir,
          maxArchiveBytes: options.maxArchiveBytes,
        });
  try {
    const selection = { ...(tag !== undefined ? { tag } : {}), ...(platform ? { platform } : {}) };
    if (await store.has('manifest.json')) return await readDockerArchive(store, selection);
    if (await store.has('oci-layout'))
      return await readOciLayout(store, kind === 'dir' ? 'oci-layout' : 'oci-archive', selection);
    throw new ImageError(
      name,
      kind === 'dir'
        ? 'not an image directory: no oci-layout or manifest.json'
        : 'not an image archive: no manifest.json (docker save) or oci-layout (OCI) inside',
    );
  } catch (err) {
    await store.close();
    throw err;
  }
}
