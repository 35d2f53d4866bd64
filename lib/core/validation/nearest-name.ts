// "Did you mean ...?" for a misspelt option key.

/**
 * The known name nearest to `name`, case-insensitively: within edit distance 3, or one containing the
 * other, or `name` written with letters left out (rotationInterval → rotationPollInterval).
 */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: { name: string; score: number } | undefined;
  for (const candidateName of known) {
    const candidate = candidateName.toLowerCase();
    const related =
      candidate.includes(lower) || lower.includes(candidate) || isAbbreviation(lower, candidate);
    const distance = editDistance(lower, candidate);
    if (!related && distance > 3) continue;
    // A related name (prefix, abbreviation) beats a merely similar one of the same length.
    const score = distance - (related ? 100 : 0);
    if (!best || score < best.score) best = { name: candidateName, score };
  }
  return best?.name;
}

/** True when every letter of `short` appears in `long` in order, starting with the same letter. */
function isAbbreviation(short: string, long: string): boolean {
  if (short.length < 3 || short[0] !== long[0] || short.length * 2 < long.length) return false;
  let at = 0;
  for (const char of long) if (char === short[at]) at++;
  return at === short.length;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}
