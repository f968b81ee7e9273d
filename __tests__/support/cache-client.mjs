// Child-process driver for the real @actions/cache client.
//
//   node __tests__/support/cache-client.mjs '<json>'
//   json: {"op":"save","paths":[...],"key":"..."}
//       | {"op":"restore","paths":[...],"key":"...","restoreKeys":[...]}
//
// The environment must be what the runner gives an action (ACTIONS_* from the
// loopback cache service, RUNNER_TEMP, GITHUB_WORKSPACE, ...) and the working
// directory must be GITHUB_WORKSPACE, as on a runner: relative paths are
// globbed from the cwd, and tar stores them relative to GITHUB_WORKSPACE. Whatever
// the client prints (::debug::, ::warning::, plain info lines) goes to stdout
// unchanged; the outcome is the last line:
//   __CACHE_CLIENT_RESULT__ {"ok":true,"type":"<typeof value>","value":<value, null if undefined>}
//   __CACHE_CLIENT_RESULT__ {"ok":false,"name":"...","message":"..."}   (exit 1)
import { restoreCache, saveCache } from '@actions/cache';

const MARK = '__CACHE_CLIENT_RESULT__';
const req = JSON.parse(process.argv[2] ?? '{}');

try {
  let value;
  if (req.op === 'save') {
    value = await saveCache(req.paths, req.key);
  } else if (req.op === 'restore') {
    value = await restoreCache(req.paths, req.key, req.restoreKeys ?? []);
  } else {
    throw new Error(`unknown op ${String(req.op)}`);
  }
  process.stdout.write(`${MARK} ${JSON.stringify({ ok: true, type: typeof value, value: value ?? null })}\n`);
} catch (error) {
  process.stdout.write(
    `${MARK} ${JSON.stringify({ ok: false, name: error?.name, message: error?.message ?? String(error) })}\n`,
  );
  process.exitCode = 1;
}
