import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { budgetConsumed, budgetLines, sloWindowMs } from '../src/budget.js';

/** The error budget a drill consumed (error-budget-burn, issue 12): the SRE Workbook's arithmetic. */

const DAY = 86_400_000;

describe('error budget consumed by a drill', () => {
  it('14.4× the sustainable rate for one hour spends 2 % of a 30-day budget', () => {
    const r = budgetConsumed({ averageErrorRatio: 0.0144, errorBudget: 0.001, spanMs: 3_600_000, windowMs: 30 * DAY, timeScale: 1 });
    assert.ok(Math.abs((r.consumedRatio ?? 0) - 0.02) < 1e-9, String(r.consumedRatio));
    assert.match(r.derivation, /1\.44 % average error ratio ÷ 0\.1 % budget × 1h ÷ 30d window = 2 % of the budget/);
  });

  it('at time scale 10 a drill stands for ten times its span', () => {
    const scaled = budgetConsumed({ averageErrorRatio: 0.02, errorBudget: 0.001, spanMs: 360_000, windowMs: 30 * DAY, timeScale: 10 });
    const real = budgetConsumed({ averageErrorRatio: 0.02, errorBudget: 0.001, spanMs: 3_600_000, windowMs: 30 * DAY, timeScale: 1 });
    assert.equal(scaled.consumedRatio, real.consumedRatio);
    assert.match(scaled.derivation, /× 1h \(6m at time scale 10\)/);
  });

  it('says so when the SLO series are missing instead of printing a number', () => {
    const r = budgetConsumed({ spanMs: 1000, windowMs: DAY, timeScale: 1 });
    assert.equal(r.consumedRatio, undefined);
    assert.match(r.derivation, /no SLI data/);
    const lines = budgetLines({ service: 'images', slo: 'availability', spanMs: 1000, timeScale: 1, windowMs: DAY, derivation: r.derivation });
    assert.match(lines[0] ?? '', /an unknown share/);
  });

  it('reads the SLO window from monitoring/slos.yaml, 30 days when it is not defined there', () => {
    assert.equal(sloWindowMs({ service: 'no-such-service', slo: 'availability' }), 30 * DAY);
  });
});
