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
 * and for the pull-request preview, the issue comments and a pull request's head:
 *   GET   /repos/{owner}/{repo}/issues/{n}/comments?per_page&page   -> 200 [comment, ...]
 *   POST  /repos/{owner}/{repo}/issues/{n}/comments               -> 201 comment (by a bot)
 *   PATCH /repos/{owner}/{repo}/issues/comments/{id}              -> 200 comment; 404 unknown id
 *   DELETE /repos/{owner}/{repo}/issues/comments/{id}             -> 204; 404 unknown id
 *   GET   /repos/{owner}/{repo}/pulls/{n}                         -> 200 {number, head: {sha}} of `pullRequests`
 * A read-only token (`readOnlyTokens`) may read (GET) but not write, as a fork's token.
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

export interface IssueComment {
  readonly id: number;
  readonly issue: number;
  body: string;
  readonly user: { readonly login: string; readonly type: 'Bot' | 'User' };
  readonly html_url: string;
}

export interface GithubApi {
  /** Base URL, as GITHUB_API_URL. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Every deployment by id: the ones the action created and the ones `addDeployment` made. */
  readonly deployments: Map<number, Deployment>;
  /** A deployment of `repository` ("owner/name") for `sha`, as if an action had created it. */
  addDeployment(repository: string, sha: string, environment?: string): Deployment;
  /** Every issue comment, in creation order; a test may add a person's. */
  readonly comments: IssueComment[];
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
    /** Pull request number -> its head sha, for GET /pulls/{n}. */
    pullRequests?: ReadonlyMap<number, string>;
    /**
     * The first `count` listings of issue `issue`'s comments are answered only once all of them
     * arrived: jobs that list at the same moment, made certain.
     */
    listBarrier?: { readonly issue: number; readonly count: number };
    /** A GET without a token is answered 404, as for a private repository. */
    private?: boolean;
  } = {},
): Promise<GithubApi> {
  const requests: RecordedRequest[] = [];
  const deployments = new Map<number, Deployment>();
  const comments: IssueComment[] = [];
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
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const path = url.pathname;
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
      if (opts.readOnlyTokens?.includes(token) && req.method !== 'GET') {
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
      if (req.method === 'GET' && path.endsWith(`/issues/${opts.listBarrier?.issue}/comments`)) await barrier();
      const answer = commentsApi(req.method ?? '', path, url.searchParams, body);
      return answer ? send(answer[0], answer[1]) : send(404, { message: 'Not Found' });
    })();
  });
  const waiting: Array<() => void> = [];
  let released = false;
  const barrier = () =>
    released
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          waiting.push(resolve);
          if (waiting.length < (opts.listBarrier?.count ?? 0)) return;
          released = true;
          for (const go of waiting) go();
        });
  const commentsApi = (
    method: string,
    path: string,
    query: URLSearchParams,
    body: Record<string, unknown>,
  ): [number, unknown] | undefined => {
    const issue = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/.exec(path);
    if (issue && method === 'GET') {
      const perPage = Number(query.get('per_page') ?? '30');
      const page = Number(query.get('page') ?? '1');
      const all = comments.filter((c) => c.issue === Number(issue[1]));
      return [200, all.slice((page - 1) * perPage, page * perPage)];
    }
    if (issue && method === 'POST') {
      const id = next++;
      const comment: IssueComment = {
        id,
        issue: Number(issue[1]),
        body: String(body.body),
        user: { login: 'github-actions[bot]', type: 'Bot' },
        html_url: `https://github.com/mirage/mirage-www/pull/${issue[1]}#issuecomment-${id}`,
      };
      comments.push(comment);
      return [201, comment];
    }
    const edit = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(path);
    if (edit && method === 'DELETE') {
      const index = comments.findIndex((c) => c.id === Number(edit[1]));
      if (index < 0) return [404, { message: 'Not Found' }];
      comments.splice(index, 1);
      return [204, undefined];
    }
    if (edit && method === 'PATCH') {
      const comment = comments.find((c) => c.id === Number(edit[1]));
      if (comment === undefined) return [404, { message: 'Not Found' }];
      comment.body = String(body.body);
      return [200, comment];
    }
    const pull = /^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)$/.exec(path);
    const head = pull ? opts.pullRequests?.get(Number(pull[1])) : undefined;
    if (pull && method === 'GET' && head !== undefined) return [200, { number: Number(pull[1]), head: { sha: head } }];
    return undefined;
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    deployments,
    addDeployment,
    comments,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
