import { defineConfig } from 'vite';

// The gateway serves dist/ with a CSP of 'self' only: no inline scripts or styles, no data: URIs.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev -w @sre/web` next to a running `npm start`: API calls go to the gateway.
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
