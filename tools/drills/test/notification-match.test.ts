import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { notificationIsAbout, type DeliveredNotification } from '../src/types.js';

/** Which Slack message counts for an alert expectation (runner's fire check, recover's resolve check). */
const note = (title: { severity?: string; service?: string }): DeliveredNotification => ({
  receivedAt: '',
  t: 0,
  status: 'firing',
  alertnames: ['SLOAvailabilityBudgetBurn'],
  text: '',
  runbookUrls: [],
  ...title,
});
const page = { service: 'images', slo: 'availability', severity: 'critical' };

describe('drills: a Slack message is about the expected alert', () => {
  it('when alertname, service and severity agree', () => {
    assert.equal(notificationIsAbout(note({ severity: 'critical', service: 'images' }), 'SLOAvailabilityBudgetBurn', page), true);
  });

  it('not when it is the SLO ticket (warning) of the same service: it must not stand in for the page', () => {
    assert.equal(notificationIsAbout(note({ severity: 'warning', service: 'images' }), 'SLOAvailabilityBudgetBurn', page), false);
  });

  it("not when it is another service's page", () => {
    assert.equal(notificationIsAbout(note({ severity: 'critical', service: 'gateway' }), 'SLOAvailabilityBudgetBurn', page), false);
  });

  it('not for another alertname', () => {
    assert.equal(notificationIsAbout(note({ severity: 'critical', service: 'images' }), 'ServiceDown', page), false);
  });

  it('when the expectation names no severity or service, or the title carries none', () => {
    assert.equal(notificationIsAbout(note({ severity: 'warning', service: 'images' }), 'SLOAvailabilityBudgetBurn', { service: 'images' }), true);
    assert.equal(notificationIsAbout(note({}), 'SLOAvailabilityBudgetBurn', page), true);
  });
});
