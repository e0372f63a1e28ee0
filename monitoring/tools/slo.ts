/**
 * npm run slo [-- --prometheus URL] [--json]
 *
 * Each SLO of monitoring/slos.yaml as a live Prometheus sees it: SLI and error budget remaining over
 * the SLO window, burn rate per alert window, and the SLO alerts pending or firing. Default URL: the
 * Prometheus of `npm run observe` (127.0.0.1:9090); through `kubectl -n monitoring port-forward
 * svc/prometheus 9090` the same command reads the cluster.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_PROMETHEUS_URL, PrometheusUnreachableError, fetchSloStatus, formatSloTable } from '../lib/slo/status.js';
import { SloFileError, loadSlos } from '../lib/slo/schema.js';

async function main(): Promise<number> {
  let values: { prometheus?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        prometheus: { type: 'string', default: DEFAULT_PROMETHEUS_URL },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    console.error(`npm run slo: ${(err as Error).message}\nusage: npm run slo [-- --prometheus URL] [--json]`);
    return 2;
  }
  if (values.help) {
    console.log(`usage: npm run slo [-- --prometheus URL] [--json]   (default ${DEFAULT_PROMETHEUS_URL}, the Prometheus of npm run observe)`);
    return 0;
  }
  const url = values.prometheus ?? DEFAULT_PROMETHEUS_URL;
  if (!/^https?:\/\/[^\s/]+/.test(url)) {
    console.error(`npm run slo: --prometheus must be an http(s) URL, e.g. ${DEFAULT_PROMETHEUS_URL} (got "${url}")`);
    return 2;
  }
  try {
    const rows = await fetchSloStatus(url, loadSlos());
    console.log(values.json ? JSON.stringify(rows, null, 2) : `SLOs from ${url}\n${formatSloTable(rows)}`);
    return 0;
  } catch (err) {
    if (err instanceof PrometheusUnreachableError || err instanceof SloFileError) {
      console.error(`npm run slo: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

process.exitCode = await main();
