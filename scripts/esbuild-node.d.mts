import type { BuildOptions } from 'esbuild';

/** bundle, format, platform, target, logLevel and the `require` banner of every Node bundle. */
export declare const NODE_ESM_BUNDLE: Readonly<
  Required<Pick<BuildOptions, 'bundle' | 'format' | 'platform' | 'target' | 'logLevel' | 'banner'>>
>;
