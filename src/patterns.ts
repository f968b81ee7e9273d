/** The shapes several modules recognise, defined once. */

/** `owner/name` of a GitHub repository: groups 1 and 2. */
export const OWNER_NAME = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/;

/** git's scp-like SSH address `user@host:path`: groups 1 (user), 2 (host), 3 (path). */
export const SCP_LIKE = /^([A-Za-z0-9_.-]+)@([A-Za-z0-9_.-]+):([^\s]+)$/;

/** A full commit id: SHA-1 (40 hex digits) or SHA-256 (64). */
export const COMMIT_SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** A hex SHA-256 digest, lower case. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * A file name the action writes into a deploy folder: the host's plain-name rule
 * (host/mirage-deploy-pull `is_plain_name`: letters, digits, `.`, `_`, `-`; not `-x`, which a
 * tool reads as an option), and no leading `.` either, so no deployed file is hidden or `.git`.
 */
export const PLAIN_FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Why `name` breaks the plain-name rule, in words for a message, or undefined. */
export function plainNameProblem(name: string): string | undefined {
  if (PLAIN_FILE_NAME.test(name)) return undefined;
  if (name === '') return 'is empty';
  if (name.startsWith('.')) return 'starts with `.` (a hidden file)';
  if (name.startsWith('-')) return 'starts with `-` (read as an option by tools)';
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(name)) return 'holds a space or a control character';
  return 'holds a character other than letters, digits, `.`, `_` and `-`';
}
