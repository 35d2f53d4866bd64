// Reader process for the atomic-writer tests: reads every file of a volume in a tight loop and counts
// states a reader must never see. Runs until <stopFile> exists or <maxMs> passes; prints a JSON summary.
// Each file's content is `gen=<n>;name=<name>;` + padding + `;end`, so a partial file is detectable.
const fs = require('node:fs');
const path = require('node:path');
const [target, names, stopFile, maxMs] = [
  process.argv[2],
  process.argv[3].split(','),
  process.argv[4],
  Number(process.argv[5]),
];
const started = Date.now();
const result = {
  reads: 0,
  snapshots: 0,
  torn: 0,
  empty: 0,
  mixed: 0,
  missing: 0,
  generations: new Set(),
  samples: [],
};
const parse = (text, name) => {
  const m = /^gen=(\d+);name=([^;]+);x*;end$/.exec(text);
  if (!m || m[2] !== name) return undefined;
  return Number(m[1]);
};
const note = (kind, detail) => {
  result[kind]++;
  if (result.samples.length < 5) result.samples.push({ kind, detail });
};
let loops = 0;
while (!fs.existsSync(stopFile) && Date.now() - started < maxMs && loops < 5_000_000) {
  loops++;
  // 1. Each user-visible file on its own: complete, never empty.
  for (const name of names) {
    let text;
    try {
      text = fs.readFileSync(path.join(target, name), 'utf8');
    } catch (err) {
      // The file vanishing between symlink resolution and open while the old generation is removed is
      // an ENOENT, not a torn read; count it separately so the test can bound it.
      note('missing', `${name}: ${err.code}`);
      continue;
    }
    result.reads++;
    if (text.length === 0) note('empty', name);
    else if (parse(text, name) === undefined) note('torn', `${name}: ${text.slice(0, 40)}`);
    else result.generations.add(parse(text, name));
  }
  // 2. One generation through ..data: all files from one directory carry one generation.
  let dir;
  try {
    dir = path.join(target, fs.readlinkSync(path.join(target, '..data')));
  } catch {
    note('missing', '..data');
    continue;
  }
  const gens = new Set();
  let complete = true;
  for (const name of names) {
    try {
      gens.add(parse(fs.readFileSync(path.join(dir, name), 'utf8'), name));
    } catch {
      complete = false; // the generation was retired while we read it; not a mix
      break;
    }
  }
  if (complete) {
    result.snapshots++;
    if (gens.size !== 1 || gens.has(undefined)) note('mixed', JSON.stringify([...gens]));
  }
}
process.stdout.write(JSON.stringify({ ...result, generations: result.generations.size }));
