// The shape every image reader produces, whatever the image came from: a `docker save` archive, an OCI layout
// directory or archive, or a registry. The layer reader (squash) and the scan use only this.
import type { Readable } from 'node:stream';

/** The parts of an image config (OCI image spec "config" / docker's container_config) the scan reads. */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  config?: {
    User?: string;
    Env?: string[];
    Labels?: Record<string, string>;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    ExposedPorts?: Record<string, unknown>;
  };
  rootfs?: { type?: string; diff_ids?: string[] };
  history?: { created?: string; created_by?: string; empty_layer?: boolean; comment?: string }[];
}

export interface LayerDescriptor {
  /** Digest of the blob as stored (compressed), "sha256:<hex>"; verified while the blob is read. */
  digest: string;
  mediaType: string;
  /** Size of the stored blob in bytes, as the manifest says. */
  size: number;
  /** Digest of the uncompressed tar (config rootfs.diff_ids[i]); verified while the layer is read. */
  diffId: string;
  /** The history entry that made the layer (Dockerfile instruction), when the config has one. */
  createdBy?: string;
  /** A fresh stream over the stored blob bytes. The caller detects the compression and verifies the digest. */
  open(): Promise<Readable>;
}

export type ImageSourceKind = 'docker-archive' | 'oci-layout' | 'oci-archive' | 'registry';

export interface ImageSource {
  /** What the user named (a path or a reference); every error message starts with it. */
  name: string;
  kind: ImageSourceKind;
  /** "registry/repository:tag" references the image is known by (docker save RepoTags, OCI ref.name annotation). */
  repoTags: string[];
  /** Digest of the manifest ("sha256:…"), when the source has one; docker-archive has none. */
  manifestDigest?: string;
  configDigest: string;
  config: ImageConfig;
  layers: LayerDescriptor[];
  /** Releases temp files or connections the source holds. */
  close(): Promise<void>;
}

/** An image that cannot be read; the message names the image and the problem. */
export class ImageError extends Error {
  constructor(
    readonly image: string,
    problem: string,
  ) {
    super(`${image}: ${problem}`);
    this.name = 'ImageError';
  }
}
