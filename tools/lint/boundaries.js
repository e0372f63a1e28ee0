// @ts-check
/**
 * Which package may import which: tools → services → packages, and never another package's src/
 * (a package's public surface is its package.json `exports`). One `no-restricted-imports` entry per
 * layer, because ESLint replaces (does not merge) a rule's options across config objects.
 * See docs/adr/0009-package-boundaries.md.
 */

/** Deep imports: `@sre/x/src/...`, or a relative path through some package's src/ from outside it. */
const deepImports = [
  { group: ['@sre/*/src', '@sre/*/src/*', '@sre/*/dist', '@sre/*/dist/*'], message: "Import the package's exports (package.json), not its src/ or dist/." },
  {
    regex: String.raw`^(\.\./)+(packages|services|tools|monitoring)/`,
    message: 'A relative path into another package: import it by name (@sre/...) and add the subpath to its exports.',
  },
];

const services = ['@sre/auth', '@sre/gateway', '@sre/images'];
const tools = [
  '@sre/bench',
  '@sre/containers',
  '@sre/docs-check',
  '@sre/drills',
  '@sre/k8s-tools',
  '@sre/launcher',
  '@sre/load',
  '@sre/observe',
  '@sre/secret-scan',
  '@sre/monitoring',
];
const withSubpaths = (names) => names.flatMap((n) => [n, `${n}/*`]);

/** @param {string[]} forbidden @param {string} why */
const restrict = (forbidden, why) => ({
  'no-restricted-imports': ['error', { patterns: [...deepImports, ...(forbidden.length ? [{ group: withSubpaths(forbidden), message: why }] : [])] }],
});

export const boundaryRules = [
  { files: ['**/*.ts', '**/*.js', '**/*.mjs'], rules: restrict([], '') },
  {
    files: ['packages/**'],
    rules: restrict([...services, ...tools], 'Packages are imported by services and tools, never the reverse (tools → services → packages).'),
  },
  {
    files: ['services/**'],
    rules: restrict(tools, 'Services do not import tools (tools → services → packages).'),
  },
  ...['auth', 'gateway', 'images'].map((name) => ({
    files: [`services/${name}/**`],
    rules: restrict(
      [...tools, ...services.filter((s) => s !== `@sre/${name}`)],
      'A service does not import another service: share code through packages/platform, talk over HTTP.',
    ),
  })),
];
