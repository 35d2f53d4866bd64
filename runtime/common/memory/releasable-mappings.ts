// Which of this process's memory mappings may be given back with madvise(MADV_DONTNEED) without losing a
// byte: private, read-only mappings of regular files this process never wrote (no page copied on write).
// The kernel then unmaps their resident pages; the file's page cache keeps them, and a later use maps the
// same bytes again (a minor fault).
// Anything else (writable, copied-on-write, anonymous, shared, devices, memfd, deleted files) is never
// touched: there DONTNEED would throw data away.

/** One mapping of /proc/<pid>/smaps: its range, permissions, path and the kB fields we read. */
export interface SmapsMapping {
  readonly start: bigint;
  readonly end: bigint;
  /** e.g. `r-xp`. */
  readonly perms: string;
  /** The mapped file, a pseudo-name like `[heap]`, or empty for anonymous memory. */
  readonly path: string;
  /** Resident kB. */
  readonly rssKiB: number;
  /**
   * kB of the mapping's own copies (copied-on-write or anonymous pages); must be 0 for a mapping we release.
   * (Private_Dirty is not the test: a file written shortly before, like an image layer containerd has just
   * unpacked, shows dirty page-cache pages there, which stay in the page cache when unmapped.)
   */
  readonly anonymousKiB: number;
  /** Set when the kernel reports the mapping locked (mlock), which DONTNEED refuses. */
  readonly locked: boolean;
}

const HEADER = /^([0-9a-f]+)-([0-9a-f]+) ([r-][w-][x-][ps]) [0-9a-f]+ [0-9a-f]+:[0-9a-f]+ \d+ *(.*)$/;
const FIELD = /^(\w+):\s+(\d+) kB$/;

/** Parses /proc/<pid>/smaps text. A mapping whose fields are missing reads as not releasable. */
export function parseSmaps(text: string): SmapsMapping[] {
  const mappings: SmapsMapping[] = [];
  let current: { -readonly [K in keyof SmapsMapping]: SmapsMapping[K] } | undefined;
  for (const line of text.split('\n')) {
    const header = HEADER.exec(line);
    if (header) {
      current = {
        start: BigInt(`0x${header[1]}`),
        end: BigInt(`0x${header[2]}`),
        perms: header[3],
        path: header[4],
        rssKiB: 0,
        // Unknown until read: a mapping without these lines is never released.
        anonymousKiB: Number.NaN,
        locked: false,
      };
      mappings.push(current);
      continue;
    }
    if (!current) continue;
    const field = FIELD.exec(line);
    if (field) {
      const kib = Number(field[2]);
      if (field[1] === 'Rss') current.rssKiB = kib;
      else if (field[1] === 'Anonymous') current.anonymousKiB = kib;
      else if (field[1] === 'Locked' && kib > 0) current.locked = true;
    } else if (line.startsWith('VmFlags:') && / lo( |$)/.test(line)) {
      current.locked = true;
    }
  }
  return mappings;
}

/** Paths that are not a regular file of the image even though they start with `/`. */
const NOT_A_FILE = /^\/(dev|proc|sys|memfd:)|\(deleted\)$|^\/SYSV/;

/** The mappings of `mappings` that are safe to release (see the file's header), with pages resident. */
export function releasableMappings(mappings: readonly SmapsMapping[]): SmapsMapping[] {
  return mappings.filter(
    (m) =>
      m.perms[1] === '-' &&
      m.perms[3] === 'p' &&
      m.path.startsWith('/') &&
      !NOT_A_FILE.test(m.path) &&
      m.anonymousKiB === 0 &&
      !m.locked &&
      m.rssKiB > 0 &&
      m.end > m.start,
  );
}
