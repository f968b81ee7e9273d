/**
 * Config parsed from a test's inputs as the runner gives them (every other input empty), in a
 * fresh workspace holding a config.ml: what the config tests of every phase share.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseConfig, type Config } from '../../src/config.js';
import type { RunContext } from '../../src/context.js';
import { testContext } from './context.js';

export interface InputsParser {
  readonly workspace: string;
  ctx(): RunContext;
  parse(inputs: Record<string, string>): Config;
  /** The problems' lines of the ConfigError the inputs give; throws when they give none. */
  problems(inputs: Record<string, string>): string[];
}

export function inputsParser(prefix: string): InputsParser {
  const workspace = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(workspace, 'config.ml'), 'let () = ()\n');
  const ctx = () => testContext({ workspace, runnerTemp: tmpdir() });
  const parse = (inputs: Record<string, string>) => parseConfig((name) => inputs[name] ?? '', ctx());
  const problems = (inputs: Record<string, string>) => {
    try {
      parse(inputs);
    } catch (error) {
      if (error instanceof ConfigError) return error.message.split('\n');
      throw error;
    }
    throw new Error('expected a ConfigError');
  };
  return { workspace, ctx, parse, problems };
}
