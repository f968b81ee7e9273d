/**
 * The CycloneDX 1.6 SBOM of one image, built from its lock file and the build switch's export with
 * `@cyclonedx/cyclonedx-library`: every locked package a component (name, version, source archive
 * and its hashes), every package of the build switch and opam itself a tool, the image the
 * metadata component with its sha256. Deterministic: no timestamp, and a serial number derived
 * from its contents, so that a build job and a later deploy-only job write the same bytes.
 */
import { createHash } from 'node:crypto';
import * as Enums from '@cyclonedx/cyclonedx-library/Enums';
import * as Models from '@cyclonedx/cyclonedx-library/Models';
import * as Serialize from '@cyclonedx/cyclonedx-library/Serialize';
import * as Spec from '@cyclonedx/cyclonedx-library/Spec';
import type { LockFile, LockedPackage, SourceHash } from './lock.js';
import type { SwitchPackage } from './switch-export.js';

/** Namespace of this action's CycloneDX properties. */
const PROPERTY = 'mirage-deploy';

export interface SbomImage {
  /** The unikernel's name. */
  readonly name: string;
  /** The image's file name, uncompressed. */
  readonly file: string;
  readonly sha256: string;
  readonly size: number;
  readonly target: string;
}

export interface SbomInput {
  readonly image: SbomImage;
  readonly lock: LockFile;
  readonly switchPackages: readonly SwitchPackage[];
  readonly opamVersion: string;
}

const ALGORITHMS: Readonly<Record<string, Enums.HashAlgorithm>> = {
  md5: Enums.HashAlgorithm.MD5,
  sha256: Enums.HashAlgorithm['SHA-256'],
  sha512: Enums.HashAlgorithm['SHA-512'],
};

function hashes(list: readonly SourceHash[]): Models.HashDictionary {
  const dictionary = new Models.HashDictionary();
  for (const h of list) {
    const algorithm = ALGORITHMS[h.algorithm];
    if (algorithm !== undefined) dictionary.set(algorithm, h.value);
  }
  return dictionary;
}

function property(name: string, value: string): Models.Property {
  return new Models.Property(`${PROPERTY}:${name}`, value);
}

function packageComponent(p: LockedPackage): Models.Component {
  const component = new Models.Component(Enums.ComponentType.Library, p.name, {
    bomRef: `opam:${p.name}@${p.version}`,
    version: p.version,
    scope: Enums.ComponentScope.Required,
  });
  component.properties.add(property('vendored', String(p.vendored)));
  if (p.source !== undefined) {
    component.hashes = hashes(p.source.hashes);
    component.externalReferences.add(
      new Models.ExternalReference(p.source.url, Enums.ExternalReferenceType.SourceDistribution, {
        hashes: hashes(p.source.hashes),
      }),
    );
    component.properties.add(property('duniverse-dir', p.source.dir));
  }
  return component;
}

function toolComponent(name: string, version: string, compiler: boolean): Models.Component {
  const tool = new Models.Component(Enums.ComponentType.Application, name, {
    bomRef: `tool:${name}@${version}`,
    version,
  });
  if (compiler) tool.properties.add(property('compiler', 'true'));
  return tool;
}

/** A UUID (version 5 layout) from the SBOM's contents. */
function serialNumber(input: SbomInput): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([input.image, input.lock, input.switchPackages, input.opamVersion]))
    .digest('hex');
  const variant = ((parseInt(digest.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
  const hex = `${digest.slice(0, 12)}5${digest.slice(13, 16)}${variant}${digest.slice(18, 32)}`;
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The SBOM as CycloneDX 1.6 JSON text, with a final newline. */
export function makeSbom(input: SbomInput): string {
  const { image } = input;
  const imageComponent = new Models.Component(Enums.ComponentType.Application, image.name, {
    bomRef: `image:${image.file}`,
    hashes: new Models.HashDictionary([[Enums.HashAlgorithm['SHA-256'], image.sha256]]),
  });
  imageComponent.properties.add(property('image-file', image.file));
  imageComponent.properties.add(property('image-size', String(image.size)));
  imageComponent.properties.add(property('target', image.target));

  const tools = new Models.Tools();
  tools.components.add(toolComponent('opam', input.opamVersion, false));
  for (const p of input.switchPackages) tools.components.add(toolComponent(p.name, p.version, p.compiler));

  const bom = new Models.Bom({
    serialNumber: serialNumber(input),
    metadata: new Models.Metadata({ component: imageComponent, tools }),
  });
  for (const p of input.lock.packages) {
    const component = packageComponent(p);
    bom.components.add(component);
    imageComponent.dependencies.add(component.bomRef);
  }
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  return `${serializer.serialize(bom, { sortLists: true, space: 2 })}\n`;
}
