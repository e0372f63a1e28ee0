/**
 * The reference the gateway is held to: a bare Fastify + @fastify/reply-from proxy, nothing else
 * (no token check, limits, breaker, headers, metrics or logging), in its own process, with the same
 * undici pool settings as the gateway. Env: BENCH_PORT, BENCH_UPSTREAM.
 */
import replyFrom from '@fastify/reply-from';
import Fastify from 'fastify';

const app = Fastify({ logger: false });
await app.register(replyFrom, { base: process.env.BENCH_UPSTREAM, undici: { connections: 128, keepAliveTimeout: 4000 } });
app.get('/api/images', (_request, reply) => reply.from('/'));
await app.listen({ host: '127.0.0.1', port: Number(process.env.BENCH_PORT) });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
