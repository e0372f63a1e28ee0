import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Client } from './client.js';
import type { FlowName } from './options.js';

/** The bundled pictures (generated with sharp, under 1 kB each, no metadata): what users upload. */
const IMAGES = [
  { file: 'sunset.jpg', type: 'image/jpeg' },
  { file: 'sea.png', type: 'image/png' },
  { file: 'forest.webp', type: 'image/webp' },
].map((img) => ({ ...img, data: readFileSync(new URL(`../images/${img.file}`, import.meta.url)) }));

interface Tokens {
  accessToken: string;
  refreshToken: string;
}

export interface Session extends Tokens {
  email: string;
}

/** Live sessions browse flows hand on to later browse flows (returning users), bounded. */
export class SessionPool {
  readonly #sessions: Session[] = [];
  constructor(private readonly max = 500) {}
  take(): Session | undefined {
    return this.#sessions.shift();
  }
  give(session: Session): void {
    if (this.#sessions.length < this.max) this.#sessions.push(session);
  }
}

function uploadForm(): FormData {
  const image = IMAGES[Math.floor(Math.random() * IMAGES.length)]!;
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(image.data)], { type: image.type }), image.file);
  return form;
}

async function signUpAndLogIn(client: Client): Promise<Session> {
  // A fresh address per flow under the reserved .test domain (RFC 2606): never a real mailbox.
  const email = `load-${randomUUID()}@example.test`;
  const password = `load ${randomUUID()}`;
  await client.step('register', 'POST', '/api/auth/register', { json: { email, password }, expect: 201 });
  const login = await client.step('login', 'POST', '/api/auth/login', { json: { email, password }, expect: 200 });
  return { ...(login.body as Tokens), email };
}

/** List, upload, view, thumbnail, delete, then refresh the tokens: what a user does in the app. */
async function useTheApp(client: Client, session: Session): Promise<Session> {
  const token = session.accessToken;
  await client.step('list', 'GET', '/api/images?limit=20', { token, expect: 200 });
  const uploaded = await client.step('upload', 'POST', '/api/images', { token, form: uploadForm(), expect: 201 });
  const id = (uploaded.body as { id: string }).id;
  await client.step('view', 'GET', `/api/images/${id}/content`, { token, expect: 200 });
  await client.step('thumbnail', 'GET', `/api/images/${id}/thumbnail`, { token, expect: 200 });
  await client.step('delete', 'DELETE', `/api/images/${id}`, { token, expect: 204 });
  const refreshed = await client.step('refresh', 'POST', '/api/auth/refresh', { json: { refreshToken: session.refreshToken }, expect: 200 });
  return { ...session, ...(refreshed.body as Tokens) };
}

export async function runFlow(name: FlowName, client: Client, pool: SessionPool): Promise<void> {
  if (name === 'signup') {
    const session = await useTheApp(client, await signUpAndLogIn(client));
    await client.step('logout', 'POST', '/api/auth/logout', { json: { refreshToken: session.refreshToken }, expect: 204 });
    return;
  }
  // Returning users: a session another browse flow left (its refresh token still live), else a new account.
  const session = pool.take() ?? (await signUpAndLogIn(client));
  pool.give(await useTheApp(client, session));
}
