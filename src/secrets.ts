import * as core from '@actions/core';

/**
 * Registers a secret with the runner's log masker before anything can print it: the whole value,
 * each line of a multi-line value (a PEM key is logged line by line), and derived forms.
 */
export function maskSecret(value: string | undefined): void {
  if (!value) return;
  core.setSecret(value);
  for (const line of value.split(/\r?\n/)) {
    const text = line.trim();
    // Armor lines such as -----BEGIN OPENSSH PRIVATE KEY----- are not secret, and masking them
    // would only make logs unreadable.
    if (text.length >= 8 && !/^-----(BEGIN|END) /.test(text)) core.setSecret(text);
  }
}
