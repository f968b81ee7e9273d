/**
 * Reads the entries of an uncompressed tar archive (ustar, with GNU long names and pax paths, as
 * GNU tar writes them): enough to hash opam's `repo/<name>.tar.gz` file by file without writing
 * it out. Pure.
 */

export type TarEntry =
  | { readonly kind: 'file'; readonly path: string; readonly content: Buffer }
  | { readonly kind: 'link'; readonly path: string; readonly target: string };

const BLOCK = 512;

function field(header: Buffer, offset: number, length: number): string {
  const raw = header.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

function octal(header: Buffer, offset: number, length: number): number {
  const text = field(header, offset, length).trim();
  if (!/^[0-7]*$/.test(text)) throw new Error(`a tar header's number \`${text}\` is not octal`);
  return text === '' ? 0 : parseInt(text, 8);
}

/** A pax extended header's `path` record (`<length> path=<value>\n`), if any. */
function paxPath(data: Buffer): string | undefined {
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = Number(data.subarray(at, space).toString('ascii'));
    if (space === -1 || !Number.isSafeInteger(length) || length <= 0) break;
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    if (record.startsWith('path=')) return record.slice('path='.length);
    at += length;
  }
  return undefined;
}

/** The archive's regular files and symbolic links, in archive order; folders are left out. */
export function tarEntries(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let longName: string | undefined;
  let longLink: string | undefined;
  for (let at = 0; at + BLOCK <= archive.length;) {
    const header = archive.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) break;
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] ?? 0);
    const data = archive.subarray(at + BLOCK, at + BLOCK + size);
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L') longName = field(data, 0, data.length);
    else if (type === 'K') longLink = field(data, 0, data.length);
    else if (type === 'x') longName = paxPath(data) ?? longName;
    else if (type === 'g') continue;
    else {
      const prefix = field(header, 345, 155);
      const path = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
      const target = longLink ?? field(header, 157, 100);
      longName = undefined;
      longLink = undefined;
      if (type === '0' || type === '\0' || type === '7') entries.push({ kind: 'file', path, content: data });
      else if (type === '2') entries.push({ kind: 'link', path, target });
    }
  }
  return entries;
}
