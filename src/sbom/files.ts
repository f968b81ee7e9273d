/**
 * The names of an image's SBOM files beside it, in `dist/mirage-deploy/` and in the deploy folder:
 * one set per image, so that a folder of several images keeps each one's apart.
 */
export interface SbomFileNames {
  readonly lockFile: string;
  readonly switchExport: string;
  readonly cyclonedx: string;
}

export function sbomFileNames(imageName: string): SbomFileNames {
  return {
    lockFile: `${imageName}.opam.locked`,
    switchExport: `${imageName}.switch-export`,
    cyclonedx: `${imageName}.cdx.json`,
  };
}
