import * as fs from 'fs';
import * as path from 'path';

/**
 * The bytes of the mounted file whose path relative to the volume equals `objectName` (trimmed, as
 * upstream). Names that could leave the volume (absolute, `..`) or reach the writer's own `..data`
 * entries are refused rather than read.
 */
export function readMountedObject(targetPath: string, objectName: string): Buffer {
  const name = objectName.trim();
  const segments = name.split(/[\\/]+/);
  if (!name || path.isAbsolute(name) || segments.some((s) => s === '..' || s.startsWith('..'))) {
    throw new Error(`objectName ${JSON.stringify(name)} is not a relative file path inside the volume`);
  }
  try {
    const file = path.join(targetPath, ...segments);
    if (!fs.statSync(file).isFile()) throw new Error('not a file');
    return fs.readFileSync(file);
  } catch {
    // Upstream's wording, so existing alerts and docs still match.
    throw new Error(`file matching objectName ${name} not found in the pod`);
  }
}
