import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWrk } from '../suites/gateway/wrk.js';

const OUTPUT = `Running 3s test @ http://127.0.0.1:39012/api/images
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.12ms    1.01ms  22.10ms   90.00%
    Req/Sec     8.10k   400.00     9.00k    70.00%
  Latency Distribution
     50%  850.00us
     75%    3.00ms
     90%    4.00ms
     99%    1.20s
  48600 requests in 3.00s, 8.10MB read
  Non-2xx or 3xx responses: 7
  Socket errors: connect 0, read 2, write 0, timeout 1
Requests/sec:  16200.50
Transfer/sec:      2.70MB
`;

describe('bench wrk output', () => {
  it('reads requests, rate, percentiles in any unit, and counts non-2xx answers and socket errors', () => {
    assert.deepEqual(parseWrk(OUTPUT), { requests: 48600, requestsPerSec: 16200.5, p50Ms: 0.85, p99Ms: 1200, non2xx: 7, socketErrors: 3 });
  });

  it('refuses output it does not understand rather than reporting zeros', () => {
    assert.throws(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused'), /unexpected wrk output/);
  });
});
