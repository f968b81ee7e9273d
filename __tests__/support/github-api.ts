/**
 * A loopback stand-in for the two REST endpoints of GitHub deployments, recording every request:
 *   POST /repos/{owner}/{repo}/deployments                      -> 201 {id, ...}
 *   POST /repos/{owner}/{repo}/deployments/{id}/statuses        -> 201 {id, state, ...}
 * answering as the API does when:
 *   - the token lacks `deployments: write` (any token listed in `readOnlyTokens`): 403
 *     "Resource not accessible by integration";
 *   - `auto_merge` is not false or `required_contexts` is not `[]`: 409 "Conflict: Commit status
 *     checks failed for main." (what the API answers while other checks of the commit run);
 *   - an unknown deployment id: 404.
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
  } = {},
): Promise<GithubApi> {
  const requests: RecordedRequest[] = [];
  const deployments = new Set<number>();
  const comments: IssueComment[] = [];
  let next = 1000;
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
      if (token === '') return send(401, { message: 'Requires authentication' });
      if (opts.readOnlyTokens?.includes(token) && req.method !== 'GET') {
        return send(403, {
          message: 'Resource not accessible by integration',
          documentation_url: 'https://docs.github.com/rest/deployments/deployments#create-a-deployment',
        });
      }
      if (req.method === 'POST' && /^\/repos\/[^/]+\/[^/]+\/deployments$/.test(path)) {
        const contexts = body.required_contexts;
        if (body.auto_merge !== false || !Array.isArray(contexts) || contexts.length !== 0) {
          return send(409, { message: 'Conflict: Commit status checks failed for main.' });
        }
        const id = next++;
        deployments.add(id);
        return send(201, { id, sha: body.ref, ref: body.ref, environment: body.environment });
      }
      const status = /^\/repos\/[^/]+\/[^/]+\/deployments\/(\d+)\/statuses$/.exec(path);
      if (req.method === 'POST' && status) {
        if (!deployments.has(Number(status[1]))) return send(404, { message: 'Not Found' });
        if (body.state === opts.stallState) return;
        return send(201, { id: next++, state: body.state });
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
    comments,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
