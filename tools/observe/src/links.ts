/**
 * Links to Prometheus' own pages that answer on the Prometheus in front of us. Debian's prometheus
 * package ships only the classic UI, under /classic/ (its /alerts and /targets answer 404); the
 * upstream binaries serve the React UI at /alerts. Each page is asked for, and the first path that
 * answers 200 is the one printed.
 */

export async function prometheusPage(prometheusUrl: string, page: 'alerts' | 'targets' | 'rules' | 'graph'): Promise<string> {
  for (const candidate of [`${prometheusUrl}/${page}`, `${prometheusUrl}/classic/${page}`]) {
    try {
      const res = await fetch(candidate, { redirect: 'manual', signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      if (res.status === 200) return candidate;
    } catch {
      // try the next one
    }
  }
  // Neither answered: print the base URL, which answers whenever Prometheus is up.
  return prometheusUrl;
}
