import { Counter, type Registry } from '@sre/platform';

export function createAuthMetrics(registry: Registry) {
  return {
    logins: new Counter({
      name: 'auth_logins_total',
      help: 'Login attempts by result: success, failure (wrong email or password), throttled.',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    registrations: new Counter({ name: 'auth_registrations_total', help: 'Accounts created.', registers: [registry] }),
    tokensIssued: new Counter({
      name: 'auth_tokens_issued_total',
      help: 'Tokens issued by type: access, refresh.',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    refreshReuse: new Counter({
      name: 'auth_refresh_reuse_detected_total',
      help: 'Already-used refresh tokens presented again (possible theft); each revokes its family.',
      registers: [registry],
    }),
  };
}

export type AuthMetrics = ReturnType<typeof createAuthMetrics>;
