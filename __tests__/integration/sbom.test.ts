/**
 * Knowing what was deployed, through the bundle with the offline opam fixture: the SBOM beside the
 * image (lock file, switch export, CycloneDX), the diff against `latest` after a lock file moved,
 * and the reproducibility check passing on the stand-in build and catching a build made
 * non-deterministic on purpose, with nothing pushed.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/deploy/manifest.js';
import { createBareRepo, snapshotRepo } from '../support/bare-repo.js';
import { bareGit, filesAt, showFile, sshDeployInputs } from '../support/deploy-scenario.js';
import { checkoutExample, fixtureInputs, useFixtureScope } from '../support/fixture-action.js';
import type { RunResult } from '../support/harness.js';
import { startSshd, type SshdServer } from '../support/sshd.js';
import { summaryValues } from '../support/summary-table.js';

const FIRST = '0123456789abcdef0123456789abcdef01234567';
const SECOND = '1123456789abcdef0123456789abcdef01234567';
const BROKEN = '2123456789abcdef0123456789abcdef01234567';

const fixture = useFixtureScope('sbom-');
let repo: string;
let sshd: SshdServer;
let workspace: string;
let first: RunResult;

beforeAll(async () => {
  repo = await createBareRepo(join(fixture.base, 'deployment.git'));
  sshd = await startSshd({ repoPath: repo });
  workspace = join(fixture.base, 'workspace');
  mkdirSync(workspace, { recursive: true });
  checkoutExample(workspace);
}, 120_000);

afterAll(async () => {
  await sshd?.stop();
});

function run(sha: string, root: string, inputs: Record<string, string> = {}): Promise<RunResult> {
  return fixture.run({
    workspace,
    sha,
    env: { OPAMROOT: join(fixture.base, root) },
    inputs: {
      target: 'xen',
      ...fixtureInputs(fixture.opamRepoUrl),
      cache: 'false',
      deploy: 'true',
      ...sshDeployInputs(sshd),
      ...inputs,
    },
    timeoutMs: 300_000,
  });
}

/** `name@version` of every `depends` entry, read with a regex rather than the action's parser. */
function lockedPackages(lock: string): string[] {
  const depends = /^depends: \[\n([\s\S]*?)^\]/m.exec(lock)?.[1] ?? '';
  return [...depends.matchAll(/^\s*"([^"]+)" \{= "([^"]+)"/gm)].map((m) => `${m[1]}@${m[2]}`).sort();
}

interface Component {
  name: string;
  version: string;
  hashes?: Array<{ alg: string; content: string }>;
  externalReferences?: Array<{ type: string; url: string }>;
}

describe('what was deployed', () => {
  it('stores the lock file, the switch export and a valid CycloneDX SBOM listing exactly the locked packages', async () => {
    first = await run(FIRST, 'root-1', { reproducible: 'strict' });
    expect(first.main.exitCode, first.log).toBe(0);
    const folder = `xen/${FIRST}`;
    expect(await filesAt(repo, 'main', folder)).toEqual(
      expect.arrayContaining([
        `${folder}/hello.opam.locked`,
        `${folder}/hello.switch-export`,
        `${folder}/hello.cdx.json`,
      ]),
    );
    const manifest = parseManifest(await showFile(repo, 'main', `${folder}/manifest.json`));
    const lock = await showFile(repo, 'main', `${folder}/hello.opam.locked`);
    expect(lock).toBe(readFileSync(join(workspace, 'hello/mirage/hello-xen.opam.locked'), 'utf8'));
    const packages = lockedPackages(lock);
    expect(packages).toContain('duration@0.2.1');
    expect(manifest?.images['hello.xen.bz2']?.sbom).toEqual({
      lockFile: 'hello.opam.locked',
      switchExport: 'hello.switch-export',
      cyclonedx: 'hello.cdx.json',
      packages: packages.length,
    });
    expect(first.outputs.packages).toBe(String(packages.length));

    const text = await showFile(repo, 'main', `${folder}/hello.cdx.json`);
    expect(readFileSync(first.outputs.sbom ?? '', 'utf8')).toBe(text);
    expect(await new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(text)).toBeNull();
    const bom = JSON.parse(text) as {
      components: Component[];
      metadata: { component: Component; tools: { components: Component[] } };
    };
    expect(bom.components.map((c) => `${c.name}@${c.version}`).sort()).toEqual(packages);
    expect(bom.metadata.component.hashes).toEqual([{ alg: 'SHA-256', content: first.outputs['image-sha256'] }]);
    const tools = bom.metadata.tools.components.map((t) => `${t.name}@${t.version}`);
    expect(tools).toEqual(
      expect.arrayContaining(['mirage@4.11.1+stand-in', 'ocaml-system@4.13.1', 'opam-monorepo@0.4.1+stand-in']),
    );
    expect(await showFile(repo, 'main', `${folder}/hello.switch-export`)).toMatch(/^installed: \[/m);

    // the source archive named for each vendored package is the one pulled, with its real sha256
    for (const c of bom.components.filter((c) => c.externalReferences !== undefined)) {
      const url = c.externalReferences?.[0]?.url ?? '';
      expect(url).toMatch(/^file:\/\//);
      const sha256 = createHash('sha256')
        .update(readFileSync(fileURLToPath(url)))
        .digest('hex');
      expect(c.hashes).toContainEqual({ alg: 'SHA-256', content: sha256 });
    }

    expect(first.outputs.reproducible).toBe('true');
    const summary = summaryValues(first.summary);
    expect(summary.reproducible).toBe(
      'yes: a second build in another folder, from a clean state, gave the same sha256',
    );
    // Relative to the workspace, as every path of the summary.
    expect(summary.SBOM).toBe(
      `${relative(first.dirs.workspace, first.outputs.sbom ?? '')} (${packages.length} packages)`,
    );
    expect(JSON.parse(first.outputs.diff ?? '')).toEqual({ first: true });
    expect(first.summary).toContain('**hello**: first deploy');
  }, 300_000);

  it('a second deploy whose lock upgrades one package and adds one says exactly that, with the size change', async () => {
    // the fixture repository gains logs 0.7.1 and a new package ptime, which the unikernel now uses
    const opamRepo = fileURLToPath(fixture.opamRepoUrl);
    const logs = join(opamRepo, 'packages/logs');
    cpSync(join(logs, 'logs.0.7.0'), join(logs, 'logs.0.7.1'), { recursive: true });
    const ptimeSrc = join(fixture.base, 'ptime-src/ptime.1.0.0');
    mkdirSync(ptimeSrc, { recursive: true });
    writeFileSync(join(ptimeSrc, 'ptime.ml'), 'let epoch = 0.\n');
    const archive = join(opamRepo, 'archives/ptime.1.0.0.tar.gz');
    execFileSync('tar', ['-czf', archive, '-C', join(fixture.base, 'ptime-src'), 'ptime.1.0.0']);
    const md5 = createHash('md5').update(readFileSync(archive)).digest('hex');
    const sha256 = createHash('sha256').update(readFileSync(archive)).digest('hex');
    mkdirSync(join(opamRepo, 'packages/ptime/ptime.1.0.0'), { recursive: true });
    writeFileSync(
      join(opamRepo, 'packages/ptime/ptime.1.0.0/opam'),
      'opam-version: "2.0"\nsynopsis: "POSIX time (test stand-in)"\nmaintainer: "test"\nlicense: "ISC"\n' +
        `depends: [ "ocaml" ]\nurl {\n  src: "file://${archive}"\n  checksum: [ "sha256=${sha256}" "md5=${md5}" ]\n}\n`,
    );
    const config = join(workspace, 'hello/config.ml');
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace('package "duration"', 'package "duration"; package "ptime"'),
    );

    const second = await run(SECOND, 'root-2');
    expect(second.main.exitCode, second.log).toBe(0);
    const before = Number(first.outputs['image-size']);
    const after = Number(second.outputs['image-size']);
    expect(JSON.parse(second.outputs.diff ?? '')).toEqual({
      first: false,
      previous: FIRST,
      size: { before, after, change: after - before, percent: Math.round(((after - before) / before) * 1000) / 10 },
      packages: {
        added: [{ name: 'ptime', version: '1.0.0' }],
        removed: [],
        upgraded: [{ name: 'logs', from: '0.7.0', to: '0.7.1' }],
        downgraded: [],
      },
      versions: {},
    });
    expect(after).not.toBe(before);
    const lines = [
      `image size: ${before} → ${after} bytes (${after > before ? '+' : ''}${after - before}, `,
      'added ptime 1.0.0',
      'upgraded logs 0.7.0 → 0.7.1',
    ];
    const body = await bareGit(repo, ['log', '-1', '--format=%B', 'main']);
    for (const line of lines) {
      expect(second.summary).toContain(line);
      expect(body).toContain(line);
    }
    expect(body).toContain(`changes since ${FIRST}:`);
    expect(second.summary).not.toMatch(/removed|downgraded/);
  }, 300_000);

  it('`reproducible: strict` fails before anything is pushed when the build is not deterministic; `check` reports', async () => {
    writeFileSync(
      join(workspace, 'hello/nondeterministic.sh'),
      'set -eu\nmake build\nhead -c 16 /dev/urandom >> dist/hello.xen\n',
    );
    const before = await snapshotRepo(repo);
    const strict = await run(BROKEN, 'root-2', { reproducible: 'strict', 'build-command': 'sh nondeterministic.sh' });
    expect(strict.main.exitCode).toBe(1);
    expect(strict.errors.join('\n')).toMatch(
      /^input `reproducible`: hello\/dist\/hello\.xen is not reproducible: a second build in another folder from a clean state .* first difference at byte offset \d+ .*; nothing was deployed/m,
    );
    expect(summaryValues(strict.summary).reproducible).toMatch(
      /^no: first difference at byte offset \d+ \(sizes \d+ and \d+ bytes\)$/,
    );
    expect(await snapshotRepo(repo)).toBe(before);

    const check = await run(BROKEN, 'root-2', {
      reproducible: 'check',
      'build-command': 'sh nondeterministic.sh',
      deploy: 'false',
    });
    expect(check.main.exitCode, check.log).toBe(0);
    expect(check.outputs.reproducible).toBe('false');
    const size = Number(check.outputs['image-size']);
    const offset = Number(/^::notice title=Image not reproducible::.*byte offset (\d+)/m.exec(check.log)?.[1]);
    // the build is deterministic up to the 16 random bytes appended
    expect(offset).toBeGreaterThanOrEqual(size - 16);
    expect(offset).toBeLessThan(size);
    // `check` deploys the first build's image: the one whose sha256 the outputs give
    expect(
      createHash('sha256')
        .update(readFileSync(check.outputs.image ?? ''))
        .digest('hex'),
    ).toBe(check.outputs['image-sha256']);
  }, 300_000);
});
