import { createRequire as __mdCreateRequire } from 'node:module'; const require = __mdCreateRequire(import.meta.url);
import {
  COMPRESSIONS,
  CommandError,
  ConfigError,
  FINGERPRINTS_PAGE,
  HttpClient,
  STATE,
  TARGETS,
  __toESM,
  addPath,
  checkCredentials,
  checkTargetRunnable,
  childEnv,
  cp,
  debug,
  endGroup,
  error,
  exportVariable,
  findProgram,
  getInput,
  group,
  imageFileName,
  info,
  isTarget,
  maskSecret,
  mkdirP,
  mustRun,
  notice,
  openGitAccess,
  parseConfig,
  registerCacheSave,
  require_semver,
  restoreCache,
  rmRF,
  runCommand,
  saveState,
  sealEnvironment,
  setFailed,
  setOutput,
  sha256File,
  sideFilePaths,
  startGroup,
  summary,
  sweepLeftovers,
  warning,
  which
} from "./chunks/chunk-YLFACSBU.js";

// src/context.ts
import { readFileSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
var OS_NAMES = {
  Linux: "Linux",
  macOS: "macOS",
  Windows: "Windows",
  linux: "Linux",
  darwin: "macOS",
  win32: "Windows"
};
function readPayload(path2) {
  if (!path2) return {};
  try {
    return JSON.parse(readFileSync(path2, "utf8"));
  } catch (error2) {
    throw new Error(`GITHUB_EVENT_PATH: cannot read the event payload at ${path2}: ${String(error2)}`);
  }
}
function readContext(env = process.env) {
  const runnerOs = OS_NAMES[env.RUNNER_OS ?? process.platform] ?? "Linux";
  return {
    eventName: env.GITHUB_EVENT_NAME ?? "",
    payload: readPayload(env.GITHUB_EVENT_PATH),
    ref: env.GITHUB_REF ?? "",
    sha: env.GITHUB_SHA ?? "",
    repository: env.GITHUB_REPOSITORY ?? "",
    serverUrl: (env.GITHUB_SERVER_URL ?? "https://github.com").replace(/\/+$/, ""),
    runId: env.GITHUB_RUN_ID ?? "",
    runAttempt: env.GITHUB_RUN_ATTEMPT ?? "1",
    workspace: env.GITHUB_WORKSPACE ?? process.cwd(),
    runnerTemp: env.RUNNER_TEMP ?? tmpdir(),
    runnerOs,
    runnerArch: env.RUNNER_ARCH ?? process.arch.toUpperCase(),
    cores: Math.max(1, cpus().length)
  };
}
function runUrl(ctx) {
  return ctx.repository && ctx.runId ? `${ctx.serverUrl}/${ctx.repository}/actions/runs/${ctx.runId}` : "";
}

// src/deploy/gate.ts
var PULL_REQUEST_EVENTS = ["pull_request", "pull_request_review", "pull_request_review_comment"];
var DEPLOYING_EVENTS = ["push", "workflow_dispatch"];
var no = (reason) => ({ deploy: false, reason });
function forkOf(ctx) {
  const pr = ctx.payload.pull_request;
  if (!pr) return void 0;
  const head = pr.head?.repo?.full_name;
  const base = pr.base?.repo?.full_name ?? ctx.payload.repository?.full_name;
  if (head === void 0 || head === null) return "a fork that was deleted";
  return head !== base ? `a fork (${head})` : void 0;
}
function decideDeploy(deploy, ctx) {
  if (!deploy.enabled) return no("input `deploy` is false");
  if (ctx.eventName === "pull_request_target") {
    throw new ConfigError([
      {
        input: "deploy",
        message: "is `true` in a `pull_request_target` run; that event runs with the base repository's secrets while a workflow that builds the pull request builds code its author controls, even from a fork, so a deploy there would hand the deploy key to anyone who opens a pull request. Deploy from `push` (or `workflow_dispatch`) on a deploy branch, and set `deploy: false` for pull request events, e.g. `deploy: ${{ github.event_name == 'push' }}`"
      }
    ]);
  }
  const fork = forkOf(ctx);
  if (fork !== void 0) return no(`a pull request from ${fork} never deploys`);
  if (PULL_REQUEST_EVENTS.includes(ctx.eventName)) return no("pull requests never deploy");
  if (!DEPLOYING_EVENTS.includes(ctx.eventName)) {
    return no(
      `\`${ctx.eventName || "(no event)"}\` runs never deploy; only push and workflow_dispatch on a deploy branch do`
    );
  }
  if (!ctx.ref.startsWith("refs/heads/")) {
    return no(`${ctx.ref || "(no ref)"} is not a branch; only a deploy branch deploys`);
  }
  const branch = ctx.ref.slice("refs/heads/".length);
  const defaultBranch = ctx.payload.repository?.default_branch;
  const branches = deploy.branches.length > 0 ? deploy.branches : defaultBranch ? [defaultBranch] : [];
  if (branches.length === 0) {
    return no(
      "the event does not name the repository's default branch, so no branch deploys; list the branches in `deploy-branches`"
    );
  }
  if (!branches.includes(branch)) {
    const which2 = deploy.branches.length > 0 ? "`deploy-branches`" : "the default branch";
    return no(`${ctx.ref} is not a deploy branch (${which2}: ${branches.join(", ")})`);
  }
  return {
    deploy: true,
    reason: `${ctx.eventName === "push" ? "push to" : "manual run on"} ${branch}, a deploy branch`
  };
}

// src/deploy/index.ts
import { mkdtemp, rm, stat as stat3 } from "node:fs/promises";
import { basename as basename2, join as join5 } from "node:path";

// src/summary.ts
var rows = [];
var sections = [];
function summaryRow(name, value) {
  rows.push([name, value]);
}
function summarySection(markdown) {
  sections.push(markdown);
}
async function writeSummary(title) {
  if (!process.env.GITHUB_STEP_SUMMARY || rows.length === 0 && sections.length === 0) return;
  const table = rows.length ? ["| | |", "|---|---|", ...rows.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, "\\|")} |`)].join("\n") : "";
  await summary.addHeading(title, 3).addRaw(`${table}

${sections.join("\n\n")}
`).write();
}

// src/deploy/compress.ts
import { copyFile, mkdir, stat } from "node:fs/promises";
import { basename, join } from "node:path";

// src/deploy/layout.ts
var MANIFEST_FILE = "manifest.json";
var LATEST_FILE = "latest";
var SOURCE_SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
var COMPRESSION_SUFFIX = {
  bzip2: ".bz2",
  xz: ".xz",
  gzip: ".gz",
  none: ""
};
function isSourceSha(name) {
  return SOURCE_SHA.test(name);
}
function deployFolder(target, sha) {
  return `${target}/${sha}`;
}
function latestPath(target) {
  return `${target}/${LATEST_FILE}`;
}
function latestContent(sha) {
  return `${sha}
`;
}
function parseLatest(text) {
  const sha = text.trim().toLowerCase();
  return isSourceSha(sha) ? sha : void 0;
}
var MiB = 1024 * 1024;
var SIZE_WARN_BYTES = 50 * MiB;
var SIZE_LIMIT_BYTES = 100 * MiB;
function mib(bytes) {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}
function sizeVerdict(compressedSize, compression) {
  const smaller = compression === "xz" ? "make the image smaller (fewer dependencies, no debug info)" : "set input `compression: xz`, which usually shrinks unikernels most";
  if (compressedSize > SIZE_LIMIT_BYTES) {
    return {
      level: "fail",
      message: `the compressed image is ${mib(compressedSize)}, over GitHub's hard limit of 100 MiB per file, so the push would be refused; ${smaller}`
    };
  }
  if (compressedSize > SIZE_WARN_BYTES) {
    return {
      level: "warn",
      message: `the compressed image is ${mib(compressedSize)}: GitHub warns above 50 MiB and refuses files over 100 MiB; ${smaller}`
    };
  }
  return { level: "ok" };
}
function decideLatest(ours, current, ancestry) {
  if (current === void 0) return { move: true };
  if (current.sha === ours.sha) return { move: false };
  const keep = `\`latest\` names ${current.sha}, a newer build of the source`;
  if (ancestry === "ours-newer") return { move: true };
  if (ancestry === "ours-older") return { move: false, reason: `${keep} (${ours.sha} is its ancestor)` };
  const ourTime = ours.time === void 0 ? Number.NaN : Date.parse(ours.time);
  const theirTime = current.time === void 0 ? Number.NaN : Date.parse(current.time);
  if (Number.isNaN(theirTime)) return { move: true };
  if (Number.isNaN(ourTime) || ourTime >= theirTime) return { move: true };
  return { move: false, reason: `${keep} (committed ${current.time}, this one ${ours.time})` };
}
function chooseToPrune(folders, keep, protect) {
  if (keep <= 0) return [];
  const time = (f) => {
    const t = f.time === void 0 ? Number.NaN : Date.parse(f.time);
    return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
  };
  const newestFirst = [...folders].sort((a, b) => time(b) - time(a) || b.sha.localeCompare(a.sha));
  return newestFirst.slice(keep).map((f) => f.sha).filter((sha) => !protect.includes(sha));
}

// src/deploy/compress.ts
function compressCommand(compression, file, decompress = false) {
  switch (compression) {
    case "bzip2":
      return decompress ? ["bzip2", "-d", "-k", file] : ["bzip2", "-9", file];
    case "xz":
      return decompress ? ["xz", "-d", "-k", file] : ["xz", "-9", "-T1", file];
    case "gzip":
      return decompress ? ["gzip", "-d", "-k", file] : ["gzip", "-9", "-n", file];
  }
}
async function run(argv, hint) {
  const [program = "", ...args] = argv;
  const result = await runCommand(program, args, { silent: true });
  if (result.exitCode !== 0) throw new CommandError(argv.join(" "), result, hint);
}
async function compressImage(imagePath, compression, dir) {
  await mkdir(dir, { recursive: true });
  const copy = join(dir, basename(imagePath));
  await copyFile(imagePath, copy);
  if (compression !== "none") {
    await run(
      compressCommand(compression, copy),
      `cannot compress the image with ${compression}; install it on the runner or choose another \`compression\``
    );
  }
  const path2 = `${copy}${COMPRESSION_SUFFIX[compression]}`;
  const [sha256, info2] = await Promise.all([sha256File(path2), stat(path2)]);
  return { path: path2, name: basename(path2), sha256, size: info2.size };
}
async function decompressImage(path2, compression) {
  if (compression === "none") return path2;
  await run(compressCommand(compression, path2, true), `\`${basename(path2)}\` is not a valid ${compression} file`);
  return path2.slice(0, path2.length - COMPRESSION_SUFFIX[compression].length);
}

// src/deploy/manifest.ts
var MANIFEST_SCHEMA = 1;
function serializeManifest(manifest) {
  return `${JSON.stringify(manifest, null, 2)}
`;
}
var HEX64 = /^[0-9a-f]{64}$/;
function isRecord(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
function str(value) {
  return typeof value === "string";
}
function parseManifest(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return void 0;
  }
  if (!isRecord(value) || value.schema !== MANIFEST_SCHEMA) return void 0;
  const { source, run: run4, image, versions } = value;
  if (!isRecord(source) || !str(source.repository) || !str(source.sha) || !str(source.ref)) return void 0;
  if (source.commitTime !== void 0 && !str(source.commitTime)) return void 0;
  if (!isRecord(run4) || !str(run4.url) || !str(value.target) || !str(value.builtAt)) return void 0;
  if (!isRecord(image) || !str(image.name) || !str(image.file)) return void 0;
  if (!str(image.sha256) || !HEX64.test(image.sha256) || typeof image.size !== "number") return void 0;
  if (!str(image.compressedSha256) || !HEX64.test(image.compressedSha256)) return void 0;
  if (typeof image.compressedSize !== "number") return void 0;
  if (!COMPRESSIONS.includes(image.compression)) return void 0;
  if (!Array.isArray(value.files) || !value.files.every(str)) return void 0;
  if (!isRecord(versions) || !str(versions.ocaml) || !str(versions.opam) || !str(versions.mirage)) return void 0;
  return value;
}
function manifestTime(manifest) {
  return manifest?.source.commitTime ?? manifest?.builtAt;
}

// src/deploy/source.ts
import { existsSync } from "node:fs";
import { join as join2 } from "node:path";
function utcTime(text) {
  if (text === void 0 || text.trim() === "") return void 0;
  const ms = Date.parse(text.trim());
  return Number.isNaN(ms) ? void 0 : new Date(ms).toISOString();
}
function ancestryFrom(latestIsAncestorOfOurs, oursIsAncestorOfLatest) {
  if (latestIsAncestorOfOurs === 0) return "ours-newer";
  if (oursIsAncestorOfLatest === 0) return "ours-older";
  return "unknown";
}
function workspaceGit(ctx, args) {
  return runCommand("git", ["-c", `safe.directory=${ctx.workspace}`, "-C", ctx.workspace, ...args], {
    silent: true,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      LC_ALL: "C",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_TERMINAL_PROMPT: "0",
      GIT_NO_REPLACE_OBJECTS: "1"
    }
  });
}
function isCheckout(ctx) {
  return existsSync(join2(ctx.workspace, ".git"));
}
async function sourceCommitTime(ctx, sha) {
  const headCommit = ctx.payload.head_commit;
  if (ctx.eventName === "push" && sha === ctx.sha && (headCommit?.id ?? sha) === sha) {
    const pushed = utcTime(headCommit?.timestamp);
    if (pushed !== void 0) return pushed;
  }
  if (!isCheckout(ctx)) return void 0;
  const result = await workspaceGit(ctx, ["log", "-1", "--format=%cI", `${sha}^{commit}`, "--"]);
  return result.exitCode === 0 ? utcTime(result.stdout) : void 0;
}
async function sourceAncestry(ctx, ours, latest) {
  if (ours === latest || !isCheckout(ctx)) return "unknown";
  const forward = await workspaceGit(ctx, ["merge-base", "--is-ancestor", latest, ours]);
  if (forward.exitCode === 0) return "ours-newer";
  if (forward.exitCode !== 1) return "unknown";
  const backward = await workspaceGit(ctx, ["merge-base", "--is-ancestor", ours, latest]);
  return ancestryFrom(forward.exitCode, backward.exitCode);
}

// src/deploy/writer.ts
import { join as join4 } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

// src/deploy/plan.ts
import { createHash } from "node:crypto";
function parseLsTree(output) {
  const entries = [];
  for (const record of output.split("\0")) {
    if (record === "") continue;
    const tab = record.indexOf("	");
    const [mode, type, oid] = record.slice(0, tab).split(" ");
    if (tab < 0 || !mode || !type || !oid) throw new Error(`unexpected \`git ls-tree\` output: ${record}`);
    entries.push({ mode, type, oid, path: record.slice(tab + 1) });
  }
  return entries;
}
function listTarget(entries, target) {
  let latestOid;
  const folders = /* @__PURE__ */ new Map();
  const prefix = `${target}/`;
  for (const entry of entries) {
    if (!entry.path.startsWith(prefix)) continue;
    const rest = entry.path.slice(prefix.length);
    if (rest === LATEST_FILE) {
      latestOid = entry.oid;
      continue;
    }
    const slash = rest.indexOf("/");
    const sha = rest.slice(0, slash);
    if (slash < 0 || !isSourceSha(sha)) continue;
    const files = folders.get(sha) ?? /* @__PURE__ */ new Map();
    files.set(rest.slice(slash + 1), entry.oid);
    folders.set(sha, files);
  }
  return latestOid === void 0 ? { folders } : { latestOid, folders };
}
function blobOid(content, oidLength) {
  const data = Buffer.from(content);
  const algorithm = oidLength === 64 ? "sha256" : "sha1";
  return createHash(algorithm).update(`blob ${data.length}\0`).update(data).digest("hex");
}
function identifyLatest(listing) {
  const oid = listing.latestOid;
  if (oid === void 0) return void 0;
  return [...listing.folders.keys()].find((sha) => blobOid(latestContent(sha), oid.length) === oid);
}
function manifestsToRead(listing, ownSha, latestSha, keep) {
  const wanted = keep > 0 ? [...listing.folders.keys()] : [ownSha, ...latestSha ? [latestSha] : []];
  const oids = /* @__PURE__ */ new Map();
  for (const sha of wanted) {
    const oid = listing.folders.get(sha)?.get(MANIFEST_FILE);
    if (oid !== void 0) oids.set(sha, oid);
  }
  return oids;
}
function sameBuild(existing, ours, folder) {
  return existing !== void 0 && existing.image.sha256 === ours.image.sha256 && existing.image.compression === ours.image.compression && existing.image.file === ours.image.file && folder.has(existing.image.file);
}
function removals(target, sha, files) {
  return [...files].map((name) => ({ path: `${deployFolder(target, sha)}/${name}` }));
}
function planDeploy(request, state) {
  const { target, sha } = request;
  const existing = state.listing.folders.get(sha);
  if (existing !== void 0 && sameBuild(state.manifests.get(sha), request.manifest, existing)) {
    return { kind: "unchanged", reason: `${deployFolder(target, sha)} already holds this image` };
  }
  const ours = { sha, time: manifestTime(request.manifest) };
  const current = state.latestSha === void 0 ? void 0 : { sha: state.latestSha, time: manifestTime(state.manifests.get(state.latestSha)) };
  const latest = decideLatest(ours, current, state.ancestry);
  const folder = deployFolder(target, sha);
  const names = new Set(request.files.map((f) => f.name));
  const changes = [
    ...removals(
      target,
      sha,
      [...existing?.keys() ?? []].filter((name) => !names.has(name))
    ),
    ...request.files.map((f) => ({ path: `${folder}/${f.name}`, oid: f.oid }))
  ];
  if (latest.move) changes.push({ path: latestPath(target), oid: request.latestOid });
  const folders = [...state.listing.folders.keys()].filter((s) => s !== sha).map((s) => ({ sha: s, time: manifestTime(state.manifests.get(s)) }));
  folders.push(ours);
  const namedByLatest = latest.move ? sha : state.latestSha;
  const pruned = chooseToPrune(folders, request.keep, [sha, ...namedByLatest ? [namedByLatest] : []]);
  for (const gone of pruned) changes.push(...removals(target, gone, state.listing.folders.get(gone)?.keys() ?? []));
  return { kind: "commit", changes, latest, pruned };
}
function planRollback(target, sha, state, latestOid) {
  if (!state.listing.folders.has(sha)) return { kind: "missing", deployed: [...state.listing.folders.keys()] };
  if (state.latestSha === sha) return { kind: "unchanged", reason: `\`${latestPath(target)}\` already names ${sha}` };
  return { kind: "commit", changes: [{ path: latestPath(target), oid: latestOid }] };
}
function commitMessage(parts2) {
  const source = parts2.repository ? `${parts2.repository}@${parts2.sha}` : parts2.sha;
  const body = [source, ...parts2.runUrl ? [parts2.runUrl] : [], ...parts2.notes];
  return `${parts2.subject}

${body.join("\n")}
`;
}
function describeChanges(changes, sizes, latest) {
  return changes.map((change) => {
    if (change.oid === void 0) return `remove ${change.path}`;
    if (latest !== void 0 && change.path === latest.path) return `write ${change.path} (${latest.sha})`;
    const size = sizes.get(change.oid);
    return size === void 0 ? `write ${change.path}` : `write ${change.path} (${size} bytes)`;
  });
}

// src/deploy/push-result.ts
var MOVED = ["fetch first", "non-fast-forward", "stale info"];
var LOCKED = /cannot lock ref|failed to lock|Unable to create '[^']*\.lock'|incorrect old value provided/i;
function remoteLines(stderr) {
  return stderr.split(/\r?\n/).filter((l) => l.startsWith("remote:")).map((l) => l.replace(/^remote:\s?/, "").trimEnd()).filter((l) => l.trim() !== "");
}
function hintFor(text, branch) {
  if (/GH006|protected branch/i.test(text)) {
    return `branch \`${branch}\` of the deployment repository is protected: let the deploy key or token bypass the protection, or set input \`deploy-repository-branch\` to an unprotected branch`;
  }
  if (/GH001|large files detected|exceeds GitHub's file size limit/i.test(text)) {
    return "a file is over GitHub's 100 MiB limit: set input `compression: xz`, or make the image smaller";
  }
  if (/pre-receive hook declined|hook declined/i.test(text)) {
    return "a server-side hook of the deployment repository refused the push; its message above says why";
  }
  return void 0;
}
function classifyPush(result, branch) {
  const ref = `refs/heads/${branch}`;
  const line = result.stdout.split("\n").map((l) => l.split("	")).find((fields) => fields.length >= 3 && fields[1]?.endsWith(`:${ref}`));
  if (line === void 0) return void 0;
  const flag = line[0] ?? "";
  const summary2 = line[2] ?? "";
  if (flag !== "!") return { kind: "pushed" };
  const reason = /\(([^)]*)\)/.exec(summary2)?.[1] ?? summary2;
  const server = remoteLines(result.stderr);
  if (summary2.startsWith("[rejected]") && MOVED.includes(reason)) return { kind: "retry", reason };
  if (LOCKED.test(result.stderr) || LOCKED.test(reason)) return { kind: "retry", reason: "the ref was locked" };
  const said = server.length ? `${summary2}: ${server.join(" ")}` : summary2;
  const hint = hintFor(`${summary2}
${result.stderr}`, branch);
  return hint === void 0 ? { kind: "refused", reason: said } : { kind: "refused", reason: said, hint };
}
var MAX_PUSH_ATTEMPTS = 12;
function retryDelay(attempt, random) {
  const ceiling = Math.min(8e3, 250 * 2 ** Math.max(0, attempt - 2));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

// src/deploy/repository.ts
import { mkdir as mkdir2, readdir, stat as stat2 } from "node:fs/promises";
import { join as join3 } from "node:path";

// src/deploy/git-errors.ts
function hostOf(url) {
  const scp = /^[^@/\s]+@([^:/\s]+):/.exec(url);
  if (scp?.[1]) return scp[1];
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
function lacksWriteAccess(access) {
  const repo = access.display;
  if (access.credential === "deploy-key") {
    const where = access.webUrl ? ` (${access.webUrl}/settings/keys)` : "";
    const pub = access.publicKey ? `: ${access.publicKey}` : "";
    return `the key in \`deploy-key\` lacks write access to ${repo}: add it to that repository's deploy keys${where} with 'Allow write access' checked; its public key is${pub || " the .pub file made with it"}`;
  }
  const base = `the token in \`deploy-token\` lacks write access to ${repo}: give it contents:write on that repository (a fine-grained personal access token with the repository selected and Contents: Read and write, or a GitHub App installed on it with Contents: Read and write)`;
  if (access.credential !== "installation-token") return base;
  return `${base}. It is a \`ghs_\` token, which is what both a GitHub App and the workflow's own GITHUB_TOKEN issue; GITHUB_TOKEN can only reach the repository running the workflow and can never push to another one, so if it is \`secrets.GITHUB_TOKEN\` or \`github.token\`, use actions/create-github-app-token or a fine-grained personal access token instead`;
}
function presentedKey(stderr) {
  const m = /fingerprint for the (\S+) key sent by the remote host is\s+(SHA256:[A-Za-z0-9+/]+)/.exec(stderr);
  return m ? ` (${m[1]} ${m[2]})` : "";
}
var TRANSLATIONS = [
  {
    test: /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for \S+ has changed/,
    explain: (_a, host, stderr) => `the SSH host key that ${host} presented${presentedKey(stderr)} does not match the pinned keys, so the connection was refused before authenticating: someone may be intercepting it, or the host changed its key. For github.com compare with ${FINGERPRINTS_PAGE}; for another host get its current keys from a trusted source and set \`known-hosts\``
  },
  {
    test: /host key is known for|Host key verification failed/,
    explain: (_a, host) => `no pinned SSH host key matches ${host}: the built-in keys are github.com's only, so for GitHub Enterprise Server or another host set \`known-hosts\` to its key lines, taken from a trusted source (for github.com: ${FINGERPRINTS_PAGE})`
  },
  {
    test: /marked as read only|Permission to \S+ denied to|Write access to repository not granted|Permission denied \(publickey|returned error: 403/,
    explain: (access) => lacksWriteAccess(access)
  },
  {
    test: /Repository not found|repository '[^']*' not found|returned error: 404|does not appear to be a git repository/,
    explain: (access) => `the deployment repository ${access.display} was not found (input \`deploy-repository\`): check the owner and name, and create it first (an empty repository is fine); a private repository that the key or token cannot see looks the same`
  },
  {
    test: /returned error: 401|Authentication failed for|could not read (Username|Password)/,
    explain: (_a, host) => `${host} did not accept the token in \`deploy-token\`: it is invalid, expired or revoked; create a new one with contents:write on the deployment repository and update the secret`
  },
  {
    test: /GH006: Protected branch update failed/,
    explain: (access) => `branch protection on ${access.display} refused the push: allow this deploy key or token to push to the branch (or exempt it from the rule), or choose another branch with \`deploy-repository-branch\``
  },
  {
    test: /GH001: Large files detected|exceeds GitHub's file size limit/,
    explain: () => "a file in the push is over GitHub's 100 MB limit: the image is stored as `compression` sets; `compression: xz` packs tightest, or deploy to a host without that limit"
  },
  {
    test: /Could not resolve host|Could not resolve hostname|Connection refused|Connection timed out|Failed to connect to|Network is unreachable|No route to host/,
    explain: (_a, host) => `cannot reach ${host}: check \`deploy-repository\` and \`server-url\`, and that the runner can connect to that host and port`
  }
];
function explainGitFailure(stderr, access) {
  const host = hostOf(access.url);
  return TRANSLATIONS.find((t) => t.test.test(stderr))?.explain(access, host, stderr);
}
var FILTER_IGNORED = /^warning: filtering not recognized by server, ignoring$/m;
function filterIgnored(stderr) {
  return FILTER_IGNORED.test(stderr);
}
function filterIgnoredMessage(access, bytes) {
  return `the git server of ${access.display} ignored the partial-clone filter (git: "filtering not recognized by server, ignoring"), so every file of the tip came down, images included: ${bytes} bytes received. The deploy still works, but its cost now grows with the repository; ask the server's admin to set \`uploadpack.allowFilter\` (git), or enable partial clone in the forge's settings`;
}

// src/deploy/repository.ts
var RepositoryError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "RepositoryError";
  }
};
function gitEnvironment(access, home, author) {
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    XDG_CONFIG_HOME: join3(home, ".config"),
    LC_ALL: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "",
    SSH_ASKPASS: "",
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: author.name,
    GIT_COMMITTER_EMAIL: author.email,
    ...access.env
  };
  const count = Number(env.GIT_CONFIG_COUNT ?? "0");
  for (let i = 0; i < count; i++) {
    const key = process.env[`GIT_CONFIG_KEY_${i}`];
    if (env[`GIT_CONFIG_KEY_${i}`] !== void 0 || key === void 0) continue;
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = process.env[`GIT_CONFIG_VALUE_${i}`] ?? "";
  }
  return env;
}
var ZERO_OID = "0000000000000000000000000000000000000000";
var DeploymentRepository = class _DeploymentRepository {
  constructor(access, gitDir, indexFile, env) {
    this.access = access;
    this.gitDir = gitDir;
    this.indexFile = indexFile;
    this.env = env;
  }
  access;
  gitDir;
  indexFile;
  env;
  /** Blobs fetched so far: asking git whether it has one would fetch it lazily, one by one. */
  fetched = /* @__PURE__ */ new Set();
  filterIgnoredSaid = false;
  /**
   * Clones the tip of `branch` (or of the remote's default branch) into `workDir`, which must be
   * empty and private to this run: commit and trees only, in one request. A branch that does not
   * exist yet, like an empty repository, has no tip: the first commit starts it.
   */
  static async open(access, workDir, author, branch) {
    const home = join3(workDir, "home");
    await mkdir2(home, { recursive: true });
    const gitDir = join3(workDir, "repo.git");
    const repo = new _DeploymentRepository(access, gitDir, join3(workDir, "index"), gitEnvironment(access, home, author));
    const args = [
      // what an empty repository's HEAD names when the server does not say (protocol v2 does)
      "-c",
      "init.defaultBranch=main",
      "clone",
      "--bare",
      "--quiet",
      "--no-tags",
      "--depth=1",
      "--filter=blob:none",
      "--template=",
      ...branch === void 0 ? [] : ["--branch", branch],
      "--",
      access.url,
      gitDir
    ];
    const cloned = await repo.git(args, { bare: false });
    if (cloned.exitCode === 0) {
      await repo.reportIgnoredFilter(cloned.stderr, 0);
      const name = branch ?? (await repo.mustGit(["symbolic-ref", "--short", "HEAD"])).trim();
      const tip = await repo.resolve(`refs/heads/${name}`);
      return { repo, branch: name, ...tip === void 0 ? {} : { tip } };
    }
    if (branch === void 0 || !/Remote branch \S+ not found in upstream/i.test(cloned.stderr)) {
      throw repo.failure(args.slice(2), cloned, true);
    }
    await repo.mustGit(["init", "--quiet", "--bare", "--template=", gitDir], { bare: false });
    await repo.mustGit(["remote", "add", "origin", access.url]);
    await repo.mustGit(["config", "remote.origin.promisor", "true"]);
    await repo.mustGit(["config", "remote.origin.partialclonefilter", "blob:none"]);
    return { repo, branch };
  }
  /** Bytes of the packs git stored: what the server sent, since nothing is repacked here. */
  async packBytes() {
    const dir = join3(this.gitDir, "objects", "pack");
    const packs = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith(".pack"));
    const sizes = await Promise.all(packs.map(async (f) => (await stat2(join3(dir, f))).size));
    return sizes.reduce((a, b) => a + b, 0);
  }
  /** A server that ignores `--filter` sends every blob of the tip: said once, with the cost. */
  async reportIgnoredFilter(stderr, bytesBefore) {
    if (this.filterIgnoredSaid || !filterIgnored(stderr)) return;
    this.filterIgnoredSaid = true;
    warning(filterIgnoredMessage(this.access, await this.packBytes() - bytesBefore));
  }
  async resolve(ref) {
    const result = await this.git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
    return result.exitCode === 0 ? result.stdout.trim() : void 0;
  }
  async git(args, options = {}) {
    const env = { ...this.env };
    if (options.bare ?? true) env.GIT_DIR = this.gitDir;
    if (options.index) env.GIT_INDEX_FILE = this.indexFile;
    return runCommand("git", args, {
      env,
      silent: true,
      ...options.input === void 0 ? {} : { input: options.input }
    });
  }
  async mustGit(args, options = {}) {
    const result = await this.git(args, options);
    if (result.exitCode !== 0) throw this.failure(args, result, options.network ?? false);
    return result.stdout;
  }
  failure(args, result, network) {
    const stderr = result.stderr.trim();
    const explained = network ? explainGitFailure(stderr, this.access) : void 0;
    const command = `git ${args[0] ?? ""}`;
    const detail = stderr.split("\n").slice(-15).join("\n");
    return new RepositoryError(
      explained === void 0 ? `\`${command}\` on the deployment repository ${this.access.display} failed (exit code ${result.exitCode})` + (detail ? `:
${detail}` : "") : `${explained}
(\`${command}\` said: ${detail})`
    );
  }
  /** Fetches the tip of `branch` (commit and trees, no blobs); undefined when the branch does not exist. */
  async fetchTip(branch) {
    const tracking = `refs/remotes/origin/${branch}`;
    const args = [
      "fetch",
      "--quiet",
      "--no-tags",
      "--no-write-fetch-head",
      "--depth=1",
      "--filter=blob:none",
      "origin",
      `+refs/heads/${branch}:${tracking}`
    ];
    const before = await this.packBytes();
    const result = await this.git(args);
    if (result.exitCode !== 0) {
      if (/couldn't find remote ref/i.test(result.stderr)) return void 0;
      throw this.failure(args, result, true);
    }
    await this.reportIgnoredFilter(result.stderr, before);
    return this.resolve(tracking);
  }
  /** Every file under `prefix/` at `commit`, from the local trees (no blob is read). */
  async listFiles(commit, prefix) {
    return parseLsTree(await this.mustGit(["ls-tree", "-r", "-z", "--full-tree", commit, "--", `${prefix}/`]));
  }
  /** Downloads the given blobs in one request. */
  async fetchBlobs(oids) {
    const missing = [...new Set(oids)].filter((oid) => !this.fetched.has(oid));
    if (missing.length === 0) return;
    await this.mustGit(
      [
        "-c",
        "fetch.negotiationAlgorithm=noop",
        "fetch",
        "--quiet",
        "--no-tags",
        "--no-write-fetch-head",
        "--recurse-submodules=no",
        "--filter=blob:none",
        "origin",
        ...missing
      ],
      { network: true }
    );
    for (const oid of missing) this.fetched.add(oid);
  }
  /** A blob already fetched or written, as text. */
  async readText(oid) {
    return this.mustGit(["cat-file", "blob", oid]);
  }
  /** Stores files as blobs; returns their ids in the same order. */
  async writeFiles(paths) {
    if (paths.length === 0) return [];
    const out = await this.mustGit(["hash-object", "-w", "--no-filters", "--stdin-paths"], {
      input: `${paths.join("\n")}
`
    });
    const oids = out.trim().split("\n");
    for (const oid of oids) this.fetched.add(oid);
    return oids;
  }
  async writeText(text) {
    const oid = (await this.mustGit(["hash-object", "-w", "--no-filters", "--stdin"], { input: text })).trim();
    this.fetched.add(oid);
    return oid;
  }
  /**
   * Writes the tree of `parent` (or an empty one) with `changes` applied, and a commit of it.
   * `--missing-ok`: the unchanged blobs are the server's and were never downloaded.
   */
  async commit(parent, changes, message) {
    await this.mustGit(parent === void 0 ? ["read-tree", "--empty"] : ["read-tree", parent], { index: true });
    const lines = changes.map((c) => c.oid === void 0 ? `0 ${ZERO_OID}	${c.path}` : `100644 ${c.oid}	${c.path}`);
    await this.mustGit(["update-index", "--index-info"], { index: true, input: `${lines.join("\n")}
` });
    const tree = (await this.mustGit(["write-tree", "--missing-ok"], { index: true })).trim();
    const args = ["commit-tree", tree, ...parent === void 0 ? [] : ["-p", parent], "-F", "-"];
    return (await this.mustGit(args, { input: message })).trim();
  }
  /**
   * Pushes `commit` to `branch` (never forced); the caller reads the porcelain result. Not a thin
   * pack: a thin one deltifies against the files being replaced at the same paths, which git would
   * first download — an earlier image, when a build is re-deployed with another image.
   */
  async push(commit, branch) {
    return this.git(["push", "--porcelain", "--no-progress", "--no-thin", "origin", `${commit}:refs/heads/${branch}`]);
  }
  get display() {
    return this.access.display;
  }
  explain(stderr) {
    return explainGitFailure(stderr, this.access);
  }
  /**
   * Writes the files of one deploy folder into `dest` (for verifying an image before a rollback),
   * fetching its blobs in one request first. Only that folder is ever materialised.
   */
  async checkoutFolder(commit, entries, prefix, dest) {
    await this.fetchBlobs(entries.map((e) => e.oid));
    await mkdir2(dest, { recursive: true });
    await this.mustGit(["read-tree", `${commit}:${prefix}`], { index: true });
    await this.mustGit([`--work-tree=${dest}`, "checkout-index", "--all", "--force"], { index: true });
  }
};

// src/deploy/writer.ts
var short = (oid) => oid.slice(0, 12);
async function snapshot(repo, tip, target) {
  if (tip === void 0) return { listing: { folders: /* @__PURE__ */ new Map() } };
  const listing = listTarget(await repo.listFiles(tip, target), target);
  if (listing.latestOid === void 0) return { tip, listing };
  let latestSha = identifyLatest(listing);
  if (latestSha === void 0) {
    await repo.fetchBlobs([listing.latestOid]);
    latestSha = parseLatest(await repo.readText(listing.latestOid));
  }
  if (latestSha === void 0)
    warning(`\`${latestPath(target)}\` does not hold a commit sha; it will be replaced`);
  return latestSha === void 0 ? { tip, listing } : { tip, listing, latestSha };
}
async function readManifests(repo, oids) {
  await repo.fetchBlobs(oids.values());
  const manifests = /* @__PURE__ */ new Map();
  for (const [sha, oid] of oids) manifests.set(sha, parseManifest(await repo.readText(oid)));
  return manifests;
}
async function commitWithRetry(opened, settings2, plan) {
  const { repo, branch } = opened;
  let lastReason = "";
  for (let attempt = 1; attempt <= MAX_PUSH_ATTEMPTS; attempt++) {
    const tip = attempt === 1 ? opened.tip : await repo.fetchTip(branch);
    info(
      tip === void 0 ? `branch \`${branch}\` of ${repo.display} has no commits yet: this deploy makes the first` : `tip of \`${branch}\`: ${short(tip)} (commit and trees only)`
    );
    const step = await plan(await snapshot(repo, tip, settings2.target));
    if (step.kind === "unchanged") {
      info(`nothing to commit: ${step.reason}`);
      return { status: "unchanged", branch, ...tip ? { commit: tip } : {}, notes: [step.reason], attempts: attempt };
    }
    const commit = await repo.commit(tip, step.changes, step.message);
    if (settings2.dryRun) {
      const notes = [...step.notes, ...step.listing];
      info(
        `dry run: commit ${short(commit)} would be pushed to \`${branch}\`; it would:
${step.listing.join("\n")}`
      );
      return { status: "dry-run", branch, commit, notes, attempts: attempt };
    }
    const result = await repo.push(commit, branch);
    const verdict = classifyPush(result, branch);
    if (verdict === void 0) {
      const stderr = result.stderr.trim();
      throw new RepositoryError(
        repo.explain(stderr) ?? `\`git push\` to ${repo.display} failed (exit code ${result.exitCode}):
${stderr}`
      );
    }
    if (verdict.kind === "pushed") {
      info(`pushed ${short(commit)} to \`${branch}\` of ${repo.display}`);
      return { status: "pushed", branch, commit, notes: step.notes, attempts: attempt };
    }
    if (verdict.kind === "refused") {
      throw new RepositoryError(
        `${repo.display} refused the push to \`${branch}\`: ${verdict.reason}` + (verdict.hint ? `
${verdict.hint}` : "")
      );
    }
    lastReason = verdict.reason;
    if (attempt < MAX_PUSH_ATTEMPTS) {
      const delay = retryDelay(attempt + 1, Math.random);
      info(
        `push rejected (${verdict.reason}): another job pushed first; redoing the commit on the new tip in ${delay} ms`
      );
      await sleep(delay);
    }
  }
  throw new RepositoryError(
    `gave up after ${MAX_PUSH_ATTEMPTS} attempts to push to \`${branch}\` of ${repo.display}: the branch kept moving (last: ${lastReason}). Too many jobs deploy to it at once; limit the matrix with \`max-parallel\`, or re-run this job`
  );
}
async function writeDeploy(access, ctx, settings2, job) {
  const { target, sha } = settings2;
  const opened = await DeploymentRepository.open(access, settings2.workDir, settings2.author, settings2.branch);
  const { repo } = opened;
  const manifestText = serializeManifest(job.manifest);
  const fileOids = await repo.writeFiles(job.files.map((f) => f.path));
  const manifestOid = await repo.writeText(manifestText);
  const latestOid = await repo.writeText(latestContent(sha));
  const files = [
    ...job.files.map((f, i) => ({ name: f.name, oid: fileOids[i] ?? "" })),
    { name: MANIFEST_FILE, oid: manifestOid }
  ];
  const sizes = new Map(job.files.map((f, i) => [fileOids[i] ?? "", f.size]));
  sizes.set(manifestOid, Buffer.byteLength(manifestText));
  const ancestries = /* @__PURE__ */ new Map();
  return commitWithRetry(opened, settings2, async (snap) => {
    const oids = manifestsToRead(snap.listing, sha, snap.latestSha, job.keep);
    const manifests = await readManifests(repo, oids);
    let ancestry = snap.latestSha === void 0 ? void 0 : ancestries.get(snap.latestSha);
    if (snap.latestSha !== void 0 && ancestry === void 0) {
      ancestry = await sourceAncestry(ctx, sha, snap.latestSha);
      ancestries.set(snap.latestSha, ancestry);
    }
    const plan = planDeploy(
      { target, sha, files, manifest: job.manifest, latestOid, keep: job.keep },
      {
        listing: snap.listing,
        ...snap.latestSha === void 0 ? {} : { latestSha: snap.latestSha },
        manifests,
        ancestry: ancestry ?? "unknown"
      }
    );
    if (plan.kind === "unchanged") return plan;
    const notes = [];
    if (!plan.latest.move && plan.latest.reason) {
      notes.push(`${plan.latest.reason}: the image is stored, \`latest\` is left as it is`);
      notice(notes[notes.length - 1] ?? "");
    }
    if (plan.pruned.length > 0)
      notes.push(`keep ${job.keep}: removed ${plan.pruned.map((s) => deployFolder(target, s)).join(", ")}`);
    return {
      kind: "commit",
      changes: plan.changes,
      message: commitMessage({
        subject: settings2.subject ?? `adding ${sha} for ${target}`,
        repository: settings2.sourceRepository,
        sha,
        runUrl: settings2.runUrl,
        notes
      }),
      notes,
      listing: describeChanges(plan.changes, sizes, plan.latest.move ? { path: latestPath(target), sha } : void 0)
    };
  });
}
async function verifyDeployed(repo, tip, listing, target, sha, dest) {
  const folder = deployFolder(target, sha);
  const files = listing.folders.get(sha) ?? /* @__PURE__ */ new Map();
  const manifestOid = files.get(MANIFEST_FILE);
  if (manifestOid === void 0) {
    throw new RepositoryError(
      `input \`rollback-to\`: ${folder} has no ${MANIFEST_FILE}, so its image cannot be verified; roll back to a sha this action deployed`
    );
  }
  await repo.fetchBlobs([manifestOid]);
  const manifest = parseManifest(await repo.readText(manifestOid));
  const imageOid = manifest === void 0 ? void 0 : files.get(manifest.image.file);
  if (manifest === void 0 || imageOid === void 0) {
    throw new RepositoryError(
      `input \`rollback-to\`: ${folder}/${MANIFEST_FILE} ${manifest === void 0 ? "is not readable" : `names ${manifest.image.file}, which is not in the folder`}; the image cannot be verified`
    );
  }
  await repo.checkoutFolder(
    tip,
    [...files].map(([path2, oid]) => ({ mode: "100644", type: "blob", oid, path: path2 })),
    folder,
    dest
  );
  const stored = join4(dest, manifest.image.file);
  const storedSha = await sha256File(stored);
  if (storedSha !== manifest.image.compressedSha256) {
    throw new RepositoryError(
      `input \`rollback-to\`: ${folder}/${manifest.image.file} has sha256 ${storedSha}, but its manifest says ${manifest.image.compressedSha256}; not moving \`latest\` to an image that changed since it was deployed`
    );
  }
  const image = await decompressImage(stored, manifest.image.compression);
  const imageSha = await sha256File(image);
  if (imageSha !== manifest.image.sha256) {
    throw new RepositoryError(
      `input \`rollback-to\`: the image in ${folder} unpacks to sha256 ${imageSha}, but its manifest says ${manifest.image.sha256}; not moving \`latest\` to it`
    );
  }
  info(`verified ${folder}/${manifest.image.file}: sha256 ${manifest.image.sha256} as in its manifest`);
}
async function writeRollback(access, settings2) {
  const { target, sha } = settings2;
  const opened = await DeploymentRepository.open(access, settings2.workDir, settings2.author, settings2.branch);
  const { repo } = opened;
  const latestOid = await repo.writeText(latestContent(sha));
  const verified = /* @__PURE__ */ new Set();
  return commitWithRetry(opened, settings2, async (snap) => {
    const plan = planRollback(target, sha, snap, latestOid);
    if (plan.kind === "missing") {
      const listed = plan.deployed.slice(0, 10).join(", ");
      throw new RepositoryError(
        `input \`rollback-to\`: ${sha} is not deployed for target ${target} in ${repo.display}: there is no ${deployFolder(target, sha)}/ on its branch` + (listed ? `; deployed there: ${listed}${plan.deployed.length > 10 ? ", \u2026" : ""}` : "; nothing is deployed for that target")
      );
    }
    if (plan.kind === "unchanged") return plan;
    const folderKey = [...(snap.listing.folders.get(sha) ?? /* @__PURE__ */ new Map()).values()].sort().join(",");
    if (snap.tip !== void 0 && !verified.has(folderKey)) {
      await verifyDeployed(
        repo,
        snap.tip,
        snap.listing,
        target,
        sha,
        join4(settings2.workDir, `verify-${verified.size}`)
      );
      verified.add(folderKey);
    }
    const notes = snap.latestSha ? [`\`latest\` named ${snap.latestSha} before`] : [];
    return {
      kind: "commit",
      changes: plan.changes,
      message: commitMessage({
        subject: settings2.subject ?? `rolling back ${target} to ${sha}`,
        repository: settings2.sourceRepository,
        sha,
        runUrl: settings2.runUrl,
        notes
      }),
      notes,
      listing: [`write ${latestPath(target)} (${sha})`]
    };
  });
}

// src/deploy/index.ts
function sourceSha(ctx) {
  const sha = ctx.sha.toLowerCase();
  if (!isSourceSha(sha)) {
    throw new Error(
      `GITHUB_SHA is \`${ctx.sha}\`, not a full commit sha, so there is no \`<target>/<sha>\` folder to deploy to; run the action from a workflow triggered by a commit`
    );
  }
  return sha;
}
function settings(config, ctx, sha, workDir) {
  const { deploy } = config;
  return {
    target: config.build.target,
    sha,
    ...deploy.repositoryBranch === void 0 ? {} : { branch: deploy.repositoryBranch },
    dryRun: deploy.dryRun,
    author: { name: deploy.commitUserName, email: deploy.commitUserEmail },
    ...deploy.commitMessage === void 0 ? {} : { subject: deploy.commitMessage },
    sourceRepository: ctx.repository,
    runUrl: runUrl(ctx),
    workDir
  };
}
function outcome(result, access, path2, what) {
  const where = `${path2} in ${access.display}`;
  const commit = result.commit;
  const url = access.webUrl && commit ? `${access.webUrl}/tree/${commit}/${path2}` : void 0;
  const extra = result.notes.length && result.status !== "dry-run" ? `; ${result.notes.join("; ")}` : "";
  switch (result.status) {
    case "pushed":
      return {
        deployed: true,
        commit,
        path: path2,
        ...url ? { url } : {},
        message: `${what} ${where} (${commit?.slice(0, 12)})${extra}`
      };
    case "unchanged":
      return {
        deployed: true,
        ...commit ? { commit } : {},
        path: path2,
        ...url ? { url } : {},
        message: `${where} is already up to date (${commit?.slice(0, 12)}); nothing pushed`
      };
    case "dry-run":
      summarySection(
        `**Dry run**: would push to \`${result.branch}\` of ${access.display}:

${result.notes.map((n) => `- ${n}`).join("\n")}`
      );
      return { deployed: false, path: path2, message: `dry run: ${what} ${where} would be pushed; nothing was pushed` };
  }
}
async function withWorkDir(ctx, body) {
  const dir = await mkdtemp(join5(ctx.runnerTemp, "mirage-deploy-work-"));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
async function inGroup(name, body) {
  startGroup(name);
  try {
    return await body();
  } finally {
    endGroup();
  }
}
async function deployImage(config, ctx, image, setup) {
  const { deploy } = config;
  const target = config.build.target;
  const sha = sourceSha(ctx);
  const path2 = deployFolder(target, sha);
  return withWorkDir(ctx, async (workDir) => {
    const prepared = await inGroup(`Deploy: prepare ${path2}`, async () => {
      const stored = await compressImage(image.path, deploy.compression, join5(workDir, "stage"));
      info(`${stored.name}: ${image.size} bytes, ${stored.size} compressed (${deploy.compression})`);
      const verdict = sizeVerdict(stored.size, deploy.compression);
      if (verdict.level === "fail") throw new Error(`input \`compression\`: ${verdict.message}`);
      if (verdict.level === "warn") warning(verdict.message);
      const extras = [image.configFile, ...image.sideFiles];
      const files = [
        { name: stored.name, path: stored.path, size: stored.size },
        ...await Promise.all(extras.map(async (p) => ({ name: basename2(p), path: p, size: (await stat3(p)).size })))
      ];
      const commitTime = await sourceCommitTime(ctx, sha);
      const builtAt = (/* @__PURE__ */ new Date()).toISOString();
      if (commitTime === void 0) {
        info("the source commit time is unknown (no push event, no checkout): builds are ordered by build time");
      }
      const manifest = {
        schema: MANIFEST_SCHEMA,
        source: { repository: ctx.repository, sha, ref: ctx.ref, ...commitTime ? { commitTime } : {} },
        run: { url: runUrl(ctx) },
        target,
        image: {
          name: image.name,
          file: stored.name,
          sha256: image.sha256,
          size: image.size,
          compression: deploy.compression,
          compressedSha256: stored.sha256,
          compressedSize: stored.size
        },
        files: extras.map((p) => basename2(p)),
        versions: { ocaml: setup.ocamlVersion, opam: setup.opamVersion, mirage: setup.mirageVersion },
        builtAt
      };
      return { files, manifest };
    });
    return inGroup(`Deploy: write ${path2}`, async () => {
      const access = await openGitAccess(deploy, ctx);
      const result = await writeDeploy(access, ctx, settings(config, ctx, sha, workDir), {
        ...prepared,
        keep: deploy.keep
      });
      return outcome(result, access, path2, "deployed");
    });
  });
}
async function rollback(config, ctx, sha) {
  const target = config.build.target;
  const path2 = deployFolder(target, sha);
  return withWorkDir(
    ctx,
    (workDir) => inGroup(`Deploy: roll \`${target}/latest\` back to ${sha}`, async () => {
      const access = await openGitAccess(config.deploy, ctx);
      const result = await writeRollback(access, settings(config, ctx, sha, workDir));
      return outcome(result, access, path2, "rolled latest back to");
    })
  );
}

// src/mirage/index.ts
import { existsSync as existsSync3, readdirSync, readFileSync as readFileSync2, statSync } from "node:fs";
import { homedir } from "node:os";
import { join as join10, relative } from "node:path";

// src/mirage/image.ts
var NOT_IMAGES = [/^dune$/, /\.xl$/, /\.xl\.in$/, /_libvirt\.xml$/, /^\./];
function outputName(args) {
  let found;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if ((arg === "-o" || arg === "--output") && i + 1 < args.length) found = args[++i];
    else if (arg.startsWith("--output=")) found = arg.slice("--output=".length);
    else if (/^-o./.test(arg)) found = arg.slice(2);
  }
  return found;
}
function generatedNames(mirageFiles, target) {
  const suffix = `-${target}.opam`;
  return mirageFiles.filter((f) => f.endsWith(suffix) && f.length > suffix.length).map((f) => f.slice(0, -suffix.length)).sort();
}
function imageNames(imageName, configureArgs, mirageFiles, target) {
  if (imageName !== void 0) return { names: [imageName], from: "input `image-name`" };
  const output = outputName(configureArgs);
  if (output !== void 0) return { names: [output], from: "`-o` in `configure-args`" };
  const names = generatedNames(mirageFiles, target);
  return {
    names,
    from: names.length ? names.map((n) => `mirage/${n}-${target}.opam`).join(", ") : `no mirage/*-${target}.opam`
  };
}
function isCandidate(entry, target) {
  return entry.isFile && entry.name.endsWith(TARGETS[target].extension) && !NOT_IMAGES.some((r) => r.test(entry.name));
}
function chooseImage(dist, target, source) {
  const wanted = new Set(source.names.map((n) => imageFileName(target, n)));
  const candidates = dist.filter((e) => isCandidate(e, target) && (wanted.size === 0 || wanted.has(e.name))).map((e) => e.name).sort();
  const held = dist.length ? dist.map((e) => e.name + (e.isFile ? "" : "/")).sort().join(", ") : "nothing";
  if (candidates.length === 1 && candidates[0] !== void 0) return candidates[0];
  if (candidates.length === 0) {
    const expected = wanted.size ? [...wanted].map((f) => `dist/${f}`).join(" or ") : `a dist/*${TARGETS[target].extension} file`;
    throw new Error(
      `no image for target \`${target}\`: expected ${expected} (name from ${source.from}), but dist/ holds ${held}; check that the build step builds the unikernel, or set input \`image-name\` to the name it registers`
    );
  }
  throw new Error(
    `several images for target \`${target}\` in dist/: ${candidates.join(", ")} (names from ${source.from}); set input \`image-name\` to the one to deploy, or remove the stale files (\`make clean\`)`
  );
}

// src/mirage/matcher.ts
import { mkdirSync, writeFileSync } from "node:fs";
import { isAbsolute, join as join6, posix } from "node:path";
var MATCHER_OWNER = "mirage-deploy-ocaml";
var LOCATION = String.raw`^File "([^"]+)", lines? (\d+)(?:-\d+)?(?:, characters (\d+)-\d+)?:$`;
var QUOTED_SOURCE = String.raw`\s*\d+ \|.*|\.\.\.|\s*\^+\s*`;
var MESSAGE = String.raw`(?:(Error|Warning)|Alert [\w-]+)(?: \(?(?:warning )?(\d+(?: \[[\w-]+\])?)\)?)?: (.*\S.*)`;
function ocamlProblemMatcher() {
  return {
    problemMatcher: [
      {
        owner: MATCHER_OWNER,
        severity: "warning",
        pattern: [
          { regexp: LOCATION, file: 1, line: 2, column: 3 },
          { regexp: `^(?:${QUOTED_SOURCE}|${MESSAGE})$`, severity: 1, code: 2, message: 3, loop: true }
        ]
      }
    ]
  };
}
function rootLocation(line, folder) {
  if (folder === "" || folder === "." || folder.startsWith("..") || isAbsolute(folder)) return line;
  const match = /^File "([^"]+)"(.*)$/.exec(line);
  if (!match?.[1] || isAbsolute(match[1])) return line;
  return `File "${posix.join(folder, match[1])}"${match[2] ?? ""}`;
}
async function withProblemMatcher(runnerTemp, work) {
  const dir = join6(runnerTemp, "mirage-deploy");
  mkdirSync(dir, { recursive: true });
  const file = join6(dir, `${MATCHER_OWNER}.json`);
  writeFileSync(file, JSON.stringify(ocamlProblemMatcher(), null, 2));
  info(`::add-matcher::${file}`);
  try {
    return await work();
  } finally {
    info(`::remove-matcher owner=${MATCHER_OWNER}::`);
  }
}

// src/mirage/prebuilt.ts
import { copyFile as copyFile2, lstat, mkdir as mkdir3, readFile, rm as rm2, writeFile } from "node:fs/promises";
import { basename as basename3, dirname, join as join7 } from "node:path";
var HANDOVER_DIR = "mirage-deploy";
var RECORD_FILE = "build.json";
var RECORD_SCHEMA = 1;
var isName = (v) => typeof v === "string" && v !== "" && v !== "." && v !== ".." && !v.includes("/") && !v.includes("\0");
function parseBuildRecord(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (error2) {
    return `it is not JSON (${error2.message})`;
  }
  const r = value;
  if (r === null || typeof r !== "object") return "it is not a JSON object";
  if (r.schema !== RECORD_SCHEMA) return `its schema is ${String(r.schema)}, this action reads ${RECORD_SCHEMA}`;
  if (typeof r.target !== "string" || !isTarget(r.target)) return `its target ${String(r.target)} is unknown`;
  const v = r.versions;
  const names = [r.name, r.image, r.configFile];
  const lists = [r.sideFiles, r.lockFiles];
  if (!names.every(isName) || !lists.every((l) => Array.isArray(l) && l.every(isName)) || typeof r.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(r.sha256) || typeof r.size !== "number" || !Number.isSafeInteger(r.size) || typeof v !== "object" || ![v.ocamlVersion, v.opamVersion, v.mirageVersion].every((x) => typeof x === "string")) {
    return "a field is missing or malformed";
  }
  return r;
}
async function writeHandover(image, versions, lockFiles2) {
  const dir = join7(dirname(image.path), HANDOVER_DIR);
  await rm2(dir, { recursive: true, force: true });
  await mkdir3(dir);
  for (const file of [image.configFile, ...image.sideFiles, ...lockFiles2]) {
    await copyFile2(file, join7(dir, basename3(file)));
  }
  const record = {
    schema: RECORD_SCHEMA,
    target: image.target,
    name: image.name,
    image: basename3(image.path),
    sha256: image.sha256,
    size: image.size,
    configFile: basename3(image.configFile),
    sideFiles: image.sideFiles.map((f) => basename3(f)),
    lockFiles: lockFiles2.map((f) => basename3(f)),
    versions: {
      ocamlVersion: versions.ocamlVersion,
      opamVersion: versions.opamVersion,
      mirageVersion: versions.mirageVersion
    }
  };
  await writeFile(join7(dir, RECORD_FILE), `${JSON.stringify(record, null, 2)}
`);
  return dir;
}
async function regularFile(path2, what) {
  const info2 = await lstat(path2).catch(() => void 0);
  if (info2 === void 0) throw new Error(`input \`image-path\`: ${what} ${path2} is missing`);
  if (!info2.isFile())
    throw new Error(`input \`image-path\`: ${what} ${path2} is not a regular file (a link or a folder)`);
}
async function loadPrebuilt(imagePath, isFolder, target) {
  const dist = isFolder ? imagePath : dirname(imagePath);
  const dir = join7(dist, HANDOVER_DIR);
  const recordPath = join7(dir, RECORD_FILE);
  const text = await readFile(recordPath, "utf8").catch(() => void 0);
  if (text === void 0) {
    throw new Error(
      `input \`image-path\`: ${recordPath} is missing; give the \`dist/\` folder a build by this action left (upload the whole folder as the artifact, including dist/mirage-deploy/)`
    );
  }
  const record = parseBuildRecord(text);
  if (typeof record === "string") throw new Error(`input \`image-path\`: ${recordPath} cannot be used: ${record}`);
  if (record.target !== target) {
    throw new Error(
      `input \`target\`: is \`${target}\`, but the image in \`image-path\` was built for \`${record.target}\`; set \`target: ${record.target}\``
    );
  }
  const path2 = join7(dist, record.image);
  if (!isFolder && basename3(imagePath) !== record.image) {
    throw new Error(`input \`image-path\`: ${imagePath} is not the image ${record.image} that ${recordPath} describes`);
  }
  await regularFile(path2, "the image");
  const at = (name) => join7(dir, name);
  for (const name of [record.configFile, ...record.sideFiles, ...record.lockFiles]) await regularFile(at(name), "file");
  const sha256 = await sha256File(path2);
  if (sha256 !== record.sha256) {
    throw new Error(
      `input \`image-path\`: ${path2} has sha256 ${sha256}, but the build recorded ${record.sha256}; the artifact is not what the build job made: upload and download it again`
    );
  }
  return {
    image: {
      target,
      name: record.name,
      path: path2,
      sha256,
      size: (await lstat(path2)).size,
      sideFiles: record.sideFiles.map(at),
      configFile: at(record.configFile),
      timings: {}
    },
    versions: record.versions,
    lockFiles: record.lockFiles.map(at)
  };
}

// src/mirage/plan.ts
import { createHash as createHash2 } from "node:crypto";
import { join as join8 } from "node:path";
function commandLine(command) {
  return [command.program, ...command.args].join(" ");
}
function configureCommand(build2) {
  return {
    program: "mirage",
    args: ["configure", "-t", build2.target, "-f", build2.configFile, ...build2.configureArgs]
  };
}
function makeCommand(target, cores) {
  return { program: "make", args: [`-j${cores}`, target] };
}
function buildCommand(build2, cores) {
  const [program, ...args] = build2.buildCommand;
  return program === void 0 ? makeCommand("build", cores) : { program, args };
}
function duneCacheRoot(env, home) {
  return env.DUNE_CACHE_ROOT || join8(home, ".cache", "mirage-deploy", "dune");
}
function buildEnvironment(setupEnv, cores, cacheRoot) {
  return {
    ...setupEnv,
    OPAMJOBS: String(cores),
    DUNE_JOBS: String(cores),
    DUNE_CACHE: "enabled",
    DUNE_CACHE_ROOT: cacheRoot
  };
}
function lockFilesDigest(files) {
  const hash = createHash2("sha256");
  for (const file of [...files].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) {
    hash.update(`${file.name}\0${file.content}\0`);
  }
  return hash.digest("hex");
}
function duniverseCacheKeys(prefix, runnerOs, target, lockDigest) {
  return { key: `${prefix}-duniverse-${runnerOs}-${target}-${lockDigest}`, restoreKeys: [] };
}
function duneCacheKeys(prefix, runnerOs, runnerArch, target, lockDigest) {
  const base = `${prefix}-dune-${runnerOs}-${runnerArch}`;
  return { key: `${base}-${target}-${lockDigest}`, restoreKeys: [`${base}-${target}-`, `${base}-`] };
}
function formatSeconds(seconds) {
  return `${seconds.toFixed(1)} s`;
}
function formatSize(bytes) {
  const units = ["bytes", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]} (${bytes} bytes)`;
}

// src/apt.ts
function aptCommand(facts) {
  if (!facts.hosted || facts.privilege === "none") return void 0;
  return facts.privilege === "root" ? ["apt-get"] : ["sudo", "DEBIAN_FRONTEND=noninteractive", "apt-get"];
}
var FETCH_FAILURE = /^(?:E|W|Err):.*(?:Failed to fetch|Unable to fetch some archives|404\s+Not Found|Temporary failure resolving|Could not resolve|Could not connect|Connection timed out|Hash Sum mismatch|File has unexpected size)/im;
function isFetchFailure(output) {
  return FETCH_FAILURE.test(output);
}
async function currentPrivilege() {
  if (process.getuid?.() === 0) return "root";
  return await which("sudo", false) !== "" ? "sudo" : "none";
}
function runsOnHostedRunner(env = process.env) {
  return env.RUNNER_ENVIRONMENT === "github-hosted";
}
var DEADLINES = ["-o", "Acquire::http::Timeout=60", "-o", "Acquire::https::Timeout=60", "-o", "Acquire::Retries=2"];
var indexRefreshed = false;
async function apt(command, args) {
  const [program = "apt-get", ...prefix] = command;
  return runCommand(program, [...prefix, ...DEADLINES, ...args], {
    env: childEnv({ DEBIAN_FRONTEND: "noninteractive" })
  });
}
async function mustApt(command, args, retryFetch) {
  let result = await apt(command, args);
  if (result.exitCode !== 0 && isFetchFailure(result.stdout + result.stderr)) {
    warning(`apt-get ${args[0] ?? ""} could not download everything; refreshing and trying once more`);
    await retryFetch();
    result = await apt(command, args);
  }
  if (result.exitCode !== 0) throw new CommandError([...command, ...args].join(" "), result);
}
async function refreshAptIndex(command) {
  if (indexRefreshed) return;
  await mustApt(command, ["update", "-qq"], async () => {
  });
  indexRefreshed = true;
}
async function aptInstall(command, packages) {
  await refreshAptIndex(command);
  await mustApt(command, ["install", "-y", "-qq", "--no-install-recommends", ...packages], async () => {
    indexRefreshed = false;
    await refreshAptIndex(command);
  });
}

// src/mirage/system-packages.ts
function installedPackages(dpkgOutput) {
  const installed = /* @__PURE__ */ new Set();
  for (const line of dpkgOutput.split("\n")) {
    const [name, ...status] = line.trim().split(/\s+/);
    if (name && status.join(" ") === "install ok installed") installed.add(name.replace(/:.*$/, ""));
  }
  return installed;
}
function planSystemPackages(required, dpkgOutput, facts, target) {
  const installed = installedPackages(dpkgOutput);
  const missing = required.filter((p) => !installed.has(p));
  if (missing.length === 0) return { action: "none" };
  const command = aptCommand(facts);
  if (command !== void 0) return { action: "install", packages: missing, command };
  const needs = `target \`${target}\` needs the system packages ${missing.join(", ")}, which are not installed on this runner`;
  const install = `apt-get install -y ${missing.join(" ")}`;
  return {
    action: "warn",
    packages: missing,
    message: facts.hosted ? `${needs}, and the action cannot install them here (not root, and no sudo); going on without them: install them in the job's image (\`${install}\`) if the build fails for want of them` : `${needs}; install them (\`sudo ${install}\`) if the build fails for want of them`
  };
}
async function installFacts(env) {
  return { hosted: runsOnHostedRunner(env), privilege: await currentPrivilege() };
}
async function ensureSystemPackages(target, ctx, env) {
  const required = TARGETS[target].systemPackages;
  if (required.length === 0 || ctx.runnerOs !== "Linux") return;
  let query;
  try {
    query = await runCommand("dpkg-query", ["-W", "-f=${Package} ${Status}\\n", ...required], { silent: true });
  } catch {
    warning(
      `target \`${target}\` needs ${required.join(", ")} (or your distribution's equivalent); this runner has no dpkg-query, so the action cannot check them`
    );
    return;
  }
  const plan = planSystemPackages(required, query.stdout, await installFacts(env), target);
  if (plan.action === "warn") warning(plan.message);
  if (plan.action !== "install") return;
  startGroup(`System packages for target ${target}: ${plan.packages.join(", ")}`);
  try {
    await aptInstall(plan.command, plan.packages);
  } finally {
    endGroup();
  }
}
async function prepareForDepexts(ctx, env) {
  if (ctx.runnerOs !== "Linux" || await which("apt-get", false) === "") return;
  const command = aptCommand(await installFacts(env));
  if (command !== void 0) await refreshAptIndex(command);
}

// src/mirage/caches.ts
import { existsSync as existsSync2 } from "node:fs";
import { join as join9 } from "node:path";
var DUNE_CACHE_LIMIT = "1GB";
async function restoreBuildCaches(config, ctx, dir, duneRoot, lockDigest) {
  if (!config.setup.cache) return { duniverseRestored: false };
  const { cachePrefix } = config.setup;
  const { target } = config.build;
  let duniverse;
  if (lockDigest === void 0) {
    info("cache duniverse: `make lock` wrote no mirage/*.opam.locked, so there is no key: not cached");
  } else {
    const spec = {
      name: "duniverse",
      paths: [join9(dir, "duniverse")],
      ...duniverseCacheKeys(cachePrefix, ctx.runnerOs, target, lockDigest)
    };
    duniverse = { spec, hit: await restoreCache(spec) };
  }
  const duneSpec = {
    name: "dune",
    paths: [duneRoot],
    ...duneCacheKeys(cachePrefix, ctx.runnerOs, ctx.runnerArch, target, lockDigest ?? "unlocked")
  };
  const dune = { spec: duneSpec, hit: await restoreCache(duneSpec) };
  return {
    ...duniverse ? { duniverse } : {},
    dune,
    duniverseRestored: duniverse?.hit === "exact" && existsSync2(join9(dir, "duniverse"))
  };
}
function saveBuildCachesLater(caches, env) {
  for (const restored of [caches.duniverse, caches.dune]) {
    if (restored === void 0) continue;
    const { spec, hit } = restored;
    if (!spec.paths.every((p) => existsSync2(p))) {
      info(`cache ${spec.name}: ${spec.paths.join(", ")} does not exist: nothing to save`);
    } else if (spec.name === "dune" && findProgram("dune", env) !== void 0) {
      registerCacheSave(spec, hit, {
        cleanup: {
          program: "dune",
          args: ["cache", "trim", `--size=${DUNE_CACHE_LIMIT}`],
          env: { PATH: env.PATH ?? "", DUNE_CACHE_ROOT: env.DUNE_CACHE_ROOT ?? "" }
        }
      });
    } else {
      registerCacheSave(spec, hit);
    }
  }
}

// src/mirage/index.ts
async function timed(timings, phase, title, work) {
  startGroup(title);
  const start = performance.now();
  try {
    return await work();
  } finally {
    const seconds = (performance.now() - start) / 1e3;
    timings[phase] = (timings[phase] ?? 0) + seconds;
    endGroup();
    info(`${title}: ${formatSeconds(seconds)}`);
  }
}
function locate(program, env) {
  const found = findProgram(program, env);
  if (found !== void 0) return found;
  throw new Error(
    `\`${program}\` is not on the switch's PATH (${env.PATH ?? ""}); ` + (program === "mirage" ? "check input `mirage-version` and the setup step above" : "install it, or fix input `build-command`")
  );
}
async function run2(command, cwd, env, hint, mapLogLine) {
  const result = await runCommand(locate(command.program, env), command.args, {
    cwd,
    env,
    ...mapLogLine ? { mapLogLine } : {}
  });
  if (result.exitCode !== 0) throw new CommandError(commandLine(command), result, hint);
}
function listDir(dir) {
  if (!existsSync3(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).map((e) => ({ name: e.name, isFile: e.isFile() }));
}
function lockFiles(dir) {
  const mirageDir = join10(dir, "mirage");
  return listDir(mirageDir).filter((e) => e.isFile && e.name.endsWith(".opam.locked")).map((e) => ({
    name: e.name,
    path: join10(mirageDir, e.name),
    content: readFileSync2(join10(mirageDir, e.name), "utf8")
  }));
}
async function findImage(build2, dir) {
  const mirageFiles = listDir(join10(dir, "mirage")).filter((e) => e.isFile).map((e) => e.name);
  const source = imageNames(build2.imageName, build2.configureArgs, mirageFiles, build2.target);
  const file = chooseImage(listDir(join10(dir, "dist")), build2.target, source);
  const path2 = join10(dir, "dist", file);
  const name = file.slice(0, file.length - TARGETS[build2.target].extension.length);
  const registered = generatedNames(mirageFiles, build2.target);
  const sideFiles = sideFilePaths(build2.target, registered.length === 1 ? registered[0] ?? name : name).map((f) => join10(dir, f)).filter((f) => existsSync3(f));
  return { name, path: path2, size: statSync(path2).size, sha256: await sha256File(path2), sideFiles };
}
async function buildUnikernel(config, ctx, setup) {
  const { build: build2 } = config;
  const dir = build2.workingDirectory;
  const timings = {};
  summaryRow("target", build2.target);
  try {
    checkTargetRunnable(build2.target, ctx.runnerOs);
    await ensureSystemPackages(build2.target, ctx, process.env);
    const cacheRoot = duneCacheRoot(process.env, homedir());
    const env = buildEnvironment(setup.env, ctx.cores, cacheRoot);
    const configure = configureCommand(build2);
    await timed(
      timings,
      "configure",
      commandLine(configure),
      () => run2(configure, dir, env, `fix ${build2.configFile} or input \`configure-args\` (mirage's output is above)`)
    );
    const lock = makeCommand("lock", ctx.cores);
    await timed(
      timings,
      "depend",
      `depend: ${commandLine(lock)}`,
      () => run2(lock, dir, env, "opam-monorepo could not lock the dependencies (its output is above)")
    );
    const locks = lockFiles(dir);
    const caches = await restoreBuildCaches(
      config,
      ctx,
      dir,
      cacheRoot,
      locks.length ? lockFilesDigest(locks) : void 0
    );
    const install = makeCommand("install-switch", ctx.cores);
    await timed(timings, "depend", `depend: ${commandLine(install)}`, async () => {
      await prepareForDepexts(ctx, process.env);
      await run2(install, dir, env, "opam could not install the switch dependencies (its output is above)");
    });
    if (caches.duniverseRestored) {
      info("duniverse/ restored from the cache for this lock file: `make pull` skipped");
    } else {
      const pull = makeCommand("pull", ctx.cores);
      await timed(
        timings,
        "depend",
        `depend: ${commandLine(pull)}`,
        () => run2(pull, dir, env, "opam-monorepo could not fetch the sources into duniverse/ (its output is above)")
      );
    }
    const compile = buildCommand(build2, ctx.cores);
    await timed(
      timings,
      "build",
      commandLine(compile),
      () => withProblemMatcher(
        ctx.runnerTemp,
        () => run2(
          compile,
          dir,
          env,
          "the build failed; the compiler messages are above and annotated on the commit",
          (line) => rootLocation(line, relative(ctx.workspace, dir))
        )
      )
    );
    const found = await findImage(build2, dir);
    const image = { target: build2.target, ...found, configFile: join10(dir, build2.configFile), timings };
    saveBuildCachesLater(caches, env);
    const handover = await writeHandover(
      image,
      setup,
      lockFiles(dir).map((l) => l.path)
    );
    info(`for a later deploy job (\`image-path\`): ${relative(dir, handover)}/`);
    info(`image: ${image.path} (${image.size} bytes, sha256 ${image.sha256})`);
    for (const side of image.sideFiles) info(`side file: ${relative(dir, side)}`);
    summaryRow("image", `\`${relative(ctx.workspace, image.path)}\``);
    summaryRow("size", formatSize(image.size));
    summaryRow("sha256", `\`${image.sha256}\``);
    return image;
  } finally {
    summaryRow(
      "time",
      [["setup", setup.seconds], ...Object.entries(timings)].map(([phase, seconds]) => `${phase} ${formatSeconds(seconds)}`).join(", ")
    );
  }
}

// src/opam/index.ts
import { existsSync as existsSync5, mkdirSync as mkdirSync2, readFileSync as readFileSync4, readdirSync as readdirSync3, writeFileSync as writeFileSync4 } from "node:fs";
import { homedir as homedir2 } from "node:os";
import { join as join14 } from "node:path";

// node_modules/@actions/tool-cache/lib/tool-cache.js
import * as crypto from "crypto";
import * as fs from "fs";

// node_modules/@actions/tool-cache/lib/manifest.js
var semver = __toESM(require_semver(), 1);

// node_modules/@actions/tool-cache/lib/tool-cache.js
import * as os from "os";
import * as path from "path";
var semver2 = __toESM(require_semver(), 1);
import * as stream from "stream";
import * as util from "util";
import { ok } from "assert";

// node_modules/@actions/tool-cache/lib/retry-helper.js
var __awaiter = function(thisArg, _arguments, P, generator) {
  function adopt(value) {
    return value instanceof P ? value : new P(function(resolve) {
      resolve(value);
    });
  }
  return new (P || (P = Promise))(function(resolve, reject) {
    function fulfilled(value) {
      try {
        step(generator.next(value));
      } catch (e) {
        reject(e);
      }
    }
    function rejected(value) {
      try {
        step(generator["throw"](value));
      } catch (e) {
        reject(e);
      }
    }
    function step(result) {
      result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected);
    }
    step((generator = generator.apply(thisArg, _arguments || [])).next());
  });
};
var RetryHelper = class {
  constructor(maxAttempts, minSeconds, maxSeconds) {
    if (maxAttempts < 1) {
      throw new Error("max attempts should be greater than or equal to 1");
    }
    this.maxAttempts = maxAttempts;
    this.minSeconds = Math.floor(minSeconds);
    this.maxSeconds = Math.floor(maxSeconds);
    if (this.minSeconds > this.maxSeconds) {
      throw new Error("min seconds should be less than or equal to max seconds");
    }
  }
  execute(action, isRetryable) {
    return __awaiter(this, void 0, void 0, function* () {
      let attempt = 1;
      while (attempt < this.maxAttempts) {
        try {
          return yield action();
        } catch (err) {
          if (isRetryable && !isRetryable(err)) {
            throw err;
          }
          info(err.message);
        }
        const seconds = this.getSleepAmount();
        info(`Waiting ${seconds} seconds before trying again`);
        yield this.sleep(seconds);
        attempt++;
      }
      return yield action();
    });
  }
  getSleepAmount() {
    return Math.floor(Math.random() * (this.maxSeconds - this.minSeconds + 1)) + this.minSeconds;
  }
  sleep(seconds) {
    return __awaiter(this, void 0, void 0, function* () {
      return new Promise((resolve) => setTimeout(resolve, seconds * 1e3));
    });
  }
};

// node_modules/@actions/tool-cache/lib/tool-cache.js
var __awaiter2 = function(thisArg, _arguments, P, generator) {
  function adopt(value) {
    return value instanceof P ? value : new P(function(resolve) {
      resolve(value);
    });
  }
  return new (P || (P = Promise))(function(resolve, reject) {
    function fulfilled(value) {
      try {
        step(generator.next(value));
      } catch (e) {
        reject(e);
      }
    }
    function rejected(value) {
      try {
        step(generator["throw"](value));
      } catch (e) {
        reject(e);
      }
    }
    function step(result) {
      result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected);
    }
    step((generator = generator.apply(thisArg, _arguments || [])).next());
  });
};
var HTTPError = class extends Error {
  constructor(httpStatusCode) {
    super(`Unexpected HTTP response: ${httpStatusCode}`);
    this.httpStatusCode = httpStatusCode;
    Object.setPrototypeOf(this, new.target.prototype);
  }
};
var IS_WINDOWS = process.platform === "win32";
var IS_MAC = process.platform === "darwin";
var userAgent = "actions/tool-cache";
function downloadTool(url, dest, auth, headers) {
  return __awaiter2(this, void 0, void 0, function* () {
    dest = dest || path.join(_getTempDirectory(), crypto.randomUUID());
    yield mkdirP(path.dirname(dest));
    debug(`Downloading ${url}`);
    debug(`Destination ${dest}`);
    const maxAttempts = 3;
    const minSeconds = _getGlobal("TEST_DOWNLOAD_TOOL_RETRY_MIN_SECONDS", 10);
    const maxSeconds = _getGlobal("TEST_DOWNLOAD_TOOL_RETRY_MAX_SECONDS", 20);
    const retryHelper = new RetryHelper(maxAttempts, minSeconds, maxSeconds);
    return yield retryHelper.execute(() => __awaiter2(this, void 0, void 0, function* () {
      return yield downloadToolAttempt(url, dest || "", auth, headers);
    }), (err) => {
      if (err instanceof HTTPError && err.httpStatusCode) {
        if (err.httpStatusCode < 500 && err.httpStatusCode !== 408 && err.httpStatusCode !== 429) {
          return false;
        }
      }
      return true;
    });
  });
}
function downloadToolAttempt(url, dest, auth, headers) {
  return __awaiter2(this, void 0, void 0, function* () {
    if (fs.existsSync(dest)) {
      throw new Error(`Destination file path ${dest} already exists`);
    }
    const http = new HttpClient(userAgent, [], {
      allowRetries: false
    });
    if (auth) {
      debug("set auth");
      if (headers === void 0) {
        headers = {};
      }
      headers.authorization = auth;
    }
    const response = yield http.get(url, headers);
    if (response.message.statusCode !== 200) {
      const err = new HTTPError(response.message.statusCode);
      debug(`Failed to download from "${url}". Code(${response.message.statusCode}) Message(${response.message.statusMessage})`);
      throw err;
    }
    const pipeline2 = util.promisify(stream.pipeline);
    const responseMessageFactory = _getGlobal("TEST_DOWNLOAD_TOOL_RESPONSE_MESSAGE_FACTORY", () => response.message);
    const readStream = responseMessageFactory();
    let succeeded = false;
    try {
      yield pipeline2(readStream, fs.createWriteStream(dest));
      debug("download complete");
      succeeded = true;
      return dest;
    } finally {
      if (!succeeded) {
        debug("download failed");
        try {
          yield rmRF(dest);
        } catch (err) {
          debug(`Failed to delete '${dest}'. ${err.message}`);
        }
      }
    }
  });
}
function cacheFile(sourceFile, targetFile, tool, version, arch2) {
  return __awaiter2(this, void 0, void 0, function* () {
    version = semver2.clean(version) || version;
    arch2 = arch2 || os.arch();
    debug(`Caching tool ${tool} ${version} ${arch2}`);
    debug(`source file: ${sourceFile}`);
    if (!fs.statSync(sourceFile).isFile()) {
      throw new Error("sourceFile is not a file");
    }
    const destFolder = yield _createToolPath(tool, version, arch2);
    const destPath = path.join(destFolder, targetFile);
    debug(`destination file ${destPath}`);
    yield cp(sourceFile, destPath);
    _completeToolPath(tool, version, arch2);
    return destFolder;
  });
}
function find(toolName, versionSpec, arch2) {
  if (!toolName) {
    throw new Error("toolName parameter is required");
  }
  if (!versionSpec) {
    throw new Error("versionSpec parameter is required");
  }
  arch2 = arch2 || os.arch();
  if (!isExplicitVersion(versionSpec)) {
    const localVersions = findAllVersions(toolName, arch2);
    const match = evaluateVersions(localVersions, versionSpec);
    versionSpec = match;
  }
  let toolPath = "";
  if (versionSpec) {
    versionSpec = semver2.clean(versionSpec) || "";
    const cachePath = path.join(_getCacheDirectory(), toolName, versionSpec, arch2);
    debug(`checking cache: ${cachePath}`);
    if (fs.existsSync(cachePath) && fs.existsSync(`${cachePath}.complete`)) {
      debug(`Found tool in cache ${toolName} ${versionSpec} ${arch2}`);
      toolPath = cachePath;
    } else {
      debug("not found");
    }
  }
  return toolPath;
}
function findAllVersions(toolName, arch2) {
  const versions = [];
  arch2 = arch2 || os.arch();
  const toolPath = path.join(_getCacheDirectory(), toolName);
  if (fs.existsSync(toolPath)) {
    const children = fs.readdirSync(toolPath);
    for (const child of children) {
      if (isExplicitVersion(child)) {
        const fullPath = path.join(toolPath, child, arch2 || "");
        if (fs.existsSync(fullPath) && fs.existsSync(`${fullPath}.complete`)) {
          versions.push(child);
        }
      }
    }
  }
  return versions;
}
function _createToolPath(tool, version, arch2) {
  return __awaiter2(this, void 0, void 0, function* () {
    const folderPath = path.join(_getCacheDirectory(), tool, semver2.clean(version) || version, arch2 || "");
    debug(`destination ${folderPath}`);
    const markerPath = `${folderPath}.complete`;
    yield rmRF(folderPath);
    yield rmRF(markerPath);
    yield mkdirP(folderPath);
    return folderPath;
  });
}
function _completeToolPath(tool, version, arch2) {
  const folderPath = path.join(_getCacheDirectory(), tool, semver2.clean(version) || version, arch2 || "");
  const markerPath = `${folderPath}.complete`;
  fs.writeFileSync(markerPath, "");
  debug("finished caching tool");
}
function isExplicitVersion(versionSpec) {
  const c = semver2.clean(versionSpec) || "";
  debug(`isExplicit: ${c}`);
  const valid2 = semver2.valid(c) != null;
  debug(`explicit? ${valid2}`);
  return valid2;
}
function evaluateVersions(versions, versionSpec) {
  let version = "";
  debug(`evaluating ${versions.length} versions`);
  versions = versions.sort((a, b) => {
    if (semver2.gt(a, b)) {
      return 1;
    }
    return -1;
  });
  for (let i = versions.length - 1; i >= 0; i--) {
    const potential = versions[i];
    const satisfied = semver2.satisfies(potential, versionSpec);
    if (satisfied) {
      version = potential;
      break;
    }
  }
  if (version) {
    debug(`matched: ${version}`);
  } else {
    debug("match not found");
  }
  return version;
}
function _getCacheDirectory() {
  const cacheDirectory = process.env["RUNNER_TOOL_CACHE"] || "";
  ok(cacheDirectory, "Expected RUNNER_TOOL_CACHE to be defined");
  return cacheDirectory;
}
function _getTempDirectory() {
  const tempDirectory = process.env["RUNNER_TEMP"] || "";
  ok(tempDirectory, "Expected RUNNER_TEMP to be defined");
  return tempDirectory;
}
function _getGlobal(key, defaultValue) {
  const value = global[key];
  return value !== void 0 ? value : defaultValue;
}

// src/opam/binary.ts
import { createHash as createHash3 } from "node:crypto";
import { chmodSync, createReadStream } from "node:fs";
import { join as join12 } from "node:path";

// src/opam/checksums.ts
var OPAM_SHA512 = {
  "2.4.1": {
    "arm64-linux": "0e05ea7821f4a8af0a249c37177bf5a8ffc99ac588ba3fcc40f5d4cde0b9bcf9c855099cd3bc1be8f3c9f6c70584be88fe1b10c8b1ca07eeef235276dc998fe3",
    "arm64-macos": "44e566be2627b7238cc16746127a6c722d30ac9f4893b41a1780fa9d7094269b991e7969053c3ca63c14cd0794d69a8818360cf06fecebd5a925822fee5a666e",
    "x86_64-linux": "0e659a8d9027778a06d899332e7c47b7fdd267e192cd223b2a30cabdd3d9e4573edb92850adb0b74e1fbc75cb224062c796376cbf500c4077c91a785cb3221cf",
    "x86_64-macos": "f19fdc5eccca0c8f629a4c87792a76dad64fc23c5993daa6d1a3dee9ea3305a4a2524fd5d15203e8702cd12e2359d80373a0157be913305696cf493f9de8d381"
  },
  "2.4.0": {
    "arm64-linux": "57b6fbdbeebb9e654daae6de5acd39017d9ee58edccee9e40f62c088a00133b23c0906ebf9a9e5343323e1df189388009aa6480e133a4909ff920bdf1b6ee07b",
    "arm64-macos": "5bb7f57d21eb745df439643355bfa469930a280c6a422e552579046f29435890c61a78543853ed0eb9539c4cd4ba675e834154f168895ae605badfae3ccb9072",
    "x86_64-linux": "0e6036008f6f692c57b26bd484664c9e319b0b2732618ef8ed0059f78a061ee2fa0467ad18c5a89fe5866f184bd701bf104bed02a8d650945e7b56fed5c802aa",
    "x86_64-macos": "f54c3291bf1c115b78dc3bc420c54ad3de9a80677366ecedc7f1a820b18077979eb5abfa126a12a58dbd88a879c9a2566e901f25c420a770cb338dfd968907af"
  },
  "2.3.0": {
    "arm64-linux": "a551cbaa44a6945e09b3daa3a3a7477821062d385037543cb71a188e4625c4ced76422689437aee602707076c1d16b68bed99ad5a31df98e69a8810dccb037b3",
    "arm64-macos": "45a6ca26eed3fe5937b1940f2c41c24517c0920d9632fd9eea3e0613411e85cb4126effd645d2915e37c65022aa0c483d2c98f8ce25dd8b70bb98e2c4ecd7804",
    "x86_64-linux": "d4271d2387751313d5f904e8fdb3133ea893c72d09737139266d2bbe7624f81665a4276d2e55aa71856630ece8ce226b989560076599baae9afc053c5815f8c8",
    "x86_64-macos": "18c98cbbd986e33e06943522d0cce6725615406c4f072e7487a56242e2f03de0f436a674b590a5ebfbbe47b7819358926bd3ce71c5b847227b5d0d3de120d6ee"
  },
  "2.2.1": {
    "arm64-linux": "32360c69e554b7c0376a437b144bcb371a955f1261bebd1854b6720aa89f24ccdd46b2636db4dd4e9f175a67839f9583750bd75b0cb08696b1bf6ea10b61e92c",
    "arm64-macos": "711c208db843b6719cedb97e8b509161724a6c0e709431ceca2dfa664074371cd47d4e785c67e4600543e8f61e9ea8257b9e70c0dc8398314b2c118c7f1edc2a",
    "x86_64-linux": "7d3a7585af622e9b70fa4a3fff72f561b96f918b8f2ec55c6bd840a06c03934c461ef228a2ef6633ae295f1e546143b80ea846f2f54027f176ada37d11abbfbc",
    "x86_64-macos": "599801e9bdbe32c1bf81a708ef4ced25eb1eb78aa3a6af42e6968d0dd21cef46a3ee21b7b2bc7c620cc24e92cd317589b5f69bc99ed823a14ae271a7bc06c57b"
  }
};

// src/opam/binary.ts
var OPAM_RELEASES_URL = "https://github.com/ocaml/opam/releases/download";
var MINIMUM_OPAM = [2, 1];
function opamPlatform(runnerOs, runnerArch) {
  const os2 = { Linux: "linux", macOS: "macos" }[runnerOs];
  const arch2 = { X64: "x86_64", ARM64: "arm64" }[runnerArch.toUpperCase()];
  if (os2 === void 0 || arch2 === void 0) {
    throw new Error(
      `input \`opam-version\`: opam publishes binaries for Linux and macOS on X64 and ARM64, not for ${runnerOs} ${runnerArch}; install opam on the runner and set \`opam-version: system\``
    );
  }
  return { arch: arch2, os: os2 };
}
function opamBinaryUrl(version, platform, baseUrl) {
  const tag = version.replace(/~/g, "-");
  return `${(baseUrl ?? OPAM_RELEASES_URL).replace(/\/+$/, "")}/${tag}/opam-${tag}-${platform.arch}-${platform.os}`;
}
function expectedDigest(version, platform, sha256Input) {
  if (sha256Input !== void 0)
    return { algorithm: "sha256", hex: sha256Input.toLowerCase(), source: "input `opam-sha256`" };
  const sha512 = OPAM_SHA512[version]?.[`${platform.arch}-${platform.os}`];
  if (sha512 !== void 0) return { algorithm: "sha512", hex: sha512, source: "the action's checksum table" };
  throw new Error(
    `input \`opam-version\`: the action has no checksum for opam ${version} on ${platform.os} ${platform.arch}, so it will not run a download it cannot verify; use one of ${Object.keys(OPAM_SHA512).join(", ")}, or set \`opam-sha256\` to the SHA-256 of that binary (\`sha256sum opam-\u2026\`)`
  );
}
function parseOpamVersion(output) {
  return /^(\d+\.\d+\.\d+(?:[~-][A-Za-z0-9.]+)?)\s*$/.exec(output.trim())?.[1];
}
function isSupportedOpam(version) {
  const [major = 0, minor = 0] = version.split(/[.~-]/).map(Number);
  return major > MINIMUM_OPAM[0] || major === MINIMUM_OPAM[0] && minor >= MINIMUM_OPAM[1];
}
async function digestOf(path2, algorithm) {
  const hash = createHash3(algorithm);
  for await (const chunk of createReadStream(path2)) hash.update(chunk);
  return hash.digest("hex");
}
async function verify(path2, expected, url) {
  const actual = await digestOf(path2, expected.algorithm);
  if (actual !== expected.hex) {
    throw new Error(
      `the opam binary from ${url} has ${expected.algorithm} ${actual}, but ${expected.source} says ${expected.hex}; it was not used. Check \`opam-download-url\` (a mirror must serve the release unchanged) or \`opam-sha256\``
    );
  }
}
async function toolCacheOpam(setup, ctx) {
  const platform = opamPlatform(ctx.runnerOs, ctx.runnerArch);
  const expected = expectedDigest(setup.opamVersion, platform, setup.opamSha256);
  const url = opamBinaryUrl(setup.opamVersion, platform, setup.opamDownloadUrl);
  let dir = find("opam", setup.opamVersion, platform.arch);
  if (dir !== "") {
    info(`opam ${setup.opamVersion}: found in the tool cache at ${dir}`);
    await verify(join12(dir, "opam"), expected, dir);
  } else {
    info(`opam ${setup.opamVersion}: downloading ${url}`);
    let downloaded;
    try {
      downloaded = await downloadTool(url);
    } catch (error2) {
      throw new Error(
        `input \`opam-version\`: cannot download opam ${setup.opamVersion} from ${url} (${error2 instanceof Error ? error2.message : String(error2)}); check the version and \`opam-download-url\``
      );
    }
    await verify(downloaded, expected, url);
    chmodSync(downloaded, 493);
    dir = await cacheFile(downloaded, "opam", "opam", setup.opamVersion, platform.arch);
  }
  addPath(dir);
  return join12(dir, "opam");
}
async function systemOpam() {
  const path2 = await which("opam", false);
  if (path2 === "") {
    throw new Error(
      "input `opam-version`: `system` needs an opam on PATH, and there is none; install opam \u2265 2.1 on the runner or give a release such as `2.4.1` to download"
    );
  }
  return path2;
}
async function installOpam(setup, ctx) {
  const path2 = setup.opamVersion === "system" ? await systemOpam() : await toolCacheOpam(setup, ctx);
  const output = (await mustRun(path2, ["--version"], { silent: true })).stdout;
  const version = parseOpamVersion(output);
  if (version === void 0) throw new Error(`\`${path2} --version\` printed ${JSON.stringify(output)}, not a version`);
  if (!isSupportedOpam(version)) {
    throw new Error(
      `input \`opam-version\`: opam ${version} at ${path2} is too old; MirageOS 4 needs opam \u2265 ${MINIMUM_OPAM.join(".")} (use a release such as \`2.4.1\`)`
    );
  }
  info(`opam ${version}: ${path2}`);
  return { path: path2, version };
}

// src/opam/compiler.ts
function parts(version) {
  return (/^[\d.]+/.exec(version)?.[0] ?? "").split(".").filter(Boolean).map(Number);
}
function compareVersions(a, b) {
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return Number(a.includes("~")) - Number(b.includes("~")) || a.localeCompare(b);
}
function pickCompilerVersion(prefix, versions) {
  const matching = versions.filter((v) => {
    if (v === prefix) return true;
    if (!v.startsWith(`${prefix}.`)) return false;
    return !/[~+]/.test(v.slice(prefix.length));
  });
  return [...matching].sort(compareVersions).at(-1);
}
function parseVersionList(output) {
  return output.split(/\s+/).map((v) => v.trim()).filter((v) => v !== "");
}
function compilerPackage(spec, available = []) {
  switch (spec.kind) {
    case "system":
      return "ocaml-system";
    case "package":
      return `${spec.name}.${spec.version}`;
    case "version": {
      const version = pickCompilerVersion(spec.version, available);
      if (version === void 0) {
        throw new Error(
          `input \`ocaml-compiler\`: no ocaml-base-compiler release matches \`${spec.version}\` in the opam repositories` + (available.length ? ` (they have ${available.join(", ")})` : "") + "; give one of those, a full package such as `ocaml-variants.5.4.1+options`, or `ocaml-system`"
        );
      }
      return `ocaml-base-compiler.${version}`;
    }
  }
}

// src/opam/keys.ts
import { createHash as createHash4 } from "node:crypto";
function shortHash(value, length = 12) {
  return createHash4("sha256").update(value).digest("hex").slice(0, length);
}
function clean2(part) {
  return part.replace(/[^A-Za-z0-9._+~-]/g, "_");
}
function opamCacheKeys(k) {
  const parts2 = [
    clean2(k.prefix),
    "opam",
    clean2(k.os),
    clean2(k.osRelease),
    clean2(k.arch),
    `opam${clean2(k.opamVersion)}`,
    `ocaml${clean2(k.compiler)}`,
    `r${shortHash(k.repositories.map((r) => `${r.name}=${r.url}`).join("\n"))}`,
    `p${shortHash(k.pins.map((p) => `${p.name}=${p.url ?? ""}`).join("\n"))}`,
    `m${shortHash(k.mirageVersion.replace(/\s+/g, ""))}`,
    clean2(k.target),
    `d${k.dependencies}`
  ];
  const prefixOf = (count) => `${parts2.slice(0, count).join("-")}-`;
  return {
    key: parts2.join("-"),
    restoreKeys: [prefixOf(11), prefixOf(10), prefixOf(9), prefixOf(8)]
  };
}
function dependencyHash(files) {
  const hash = createHash4("sha256");
  for (const file of [...files].sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) {
    const content = typeof file.content === "string" ? Buffer.from(file.content) : file.content;
    hash.update(`${file.path}\0${content.length}\0`).update(content);
  }
  return hash.digest("hex").slice(0, 16);
}
function isDependencyInput(relativePath) {
  return /^[^/]+\.opam$/.test(relativePath) || /^mirage\/[^/]+\.opam\.locked$/.test(relativePath);
}
function linuxRelease(osRelease2) {
  const field = (name) => {
    const match = new RegExp(`^${name}=(.*)$`, "m").exec(osRelease2);
    return match?.[1]?.trim().replace(/^["']|["']$/g, "") || void 0;
  };
  return `${field("ID") ?? "linux"}-${field("VERSION_ID") ?? field("BUILD_ID") ?? "unknown"}`;
}

// src/opam/plan.ts
var SWITCH_NAME = "mirage";
function opamVariables(root, cores) {
  return {
    OPAMROOT: root,
    OPAMSWITCH: SWITCH_NAME,
    OPAMYES: "1",
    // depext installs system packages without asking only at this level.
    OPAMCONFIRMLEVEL: "unsafe-yes",
    OPAMRETRIES: "10",
    OPAMJOBS: String(cores),
    OPAMDOWNLOADJOBS: String(cores),
    OPAMCOLOR: "always"
  };
}
function parseEnvSexp(text) {
  const strings = [];
  const pattern = /"((?:[^"\\]|\\.)*)"/g;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    strings.push((m[1] ?? "").replace(/\\(.)/g, (_, c) => ({ n: "\n", t: "	" })[c] ?? c));
  }
  const env = {};
  for (let i = 0; i + 1 < strings.length; i += 2) env[strings[i]] = strings[i + 1];
  return env;
}
function installedVersions(switchState) {
  const block = /^installed:\s*\[([^\]]*)\]/m.exec(switchState)?.[1] ?? "";
  const versions = /* @__PURE__ */ new Map();
  for (const m of block.matchAll(/"([^".]+)\.([^"]+)"/g)) versions.set(m[1], m[2]);
  return versions;
}
function parseRepositoryList(text) {
  return text.split("\n").map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#") && !line.startsWith("[")).flatMap((line) => {
    const [name, url] = line.split(/\s+/);
    return name && url ? [{ name, url }] : [];
  });
}
function parsePinList(text) {
  return text.split("\n").map((line) => line.trim()).filter((line) => /^[A-Za-z0-9][A-Za-z0-9_+-]*$/.test(line));
}
function planRepositories(current, wanted) {
  const commands = [];
  const wantedNames = new Set(wanted.map((r) => r.name));
  for (const repo of current) {
    if (!wantedNames.has(repo.name))
      commands.push(["repository", "remove", repo.name, "--all-switches", "--set-default"]);
  }
  for (const repo of wanted) {
    const existing = current.find((r) => r.name === repo.name);
    if (existing === void 0) {
      commands.push(["repository", "add", repo.name, repo.url, "--all-switches", "--set-default", "--rank=-1"]);
    } else if (existing.url !== repo.url) {
      commands.push(["repository", "set-url", repo.name, repo.url]);
    }
  }
  return commands;
}
function pinCommand(pin) {
  if (pin.url !== void 0) return ["pin", "add", "--no-action", pin.name, pin.url];
  const dot = pin.name.indexOf(".");
  if (dot > 0) return ["pin", "add", "--no-action", pin.name.slice(0, dot), pin.name.slice(dot + 1)];
  return ["pin", "add", "--no-action", "--dev-repo", pin.name];
}
function planPins(current, wanted) {
  const wantedNames = new Set(wanted.map((p) => p.name.split(".")[0]));
  return [
    ...current.filter((name) => !wantedNames.has(name)).map((name) => ["pin", "remove", "--no-action", name]),
    ...wanted.map(pinCommand)
  ];
}
function opamFormula(constraint) {
  return constraint.split(/([&|])/).map((piece) => {
    const text = piece.trim();
    if (text === "&" || text === "|") return text;
    const match = /^(=|!=|>=|<=|>|<)?\s*(\S+)$/.exec(text);
    if (!match?.[2]) throw new Error(`input \`mirage-version\`: cannot read \`${text}\` in \`${constraint}\``);
    return `${match[1] ?? "="} "${match[2]}"`;
  }).join(" ");
}
function requirementsOpamFile(mirageVersion) {
  return [
    'opam-version: "2.0"',
    'synopsis: "What mirage-deploy installs into the switch"',
    // Without these opam lints the file on every install.
    'maintainer: "mirage-deploy"',
    'authors: "mirage-deploy"',
    'homepage: "https://github.com/mirage/mirage"',
    'bug-reports: "https://github.com/mirage/mirage/issues"',
    `depends: [ "mirage" {${opamFormula(mirageVersion)}} "opam-monorepo" ]`,
    ""
  ].join("\n");
}

// src/opam/sandbox.ts
import { mkdtempSync, readFileSync as readFileSync3, realpathSync, rmSync, writeFileSync as writeFileSync3 } from "node:fs";
import { join as join13 } from "node:path";
function sandboxAction(f) {
  if (f.runnerOs !== "Linux" || f.disabled || f.hasBwrap) return "none";
  return aptCommand(f) === void 0 ? "refuse" : "install";
}
var NAMESPACE_DENIED = /bwrap: (?:No permissions to creat(?:e|ing) new namespace|Creating new namespace failed|setting up uid map: Permission denied|loopback: Failed RTM_NEWADDR: Operation not permitted|Failed to make \/ slave: Permission denied|Can't mount proc on \/newroot\/proc: Operation not permitted)/;
function probeFailureCause(output, apparmorRestricts2) {
  if (!NAMESPACE_DENIED.test(output)) return "other";
  return apparmorRestricts2 ? "apparmor" : "namespaces";
}
var DISABLE = "or set input `opam-disable-sandboxing: true` (opam then builds packages unsandboxed)";
function decideProbe(f) {
  if (f.ok) return { action: "ok" };
  const cause = probeFailureCause(f.output, f.apparmorRestricts);
  const said = f.output.trim().split("\n").slice(-3).join(" / ") || "(nothing printed)";
  const head = `opam's build sandbox does not work on this runner: bubblewrap said \`${said}\``;
  if (cause === "apparmor") {
    if (!f.profileInstalled && aptCommand(f) !== void 0) return { action: "install-apparmor-profile" };
    return {
      action: "fail",
      message: `${head}. AppArmor forbids unprivileged user namespaces here (kernel.apparmor_restrict_unprivileged_userns=1, as on Ubuntu 24.04 and later)` + (f.profileInstalled ? ", and the AppArmor profile the action installed for bwrap did not lift that" : "") + ". Give bwrap an AppArmor profile that allows `userns`, " + DISABLE
    };
  }
  if (cause === "namespaces") {
    return {
      action: "fail",
      message: `${head}. The kernel or container does not let bubblewrap create namespaces (a \`container:\` job, or unprivileged user namespaces turned off). Run where it can, ${DISABLE}: a container is then the isolation`
    };
  }
  return { action: "fail", message: `${head}. Fix bubblewrap on this runner, ${DISABLE}` };
}
function probeArgs(dir) {
  return [
    "--unshare-net",
    "--new-session",
    "--die-with-parent",
    "--ro-bind",
    "/",
    "/",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--bind",
    dir,
    dir,
    "--chdir",
    dir,
    "sh",
    "-c",
    "echo SUCCESS | tee check-write"
  ];
}
function bwrapProfile(bwrap) {
  return [
    "# Installed by the mirage-deploy action: lets bubblewrap, the sandbox opam builds packages in,",
    "# create user namespaces, which Ubuntu's AppArmor policy refuses to unprivileged programs.",
    "abi <abi/4.0>,",
    "include <tunables/global>",
    "",
    `profile mirage-deploy-bwrap ${bwrap} flags=(unconfined) {`,
    "  userns,",
    "}",
    ""
  ].join("\n");
}
var PROFILE_PATH = "/etc/apparmor.d/mirage-deploy-bwrap";
async function probe(bwrap, runnerTemp) {
  const dir = mkdtempSync(join13(runnerTemp, "opam-sandbox-check-"));
  try {
    info(`probing opam's sandbox: ${bwrap} \u2026 sh -c 'echo SUCCESS | tee check-write'`);
    const result = await runCommand(bwrap, probeArgs(dir), { silent: true });
    return { ok: result.exitCode === 0 && result.stdout.trim() === "SUCCESS", output: result.stderr + result.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
function apparmorRestricts() {
  try {
    return readFileSync3("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "utf8").trim() === "1";
  } catch {
    return false;
  }
}
async function installProfile(privilege, bwrap, runnerTemp) {
  const staged = join13(runnerTemp, "mirage-deploy-bwrap.apparmor");
  writeFileSync3(staged, bwrapProfile(bwrap));
  const asRoot = (program, args) => privilege === "root" ? mustRun(program, args) : mustRun("sudo", [program, ...args]);
  try {
    await asRoot("install", ["-m", "644", staged, PROFILE_PATH]);
    await asRoot("apparmor_parser", ["-r", PROFILE_PATH]);
  } finally {
    rmSync(staged, { force: true });
  }
  info(`installed the AppArmor profile ${PROFILE_PATH} for ${bwrap}`);
}
async function prepareSandbox(setup, ctx) {
  const hosted = runsOnHostedRunner();
  const privilege = await currentPrivilege();
  const action = sandboxAction({
    runnerOs: ctx.runnerOs,
    disabled: setup.opamDisableSandboxing,
    hasBwrap: await which("bwrap", false) !== "",
    hosted,
    privilege
  });
  if (action === "refuse") {
    throw new Error(
      "opam sandboxes package builds with bubblewrap (`bwrap`), which is not installed on this runner" + (hosted ? ", and the action cannot install it here (not root, and no sudo)" : "") + "; install it (Debian/Ubuntu: `apt-get install bubblewrap`) or set input `opam-disable-sandboxing: true`"
    );
  }
  if (action === "install") {
    const command = aptCommand({ hosted, privilege });
    if (command !== void 0) await aptInstall(command, ["bubblewrap"]);
  }
  if (ctx.runnerOs !== "Linux" || setup.opamDisableSandboxing) {
    info(
      setup.opamDisableSandboxing ? "opam sandboxing: off (input `opam-disable-sandboxing`)" : "opam sandboxing: on"
    );
    return;
  }
  const bwrap = realpathSync(await which("bwrap", true));
  for (let profileInstalled = false; ; profileInstalled = true) {
    const decision = decideProbe({
      ...await probe(bwrap, ctx.runnerTemp),
      apparmorRestricts: apparmorRestricts(),
      hosted,
      privilege,
      profileInstalled
    });
    if (decision.action === "ok") break;
    if (decision.action === "fail") throw new Error(decision.message);
    try {
      await installProfile(privilege, bwrap, ctx.runnerTemp);
    } catch (error2) {
      throw new Error(
        `AppArmor refuses bubblewrap the user namespaces opam's sandbox needs, and installing a profile for ${bwrap} failed: ${error2 instanceof Error ? error2.message : String(error2)}; ${DISABLE}`
      );
    }
  }
  info("opam sandboxing: on (bubblewrap works here)");
}

// src/opam/index.ts
var Opam = class {
  constructor(path2, env) {
    this.path = path2;
    this.env = env;
  }
  path;
  env;
  run(args) {
    return mustRun(this.path, args, { env: this.env });
  }
  /** Output to parse: without the colours that OPAMCOLOR=always puts in for the log. */
  async query(args) {
    info(`(query) opam ${args.join(" ")}`);
    return (await mustRun(this.path, args, { env: { ...this.env, OPAMCOLOR: "never" }, silent: true })).stdout;
  }
};
function opamRoot() {
  return process.env.OPAMROOT || join14(homedir2(), ".opam");
}
async function osRelease(ctx) {
  if (ctx.runnerOs === "macOS") {
    const result = await runCommand("sw_vers", ["-productVersion"], { silent: true });
    return `macos-${result.stdout.trim() || "unknown"}`;
  }
  try {
    return linuxRelease(readFileSync4("/etc/os-release", "utf8"));
  } catch {
    return "linux-unknown";
  }
}
function dependencyFiles(config) {
  const dir = config.build.workingDirectory;
  const files = [];
  const add = (path2) => {
    const full = join14(dir, path2);
    if (existsSync5(full)) files.push({ path: path2, content: readFileSync4(full) });
  };
  add(config.build.configFile);
  const list = (sub) => existsSync5(join14(dir, sub)) ? readdirSync3(join14(dir, sub)).map((f) => sub ? `${sub}/${f}` : f) : [];
  for (const path2 of [...list(""), ...list("mirage")]) if (isDependencyInput(path2)) add(path2);
  return files;
}
function rootIsUsable(root) {
  return existsSync5(join14(root, "config")) && existsSync5(join14(root, SWITCH_NAME, ".opam-switch", "switch-state"));
}
async function converge(opam, config, ctx, root, hit) {
  const { setup } = config;
  const [first] = setup.opamRepositories;
  const fresh = !existsSync5(join14(root, "config"));
  if (fresh) {
    if (first === void 0) throw new Error("input `opam-repositories`: give at least one repository");
    await opam.run([
      "init",
      "--bare",
      "--no-setup",
      ...setup.opamDisableSandboxing ? ["--disable-sandboxing"] : [],
      first.name,
      first.url
    ]);
  } else {
    info(`opam root ${root}: ${hit === "miss" ? "already there (not from the cache)" : `restored (${hit} hit)`}`);
  }
  const current = parseRepositoryList(await opam.query(["repository", "list", "--all"]));
  for (const args of planRepositories(current, setup.opamRepositories)) await opam.run(args);
  if (!fresh) await opam.run(["update", "--repositories"]);
  const switches = (await opam.query(["switch", "list", "--short"])).split("\n").map((s) => s.trim());
  if (!switches.includes(SWITCH_NAME)) {
    const spec = setup.ocamlCompiler;
    const available = spec.kind === "version" ? parseVersionList(await opam.query(["show", "ocaml-base-compiler", "--field=all-versions"])) : [];
    const compiler = compilerPackage(spec, available);
    info(`compiler: ${compiler} (input \`ocaml-compiler\`: ${setup.ocamlCompilerInput})`);
    await opam.run(["switch", "create", SWITCH_NAME, compiler, "--no-switch"]);
  }
  for (const args of planPins(parsePinList(await opam.query(["pin", "list", "--short"])), setup.opamPins)) {
    await opam.run(args);
  }
  const requirements = join14(ctx.runnerTemp, "mirage-deploy-opam");
  mkdirSync2(requirements, { recursive: true });
  writeFileSync4(join14(requirements, "mirage-deploy-setup.opam"), requirementsOpamFile(setup.mirageVersion));
  info(`installing what is missing of: mirage {${setup.mirageVersion}}, opam-monorepo`);
  await opam.run(["install", requirements, "--deps-only"]);
}
async function group2(name, fn) {
  const started = Date.now();
  const value = await group(name, fn);
  info(`${name}: ${((Date.now() - started) / 1e3).toFixed(1)} s`);
  return value;
}
async function setupOpam(config, ctx) {
  const started = Date.now();
  const { setup } = config;
  const binary = await group2("Install opam", () => installOpam(setup, ctx));
  await group2("opam sandbox", () => prepareSandbox(setup, ctx));
  const root = opamRoot();
  const variables = opamVariables(root, ctx.cores);
  for (const [name, value] of Object.entries(variables)) exportVariable(name, value);
  const opam = new Opam(binary.path, childEnv(variables));
  let hit = "miss";
  let spec;
  if (setup.cache) {
    const keys = opamCacheKeys({
      prefix: setup.cachePrefix,
      os: ctx.runnerOs,
      osRelease: await osRelease(ctx),
      arch: ctx.runnerArch,
      opamVersion: binary.version,
      compiler: setup.ocamlCompilerInput,
      repositories: setup.opamRepositories,
      pins: setup.opamPins,
      mirageVersion: setup.mirageVersion,
      target: config.build.target,
      dependencies: dependencyHash(dependencyFiles(config))
    });
    spec = { name: "opam", paths: [root], key: keys.key, restoreKeys: keys.restoreKeys };
    const cacheSpec = spec;
    hit = await group2("Restore the opam root", () => restoreCache(cacheSpec));
  }
  await group2("opam switch", async () => {
    if (hit === "exact" && rootIsUsable(root)) {
      info(`opam root ${root}: exact cache hit, nothing to install`);
    } else {
      await converge(opam, config, ctx, root, hit);
    }
  });
  const switchEnv = parseEnvSexp(await opam.query(["env", "--sexp"]));
  for (const [name, value] of Object.entries(switchEnv)) if (name !== "PATH") exportVariable(name, value);
  addPath(join14(root, SWITCH_NAME, "bin"));
  const env = { ...childEnv(variables), ...switchEnv };
  const installed = installedVersions(readFileSync4(join14(root, SWITCH_NAME, ".opam-switch", "switch-state"), "utf8"));
  const ocamlVersion = installed.get("ocaml") ?? "";
  const mirageVersion = installed.get("mirage") ?? "";
  if (spec !== void 0) {
    registerCacheSave(spec, hit, {
      cleanup: {
        program: binary.path,
        args: ["clean", "--download-cache", "--logs", "--repo-cache"],
        env: { OPAMROOT: root }
      }
    });
  }
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  summaryRow(
    "setup",
    `OCaml ${ocamlVersion}, opam ${binary.version}, mirage ${mirageVersion}; cache: ${hit}; ${seconds} s`
  );
  return { opamVersion: binary.version, ocamlVersion, mirageVersion, cacheHit: hit, env, seconds };
}

// src/main.ts
function describe(config, ctx) {
  const { build: build2, setup, deploy } = config;
  return [
    `event: ${ctx.eventName || "(none)"} on ${ctx.ref || "(no ref)"} at ${ctx.sha || "(no sha)"}`,
    `target: ${build2.target}`,
    `unikernel: ${build2.workingDirectory}/${build2.configFile}`,
    `configure arguments: ${build2.configureArgs.length ? build2.configureArgs.join(" ") : "(none)"}`,
    `OCaml: ${setup.ocamlCompilerInput}; opam: ${setup.opamVersion}; mirage: ${setup.mirageVersion}`,
    `opam repositories: ${setup.opamRepositories.map((r) => `${r.name}=${r.url}`).join(", ")}`,
    `cache: ${setup.cache ? `on (prefix ${setup.cachePrefix})` : "off"}`,
    `deploy: ${deploy.enabled ? `to ${deploy.repository}` : "off"}${deploy.dryRun ? " (dry run)" : ""}`
  ].join("\n");
}
function reportFailure(error2) {
  if (error2 instanceof ConfigError) {
    for (const problem of error2.problems) {
      error(`input \`${problem.input}\`: ${problem.message}`, { title: `Invalid input: ${problem.input}` });
    }
    setFailed(
      error2.problems.length === 1 ? "one input is invalid; nothing was done" : `${error2.problems.length} inputs are invalid; nothing was done`
    );
    summaryRow("result", `failed: invalid ${error2.problems.map((p) => `\`${p.input}\``).join(", ")}`);
    return;
  }
  const message = error2 instanceof Error ? error2.message : String(error2);
  setFailed(message);
  summaryRow("result", `failed: ${message.split("\n")[0] ?? ""}`);
}
function setDeployOutputs(outcome2) {
  setOutput("deployed", String(outcome2.deployed));
  setOutput("deploy-commit", outcome2.commit ?? "");
  setOutput("deploy-path", outcome2.path ?? "");
  setOutput("deploy-url", outcome2.url ?? "");
  summaryRow("deploy", outcome2.url ? `[${outcome2.message}](${outcome2.url})` : outcome2.message);
}
async function runPhases(config, ctx) {
  const gate = decideDeploy(config.deploy, ctx);
  const builds = config.deploy.rollbackTo === void 0 && config.build.prebuilt === void 0;
  if (builds) checkTargetRunnable(config.build.target, ctx.runnerOs);
  if (gate.deploy) await checkCredentials(config.deploy);
  if (config.deploy.rollbackTo !== void 0) {
    if (!gate.deploy) {
      notice(`rollback-to: not moving anything: ${gate.reason}`);
      setDeployOutputs({ deployed: false, message: gate.reason });
      return;
    }
    setDeployOutputs(await rollback(config, ctx, config.deploy.rollbackTo));
    return;
  }
  const { image, versions } = builds ? await build(config, ctx) : await takePrebuilt(config);
  setOutput("ocaml-version", versions.ocamlVersion);
  setOutput("opam-version", versions.opamVersion);
  setOutput("image", image.path);
  setOutput("image-sha256", image.sha256);
  setOutput("image-size", String(image.size));
  if (!gate.deploy) {
    notice(`Not deploying: ${gate.reason}`);
    setDeployOutputs({ deployed: false, message: `not deployed: ${gate.reason}` });
    return;
  }
  if (builds) {
    const killed = sweepLeftovers();
    info(killed ? `killed ${killed} processes the build left running` : "the build left no process running");
  }
  setDeployOutputs(await deployImage(config, ctx, image, versions));
}
async function build(config, ctx) {
  const setup = await setupOpam(config, ctx);
  setOutput("cache-hit", setup.cacheHit);
  return { image: await buildUnikernel(config, ctx, setup), versions: setup };
}
async function takePrebuilt(config) {
  const prebuilt = config.build.prebuilt;
  if (prebuilt === void 0) throw new Error("takePrebuilt: no `image-path`");
  startGroup(`Prebuilt image: ${prebuilt.path}`);
  try {
    const taken = await loadPrebuilt(prebuilt.path, prebuilt.isFolder, config.build.target);
    info(`image ${taken.image.path}: ${taken.image.size} bytes, sha256 ${taken.image.sha256} (as built)`);
    summaryRow("image", `\`${taken.image.path}\` (prebuilt)`);
    return taken;
  } finally {
    endGroup();
  }
}
async function run3() {
  maskSecret(getInput("deploy-key"));
  maskSecret(getInput("deploy-token"));
  let target = getInput("target") || "unix";
  try {
    const ctx = readContext();
    const config = parseConfig((name) => getInput(name), ctx);
    sealEnvironment();
    target = config.build.target;
    startGroup("Inputs");
    info(describe(config, ctx));
    endGroup();
    await runPhases(config, ctx);
    saveState(STATE.mainSucceeded, "true");
  } catch (error2) {
    reportFailure(error2);
  } finally {
    await writeSummary(`mirage-deploy: ${target}`);
  }
}

// src/index.ts
await run3();
