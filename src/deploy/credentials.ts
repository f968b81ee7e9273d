import type { DeployConfig } from '../config.js';

// SCAFFOLD (issue 5 replaces this file): preflight checks of the secret (ssh-keygen -y …).
export async function checkCredentials(_deploy: DeployConfig): Promise<void> {
  throw new Error('deploy credentials are not implemented yet');
}
