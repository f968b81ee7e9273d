// The loopback cache service on Azurite for one test file: up before its tests, stopped after.
import { afterAll, beforeAll } from 'vitest';
import { startAzurite, type AzuriteHandle } from './azurite.js';
import { startCacheService, type CacheService } from './cache-service.js';

export interface CacheScope {
  /** The running service; set once the file's `beforeAll` hooks have run. */
  readonly service: CacheService;
}

/** Registers the hooks; read `service` from the returned scope inside tests and later hooks. */
export function useCacheService(): CacheScope {
  let azurite: AzuriteHandle | undefined;
  let service: CacheService | undefined;
  beforeAll(async () => {
    azurite = await startAzurite();
    service = await startCacheService({ azurite });
  }, 120_000);
  afterAll(async () => {
    await service?.stop();
    await azurite?.stop();
  });
  return {
    get service() {
      if (service === undefined) throw new Error('useCacheService: the cache service is not started yet');
      return service;
    },
  };
}
