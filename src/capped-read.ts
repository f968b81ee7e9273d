/**
 * Reading a file that someone else wrote (an artifact of another job, a folder of the deployment
 * repository, a file an input names): looked at with lstat first, so that a link or a folder is
 * refused and a file over the cap is never read.
 */
import { lstat, readFile } from 'node:fs/promises';

export type CappedRead =
  | { readonly kind: 'missing' }
  | { readonly kind: 'not-file' }
  | { readonly kind: 'too-large'; readonly size: number }
  | { readonly kind: 'read'; readonly text: string; readonly size: number };

export async function readCapped(path: string, cap: number): Promise<CappedRead> {
  const info = await lstat(path).catch(() => undefined);
  if (info === undefined) return { kind: 'missing' };
  if (!info.isFile()) return { kind: 'not-file' };
  if (info.size > cap) return { kind: 'too-large', size: info.size };
  return { kind: 'read', text: await readFile(path, 'utf8'), size: info.size };
}
