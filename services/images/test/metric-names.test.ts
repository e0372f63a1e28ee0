/** The Images service's metrics pass promtool's metric lint (names, suffixes, help texts). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { Registry } from '@sre/platform';
import { requireTool } from '@sre/testkit';
import { createImagesMetrics } from '../src/metrics.js';

describe('images metrics', requireTool('promtool', 'apt-get install prometheus (promtool)'), () => {
  it('pass promtool check metrics (a gauge must not end in _total)', async () => {
    const registry = new Registry();
    createImagesMetrics(registry);
    const exposition = await registry.metrics();
    assert.match(exposition, /^# TYPE images_stored gauge$/m);
    const result = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });
});
