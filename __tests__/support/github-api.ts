/**
 * A loopback stand-in for the REST endpoints of GitHub deployments, recording every request:
 *   POST /repos/{owner}/{repo}/deployments                      -> 201 {id, sha, ...}
 *   GET  /repos/{owner}/{repo}/deployments/{id}                 -> 200 {id, sha, ...}
 *   POST /repos/{owner}/{repo}/deployments/{id}/statuses        -> 201 {id, state, ...}
 *   GET  /repos/{owner}/{repo}/deployments/{id}/statuses        -> 200 [newest first]
 *   POST /repos/{owner}/{repo}/dependency-graph/snapshots       -> 201 {id, created_at, result, message}
 *     (422 when the snapshot lacks what the API requires: version, sha, a `refs/` ref, job.correlator
 *     and job.id, detector name/version/url, scanned)
 * answering as the API does when:
 *   - the token lacks `deployments: write` (any token listed in `readOnlyTokens`): 403
 *     "Resource not accessible by integration";
 *   - `auto_merge` is not false or `required_contexts` is not `[]`: 409 "Conflict: Commit status
 *     checks failed for main." (what the API answers while other checks of the commit run);
 *   - an unknown deployment id, or one of another repository: 404;
 *   - a GET without a token: answered (a public repository), unless `private`: then 404, as the
 *     API hides a private repository.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string;
  readonly body: Record<string, unknown>;
}

export interface Deployment {
  readonly id: number;
  readonly repository: string;
  readonly sha: string;
  readonly environment: string;
  /** Every status posted to it, oldest first. */
  readonly statuses: Record<string, unknown>[];
}

export interface GithubApi {
  /** Base URL, as GITHUB_API_URL. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Every deployment by id: the ones the action created and the ones `addDeployment` made. */
  readonly deployments: Map<number, Deployment>;
  /** A deployment of `repository` ("owner/name") for `sha`, as if an action had created it. */
  addDeployment(repository: string, sha: string, environment?: string): Deployment;
  stop(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
}

/** What the dependency submission API refuses in a snapshot, as far as these tests need it. */
function snapshotProblem(body: Record<string, unknown>): string | undefined {
  const job = body.job as Record<string, unknown> | undefined;
  const detector = body.detector as Record<string, unknown> | undefined;
  if (body.version !== 0) return '`version` must be 0';
  if (typeof body.sha !== 'string' || !/^[0-9a-f]{40}$/.test(body.sha)) return '`sha` is not a commit sha';
  if (typeof body.ref !== 'string' || !body.ref.startsWith('refs/')) return '`ref` does not match ^refs/';
  if (typeof job?.correlator !== 'string' || typeof job.id !== 'string') return '`job` needs correlator and id';
  if (!['name', 'version', 'url'].every((k) => typeof detector?.[k] === 'string')) return '`detector` is incomplete';
  if (typeof body.scanned !== 'string') return '`scanned` is missing';
  return undefined;
}

export async function startGithubApi(
  opts: {
    readOnlyTokens?: readonly string[];
    /** A deployment status of this state is recorded and never answered (an API that stalls). */
    stallState?: string;
    /** A GET without a token is answered 404, as for a private repository. */
    private?: boolean;
  } = {},
): Promise<GithubApi> {
  const requests: RecordedRequest[] = [];
  const deployments = new Map<number, Deployment>();
  let next = 1000;
  const addDeployment = (repository: string, sha: string, environment = 'production'): Deployment => {
    const deployment = { id: next++, repository, sha, environment, statuses: [] };
    deployments.set(deployment.id, deployment);
    return deployment;
  };
  const shown = (d: Deployment) => ({ id: d.id, sha: d.sha, ref: d.sha, environment: d.environment });
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = (req.url ?? '').split('?')[0] ?? '';
      const authorization = req.headers.authorization ?? '';
      requests.push({ method: req.method ?? '', path, authorization, body });
      const send = (status: number, data: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(data));
      };
      const token = authorization.replace(/^(token|bearer) /i, '');
      const one = /^\/repos\/([^/]+\/[^/]+)\/deployments\/(\d+)(\/statuses)?$/.exec(path);
      const found = one && deployments.get(Number(one[2]));
      const mine = found && found.repository === one[1] ? found : undefined;
      if (req.method === 'GET' && one && (token !== '' || !opts.private)) {
        if (!mine) return send(404, { message: 'Not Found' });
        const newestFirst = [...mine.statuses].reverse();
        return send(200, one[3] ? newestFirst : shown(mine));
      }
      if (token === '') return send(401, { message: 'Requires authentication' });
      if (opts.readOnlyTokens?.includes(token)) {
        return send(403, {
          message: 'Resource not accessible by integration',
          documentation_url: 'https://docs.github.com/rest/deployments/deployments#create-a-deployment',
        });
      }
      const create = /^\/repos\/([^/]+\/[^/]+)\/deployments$/.exec(path);
      if (req.method === 'POST' && create) {
        const contexts = body.required_contexts;
        if (body.auto_merge !== false || !Array.isArray(contexts) || contexts.length !== 0) {
          return send(409, { message: 'Conflict: Commit status checks failed for main.' });
        }
        const made = addDeployment(create[1] ?? '', String(body.ref), String(body.environment));
        return send(201, shown(made));
      }
      if (req.method === 'POST' && /^\/repos\/[^/]+\/[^/]+\/dependency-graph\/snapshots$/.test(path)) {
        const problem = snapshotProblem(body);
        if (problem !== undefined) return send(422, { message: `Invalid request.\n\n${problem}` });
        return send(201, { id: next++, created_at: new Date().toISOString(), result: 'SUCCESS', message: 'ok' });
      }
      if (req.method === 'POST' && one?.[3]) {
        if (!mine) return send(404, { message: 'Not Found' });
        if (body.state === opts.stallState) return;
        const status = { ...body, id: next++ };
        mine.statuses.push(status);
        return send(201, status);
      }
      return send(404, { message: 'Not Found' });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    deployments,
    addDeployment,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
