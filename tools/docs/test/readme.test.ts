import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The README's quick start is two commands, run it and test it, and `.ci/run` runs the second. */
const root = fileURLToPath(new URL('../../..', import.meta.url));

describe('README quick start', () => {
  const readme = readFileSync(`${root}/README.md`, 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const commands = block
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter(Boolean);

  it('has exactly two commands: run it, test it', () => {
    assert.deepEqual(commands, ['npm install && npm start', 'npm test']);
  });

  it('CI runs the same test command a user runs', () => {
    const ci = readFileSync(`${root}/.ci/run`, 'utf8');
    assert.match(ci, /^npm test$/m);
  });
});
