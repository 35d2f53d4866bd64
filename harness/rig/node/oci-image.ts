// Container images without a registry or a Docker engine: layers are plain tar files, and an image is an OCI
// image layout (index.json, manifests, configs, blobs) that `ctr images import` reads. Each manifest in the
// index carries `io.containerd.image.name`, the name the kubelet asks containerd for.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** One uncompressed layer: its digest is also its diff id. */
export interface ImageLayer {
  readonly tarPath: string;
  /** `sha256:<hex>` of the tar. */
  readonly digest: string;
  readonly size: number;
}

/** The parts of an OCI image config the rig's images set. */
export interface ImageConfig {
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  readonly env?: readonly string[];
  readonly workingDir?: string;
}

export interface ImageSpec {
  /** Full reference, e.g. `registry.k8s.io/pause:3.10.1`. */
  readonly name: string;
  /** Lowest layer first. */
  readonly layers: readonly ImageLayer[];
  readonly config: ImageConfig;
}

const MEDIA_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const MEDIA_CONFIG = 'application/vnd.oci.image.config.v1+json';
const MEDIA_LAYER = 'application/vnd.oci.image.layer.v1.tar';

function sha256File(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(1 << 20);
    for (let read; (read = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0;) {
      hash.update(buffer.subarray(0, read));
    }
  } finally {
    fs.closeSync(fd);
  }
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Tars `dir` (its contents at the image root, numeric owners kept, sorted, fixed mtime so an unchanged
 * tree gives the same digest) into `tarPath`, and returns the layer.
 */
export function tarLayer(dir: string, tarPath: string): ImageLayer {
  const partial = `${tarPath}.partial`;
  execFileSync('tar', ['--numeric-owner', '--sort=name', '--mtime=@0', '-C', dir, '-cf', partial, '.'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  fs.renameSync(partial, tarPath);
  return layerOf(tarPath);
}

/** The layer of an existing tar; its digest is cached next to it (`<tar>.sha256`) while size and mtime match. */
export function layerOf(tarPath: string): ImageLayer {
  const stat = fs.statSync(tarPath);
  const stamp = `${stat.size}:${stat.mtimeMs}`;
  const cacheFile = `${tarPath}.sha256`;
  const [cachedStamp, cachedDigest] = fs.existsSync(cacheFile)
    ? fs.readFileSync(cacheFile, 'utf8').trim().split(' ')
    : [];
  if (cachedStamp === stamp && cachedDigest) return { tarPath, digest: cachedDigest, size: stat.size };
  const digest = sha256File(tarPath);
  fs.writeFileSync(cacheFile, `${stamp} ${digest}\n`);
  return { tarPath, digest, size: stat.size };
}

function writeBlob(blobs: string, content: string): { digest: string; size: number } {
  const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
  fs.writeFileSync(path.join(blobs, digest.slice('sha256:'.length)), content);
  return { digest, size: Buffer.byteLength(content) };
}

function linkBlob(blobs: string, layer: ImageLayer): void {
  const target = path.join(blobs, layer.digest.slice('sha256:'.length));
  if (!fs.existsSync(target)) fs.symlinkSync(layer.tarPath, target);
}

/**
 * Writes the images as one OCI image layout in `dir` (layers are symlinks to their tars) and returns the
 * path; {@link importImages} streams it to containerd.
 */
export function writeOciLayout(images: readonly ImageSpec[], dir: string): string {
  const blobs = path.join(dir, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });
  fs.writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const manifests = images.map((image) => {
    image.layers.forEach((layer) => linkBlob(blobs, layer));
    const config = writeBlob(
      blobs,
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: {
          ...(image.config.entrypoint ? { Entrypoint: image.config.entrypoint } : {}),
          ...(image.config.cmd ? { Cmd: image.config.cmd } : {}),
          Env: image.config.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
          ...(image.config.workingDir ? { WorkingDir: image.config.workingDir } : {}),
        },
        rootfs: { type: 'layers', diff_ids: image.layers.map((layer) => layer.digest) },
      }),
    );
    const manifest = writeBlob(
      blobs,
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_MANIFEST,
        config: { mediaType: MEDIA_CONFIG, ...config },
        layers: image.layers.map((layer) => ({
          mediaType: MEDIA_LAYER,
          digest: layer.digest,
          size: layer.size,
        })),
      }),
    );
    return {
      mediaType: MEDIA_MANIFEST,
      ...manifest,
      platform: { architecture: 'amd64', os: 'linux' },
      annotations: { 'io.containerd.image.name': image.name },
    };
  });
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
  return dir;
}

/** Imports an OCI layout into containerd's `k8s.io` namespace (the kubelet's), unpacked for overlayfs. */
export function importImages(layoutDir: string, props: { ctr: string; address: string }): void {
  const archive = `${layoutDir}.tar`;
  // -h: the layer blobs are symlinks into the build cache.
  execFileSync('tar', ['-h', '-C', layoutDir, '-cf', archive, '.'], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    execFileSync(
      props.ctr,
      ['--address', props.address, '-n', 'k8s.io', 'images', 'import', '--snapshotter', 'overlayfs', archive],
      { stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 },
    );
  } finally {
    fs.rmSync(archive, { force: true });
  }
}
