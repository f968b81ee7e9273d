import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { describe, expect, it } from 'vitest';
import { makeSbom, type SbomInput } from '../../src/sbom/cyclonedx.js';
import { parseLockFile } from '../../src/sbom/lock.js';
import { parseSwitchExport } from '../../src/sbom/switch-export.js';
import { PROJECT_ROOT } from '../support/harness.js';

const fixture = (name: string) => readFileSync(join(PROJECT_ROOT, '__fixtures__/sbom', name), 'utf8');

const input: SbomInput = {
  image: { name: 'hello', file: 'hello.hvt', sha256: 'ab'.repeat(32), size: 4242, target: 'hvt' },
  lock: parseLockFile(fixture('hello-hvt.opam.locked')),
  switchPackages: parseSwitchExport(fixture('build-switch.export')),
  opamVersion: '2.4.1',
};

interface Json {
  [key: string]: unknown;
}

/** The validator the library ships: null when the document matches the CycloneDX 1.6 schema. */
async function schemaErrors(text: string): Promise<unknown> {
  return new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(text);
}

describe('makeSbom', () => {
  const text = makeSbom(input);
  const bom = JSON.parse(text) as Json & { components: Json[]; metadata: Json & { component: Json; tools: Json } };

  it('validates against the CycloneDX 1.6 schema', async () => {
    expect(bom.specVersion).toBe('1.6');
    expect(bom.bomFormat).toBe('CycloneDX');
    expect(await schemaErrors(text)).toBeNull();
    // the validator is not vacuous: a sha256 of the wrong length is refused
    const broken = text.replace('ab'.repeat(32), 'ab');
    expect(await schemaErrors(broken)).not.toBeNull();
  });

  it('lists exactly the packages of the lock file, with versions', () => {
    const locked = (fixture('hello-hvt.opam.locked').match(/^ {2}"[^"]+" \{= "[^"]+"/gm) ?? []).map((l) =>
      l.trim().replace(/^"([^"]+)" \{= "([^"]+)"$/, '$1@$2'),
    );
    expect(locked).toHaveLength(17);
    expect(bom.components.map((c) => `${String(c.name)}@${String(c.version)}`).sort()).toEqual(locked.sort());
  });

  it('gives each vendored package its source archive and hashes from the lock file', () => {
    const fmt = bom.components.find((c) => c.name === 'fmt') as Json & { externalReferences: Json[]; hashes: Json[] };
    const lock = fixture('hello-hvt.opam.locked');
    const url = 'https://github.com/dune-universe/fmt/releases/download/v0.9.0%2Bdune/fmt-0.9.0.dune.tbz';
    const block = lock.slice(lock.indexOf(`"${url}"\n    "fmt"`));
    const sha256 = /sha256=([0-9a-f]{64})/.exec(block)?.[1];
    const sha512 = /sha512=([0-9a-f]{128})/.exec(block)?.[1];
    expect(fmt.externalReferences).toEqual([
      {
        type: 'source-distribution',
        url,
        hashes: [
          { alg: 'SHA-256', content: sha256 },
          { alg: 'SHA-512', content: sha512 },
        ],
      },
    ]);
    expect(fmt.hashes).toEqual([
      { alg: 'SHA-256', content: sha256 },
      { alg: 'SHA-512', content: sha512 },
    ]);
    const dune = bom.components.find((c) => c.name === 'dune') as Json;
    expect(dune.externalReferences).toBeUndefined();
    expect(dune.properties).toEqual([{ name: 'mirage-deploy:vendored', value: 'false' }]);
  });

  it('names the image as the metadata component, with its sha256, and the build switch as tools', () => {
    expect(bom.metadata.component).toMatchObject({
      type: 'application',
      name: 'hello',
      hashes: [{ alg: 'SHA-256', content: 'ab'.repeat(32) }],
    });
    const tools = (bom.metadata.tools as { components: Json[] }).components;
    expect(tools.map((t) => `${String(t.name)}@${String(t.version)}`)).toEqual(
      expect.arrayContaining(['opam@2.4.1', 'ocaml-base-compiler@5.4.1', 'mirage@4.11.1', 'dune@3.20.2']),
    );
    expect(tools).toHaveLength(18);
    const compiler = tools.find((t) => t.name === 'ocaml-base-compiler');
    expect(compiler?.properties).toEqual([{ name: 'mirage-deploy:compiler', value: 'true' }]);
    const deps = bom.dependencies as Array<{ ref: string; dependsOn?: string[] }>;
    expect(deps.find((d) => d.ref === 'image:hello.hvt')?.dependsOn).toHaveLength(17);
  });

  it('is deterministic: the same inputs give the same bytes, other inputs another serial number', () => {
    expect(makeSbom(input)).toBe(text);
    const other = JSON.parse(makeSbom({ ...input, image: { ...input.image, sha256: 'cd'.repeat(32) } })) as Json;
    expect(other.serialNumber).not.toBe(bom.serialNumber);
    expect(bom.serialNumber).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
