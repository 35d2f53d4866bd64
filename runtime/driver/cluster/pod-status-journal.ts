// The restart journal of SecretProviderClassPodStatus writes: NodePublishVolume answers kubelet before
// the SPCPS is written (the write runs in the background), so the write it still owes is recorded first
// in one small file per target path, and a restarted driver finds it again. An entry holds what the SPCPS
// holds (pod reference, SPC name, target path, object ids and versions): never file content or a token.
// The directory sits next to the CSI socket, in the plugin directory that outlives the driver's container.
//
// A file in it is not trusted on the way back: anything that is not a small regular file with exactly
// the expected fields, a target path of kubelet's shape for that pod UID and the file name of that path,
// is deleted with a warning, and only a bounded number of files is read.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ObjectVersion } from '../../wire/provider-v1alpha1';
import { targetPathMismatch } from './pod-status';
import type { PodReference } from './ports';

/** One SPCPS write the driver still owes. */
export interface PendingPodStatus {
  readonly pod: PodReference;
  readonly spcName: string;
  readonly targetPath: string;
  readonly objectVersions: readonly ObjectVersion[];
}

/** Options of the PodStatusJournal. */
export interface PodStatusJournalProps {
  /** The journal directory (created 0700 when missing). */
  readonly dir: string;
  /** Told about every file that was deleted on reading because it was not a valid entry. */
  readonly onInvalidEntry?: (file: string, why: string) => void;
  /** Files read at most by readAll (the rest stays for a later start). @default 10000 */
  readonly maxEntries?: number;
}

/** The entry format; a file of another version is not an entry of this driver. */
const FORMAT_VERSION = 1;
/** An entry of 1,000 objects is ~100 KiB; anything larger is not ours. */
export const MAX_ENTRY_BYTES = 256 * 1024;
const ENTRY_SUFFIX = '.json';
const TEMP_PREFIX = '.tmp-';
/** Kubernetes names and UIDs are at most 253 characters; object ids and versions are provider strings. */
const MAX_NAME_LENGTH = 253;
const MAX_OBJECT_STRING_LENGTH = 4096;

export class PodStatusJournal {
  readonly dir: string;
  private dirReady = false;

  constructor(private readonly props: PodStatusJournalProps) {
    this.dir = props.dir;
  }

  /** The entry file of a target path: a hash, so no path text ever becomes a file name. */
  fileOf(targetPath: string): string {
    const digest = createHash('sha256').update(targetPath).digest('hex').slice(0, 40);
    return path.join(this.dir, `${digest}${ENTRY_SUFFIX}`);
  }

  /**
   * Records (or replaces) the pending write of `entry.targetPath`: written to a temporary file and
   * renamed over the entry, so a reader sees the old entry or the new one, never a torn one. Not
   * fsynced: the journal covers a driver restart; a node reboot unmounts every tmpfs, and an entry whose
   * target is no longer a mount point is dropped at start anyway. Throws when the directory is not
   * writable (the caller then writes the SPCPS before answering, as upstream).
   */
  record(entry: PendingPodStatus): void {
    this.ensureDir();
    const file = this.fileOf(entry.targetPath);
    const temp = path.join(this.dir, `${TEMP_PREFIX}${path.basename(file)}-${process.pid}`);
    const body: JournalFile = {
      version: FORMAT_VERSION,
      pod: { namespace: entry.pod.namespace, name: entry.pod.name, uid: entry.pod.uid },
      spcName: entry.spcName,
      targetPath: entry.targetPath,
      objectVersions: entry.objectVersions.map((o) => ({ id: o.id, version: o.version })),
    };
    try {
      fs.writeFileSync(temp, JSON.stringify(body), { mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.dirReady = false; // removed behind the driver's back: created again, once
      this.ensureDir();
      fs.writeFileSync(temp, JSON.stringify(body), { mode: 0o600 });
    }
    try {
      fs.renameSync(temp, file);
    } catch (err) {
      fs.rmSync(temp, { force: true });
      throw err;
    }
  }

  /** The write of `targetPath` is done or no longer owed; a missing entry is fine. */
  forget(targetPath: string): void {
    fs.rmSync(this.fileOf(targetPath), { force: true });
  }

  /**
   * Every valid entry (at most maxEntries files are looked at). Invalid files, leftover temporary files
   * and symlinks are deleted; a subdirectory is left alone with a warning (never removed recursively).
   * A journal directory that does not exist has no entries; one that is not a directory is an error.
   */
  readAll(): PendingPodStatus[] {
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    if (!stat.isDirectory())
      throw new Error(
        `pod status journal ${this.dir} is not a directory; move it away so the driver can create the directory`,
      );
    const limit = this.props.maxEntries ?? 10_000;
    const entries: PendingPodStatus[] = [];
    const dir = fs.opendirSync(this.dir);
    try {
      for (let seen = 0; seen < limit; seen++) {
        const dirent = dir.readSync();
        if (!dirent) break;
        const entry = this.readEntry(dirent);
        if (entry) entries.push(entry);
      }
    } finally {
      dir.closeSync();
    }
    return entries;
  }

  private readEntry(dirent: fs.Dirent): PendingPodStatus | undefined {
    const file = path.join(this.dir, dirent.name);
    if (dirent.isDirectory()) {
      this.props.onInvalidEntry?.(file, 'a directory, not an entry; left alone');
      return undefined;
    }
    if (dirent.name.startsWith(TEMP_PREFIX)) {
      fs.rmSync(file, { force: true }); // a record() cut short by a restart
      return undefined;
    }
    const parsed = this.parseFile(file, dirent);
    if (typeof parsed === 'string') {
      this.props.onInvalidEntry?.(file, parsed);
      fs.rmSync(file, { force: true });
      return undefined;
    }
    return parsed;
  }

  /** The entry in `file`, or why it is not one. */
  private parseFile(file: string, dirent: fs.Dirent): PendingPodStatus | string {
    if (!dirent.isFile()) return 'not a regular file';
    if (!dirent.name.endsWith(ENTRY_SUFFIX)) return 'not an entry file name';
    let text: string;
    try {
      // O_NOFOLLOW: a file swapped for a symlink after the listing is never followed.
      const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      try {
        const size = fs.fstatSync(fd).size;
        if (size > MAX_ENTRY_BYTES) return `${size} bytes, more than ${MAX_ENTRY_BYTES}`;
        text = fs.readFileSync(fd, 'utf8');
      } finally {
        fs.closeSync(fd);
      }
    } catch (err) {
      return `unreadable: ${(err as Error).message}`;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return 'not JSON';
    }
    const entry = entryOf(json);
    if (typeof entry === 'string') return entry;
    const mismatch = targetPathMismatch(entry.targetPath, entry.pod.uid);
    if (mismatch) return mismatch;
    if (this.fileOf(entry.targetPath) !== file) return 'the file name is not the one of its target path';
    return entry;
  }

  private ensureDir(): void {
    if (this.dirReady) return;
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.dirReady = true;
  }
}

/** The file's JSON shape. */
interface JournalFile {
  readonly version: number;
  readonly pod: { readonly namespace: string; readonly name: string; readonly uid: string };
  readonly spcName: string;
  readonly targetPath: string;
  readonly objectVersions: readonly { readonly id: string; readonly version: string }[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_NAME_LENGTH;
}

function isObjectString(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_OBJECT_STRING_LENGTH;
}

/** The entry a parsed file holds, or what is wrong with it; unknown fields are refused (not ours). */
function entryOf(json: unknown): PendingPodStatus | string {
  if (!isRecord(json)) return 'not a JSON object';
  const keys = Object.keys(json).sort().join(',');
  if (keys !== 'objectVersions,pod,spcName,targetPath,version') return `unexpected fields ${keys}`;
  if (json.version !== FORMAT_VERSION) return `format version ${String(json.version)}, not ${FORMAT_VERSION}`;
  const pod = json.pod;
  if (!isRecord(pod) || !isName(pod.namespace) || !isName(pod.name) || !isName(pod.uid))
    return 'pod is not {namespace, name, uid}';
  if (!isName(json.spcName)) return 'spcName is not a name';
  if (typeof json.targetPath !== 'string' || json.targetPath.length > 4096) return 'targetPath is not a path';
  if (!Array.isArray(json.objectVersions)) return 'objectVersions is not a list';
  const objectVersions: ObjectVersion[] = [];
  for (const o of json.objectVersions as unknown[]) {
    if (!isRecord(o) || !isObjectString(o.id) || !isObjectString(o.version))
      return 'objectVersions holds something other than {id, version}';
    objectVersions.push({ id: o.id, version: o.version });
  }
  return {
    pod: { namespace: pod.namespace, name: pod.name, uid: pod.uid },
    spcName: json.spcName,
    targetPath: json.targetPath,
    objectVersions,
  };
}
