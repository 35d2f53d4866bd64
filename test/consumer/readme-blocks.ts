import * as fs from 'fs';

// The README's code a consumer project is built from, found by the marker line that precedes each fenced
// block (`<!-- consumer-test: <project> <what> -->`), so the test runs the README's own text and it cannot
// drift from what the test checks.

const MARKED_BLOCK = /<!-- consumer-test: (\S+) (\S+) -->\s*\n```\w*\n([\s\S]*?)\n```/g;

export interface ReadmeBlocks {
  /** Code by `<project> <what>`, e.g. `cdk8s main.ts`. */
  readonly get: (project: string, what: string) => string;
  /** The packages a marked `npm install` line names, e.g. ['aks-secrets-store', 'cdk8s', ...]. */
  readonly installPackages: (project: string) => string[];
}

export function readmeBlocks(readmePath: string): ReadmeBlocks {
  const text = fs.readFileSync(readmePath, 'utf8');
  const blocks = new Map<string, string>();
  for (const [, project, what, code] of text.matchAll(MARKED_BLOCK)) {
    const key = `${project} ${what}`;
    if (blocks.has(key)) throw new Error(`${readmePath}: two blocks marked "consumer-test: ${key}"`);
    blocks.set(key, code + '\n');
  }
  const get = (project: string, what: string): string => {
    const code = blocks.get(`${project} ${what}`);
    if (code === undefined) {
      throw new Error(
        `${readmePath} has no fenced block after "<!-- consumer-test: ${project} ${what} -->"; the consumer test runs that block`,
      );
    }
    return code;
  };
  const installPackages = (project: string): string[] => {
    const lines = get(project, 'install')
      .split('\n')
      .filter((line) => line.trim() !== '');
    const words = lines.length === 1 ? lines[0].trim().split(/\s+/) : [];
    if (words[0] !== 'npm' || words[1] !== 'install' || words.length < 3) {
      throw new Error(
        `${readmePath}: the "${project} install" block must be one "npm install <packages>" line, not ${JSON.stringify(lines)}`,
      );
    }
    return words.slice(2);
  };
  return { get, installPackages };
}
