/**
 * host/README.md's xen example for the two 2013 sites, run as written: the two commands of its
 * "Both 2013 sites, by hand" block, with only the repository, the key files and /var/lib moved to
 * this test's folder, against stand-ins of `xl` (which, like xl, refuses to create a domain whose
 * name is taken, and reads the name and cmdline from the .xl) and `curl` (which answers for an
 * address some running domain was booted with). Two updates of each site: the second replaces
 * each site's domain.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBareRepo, runProcess } from '../support/bare-repo.js';
import { imageBytes, shaOf } from '../support/deploy-scenario.js';
import { useDeployScratch } from '../support/deploy-scratch.js';
import { PROJECT_ROOT } from '../support/harness.js';
import { MIRAGE_XL_IN, parseXl, seedDeploy } from '../support/host-pull.js';

const scratch = useDeployScratch('host-pull-readme-');

/** The commands of the README's sh block after `marker`, continuation lines joined. */
function readmeCommands(marker: string): string[] {
  const readme = readFileSync(path.join(PROJECT_ROOT, 'host/README.md'), 'utf8');
  const after = readme.slice(readme.indexOf(marker));
  const block = /```sh\n([\s\S]*?)```/.exec(after)?.[1] ?? '';
  return block
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

const XL = `#!/bin/sh
# a stand-in of xl: domains in $XL_DOMAINS, one "name<TAB>cmdline" a line
set -eu
db=$XL_DOMAINS
touch "$db"
name_of() { awk -F '\\t' -v n="$1" '$1 == n' "$db"; }
case $1 in
  destroy)
    [ -n "$(name_of "$2")" ] || { echo "xl: domain $2 does not exist" >&2; exit 1; }
    awk -F '\\t' -v n="$2" '$1 != n' "$db" >"$db.new"; mv "$db.new" "$db" ;;
  create)
    node -e '
      const { parseXl } = require(process.argv[1]);
      const xl = parseXl(require("node:fs").readFileSync(process.argv[2], "utf8"));
      process.stdout.write(xl.get("name") + "\\t" + (xl.get("cmdline") ?? "") + "\\n");
    ' "$XL_PARSER" "$2" >"$db.one"
    name=$(cut -f1 "$db.one")
    if [ -n "$(name_of "$name")" ]; then echo "xl: domain '$name' already exists" >&2; exit 1; fi
    cat "$db.one" >>"$db" ;;
  list) [ -n "$(name_of "$2")" ] ;;
  *) exit 2 ;;
esac
`;

const CURL = `#!/bin/sh
# a stand-in of curl: answers http://ADDRESS/ when a running domain was booted with --ipv4=ADDRESS/
for url; do :; done
address=\${url#http://}; address=\${address%/}
grep -q -- "--ipv4=$address/" "$XL_DOMAINS"
`;

describe("host/README's xen example for both 2013 sites", () => {
  it('runs as written: each site deployed, then updated (its domain replaced)', async () => {
    const base = scratch.base;
    const repo = await createBareRepo(path.join(base, 'mirage-www-deployment.git'));
    const bin = path.join(base, 'bin');
    await runProcess('mkdir', ['-p', bin, path.join(base, 'etc'), path.join(base, 'var')]);
    writeFileSync(path.join(bin, 'xl'), XL, { mode: 0o755 });
    writeFileSync(path.join(bin, 'curl'), CURL, { mode: 0o755 });
    // parseXl for the stand-in, as plain JavaScript
    const parser = path.join(base, 'parse-xl.cjs');
    const support = readFileSync(path.join(PROJECT_ROOT, '__tests__/support/host-pull.ts'), 'utf8');
    const source = /export function parseXl[\s\S]*?\n}\n/.exec(support)?.[0] ?? '';
    const esbuild = await import('esbuild');
    const js = await esbuild.transform(source.replace('export function', 'function'), { loader: 'ts' });
    writeFileSync(parser, `${js.code}\nmodule.exports = { parseXl };\n`);
    for (const f of ['deploy_key', 'known_hosts']) writeFileSync(path.join(base, 'etc', f), '');
    const domains = path.join(base, 'domains');

    const sites = { 'mirage.io': '46.43.42.146', 'openmirage.org': '46.43.42.147' };
    const xlIn = MIRAGE_XL_IN.replace(/^disk.*$/m, '');
    const deploy = (label: string) =>
      seedDeploy(repo, base, {
        directory: 'xen',
        sha: shaOf(label),
        images: Object.entries(sites).map(([site, ip]) => ({
          file: `mir-${site}.xen`,
          bytes: imageBytes(`${label} ${site}`, 4000),
          args: `--ipv4=${ip}/25 --ipv4-gateway=46.43.42.129`,
          sideFiles: { [`mir-${site}.xl.in`]: xlIn },
        })),
      });

    const commands = readmeCommands('Both 2013 sites, by hand').map((c) =>
      c
        .replaceAll('git@github.com:mirage/mirage-www-deployment.git', repo)
        .replaceAll('/etc/mirage-deploy/', `${base}/etc/`)
        .replaceAll('/var/lib/', `${base}/var/`),
    );
    expect(commands).toHaveLength(2);
    const run = (command: string) =>
      runProcess('sh', ['-c', command], {
        env: {
          PATH: `${bin}:${path.join(PROJECT_ROOT, 'host')}:${process.env.PATH ?? ''}`,
          HOME: base,
          LC_ALL: 'C',
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_CONFIG_GLOBAL: '/dev/null',
          XL_DOMAINS: domains,
          XL_PARSER: parser,
        },
        timeoutMs: 120_000,
      });

    for (const label of ['readme first', 'readme second']) {
      await deploy(label);
      for (const command of commands) {
        const r = await run(command);
        expect(r.code, `${command}\n${r.stdout}${r.stderr}`).toBe(0);
        expect(r.stdout).toContain(`updated: xen/${shaOf(label)}`);
      }
    }
    expect(readFileSync(domains, 'utf8')).toBe(
      'mirage.io\t--ipv4=46.43.42.146/25 --ipv4-gateway=46.43.42.129\n' +
        'openmirage.org\t--ipv4=46.43.42.147/25 --ipv4-gateway=46.43.42.129\n',
    );
    expect(
      parseXl(readFileSync(path.join(base, 'var/mirage-deploy/mirage.io/current/mir-mirage.io.xl'), 'utf8')).get(
        'name',
      ),
    ).toBe('mirage.io');
  }, 240_000);
});
