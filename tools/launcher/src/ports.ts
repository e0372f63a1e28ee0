import { tryListen } from '@sre/testkit';

/** Fails fast with a clear message instead of letting a service crash-loop on EADDRINUSE. */
export async function assertPortFree(host: string, port: number, what: string): Promise<void> {
  try {
    await tryListen(host, port);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'EADDRINUSE'
        ? `port ${port} (${what}) is in use: is another \`npm start\` running? Choose other ports with --port / --management-port`
        : `cannot listen on ${host}:${port} (${what}): ${(err as Error).message}`,
    );
  }
}
