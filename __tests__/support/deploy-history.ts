// Fills a bare deployment repository with earlier deploys quickly, with plain git writing straight
// into it (no server involved, so nothing is counted, and no pack of gigabytes to compute): one
// commit per image, each folder laid out as the writer lays it out, `latest` naming the newest.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runProcess, serverGitEnv } from './bare-repo.js';
import { shaOf } from './deploy-scenario.js';

const AUTHOR = {
  GIT_AUTHOR_NAME: 'history',
  GIT_AUTHOR_EMAIL: 'history@example.invalid',
  GIT_COMMITTER_NAME: 'history',
  GIT_COMMITTER_EMAIL: 'history@example.invalid',
};

async function git(repo: string, work: string, args: string[]): Promise<string> {
  const env = serverGitEnv({
    ...AUTHOR,
    GIT_DIR: repo,
    GIT_WORK_TREE: work,
    GIT_INDEX_FILE: path.join(work, '.index'),
  });
  // the fastest zlib level: these objects are written once and never sent anywhere whole
  const r = await runProcess('git', ['-c', 'core.looseCompression=1', ...args], { cwd: work, env, timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

export interface HistoryOptions {
  readonly target: string;
  readonly images: number;
  readonly imageBytes: number;
  /** Commit time of image i is `start + i` minutes. */
  readonly start: number;
}

/**
 * Commits a README and then `images` deploys to `main` of the bare repository at `repo`; returns
 * the shas deployed, oldest first.
 */
export async function seedHistory(repo: string, scratch: string, o: HistoryOptions): Promise<string[]> {
  const work = await mkdtemp(path.join(scratch, 'history-'));
  try {
    await writeFile(path.join(work, 'README.md'), '# deployment repository\n');
    await git(repo, work, ['add', 'README.md']);
    await git(repo, work, ['commit', '--quiet', '-m', 'start']);
    const shas: string[] = [];
    for (let i = 0; i < o.images; i++) {
      const sha = shaOf(`history ${o.target} ${i}`);
      const folder = path.join(work, o.target, sha);
      await mkdir(folder, { recursive: true });
      // incompressible, like a compressed image: a download of one shows in any byte count
      const data = randomBytes(o.imageBytes);
      await writeFile(path.join(folder, 'hello.bz2'), data);
      await writeFile(path.join(folder, 'config.ml'), `(* ${sha} *)\n`);
      const time = new Date(o.start + i * 60_000).toISOString();
      const digest = createHash('sha256').update(data).digest('hex');
      const manifest = {
        schema: 1,
        source: { repository: 'mirage/mirage-www', sha, ref: 'refs/heads/main', commitTime: time },
        run: { url: 'https://github.com/mirage/mirage-www/actions/runs/1' },
        target: o.target,
        image: {
          name: 'hello',
          file: 'hello.bz2',
          sha256: digest,
          size: data.length,
          compression: 'bzip2',
          compressedSha256: digest,
          compressedSize: data.length,
        },
        files: ['config.ml'],
        versions: { ocaml: '4.13.1', opam: '2.4.1', mirage: '4.11.1' },
        builtAt: time,
      };
      await writeFile(path.join(folder, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      await writeFile(path.join(work, o.target, 'latest'), `${sha}\n`);
      await git(repo, work, ['add', '--', `${o.target}/${sha}`, `${o.target}/latest`]);
      await git(repo, work, ['commit', '--quiet', '-m', `adding ${sha} for ${o.target}`]);
      shas.push(sha);
      // the folder is in the repository now: keep the scratch space to one image
      await rm(folder, { recursive: true, force: true });
    }
    await unlink(path.join(work, '.index'));
    return shas;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
