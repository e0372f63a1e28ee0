/**
 * The services' Dockerfiles, from one template (issue 14: the three hand-kept copies were 85 %
 * identical and drifted). Each service states only what is its own: the image name and description,
 * its heap cap, and any extra build or runtime step. `npm run containers:generate` writes
 * services/<name>/Dockerfile; tools/containers/test/dockerfiles.test.ts fails when a file differs
 * from this. Plain Dockerfiles stay on disk so `docker build -f services/<name>/Dockerfile .` works
 * anywhere, with no generator in the build. See docs/adr/0012-node-lts-and-generated-dockerfiles.md.
 */

/** The Node.js of every image: the current LTS line (24, "Krypton"). `.nvmrc` names its major. */
export const NODE_IMAGE_VERSION = '24.22.3';
export const NODE_BASE_IMAGE = `node:${NODE_IMAGE_VERSION}-bookworm-slim`;

export interface ServiceDockerfile {
  /** services/<dir> */
  readonly dir: 'auth' | 'images' | 'gateway';
  /** Image (and Deployment) name. */
  readonly image: string;
  /** The opening comment, after the image line. */
  readonly header: readonly string[];
  /** Comment lines and an optional check after the production `npm ci`. */
  readonly prodDepsNote: readonly string[];
  readonly prodDepsCheck?: string;
  /** Build steps after the service's compile (the gateway builds the web app). */
  readonly extraBuild?: readonly string[];
  readonly runtimeComment: readonly string[];
  readonly heapComment: readonly string[];
  readonly heapMb: number;
  /** Runtime COPY lines before the service's own. */
  readonly extraRuntime?: readonly string[];
  readonly exposeComment: string;
  readonly description: string;
}

const RUNTIME_COMMENT = [
  'Runtime: compiled JavaScript and production node_modules only, owned by root and read-only to',
  'the numeric non-root user the Deployment runs as (runAsUser 10001, readOnlyRootFilesystem; /tmp is',
  'a volume). npm, npx, corepack and yarn are removed: nothing runs them, and scanners stop flagging them.',
];

export const SERVICE_DOCKERFILES: readonly ServiceDockerfile[] = [
  {
    dir: 'auth',
    image: 'auth-service',
    header: ['Auth service image (ghcr.io/<owner>/auth-service). Build from the repository root, so the shared', 'platform package is in the context:'],
    prodDepsNote: ["(@node-rs/argon2's binary is the optional dependency for linux-x64-gnu.)"],
    runtimeComment: RUNTIME_COMMENT,
    heapComment: [
      "Heap cap below the Deployment's 384Mi memory limit, leaving room for argon2 buffers (19 MiB per",
      'hash) and native memory; a Deployment that changes the limit sets NODE_OPTIONS to match.',
    ],
    heapMb: 256,
    exposeComment: '8080: public API; 9464: management (/livez, /readyz, /metrics).',
    description: 'SRE platform Auth service: accounts, login, refresh tokens, JWKS',
  },
  {
    dir: 'images',
    image: 'images-service',
    header: ['Images service image (ghcr.io/<owner>/images-service). Build from the repository root, so the', 'shared platform package is in the context:'],
    prodDepsNote: [
      'sharp ships libvips prebuilt as optional dependencies, and npm installs the ones whose os/cpu/libc',
      'match the build platform (@img/sharp-linux-x64 + @img/sharp-libvips-linux-x64 on glibc); the',
      'check after it fails the build if that binary did not arrive or cannot convert an image.',
    ],
    prodDepsCheck: `node -e "require('sharp')({ create: { width: 2, height: 2, channels: 3, background: '#000' } }).webp().toBuffer().then((b) => console.log('sharp works:', b.length, 'bytes of webp'))"`,
    runtimeComment: RUNTIME_COMMENT,
    heapComment: [
      "Heap cap well below the Deployment's 768Mi memory limit: libvips decodes outside the V8 heap",
      '(IMAGE_MAX_PIXELS x IMAGE_PROCESSING_CONCURRENCY) and uploads are buffered up to UPLOAD_MAX_BYTES;',
      'a Deployment that changes the limit sets NODE_OPTIONS to match.',
    ],
    heapMb: 256,
    exposeComment: '8080: public API; 9464: management (/livez, /readyz, /metrics).',
    description: 'SRE platform Images service: uploads, thumbnails (sharp/libvips), S3-compatible storage',
  },
  {
    dir: 'gateway',
    image: 'api-service',
    header: [
      `Gateway image (ghcr.io/<owner>/api-service: the seed's "API service" name). It also serves the web`,
      'app (packages/web, built with vite). Build from the repository root, so the shared packages are in',
      'the context:',
    ],
    prodDepsNote: [],
    extraBuild: ['# The web app last: a change to it rebuilds only this step.', 'COPY packages/web packages/web', 'RUN npm run build --workspace packages/web'],
    runtimeComment: [
      'Runtime: compiled JavaScript, the built web app and production node_modules only, owned by root',
      'and read-only to the numeric non-root user the Deployment runs as (runAsUser 10001,',
      'readOnlyRootFilesystem; /tmp is a volume). npm, npx, corepack and yarn are removed: nothing runs',
      'them, and scanners stop flagging them.',
    ],
    heapComment: [
      "Heap cap below the Deployment's 256Mi memory limit (the gateway streams; it buffers nothing",
      'large); a Deployment that changes the limit sets NODE_OPTIONS to match.',
    ],
    heapMb: 160,
    extraRuntime: [
      "# WEB_ROOT's default (services/gateway/src/config.ts) is this folder, relative to the gateway's dist/.",
      'COPY --from=build /app/packages/web/dist packages/web/dist',
    ],
    exposeComment: '8080: public (API and web app); 9464: management (/livez, /readyz, /metrics).',
    description: 'SRE platform gateway: the public entry point (API routing, token checks, rate limits) and the web app',
  },
];

/** Every workspace a service image is built from; build-base installs them all so it is one shared layer. */
const BUILD_WORKSPACES = ['packages/platform', 'packages/web', 'services/auth', 'services/images', 'services/gateway'];

const comment = (lines: readonly string[]) => lines.map((l) => `# ${l}`);

export function renderDockerfile(s: ServiceDockerfile): string {
  const svc = `services/${s.dir}`;
  const prodCi = `    npm ci --workspace ${svc} --include-workspace-root=false --omit=dev --ignore-scripts --prefer-offline`;
  const lines = [
    '# syntax=docker/dockerfile:1',
    `# GENERATED by tools/containers/src/dockerfiles.ts (npm run containers:generate): edit that, not this file.`,
    ...comment(s.header),
    `#   docker build -f ${svc}/Dockerfile -t ghcr.io/<owner>/${s.image}:<tag> .`,
    '# See docs/containers.md (layout, runtime contract, how the tests prove it with podman).',
    '',
    '# Pinned by version tag: NODE_IMAGE_VERSION, the current Node.js LTS line (the tests build on a stand-in of it).',
    `FROM ${NODE_BASE_IMAGE} AS base`,
    'ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false',
    'WORKDIR /app',
    '',
    '# ---- build-base: the same, line for line, in services/{auth,images,gateway}/Dockerfile (the',
    '# test checks), so a builder that has made it for one image reuses it for the other two.',
    "# Compiler, types and every service's dependency tree from the lockfile, then the shared platform",
    '# package compiled. --ignore-scripts: no dependency needs an install script here (sharp, argon2,',
    '# esbuild and rollup find their platform binaries through optional dependencies).',
    'FROM base AS build-base',
    'COPY package.json package-lock.json .npmrc ./',
    ...BUILD_WORKSPACES.map((w) => `COPY ${w}/package.json ${w}/`),
    'RUN --mount=type=cache,target=/root/.npm,sharing=locked \\',
    '    npm ci --include-workspace-root --ignore-scripts --prefer-offline \\',
    '      --workspace packages/platform --workspace packages/web \\',
    '      --workspace services/auth --workspace services/images --workspace services/gateway',
    'COPY tsconfig.base.json ./',
    'COPY packages/platform/tsconfig.build.json packages/platform/',
    'COPY packages/platform/src packages/platform/src',
    'RUN npx tsc -p packages/platform/tsconfig.build.json',
    '# ---- end of build-base',
    '',
    '# Production dependencies of this workspace only, exactly from the lockfile. Only manifests are',
    '# copied, so this layer is reused until a dependency changes.',
    ...comment(s.prodDepsNote),
    'FROM base AS prod-deps',
    'COPY package.json package-lock.json .npmrc ./',
    'COPY packages/platform/package.json packages/platform/',
    `COPY ${svc}/package.json ${svc}/`,
    '# Type declarations are never loaded at run time; some instrumentations list @types/* as dependencies.',
    'RUN --mount=type=cache,target=/root/.npm,sharing=locked \\',
    ...(s.prodDepsCheck ? [`${prodCi} \\`, ` && ${s.prodDepsCheck} \\`] : [`${prodCi} \\`]),
    ' && find node_modules -type d -name @types -prune -exec rm -rf {} +',
    '',
    '# The service compiled against the platform package (tsconfig.build.json: src only, no tests, no',
    '# source maps). Declarations are only for that compile: not shipped.',
    'FROM build-base AS build',
    `COPY ${svc}/tsconfig.build.json ${svc}/`,
    `COPY ${svc}/src ${svc}/src`,
    `RUN npx tsc -p ${svc}/tsconfig.build.json \\`,
    ` && find packages/platform/dist ${svc}/dist -name '*.d.ts' -delete`,
    ...(s.extraBuild ?? []),
    '',
    ...comment(s.runtimeComment),
    'FROM base AS runtime',
    'RUN groupadd --gid 10001 app \\',
    ' && useradd --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin app \\',
    ' && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /opt/yarn-* \\',
    '           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg',
    ...comment(s.heapComment),
    'ENV NODE_ENV=production \\',
    `    NODE_OPTIONS="--max-old-space-size=${s.heapMb}" \\`,
    '    HOME=/tmp',
    'COPY --from=prod-deps /app/node_modules node_modules',
    'COPY --from=build /app/packages/platform/package.json packages/platform/',
    'COPY --from=build /app/packages/platform/dist packages/platform/dist',
    ...(s.extraRuntime ?? []),
    `COPY --from=build /app/${svc}/package.json ${svc}/`,
    `COPY --from=build /app/${svc}/dist ${svc}/dist`,
    `WORKDIR /app/${svc}`,
    'USER 10001:10001',
    `# ${s.exposeComment}`,
    'EXPOSE 8080 9464',
    'STOPSIGNAL SIGTERM',
    'ARG VERSION=0.1.0',
    'ARG REVISION=unknown',
    'ARG CREATED=unknown',
    'ARG SOURCE=https://github.com/OWNER/sre-platform',
    `LABEL org.opencontainers.image.title="${s.image}" \\`,
    `      org.opencontainers.image.description="${s.description}" \\`,
    '      org.opencontainers.image.version="${VERSION}" \\',
    '      org.opencontainers.image.revision="${REVISION}" \\',
    '      org.opencontainers.image.created="${CREATED}" \\',
    '      org.opencontainers.image.source="${SOURCE}" \\',
    '      org.opencontainers.image.licenses="Apache-2.0" \\',
    '      org.opencontainers.image.vendor="sre-platform" \\',
    `      org.opencontainers.image.base.name="docker.io/library/${NODE_BASE_IMAGE}"`,
    '# The tracing preload first: it must patch libraries before main.js imports them (docs/tracing.md).',
    'CMD ["node", "--import", "./dist/tracing.js", "dist/main.js"]',
  ];
  return `${lines.join('\n')}\n`;
}
