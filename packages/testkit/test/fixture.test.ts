import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { suiteFixture } from '../src/fixture.js';

describe('suiteFixture', () => {
  it('hands out what started', async () => {
    const fixture = suiteFixture('the thing', async () => ({ port: 1234 }));
    assert.equal(fixture.value, undefined);
    await fixture.start();
    assert.deepEqual(fixture.get(), { port: 1234 });
    assert.deepEqual(fixture.value, { port: 1234 });
  });

  it('keeps a start failure for get(), with the cause and the last lines printed while starting', async () => {
    const printed = Array.from({ length: 50 }, (_, i) => `line ${i}`);
    const fixture = suiteFixture(
      'the platform',
      async () => {
        throw new Error('port 5432 is taken');
      },
      () => printed,
    );
    await fixture.start(); // does not throw: the tests report it
    assert.equal(fixture.value, undefined);
    assert.throws(
      () => fixture.get(),
      (err: Error) => {
        assert.match(err.message, /^the platform did not start: Error: port 5432 is taken/);
        assert.match(err.message, /last lines it printed:\nline 10\n[^]*line 49$/);
        assert.doesNotMatch(err.message, /line 9\n/, 'only the last 40 lines');
        assert.equal((err.cause as Error).message, 'port 5432 is taken');
        return true;
      },
    );
  });

  it('says so when a test asks before start() ran', () => {
    const fixture = suiteFixture('the browser', async () => 1);
    assert.throws(() => fixture.get(), /the browser is not started: call before\(fixture.start\)/);
  });

  // The reason this exists: node:test puts a failed before hook's error after the suite's tests.
  it('under node --test, the first test of the suite carries the start failure', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fixture-'));
    try {
      const file = join(dir, 'suite.test.mjs');
      writeFileSync(
        file,
        `import { before, describe, it } from 'node:test';
const fixture = (${suiteFixture.toString()})('the platform', async () => { throw new Error('initdb failed'); });
describe('suite', () => {
  before(fixture.start);
  it('first', () => { fixture.get(); });
  it('second', () => { fixture.get(); });
});
`,
      );
      const env = { ...process.env };
      delete env.NODE_TEST_CONTEXT;
      const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', file], { encoding: 'utf8', env });
      assert.equal(run.status, 1, run.stdout);
      const first = run.stdout.slice(run.stdout.indexOf('not ok 1 - first'), run.stdout.indexOf('# Subtest: second'));
      assert.match(first, /the platform did not start: Error: initdb failed/);
      assert.doesNotMatch(run.stdout, /cancelledByParent/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
