import { createRequire as __mdCreateRequire } from 'node:module'; const require = __mdCreateRequire(import.meta.url);
import {
  CommandError,
  ConfigError,
  HttpClient,
  STATE,
  TARGETS,
  __toESM,
  addPath,
  buildCommand,
  buildEnvironment,
  checkCredentials,
  checkTargetRunnable,
  childEnv,
  commandLine,
  configureCommand,
  cp,
  debug,
  deployImage,
  duneCacheKeys,
  duneCacheRoot,
  duniverseCacheKeys,
  endGroup,
  error,
  exportVariable,
  findProgram,
  formatSeconds,
  formatSize,
  getInput,
  group,
  imageFileName,
  info,
  isTarget,
  lockFilesDigest,
  makeCommand,
  maskSecret,
  mkdirP,
  mustRun,
  notice,
  parseConfig,
  planDepend,
  readContext,
  redactUrl,
  registerCacheSave,
  require_semver,
  restoreCache,
  restoreCacheEntry,
  rmRF,
  rollback,
  runCommand,
  saveState,
  sealEnvironment,
  setFailed,
  setOutput,
  sha256File,
  sideFilePaths,
  startGroup,
  summaryRow,
  summaryTitle,
  sweepLeftovers,
  warning,
  which,
  writeSummary
} from "./chunks/chunk-PRKQQOVF.js";

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

// src/mirage/index.ts
import { existsSync as existsSync2, lstatSync, readdirSync, readFileSync as readFileSync2, realpathSync, statSync, writeFileSync as writeFileSync3 } from "node:fs";
import { homedir } from "node:os";
import { join as join4, relative } from "node:path";

// src/mirage/image.ts
function shown(entry) {
  if (entry.isSymlink) return `${entry.name}@`;
  return entry.name + (entry.isFile ? "" : "/");
}
function publishedFileProblem(relativePath, file, realDir) {
  if (file.isSymlink) {
    return `${relativePath} is a symbolic link; only files the build wrote are published: make the build copy the file there instead`;
  }
  if (file.realPath !== realDir && !file.realPath.startsWith(`${realDir}/`)) {
    return `${relativePath} resolves to ${file.realPath}, outside the unikernel's folder ${realDir}; only files inside it are published`;
  }
  return void 0;
}
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
function generatedNames(mirageFiles2, target) {
  const suffix = `-${target}.opam`;
  return mirageFiles2.filter((f) => f.endsWith(suffix) && f.length > suffix.length).map((f) => f.slice(0, -suffix.length)).sort();
}
function imageNames(imageName, configureArgs, mirageFiles2, target) {
  if (imageName !== void 0) return { names: [imageName], from: "input `image-name`" };
  const output = outputName(configureArgs);
  if (output !== void 0) return { names: [output], from: "`-o` in `configure-args`" };
  const names = generatedNames(mirageFiles2, target);
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
  const held = dist.length ? dist.map(shown).sort().join(", ") : "nothing";
  if (candidates.length === 1 && candidates[0] !== void 0) return candidates[0];
  const linked = dist.find(
    (e) => e.isSymlink && (wanted.size === 0 ? e.name.endsWith(TARGETS[target].extension) : wanted.has(e.name))
  );
  if (candidates.length === 0 && linked !== void 0) {
    throw new Error(
      `the image dist/${linked.name} is a symbolic link; only a file the build wrote is published (a link could name any file of the runner): make the build write the image into dist/`
    );
  }
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
import { isAbsolute, join, posix } from "node:path";
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
  const dir = join(runnerTemp, "mirage-deploy");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${MATCHER_OWNER}.json`);
  writeFileSync(file, JSON.stringify(ocamlProblemMatcher(), null, 2));
  info(`::add-matcher::${file}`);
  try {
    return await work();
  } finally {
    info(`::remove-matcher owner=${MATCHER_OWNER}::`);
  }
}

// src/mirage/prebuilt.ts
import { copyFile, lstat, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join as join2 } from "node:path";
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
  const dir = join2(dirname(image.path), HANDOVER_DIR);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir);
  for (const file of [image.configFile, ...image.sideFiles, ...lockFiles2]) {
    await copyFile(file, join2(dir, basename(file)));
  }
  const record = {
    schema: RECORD_SCHEMA,
    target: image.target,
    name: image.name,
    image: basename(image.path),
    sha256: image.sha256,
    size: image.size,
    configFile: basename(image.configFile),
    sideFiles: image.sideFiles.map((f) => basename(f)),
    lockFiles: lockFiles2.map((f) => basename(f)),
    versions: {
      ocamlVersion: versions.ocamlVersion,
      opamVersion: versions.opamVersion,
      mirageVersion: versions.mirageVersion
    }
  };
  await writeFile(join2(dir, RECORD_FILE), `${JSON.stringify(record, null, 2)}
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
  const dir = join2(dist, HANDOVER_DIR);
  const recordPath = join2(dir, RECORD_FILE);
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
  const path2 = join2(dist, record.image);
  if (!isFolder && basename(imagePath) !== record.image) {
    throw new Error(`input \`image-path\`: ${imagePath} is not the image ${record.image} that ${recordPath} describes`);
  }
  await regularFile(path2, "the image");
  const at = (name) => join2(dir, name);
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
import { existsSync, mkdirSync as mkdirSync2, readFileSync, writeFileSync as writeFileSync2 } from "node:fs";
import { join as join3 } from "node:path";
function lockStorePath(opamRoot2) {
  return join3(opamRoot2, "mirage-deploy", "lock.json");
}
function readStoredLock(opamRoot2) {
  try {
    const stored = JSON.parse(readFileSync(lockStorePath(opamRoot2), "utf8"));
    const files = Array.isArray(stored.files) ? stored.files : [];
    const valid2 = files.every((f) => typeof f.name === "string" && /^[^/]+\.opam\.locked$/.test(f.name));
    return typeof stored.inputs === "string" && valid2 ? { inputs: stored.inputs, files } : void 0;
  } catch {
    return void 0;
  }
}
function storeLock(opamRoot2, lock) {
  mkdirSync2(join3(opamRoot2, "mirage-deploy"), { recursive: true });
  writeFileSync2(lockStorePath(opamRoot2), JSON.stringify(lock));
}
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
      paths: [join3(dir, "duniverse")],
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
    duniverseRestored: duniverse?.hit === "exact" && existsSync(join3(dir, "duniverse"))
  };
}
function saveBuildCachesLater(caches, env) {
  for (const restored of [caches.duniverse, caches.dune]) {
    if (restored === void 0) continue;
    const { spec, hit } = restored;
    if (!spec.paths.every((p) => existsSync(p))) {
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
async function run(command, cwd, env, hint, mapLogLine) {
  const result = await runCommand(locate(command.program, env), command.args, {
    cwd,
    env,
    ...mapLogLine ? { mapLogLine } : {}
  });
  if (result.exitCode !== 0) throw new CommandError(commandLine(command), result, hint);
}
function listDir(dir) {
  if (!existsSync2(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).map((e) => ({
    name: e.name,
    isFile: e.isFile(),
    ...e.isSymbolicLink() ? { isSymlink: true } : {}
  }));
}
function mirageFiles(dir, suffix) {
  const mirageDir = join4(dir, "mirage");
  return listDir(mirageDir).filter((e) => e.isFile && e.name.endsWith(suffix)).map((e) => ({
    name: e.name,
    path: join4(mirageDir, e.name),
    content: readFileSync2(join4(mirageDir, e.name), "utf8")
  }));
}
var lockFiles = (dir) => mirageFiles(dir, ".opam.locked");
function lockInputs(dir) {
  const path2 = join4(dir, "Makefile");
  const makefile = existsSync2(path2) ? readFileSync2(path2, "utf8") : "";
  return { digest: lockFilesDigest([{ name: "Makefile", content: makefile }, ...mirageFiles(dir, ".opam")]), makefile };
}
async function findImage(build2, dir) {
  const mirageFiles2 = listDir(join4(dir, "mirage")).filter((e) => e.isFile).map((e) => e.name);
  const source = imageNames(build2.imageName, build2.configureArgs, mirageFiles2, build2.target);
  const file = chooseImage(listDir(join4(dir, "dist")), build2.target, source);
  const path2 = join4(dir, "dist", file);
  const name = file.slice(0, file.length - TARGETS[build2.target].extension.length);
  const registered = generatedNames(mirageFiles2, build2.target);
  const sideFiles = sideFilePaths(build2.target, registered.length === 1 ? registered[0] ?? name : name).map((f) => join4(dir, f)).filter((f) => existsSync2(f) || lstatSync(f, { throwIfNoEntry: false }) !== void 0);
  refuseOutsideFiles(dir, [path2, ...sideFiles, join4(dir, build2.configFile)]);
  return { name, path: path2, size: statSync(path2).size, sha256: await sha256File(path2), sideFiles };
}
function refuseOutsideFiles(dir, files) {
  const realDir = realpathSync(dir);
  for (const file of files) {
    const isSymlink = lstatSync(file).isSymbolicLink();
    const problem = publishedFileProblem(
      relative(dir, file),
      { isSymlink, realPath: isSymlink ? file : realpathSync(file) },
      realDir
    );
    if (problem !== void 0) throw new Error(`not publishing the build: ${problem}`);
  }
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
      () => run(configure, dir, env, `fix ${build2.configFile} or input \`configure-args\` (mirage's output is above)`)
    );
    const inputs = lockInputs(dir);
    const plan = planDepend(
      setup.cacheHit,
      config.setup.cache ? readStoredLock(setup.root) : void 0,
      inputs.digest,
      inputs.makefile
    );
    if (plan.reuse) {
      for (const file of plan.files) writeFileSync3(join4(dir, "mirage", file.name), file.content);
      info(
        `${plan.files.map((f) => `mirage/${f.name}`).join(", ")} restored with the opam root (exact hit, the same Makefile and opam file): \`make lock\` skipped`
      );
    } else {
      info(`\`make lock\` and \`make install-switch\` run: ${plan.reason}`);
      const lock = makeCommand("lock", ctx.cores);
      await timed(
        timings,
        "depend",
        `depend: ${commandLine(lock)}`,
        () => run(lock, dir, env, "opam-monorepo could not lock the dependencies (its output is above)")
      );
      if (config.setup.cache) {
        const files = lockFiles(dir).map(({ name, content }) => ({ name, content }));
        storeLock(setup.root, { inputs: inputs.digest, files });
      }
    }
    const locks = lockFiles(dir);
    const caches = await restoreBuildCaches(
      config,
      ctx,
      dir,
      cacheRoot,
      locks.length ? lockFilesDigest(locks) : void 0
    );
    if (!plan.reuse) {
      const install = makeCommand("install-switch", ctx.cores);
      await timed(timings, "depend", `depend: ${commandLine(install)}`, async () => {
        await prepareForDepexts(ctx, process.env);
        await run(install, dir, env, "opam could not install the switch dependencies (its output is above)");
      });
    } else if (plan.depextTarget !== void 0) {
      info(
        "`make install-switch` skipped: the switch is exactly the cached one; the lock's system packages install on their own"
      );
      const depext = makeCommand(plan.depextTarget, ctx.cores);
      await timed(timings, "depend", `depend: ${commandLine(depext)}`, async () => {
        await prepareForDepexts(ctx, process.env);
        await run(depext, dir, env, "the lock file's system packages could not be installed (the output is above)");
      });
    } else {
      info(
        "`make install-switch` skipped: the switch is exactly the cached one (the Makefile has no depext target: configured with --no-depext)"
      );
    }
    if (caches.duniverseRestored) {
      info("duniverse/ restored from the cache for this lock file: `make pull` skipped");
    } else {
      const pull = makeCommand("pull", ctx.cores);
      await timed(
        timings,
        "depend",
        `depend: ${commandLine(pull)}`,
        () => run(pull, dir, env, "opam-monorepo could not fetch the sources into duniverse/ (its output is above)")
      );
    }
    const compile = buildCommand(build2, ctx.cores);
    await timed(
      timings,
      "build",
      commandLine(compile),
      () => withProblemMatcher(
        ctx.runnerTemp,
        () => run(
          compile,
          dir,
          env,
          "the build failed; the compiler messages are above and annotated on the commit",
          (line) => rootLocation(line, relative(ctx.workspace, dir))
        )
      )
    );
    const found = await findImage(build2, dir);
    const image = { target: build2.target, ...found, configFile: join4(dir, build2.configFile), timings };
    saveBuildCachesLater(caches, env);
    const handover = await writeHandover(
      image,
      setup,
      lockFiles(dir).map((l) => l.path)
    );
    info(`for a later deploy job (\`image-path\`): ${relative(dir, handover)}/`);
    info(`image: ${image.path} (${image.size} bytes, sha256 ${image.sha256})`);
    for (const side of image.sideFiles) info(`side file: ${relative(dir, side)}`);
    summaryRow("image", { code: relative(ctx.workspace, image.path) });
    summaryRow("size", formatSize(image.size));
    summaryRow("sha256", { code: image.sha256 });
    return image;
  } finally {
    summaryRow(
      "time",
      [["setup", setup.seconds], ...Object.entries(timings)].map(([phase, seconds]) => `${phase} ${formatSeconds(seconds)}`).join(", ")
    );
  }
}

// src/opam/index.ts
import { existsSync as existsSync4, mkdirSync as mkdirSync3, readFileSync as readFileSync4, readdirSync as readdirSync3, writeFileSync as writeFileSync6 } from "node:fs";
import { homedir as homedir2 } from "node:os";
import { join as join8 } from "node:path";

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
import { createHash } from "node:crypto";
import { chmodSync, createReadStream } from "node:fs";
import { join as join6 } from "node:path";

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
  const hash = createHash(algorithm);
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
    await verify(join6(dir, "opam"), expected, dir);
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
  return join6(dir, "opam");
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
import { createHash as createHash2 } from "node:crypto";
function shortHash(value, length = 12) {
  return createHash2("sha256").update(value).digest("hex").slice(0, length);
}
function clean2(part) {
  return part.replace(/[^A-Za-z0-9._+~-]/g, "_");
}
function compilerKeyPart(input, systemVersion) {
  return systemVersion === void 0 ? input : `system${systemVersion}`;
}
function isoWeek(now) {
  const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 864e5 + 1) / 7);
  return `${day.getUTCFullYear()}w${String(week).padStart(2, "0")}`;
}
function refreshPeriod(refresh, now) {
  const date = now.toISOString().slice(0, 10).replace(/-/g, "");
  switch (refresh.kind) {
    case "daily":
      return `t${date}`;
    case "weekly":
      return `t${isoWeek(now)}`;
    case "monthly":
      return `t${date.slice(0, 6)}`;
    case "never":
      return "tnever";
    case "fixed":
      return `t${refresh.label.replace(/[^A-Za-z0-9._]/g, "_")}`;
  }
}
function periodOfKey(key) {
  return key.slice(key.lastIndexOf("-") + 1);
}
function stalePeriod(hit, matchedKey, period) {
  if (hit !== "partial" || matchedKey === void 0) return void 0;
  const restored = periodOfKey(matchedKey);
  return restored === period ? void 0 : restored;
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
    `d${k.dependencies}`,
    k.period
  ];
  const prefixOf = (count) => `${parts2.slice(0, count).join("-")}-`;
  return {
    key: parts2.join("-"),
    restoreKeys: [prefixOf(12), prefixOf(11), prefixOf(10), prefixOf(9), prefixOf(8)]
  };
}
function dependencyHash(files) {
  const hash = createHash2("sha256");
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
    const [name, url, ...selections] = line.split(/\s+/);
    return name && url ? [{ name, url, selected: selections.length > 0 }] : [];
  });
}
function parsePinList(text) {
  return text.split("\n").map((line) => line.trim()).filter((line) => /^[A-Za-z0-9][A-Za-z0-9_+-]*$/.test(line));
}
function planRepositories(current, wanted) {
  const commands = [];
  const wantedNames = new Set(wanted.map((r) => r.name));
  for (const repo of current) {
    if (repo.selected && !wantedNames.has(repo.name))
      commands.push(["repository", "remove", repo.name, "--all-switches", "--set-default"]);
  }
  for (const repo of wanted) {
    const existing = current.find((r) => r.name === repo.name);
    if (existing === void 0 || !existing.selected) {
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
import { mkdtempSync, readFileSync as readFileSync3, realpathSync as realpathSync2, rmSync, writeFileSync as writeFileSync5 } from "node:fs";
import { join as join7 } from "node:path";
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
  const dir = mkdtempSync(join7(runnerTemp, "opam-sandbox-check-"));
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
  const staged = join7(runnerTemp, "mirage-deploy-bwrap.apparmor");
  writeFileSync5(staged, bwrapProfile(bwrap));
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
  const bwrap = realpathSync2(await which("bwrap", true));
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
  return process.env.OPAMROOT || join8(homedir2(), ".opam");
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
    const full = join8(dir, path2);
    if (existsSync4(full)) files.push({ path: path2, content: readFileSync4(full) });
  };
  add(config.build.configFile);
  const list = (sub) => existsSync4(join8(dir, sub)) ? readdirSync3(join8(dir, sub)).map((f) => sub ? `${sub}/${f}` : f) : [];
  for (const path2 of [...list(""), ...list("mirage")]) if (isDependencyInput(path2)) add(path2);
  return files;
}
async function systemCompilerVersion() {
  const ocamlc = findProgram("ocamlc", childEnv());
  const result = ocamlc === void 0 ? void 0 : await runCommand(ocamlc, ["-vnum"], { silent: true });
  const version = result?.exitCode === 0 ? result.stdout.trim() : "";
  if (!/^\d+\.\d+\S*$/.test(version)) {
    throw new Error(
      "input `ocaml-compiler`: `ocaml-system` uses the OCaml on PATH, but `ocamlc -vnum` " + (ocamlc === void 0 ? "found no ocamlc" : `printed \`${version}\``) + "; install OCaml on the runner (e.g. `apt-get install ocaml-nox`) or give a version such as `5.4.1`"
    );
  }
  return version;
}
function rootIsUsable(root) {
  return existsSync4(join8(root, "config")) && existsSync4(join8(root, SWITCH_NAME, ".opam-switch", "switch-state"));
}
async function converge(opam, config, ctx, root, hit, refresh) {
  const { setup } = config;
  const [first] = setup.opamRepositories;
  const fresh = !existsSync4(join8(root, "config"));
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
  if (refresh) await opam.run(["upgrade"]);
  const requirements = join8(ctx.runnerTemp, "mirage-deploy-opam");
  mkdirSync3(requirements, { recursive: true });
  writeFileSync6(join8(requirements, "mirage-deploy-setup.opam"), requirementsOpamFile(setup.mirageVersion));
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
  let refresh = false;
  let spec;
  if (setup.cache) {
    const systemVersion = setup.ocamlCompiler.kind === "system" ? await systemCompilerVersion() : void 0;
    const period = refreshPeriod(setup.cacheRefresh, /* @__PURE__ */ new Date());
    const keys = opamCacheKeys({
      prefix: setup.cachePrefix,
      os: ctx.runnerOs,
      osRelease: await osRelease(ctx),
      arch: ctx.runnerArch,
      opamVersion: binary.version,
      compiler: compilerKeyPart(setup.ocamlCompilerInput, systemVersion),
      repositories: setup.opamRepositories,
      pins: setup.opamPins,
      mirageVersion: setup.mirageVersion,
      target: config.build.target,
      dependencies: dependencyHash(dependencyFiles(config)),
      period
    });
    spec = { name: "opam", paths: [root], key: keys.key, restoreKeys: keys.restoreKeys };
    const cacheSpec = spec;
    const restored = await group2("Restore the opam root", () => restoreCacheEntry(cacheSpec));
    hit = restored.hit;
    const restoredPeriod = stalePeriod(hit, restored.matchedKey, period);
    if (restoredPeriod !== void 0) {
      refresh = true;
      info(
        `cache-refresh: the restored root is of period ${restoredPeriod}, this run's is ${period}: updating the repositories, upgrading what changed and locking the unikernel again`
      );
    }
  }
  await group2("opam switch", async () => {
    if (hit === "exact" && rootIsUsable(root)) {
      info(`opam root ${root}: exact cache hit, nothing to install`);
    } else {
      await converge(opam, config, ctx, root, hit, refresh);
    }
  });
  const switchEnv = parseEnvSexp(await opam.query(["env", "--sexp"]));
  for (const [name, value] of Object.entries(switchEnv)) if (name !== "PATH") exportVariable(name, value);
  addPath(join8(root, SWITCH_NAME, "bin"));
  const env = { ...childEnv(variables), ...switchEnv };
  const installed = installedVersions(readFileSync4(join8(root, SWITCH_NAME, ".opam-switch", "switch-state"), "utf8"));
  const ocamlVersion = installed.get("ocaml") ?? "";
  const mirageVersion = installed.get("mirage") ?? "";
  if (spec !== void 0) {
    registerCacheSave(spec, hit, {
      cleanup: {
        program: binary.path,
        // The repository cache stays: rebuilding it is the first opam command of a warm run
        // otherwise (seconds to tens of seconds with opam-repository), for a few MB in the entry.
        args: ["clean", "--download-cache", "--logs"],
        env: { OPAMROOT: root }
      }
    });
  }
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  summaryRow(
    "setup",
    `OCaml ${ocamlVersion}, opam ${binary.version}, mirage ${mirageVersion}; cache: ${hit}; ${seconds} s`
  );
  return { opamVersion: binary.version, ocamlVersion, mirageVersion, cacheHit: hit, root, env, seconds };
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
  ].map(redactUrl).join("\n");
}
function reportFailure(error2) {
  if (error2 instanceof ConfigError) {
    for (const problem of error2.problems) {
      error(`input \`${problem.input}\`: ${problem.message}`, { title: `Invalid input: ${problem.input}` });
    }
    setFailed(
      error2.problems.length === 1 ? "one input is invalid; nothing was done" : `${error2.problems.length} inputs are invalid; nothing was done`
    );
    summaryRow(
      "result",
      "failed: invalid ",
      ...error2.problems.flatMap((p, i) => [...i ? [", "] : [], { code: p.input }])
    );
    return;
  }
  const message = error2 instanceof Error ? error2.message : String(error2);
  setFailed(message);
  summaryRow("result", `failed: ${message.split("\n")[0] ?? ""}`);
}
function setDeployOutputs(outcome) {
  setOutput("deployed", String(outcome.deployed));
  setOutput("deploy-commit", outcome.commit ?? "");
  setOutput("deploy-path", outcome.path ?? "");
  setOutput("deploy-url", outcome.url ?? "");
  summaryRow("deploy", outcome.url ? { text: outcome.message, href: outcome.url } : outcome.message);
}
async function timedDeploy(deploy) {
  const started = Date.now();
  try {
    return await deploy();
  } finally {
    summaryRow("deploy time", formatSeconds((Date.now() - started) / 1e3));
  }
}
async function runPhases(config, ctx) {
  const gate = decideDeploy(config.deploy, ctx);
  const { rollbackTo } = config.deploy;
  const builds = rollbackTo === void 0 && config.build.prebuilt === void 0;
  if (builds) checkTargetRunnable(config.build.target, ctx.runnerOs);
  if (gate.deploy) await checkCredentials(config.deploy);
  if (rollbackTo !== void 0) {
    if (!gate.deploy) {
      notice(`rollback-to: not moving anything: ${gate.reason}`);
      setDeployOutputs({ deployed: false, message: gate.reason });
      return;
    }
    setDeployOutputs(await timedDeploy(() => rollback(config, ctx, rollbackTo)));
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
  setDeployOutputs(await timedDeploy(() => deployImage(config, ctx, image, versions)));
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
    summaryRow("image", { code: taken.image.path }, " (prebuilt)");
    return taken;
  } finally {
    endGroup();
  }
}
async function run2() {
  maskSecret(getInput("deploy-key"));
  maskSecret(getInput("deploy-token"));
  maskSecret(getInput("github-token"));
  let title = `mirage-deploy: ${getInput("target") || "unix"}`;
  try {
    const ctx = readContext();
    const config = parseConfig((name) => getInput(name), ctx);
    sealEnvironment();
    title = summaryTitle(config.build, ctx.workspace);
    startGroup("Inputs");
    info(describe(config, ctx));
    endGroup();
    await runPhases(config, ctx);
    saveState(STATE.mainSucceeded, "true");
  } catch (error2) {
    reportFailure(error2);
  } finally {
    saveState(STATE.summaryTitle, title);
    await writeSummary(title, ["what", "this run"]);
  }
}

// src/index.ts
await run2();
process.exit();
