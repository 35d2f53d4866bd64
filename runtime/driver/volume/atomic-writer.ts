// Writes a provider's files into the volume so that a reader never sees a mix of old and new files or
// a half-written one: the files go into a fresh timestamped directory, then the `..data` symlink is
// swapped to it with one rename(2). User-visible names are top-level symlinks into `..data`, so an
// application (and inotify on `..data`) sees one consistent generation at a time. Same on-disk layout as
// upstream and kubelet's own writer (`..data`, `..data_tmp`, `..YYYY_MM_DD_HH_MM_SS.<random>`).
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PayloadPathError, validatePayloadPaths } from './payload-path';

export const DATA_DIR_LINK = '..data';
const DATA_DIR_TMP_LINK = '..data_tmp';

/** One file of the payload, as the provider returned it. */
export interface PayloadFile {
  /** Relative path inside the volume (validated). */
  readonly path: string;
  /** Permission bits 0–511 (decimal of an octal mode such as 0644 = 420). */
  readonly mode: number;
  readonly contents: Uint8Array;
}

/** What a write did. */
export interface WriteResult {
  /** False when every file already had the same bytes and mode, so nothing was written. */
  readonly changed: boolean;
  /** Name of the timestamped directory `..data` now points to. */
  readonly dataDir: string;
}

/** Options of a write. */
export interface WriteOptions {
  /**
   * How long a replaced generation stays on disk for readers that resolved `..data` just before the swap
   * (the generation replaced by this very write is always kept until a later write).
   * @default 5000
   */
  readonly retiredGraceMs?: number;
}

/** Validates the payload (paths and modes) without touching the disk. */
export function validatePayload(files: readonly PayloadFile[]): void {
  validatePayloadPaths(files.map((f) => f.path));
  for (const f of files) {
    if (!Number.isInteger(f.mode) || f.mode < 0 || f.mode > 0o777) {
      throw new PayloadPathError(
        f.path,
        `file mode ${f.mode} is outside 0-511 (0000-0777 octal); return permission bits only`,
      );
    }
  }
}

/** Writes `files` into `targetDir` atomically; see the file comment. Throws before writing on bad input. */
export function writePayloadAtomically(
  targetDir: string,
  files: readonly PayloadFile[],
  options: WriteOptions = {},
): WriteResult {
  validatePayload(files);
  const oldDataDir = readDataDirName(targetDir);
  if (oldDataDir !== undefined && sameAsWritten(path.join(targetDir, oldDataDir), files)) {
    return { changed: false, dataDir: oldDataDir };
  }
  const newDataDir = timestampedDirName();
  const newDataPath = path.join(targetDir, newDataDir);
  fs.mkdirSync(newDataPath, { mode: 0o755 });
  fs.chmodSync(newDataPath, 0o755);
  try {
    for (const f of files) {
      const filePath = path.join(newDataPath, f.path);
      fs.mkdirSync(path.dirname(filePath), { recursive: true, mode: 0o755 });
      fs.writeFileSync(filePath, f.contents, { mode: f.mode, flag: 'wx' });
      fs.chmodSync(filePath, f.mode); // exactly the provider's mode, whatever the umask
    }
  } catch (err) {
    fs.rmSync(newDataPath, { recursive: true, force: true });
    throw err;
  }
  const newTopLevel = new Set(files.map((f) => f.path.split('/')[0]));
  for (const name of newTopLevel) ensureTopLevelLink(targetDir, name);
  // The swap: a reader resolving `..data` sees either the old or the new directory, never a mix.
  const tmpLink = path.join(targetDir, DATA_DIR_TMP_LINK);
  fs.rmSync(tmpLink, { force: true });
  fs.symlinkSync(newDataDir, tmpLink);
  fs.renameSync(tmpLink, path.join(targetDir, DATA_DIR_LINK));
  removeStaleTopLevelLinks(targetDir, newTopLevel);
  retireGenerations(targetDir, newDataDir, oldDataDir, options.retiredGraceMs ?? 5000);
  return { changed: true, dataDir: newDataDir };
}

/**
 * The user-visible files of a volume: relative path → absolute path, following the top-level symlinks
 * and skipping the writer's `..` entries (what secret sync reads).
 */
export function readMountedFiles(targetDir: string): Map<string, string> {
  const result = new Map<string, string>();
  const walk = (absolute: string, relative: string): void => {
    const stat = fs.statSync(absolute);
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(absolute)) walk(path.join(absolute, entry), `${relative}/${entry}`);
    } else if (stat.isFile()) {
      result.set(relative, absolute);
    }
  };
  for (const entry of fs.readdirSync(targetDir)) {
    if (entry.startsWith('..')) continue;
    walk(path.join(targetDir, entry), entry);
  }
  return result;
}

function readDataDirName(targetDir: string): string | undefined {
  try {
    return fs.readlinkSync(path.join(targetDir, DATA_DIR_LINK));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** True when the directory holds exactly these files with the same bytes and modes. */
function sameAsWritten(dataPath: string, files: readonly PayloadFile[]): boolean {
  let existing: Map<string, string>;
  try {
    existing = listFiles(dataPath);
  } catch {
    return false;
  }
  if (existing.size !== files.length) return false;
  for (const f of files) {
    const absolute = existing.get(f.path);
    if (absolute === undefined) return false;
    const stat = fs.statSync(absolute);
    if ((stat.mode & 0o777) !== f.mode || stat.size !== f.contents.length) return false;
    if (!Buffer.from(f.contents).equals(fs.readFileSync(absolute))) return false;
  }
  return true;
}

function listFiles(root: string): Map<string, string> {
  const result = new Map<string, string>();
  const walk = (dir: string, prefix: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path.join(dir, entry.name), relative);
      else result.set(relative, path.join(dir, entry.name));
    }
  };
  walk(root, '');
  return result;
}

/**
 * `<target>/<name>` → `..data/<name>`. An entry that is not our symlink (a file a legacy provider wrote
 * itself, or a directory) is replaced, as upstream's cleanup of provider-written files does.
 */
function ensureTopLevelLink(targetDir: string, name: string): void {
  const linkPath = path.join(targetDir, name);
  const wanted = `${DATA_DIR_LINK}/${name}`;
  try {
    const stat = fs.lstatSync(linkPath);
    if (stat.isSymbolicLink() && fs.readlinkSync(linkPath) === wanted) return;
    fs.rmSync(linkPath, { recursive: true, force: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  fs.symlinkSync(wanted, linkPath);
}

function removeStaleTopLevelLinks(targetDir: string, keep: ReadonlySet<string>): void {
  for (const entry of fs.readdirSync(targetDir)) {
    if (entry.startsWith('..') || keep.has(entry)) continue;
    const entryPath = path.join(targetDir, entry);
    if (fs.lstatSync(entryPath).isSymbolicLink()) fs.unlinkSync(entryPath);
  }
}

const GENERATION_DIR = /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.[0-9a-f]+$/;

/** Per volume: generations replaced by a swap, with the time they were replaced. */
const retiredGenerations = new Map<string, Map<string, number>>();

/**
 * Removes replaced generation directories once they have been out of `..data` for `graceMs`, and always
 * keeps the one just replaced: a reader that resolved `..data` a moment before the swap can still open
 * its files (upstream removes it at once, and such a reader gets ENOENT for a file that exists).
 * Generations this process never saw replaced (from before a driver restart) go at once.
 */
function retireGenerations(
  targetDir: string,
  current: string,
  replaced: string | undefined,
  graceMs: number,
): void {
  const now = Date.now();
  let retired = retiredGenerations.get(targetDir);
  if (!retired) retiredGenerations.set(targetDir, (retired = new Map()));
  if (replaced !== undefined) retired.set(replaced, now);
  for (const entry of fs.readdirSync(targetDir)) {
    if (!GENERATION_DIR.test(entry) || entry === current || entry === replaced) continue;
    const since = retired.get(entry);
    if (since !== undefined && now - since < graceMs) continue;
    fs.rmSync(path.join(targetDir, entry), { recursive: true, force: true });
    retired.delete(entry);
  }
}

/** The volume is gone: forget its generations (NodeUnpublishVolume). */
export function forgetVolume(targetDir: string): void {
  retiredGenerations.delete(targetDir);
}

function timestampedDirName(): string {
  const d = new Date();
  const pad = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${d.getUTCFullYear()}_${pad(d.getUTCMonth() + 1)}_${pad(d.getUTCDate())}_${pad(d.getUTCHours())}_${pad(d.getUTCMinutes())}_${pad(d.getUTCSeconds())}`;
  return `..${stamp}.${randomBytes(5).toString('hex')}`;
}
