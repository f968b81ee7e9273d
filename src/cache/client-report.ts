/**
 * @actions/cache reports a failed restore (service down, blob storage unreachable, 5xx) only by
 * printing `::warning::Failed to restore: …` (`::error::` for a 5xx) and returning undefined,
 * exactly as for a plain miss. The action must tell the two apart, so that the post step does
 * not try (and warn) again, and must not let a cache outage show as an error annotation. So the
 * client's own report is taken off stdout while it restores and handed back to the caller.
 */
const FAILURE = /^::(?:warning|error)(?: [^:]*)?::(Failed to restore: .*)$/;

/** Undoes the escaping of a workflow command's message. */
export function decodeCommandMessage(value: string): string {
  return value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

/** The restore failure a chunk written to stdout reports, if it is one. */
export function restoreFailureIn(chunk: string): string | undefined {
  const match = FAILURE.exec(chunk.replace(/\r?\n$/, ''));
  return match?.[1] === undefined ? undefined : decodeCommandMessage(match[1]);
}

export async function captureRestoreFailures<T>(run: () => Promise<T>): Promise<{ value: T; failures: string[] }> {
  const failures: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    const failure = typeof chunk === 'string' ? restoreFailureIn(chunk) : undefined;
    if (failure === undefined) return (write as (...args: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
    failures.push(failure);
    const callback = rest.find((arg): arg is () => void => typeof arg === 'function');
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  try {
    return { value: await run(), failures };
  } finally {
    process.stdout.write = write;
  }
}
