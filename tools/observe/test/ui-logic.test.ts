import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatValue, hasFiniteValues, legendName } from '../ui/format.js';
import { stackSeries } from '../ui/panels/stack.js';
import { rateInterval, resolveTime, stepFor } from '../ui/time.js';
import { interpolate, type VariableState } from '../ui/variables.js';

/** The viewer's Grafana semantics that run in the browser, checked without one. */

const state = (name: string, selected: string[]): VariableState => ({
  variable: { name, type: 'query', allValue: '.*' },
  options: ['auth', 'gateway', 'images'],
  selected,
});

describe('viewer (browser side): Grafana semantics', () => {
  it('interpolates All, one value and several values as Grafana does in a regex matcher', () => {
    const expr = 'sum(rate(http_requests_total{service=~"$service", slo=~"${slo}"}[$__rate_interval]))';
    assert.equal(
      interpolate(expr, [state('service', []), state('slo', [])], { $__rate_interval: '20s' }),
      'sum(rate(http_requests_total{service=~".*", slo=~".*"}[20s]))',
    );
    assert.equal(
      interpolate(expr, [state('service', ['auth']), state('slo', ['availability', 'latency'])], { $__rate_interval: '20s' }),
      'sum(rate(http_requests_total{service=~"auth", slo=~"(availability|latency)"}[20s]))',
    );
    assert.equal(interpolate('x{a=~"$service"}', [state('service', ['a.b'])], {}), 'x{a=~"a\\.b"}', 'a value is a literal, not a pattern');
    assert.equal(interpolate('x{a=~"$services"}', [state('service', ['auth'])], {}), 'x{a=~"$services"}', 'a longer name is another variable');
  });

  it('steps and $__rate_interval: never finer than a scrape, at least four scrapes', () => {
    assert.equal(stepFor(3600, 5), 12);
    assert.equal(stepFor(300, 5), 5);
    assert.equal(rateInterval(12, 5), 20);
    assert.equal(rateInterval(60, 5), 65);
  });

  it('reads Grafana time expressions', () => {
    assert.equal(resolveTime('now', 1000), 1000);
    assert.equal(resolveTime('now-1h', 10_000), 6400);
    assert.equal(resolveTime('now-7d', 1_000_000), 1_000_000 - 7 * 86400);
    assert.equal(resolveTime('1700000000000', 0), 1_700_000_000);
    assert.throws(() => resolveTime('yesterday'), /now-<n>/);
  });

  it('formats the units our dashboards use', () => {
    assert.equal(formatValue(0.0123, 'percentunit'), '1.23%');
    assert.equal(formatValue(0.25, 'percentunit', 1), '25.0%');
    assert.equal(formatValue(0.0421, 's'), '42.1 ms');
    assert.equal(formatValue(2.5, 's'), '2.5 s');
    assert.equal(formatValue(3 * 1024 * 1024, 'bytes'), '3 MiB');
    assert.equal(formatValue(1500, 'reqps'), '1.5k req/s');
    assert.equal(formatValue(null, 'short'), '–');
  });

  it("stacks series as Grafana's normal stacking: cumulative, a gap adds nothing and stays a gap", () => {
    assert.deepEqual(
      stackSeries([
        [1, 2, 3],
        [10, null, 30],
        [100, 200, null],
      ]),
      [
        [1, 2, 3],
        [11, null, 33],
        [111, 202, null],
      ],
    );
  });

  it('counts a panel of only NaN or +Inf (histogram_quantile without requests, or beyond the last bucket) as no data', () => {
    assert.equal(
      hasFiniteValues([
        {
          metric: {},
          values: [
            [1, 'NaN'],
            [2, '+Inf'],
          ],
        },
        { metric: {}, value: [1, 'NaN'] },
      ]),
      false,
    );
    assert.equal(
      hasFiniteValues([
        {
          metric: {},
          values: [
            [1, 'NaN'],
            [2, '0.25'],
          ],
        },
      ]),
      true,
    );
    assert.equal(hasFiniteValues([]), false);
  });

  it('names series from legendFormat, or from their labels for __auto', () => {
    assert.equal(legendName('{{service}} p99', { service: 'auth' }, 'e'), 'auth p99');
    assert.equal(legendName('__auto', { __name__: 'up', service: 'auth' }, 'e'), 'up{service="auth"}');
    assert.equal(legendName('__auto', {}, 'sum(x)'), 'sum(x)');
  });
});
