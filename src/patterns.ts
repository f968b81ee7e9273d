/** The shapes several modules recognise, defined once. */

/** `owner/name` of a GitHub repository: groups 1 and 2. */
export const OWNER_NAME = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/;

/** git's scp-like SSH address `user@host:path`: groups 1 (user), 2 (host), 3 (path). */
export const SCP_LIKE = /^([A-Za-z0-9_.-]+)@([A-Za-z0-9_.-]+):([^\s]+)$/;

/** A full commit id: SHA-1 (40 hex digits) or SHA-256 (64). */
export const COMMIT_SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** A hex SHA-256 digest, lower case. */
export const SHA256_HEX = /^[0-9a-f]{64}$/;
