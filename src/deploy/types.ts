/**
 * An authenticated way to reach the deployment repository, handed by the credentials module
 * (issue 5) to the repository writer (issue 6). Credentials live only in `env`, which is merged
 * into the environment of each git process: never in a URL, an argument or a `.git/config`.
 */
export interface GitAccess {
  /** What git fetches from and pushes to; never holds a credential. */
  readonly url: string;
  /** The repository as shown to people: `owner/name`, or the URL. */
  readonly display: string;
  /** Web page of the repository, when the host is known to serve one (for `deploy-url`). */
  readonly webUrl?: string;
  /** Additions to the environment of every git process (GIT_SSH_COMMAND, GIT_CONFIG_* …). */
  readonly env: Readonly<Record<string, string>>;
  /** Which secret authenticates, so that a server's refusal can name the input to fix. */
  readonly credential?: CredentialKind;
  /** The deploy key's public half (`ssh-ed25519 AAAA…`), not secret: what to add to the repository. */
  readonly publicKey?: string;
  /** Over SSH: whether the pinned host keys are the built-in github.com ones or the `known-hosts` input. */
  readonly hostKeys?: 'built-in' | 'input';
}

/** `installation-token` is a `ghs_` token: a GitHub App's, or the workflow's own GITHUB_TOKEN. */
export type CredentialKind = 'deploy-key' | 'deploy-token' | 'installation-token';
