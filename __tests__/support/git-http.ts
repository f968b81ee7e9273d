// Smart-HTTP git on 127.0.0.1: a Node http server running the real `git http-backend` as CGI for ONE
// bare repository, guarded the way GitHub guards a private repository with a token:
// HTTP Basic, user `x-access-token`, password = the token.
//
//   no Authorization header      -> 401, `WWW-Authenticate: Basic realm="GitHub"`
//   wrong token (or wrong user)  -> 403, text/plain "Permission to NAME.git denied to x-access-token."
//                                   (git prints it as `remote: ...` then `... The requested URL returned error: 403`)
//   another path than the repo   -> 404, "Repository not found."
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { runProcess, serverGitEnv } from './bare-repo.js';

export interface GitHttpRequest {
  method: string;
  /** The request target as sent: path plus query, e.g. `/deploy.git/info/refs?service=git-upload-pack`. */
  path: string;
  status: number;
  /** The raw Authorization header, if any. */
  authorization?: string;
  /** The request's Content-Encoding (git gzips large upload-pack requests). */
  contentEncoding?: string;
  /** The Git-Protocol header (`version=2` for protocol v2). */
  gitProtocol?: string;
}

export interface GitHttpServer {
  /** `http://127.0.0.1:PORT/<repo path relative to projectRoot>`, e.g. `http://127.0.0.1:PORT/deploy.git` */
  url: string;
  port: number;
  /** Response body bytes of upload-pack (ref advertisement + POST git-upload-pack) since start / reset. */
  uploadPackBytes(): number;
  resetCounters(): void;
  requests(): GitHttpRequest[];
  /** stderr of every http-backend run. */
  logs(): string;
  stop(): Promise<void>;
}

export const TOKEN_USER = 'x-access-token';

/** The Authorization header value git should send: `basic base64(x-access-token:TOKEN)`. */
export function basicAuthHeader(token: string, user = TOKEN_USER): string {
  return `basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;
}

function credentialsOk(header: string, token: string): boolean {
  const m = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return false;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  return decoded.slice(0, colon) === TOKEN_USER && decoded.slice(colon + 1) === token;
}

/** Split CGI output at the blank line ending its headers; undefined until that line has arrived. */
function splitCgiHeaders(buf: Buffer): { head: string; rest: Buffer } | undefined {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf < 0 && lf < 0) return undefined;
  const useCrlf = crlf >= 0 && (lf < 0 || crlf < lf);
  const end = useCrlf ? crlf : lf;
  return { head: buf.subarray(0, end).toString('latin1'), rest: buf.subarray(end + (useCrlf ? 4 : 2)) };
}

export async function startGitHttp(opts: {
  repoPath: string;
  token: string;
  projectRoot?: string;
  /** Take every push's pack (POST git-receive-pack) and never answer: a push that stalls. */
  stallReceivePack?: boolean;
  /** A public repository: fetches (git-upload-pack) need no credentials; pushes still do. */
  publicRead?: boolean;
}): Promise<GitHttpServer> {
  if (!opts.token) throw new Error('startGitHttp: token must not be empty');
  const repo = path.resolve(opts.repoPath);
  const projectRoot = path.resolve(opts.projectRoot ?? path.dirname(repo));
  const rel = path.relative(projectRoot, repo);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new Error(`startGitHttp: repoPath ${repo} is not inside projectRoot ${projectRoot}`);
  }
  const repoUrlPath = '/' + rel.split(path.sep).join('/');
  const repoName = rel.split(path.sep).join('/');

  const cfg = await runProcess('git', ['config', '--file', path.join(repo, 'config'), 'http.receivepack', 'true'], {
    env: serverGitEnv(),
  });
  if (cfg.code !== 0) throw new Error(`startGitHttp: cannot configure ${repo}: ${cfg.stderr}`);

  let uploadBytes = 0;
  let log = '';
  const requests: GitHttpRequest[] = [];
  const running = new Set<ChildProcess>();

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const target = req.url ?? '/';
    const record: GitHttpRequest = { method: req.method ?? 'GET', path: target, status: 0 };
    if (req.headers.authorization !== undefined) record.authorization = req.headers.authorization;
    if (req.headers['content-encoding'] !== undefined) record.contentEncoding = req.headers['content-encoding'];
    const gitProtocol = req.headers['git-protocol'];
    if (typeof gitProtocol === 'string') record.gitProtocol = gitProtocol;
    requests.push(record);

    const plain = (status: number, body: string, headers: http.OutgoingHttpHeaders = {}) => {
      record.status = status;
      req.resume(); // drain any request body
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
      res.end(body);
    };

    const auth = req.headers.authorization;
    const reading = /\/git-upload-pack$|[?&]service=git-upload-pack(&|$)/.test(target);
    // A public repository is read without credentials, as GitHub serves one.
    if (auth === undefined && !(opts.publicRead === true && reading)) {
      return plain(401, 'Authentication required.\n', { 'WWW-Authenticate': 'Basic realm="GitHub"' });
    }
    if (auth !== undefined && !credentialsOk(auth, opts.token)) {
      return plain(
        403,
        `Permission to ${repoName} denied to ${TOKEN_USER}.\nInvalid username or token. Password authentication is not supported for Git operations.\n`,
      );
    }

    const url = new URL(target, 'http://127.0.0.1');
    let pathInfo: string;
    try {
      pathInfo = decodeURIComponent(url.pathname);
    } catch {
      return plain(400, 'Bad request.\n');
    }
    if (
      (pathInfo !== repoUrlPath && !pathInfo.startsWith(`${repoUrlPath}/`)) ||
      pathInfo.split('/').some((seg) => seg === '..' || seg === '.')
    ) {
      return plain(404, 'Repository not found.\n');
    }
    if (opts.stallReceivePack && req.method === 'POST' && pathInfo === `${repoUrlPath}/git-receive-pack`) {
      req.resume();
      return;
    }
    const isUploadPack =
      pathInfo === `${repoUrlPath}/git-upload-pack` ||
      (pathInfo === `${repoUrlPath}/info/refs` && url.searchParams.get('service') === 'git-upload-pack');

    // CGI/1.1: the request line, the body's metadata and every header as HTTP_* (not Authorization)
    const env: NodeJS.ProcessEnv = serverGitEnv({
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
      SERVER_SOFTWARE: 'mirage-deploy-test-git-http',
      SERVER_NAME: '127.0.0.1',
      REQUEST_METHOD: req.method ?? 'GET',
      REQUEST_URI: target,
      PATH_INFO: pathInfo,
      QUERY_STRING: url.search.replace(/^\?/, ''),
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      REMOTE_USER: TOKEN_USER,
      AUTH_TYPE: 'Basic',
      GIT_PROJECT_ROOT: projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
    });
    for (const [name, value] of Object.entries(req.headers)) {
      if (name === 'authorization' || value === undefined) continue;
      env[`HTTP_${name.toUpperCase().replace(/-/g, '_')}`] = Array.isArray(value) ? value.join(', ') : value;
    }
    if (req.headers['content-type']) env.CONTENT_TYPE = req.headers['content-type'];
    // A chunked body has no length: http-backend then reads to EOF. A gzip body is inflated by
    // http-backend itself (HTTP_CONTENT_ENCODING), as behind Apache or nginx.
    if (req.headers['content-length'] !== undefined) env.CONTENT_LENGTH = req.headers['content-length'];
    if (typeof gitProtocol === 'string') env.GIT_PROTOCOL = gitProtocol;

    const cgi = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    running.add(cgi);
    cgi.on('close', () => running.delete(cgi));
    cgi.on('error', (e) => {
      log += `spawn git http-backend: ${e.message}\n`;
      if (!res.headersSent) plain(500, 'Internal error.\n');
    });
    cgi.stderr.setEncoding('utf8');
    cgi.stderr.on('data', (s: string) => (log += s));
    cgi.stdin.on('error', () => {}); // http-backend may exit without reading everything
    req.pipe(cgi.stdin);

    let head: Buffer | undefined = Buffer.alloc(0);
    const send = (chunk: Buffer) => {
      if (chunk.length === 0) return;
      if (isUploadPack) uploadBytes += chunk.length; // counted before the client can see it
      if (!res.write(chunk)) {
        cgi.stdout.pause();
        res.once('drain', () => cgi.stdout.resume());
      }
    };
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (head === undefined) return send(chunk);
      head = Buffer.concat([head, chunk]);
      const split = splitCgiHeaders(head);
      if (!split) return;
      head = undefined;
      let status = 200;
      const headers: Record<string, string | string[]> = {};
      for (const line of split.head.split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') {
          status = Number.parseInt(value, 10) || 500;
          continue;
        }
        const prev = headers[name];
        headers[name] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
      }
      record.status = status;
      res.writeHead(status, headers);
      send(split.rest);
    });
    cgi.stdout.on('end', () => {
      if (head !== undefined && !res.headersSent) {
        log += `git http-backend ended without CGI headers for ${req.method} ${target}\n`;
        record.status = 502;
        res.writeHead(502, { 'Content-Type': 'text/plain; charset=utf-8' });
      }
      res.end();
    });
    res.on('close', () => {
      if (cgi.exitCode === null && cgi.signalCode === null && !res.writableFinished) cgi.kill('SIGKILL');
    });
  };

  const server = http.createServer(handler);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}${repoUrlPath}`,
    port,
    uploadPackBytes: () => uploadBytes,
    resetCounters: () => {
      uploadBytes = 0;
      requests.length = 0;
    },
    requests: () => requests.map((r) => ({ ...r })),
    logs: () => log,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        for (const c of running) c.kill('SIGKILL');
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
