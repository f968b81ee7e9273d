import * as core from '@actions/core';

/**
 * Everything main hands to the post step. The runner passes saved state to the post step as
 * STATE_<name> variables; keeping the names in one place keeps both sides in step.
 */
export const STATE = {
  /** Set last in main: the post step saves caches only after a successful main step. */
  mainSucceeded: 'main-succeeded',
  /** JSON list of caches to save: see src/cache/. */
  cachesToSave: 'caches-to-save',
  /** The job summary's title, so that the post step's part of the summary names the same job. */
  summaryTitle: 'summary-title',
  /** Folders holding credentials, removed by the post step whatever happened. */
  credentialDirs: 'credential-dirs',
  /** Work folders of the deploy phase, removed by main as it ends, and by the post step if main could not. */
  workDirs: 'work-dirs',
} as const;

export function saveJsonState(name: string, value: unknown): void {
  core.saveState(name, JSON.stringify(value));
}

export function readJsonState<T>(name: string, fallback: T): T {
  const text = core.getState(name);
  if (text === '') return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

const lists = new Map<string, unknown[]>();

/**
 * Appends to a JSON list in state: several phases register things for the post step. State is
 * write-only within main (the runner keeps the last value written), so the list is kept here.
 */
export function appendJsonState<T>(name: string, item: T): void {
  const list = lists.get(name) ?? [];
  list.push(item);
  lists.set(name, list);
  saveJsonState(name, list);
}
