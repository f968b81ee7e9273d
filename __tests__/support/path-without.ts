/**
 * A PATH for the bundle on which some programs of this machine are missing (a runner without
 * bubblewrap): one folder linking every program of the test's own PATH but those named.
 */
import { existsSync, mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export function pathWithout(folder: string, missing: readonly string[]): string {
  mkdirSync(folder, { recursive: true });
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter((d) => d.startsWith('/') && existsSync(d))) {
    for (const name of readdirSync(dir)) {
      const target = join(dir, name);
      if (missing.includes(name) || existsSync(join(folder, name))) continue;
      if (!statSync(target, { throwIfNoEntry: false })?.isFile()) continue;
      symlinkSync(target, join(folder, name));
    }
  }
  return folder;
}
