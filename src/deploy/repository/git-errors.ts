import { FINGERPRINTS_PAGE } from '../credentials/known-hosts.js';
import type { GitAccess } from '../credentials/plan.js';
import { SCP_LIKE } from '../../patterns.js';

/** The host part of a git URL, for messages. */
function hostOf(url: string): string {
  const scp = SCP_LIKE.exec(url);
  if (scp?.[2]) return scp[2];
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function lacksWriteAccess(access: GitAccess): string {
  const repo = access.display;
  if (access.credential === 'deploy-key') {
    const where = access.webUrl ? ` (${access.webUrl}/settings/keys)` : '';
    const pub = access.publicKey ? `: ${access.publicKey}` : '';
    return (
      `the key in \`deploy-key\` lacks write access to ${repo}: add it to that repository's deploy keys${where} ` +
      `with 'Allow write access' checked; its public key is${pub || ' the .pub file made with it'}`
    );
  }
  const base =
    `the token in \`deploy-token\` lacks write access to ${repo}: give it contents:write on that repository ` +
    '(a fine-grained personal access token with the repository selected and Contents: Read and write, or a ' +
    'GitHub App installed on it with Contents: Read and write)';
  if (access.credential !== 'installation-token') return base;
  return (
    `${base}. It is a \`ghs_\` token, which is what both a GitHub App and the workflow's own GITHUB_TOKEN ` +
    'issue; GITHUB_TOKEN can only reach the repository running the workflow and can never push to another ' +
    'one, so if it is `secrets.GITHUB_TOKEN` or `github.token`, use actions/create-github-app-token or a ' +
    'fine-grained personal access token instead'
  );
}

interface Translation {
  readonly test: RegExp;
  explain(access: GitAccess, host: string, stderr: string): string;
}

/** ` (ED25519 SHA256:…)`: what ssh saw, to compare with the published fingerprints. */
function presentedKey(stderr: string): string {
  const m = /fingerprint for the (\S+) key sent by the remote host is\s+(SHA256:[A-Za-z0-9+/]+)/.exec(stderr);
  return m ? ` (${m[1]} ${m[2]})` : '';
}

/** Most specific first: ssh prints "Host key verification failed" after a changed-key warning too. */
const TRANSLATIONS: readonly Translation[] = [
  {
    test: /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for \S+ has changed/,
    explain: (_a, host, stderr) =>
      `the SSH host key that ${host} presented${presentedKey(stderr)} does not match the pinned keys, so the connection was refused ` +
      'before authenticating: someone may be intercepting it, or the host changed its key. For github.com ' +
      `compare with ${FINGERPRINTS_PAGE}; for another host get its current keys from a trusted source and set \`known-hosts\``,
  },
  {
    test: /REVOKED HOST KEY|is marked as revoked/i,
    explain: (_a, host, stderr) =>
      `the SSH host key that ${host} presented${presentedKey(stderr)} is marked \`@revoked\` in \`known-hosts\`, so the ` +
      'connection was refused before authenticating; if the host has a new key, add its key line from a trusted source',
  },
  {
    test: /host key is known for|Host key verification failed/,
    explain: (access, host) =>
      access.hostKeys === 'input'
        ? `no line of \`known-hosts\` trusts the SSH host key that ${host} presented: add that host's plain key lines ` +
          '(`host keytype base64-key`) from a trusted source; a `@cert-authority` line trusts only host certificates signed by ' +
          'that CA, and a `@revoked` line trusts nothing'
        : `no pinned SSH host key matches ${host}: the built-in keys are github.com's only, so for GitHub Enterprise ` +
          `Server or another host set \`known-hosts\` to its key lines, taken from a trusted source (for github.com: ${FINGERPRINTS_PAGE})`,
  },
  {
    test: /marked as read only|Permission to \S+ denied to|Write access to repository not granted|Permission denied \(publickey|returned error: 403/,
    explain: (access) => lacksWriteAccess(access),
  },
  {
    test: /Repository not found|repository '[^']*' not found|returned error: 404|does not appear to be a git repository/,
    explain: (access) =>
      `the deployment repository ${access.display} was not found (input \`deploy-repository\`): check the owner ` +
      'and name, and create it first (an empty repository is fine); a private repository that the key or ' +
      'token cannot see looks the same',
  },
  {
    test: /returned error: 401|Authentication failed for|could not read (Username|Password)/,
    explain: (_a, host) =>
      `${host} did not accept the token in \`deploy-token\`: it is invalid, expired or revoked; create a new ` +
      'one with contents:write on the deployment repository and update the secret',
  },
  {
    test: /GH006: Protected branch update failed/,
    explain: (access) =>
      `branch protection on ${access.display} refused the push: allow this deploy key or token to push to the ` +
      'branch (or exempt it from the rule), or choose another branch with `deploy-repository-branch`',
  },
  {
    test: /GH001: Large files detected|exceeds GitHub's file size limit/,
    explain: () =>
      "a file in the push is over GitHub's 100 MB limit: the image is stored as `compression` sets; `compression: xz` packs tightest, or deploy to a host without that limit",
  },
  {
    test: /Could not resolve host|Could not resolve hostname|Connection refused|Connection timed out|Failed to connect to|Network is unreachable|No route to host/,
    explain: (_a, host) =>
      `cannot reach ${host}: check \`deploy-repository\` and \`server-url\`, and that the runner can connect to that host and port`,
  },
];

/**
 * Translates a failed git command's stderr into what to change, naming the input; undefined when
 * the failure is not one it knows, so the caller shows git's own words.
 */
export function explainGitFailure(stderr: string, access: GitAccess): string | undefined {
  const host = hostOf(access.url);
  return TRANSLATIONS.find((t) => t.test.test(stderr))?.explain(access, host, stderr);
}

/** What git prints (as a warning, even with --quiet) when the server does not honour `--filter`. */
const FILTER_IGNORED = /^warning: filtering not recognized by server, ignoring$/m;

export function filterIgnored(stderr: string): boolean {
  return FILTER_IGNORED.test(stderr);
}

/** Said when the server sent whole files although the deploy asked for commit and trees only. */
export function filterIgnoredMessage(access: GitAccess, bytes: number): string {
  return (
    `the git server of ${access.display} ignored the partial-clone filter (git: "filtering not recognized by ` +
    `server, ignoring"), so every file of the tip came down, images included: ${bytes} bytes received. ` +
    "The deploy still works, but its cost now grows with the repository; ask the server's admin to set " +
    "`uploadpack.allowFilter` (git), or enable partial clone in the forge's settings"
  );
}
