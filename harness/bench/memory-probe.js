// Bench only: preloaded into a measured Node process (`node --require <this file> ...`) so the bench can
// read the process's own memory breakdown at a moment it picks. On SIGUSR2 it writes one JSON object,
// process.memoryUsage() plus V8's heap spaces and /proc/self/status, to $AKS_SS_MEMORY_PROBE (replaced
// atomically, `seq` counting up); with $AKS_SS_HEAP_SNAPSHOT_DIR set it also writes a heap snapshot there.
// Plain CommonJS with node: built-ins only, so it adds nothing the measured process would not load.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');

const out = process.env.AKS_SS_MEMORY_PROBE;
const snapshotDir = process.env.AKS_SS_HEAP_SNAPSHOT_DIR;
if (out) {
  let seq = 0;
  process.on('SIGUSR2', () => {
    seq++;
    const usage = process.memoryUsage();
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const kib = (field) => Number((new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status) || [])[1] || NaN);
    const spaces = {};
    for (const space of v8.getHeapSpaceStatistics())
      spaces[space.space_name] = { size: space.space_size, used: space.space_used_size };
    let snapshot;
    if (snapshotDir)
      snapshot = v8.writeHeapSnapshot(path.join(snapshotDir, `${process.pid}-${seq}.heapsnapshot`));
    const sample = {
      seq,
      rss: usage.rss,
      heapTotal: usage.heapTotal,
      heapUsed: usage.heapUsed,
      external: usage.external,
      arrayBuffers: usage.arrayBuffers,
      rssAnonKiB: kib('RssAnon'),
      rssFileKiB: kib('RssFile'),
      threads: Number((/^Threads:\s+(\d+)/m.exec(status) || [])[1] || NaN),
      heapSpaces: spaces,
      mallocedMemory: v8.getHeapStatistics().malloced_memory,
      snapshot,
    };
    fs.writeFileSync(`${out}.tmp`, JSON.stringify(sample));
    fs.renameSync(`${out}.tmp`, out);
  });
}
