// Preload (`node --import <this file>`): resolve every *.blob.core.windows.net
// host name to 127.0.0.1, and refuse to resolve any other name that is not a
// loopback name, so a test process can never reach the network by accident.
//
// Why: @actions/cache downloads with the Azure SDK only when the signed URL's
// host ends in `.blob.core.windows.net` (internal/cacheHttpClient.js
// downloadCache); for any other host it falls back to a plain HTTP GET. The
// loopback cache service therefore hands out production-style URLs such as
// http://devstoreaccount1.blob.core.windows.net:PORT/actions-cache/BLOB?SAS
// and this preload routes them to the local Azurite (which takes the account
// from the first label of the host name).
//
// The cache service puts this file into NODE_OPTIONS in the env it returns.
import dns from 'node:dns';

const AZURE_BLOB_SUFFIX = '.blob.core.windows.net';
const LOOPBACK_NAMES = new Set(['localhost', 'localhost.localdomain', 'ip6-localhost']);
const originalLookup = dns.lookup;

function isIp(hostname) {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname) || hostname.includes(':');
}

function loopbackLookup(hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  const opts = typeof options === 'number' ? { family: options } : (options ?? {});
  const name = String(hostname).toLowerCase();
  if (name.endsWith(AZURE_BLOB_SUFFIX)) {
    if (opts.all) process.nextTick(callback, null, [{ address: '127.0.0.1', family: 4 }]);
    else process.nextTick(callback, null, '127.0.0.1', 4);
    return {};
  }
  if (isIp(name) || LOOPBACK_NAMES.has(name) || name.endsWith('.localhost')) {
    return originalLookup.call(this, hostname, options, callback);
  }
  const error = new Error(`getaddrinfo ENOTFOUND ${hostname} (blocked by blob-host-loopback: tests are loopback only)`);
  error.code = 'ENOTFOUND';
  error.errno = -3008;
  error.syscall = 'getaddrinfo';
  error.hostname = hostname;
  process.nextTick(callback, error);
  return {};
}

dns.lookup = loopbackLookup;
