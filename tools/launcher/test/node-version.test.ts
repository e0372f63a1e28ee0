import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { nodeVersionWarning, readNvmrc } from '../src/node-version.js';

describe('npm start on an older Node.js than the images', () => {
  it('warns on an older major, naming both versions', () => {
    assert.equal(
      nodeVersionWarning('20.19.0', '24\n'),
      'note: Node.js 20.19.0 runs this platform, but the images run Node.js 24 (.nvmrc); `nvm use` matches them.',
    );
  });

  it('stays quiet on the images’ major or newer', () => {
    assert.equal(nodeVersionWarning('24.0.0', '24'), undefined);
    assert.equal(nodeVersionWarning('26.1.0', 'v24.22.3'), undefined);
  });

  it('reads the repository’s .nvmrc', () => {
    assert.match(readNvmrc(resolve(import.meta.dirname, '..', '..', '..')), /^\d+\s*$/);
  });
});
