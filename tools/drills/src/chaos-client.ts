/**
 * Calls the fault-injection API of a service's management port (packages/platform/src/chaos.ts).
 */
import type { ChaosFault, ChaosFaultSettings } from '@sre/platform';

// The service side defines the API; the drills speak it with the same types.
export type FaultName = ChaosFault;
export type FaultSettings = ChaosFaultSettings;

export async function setFault(managementUrl: string, token: string, fault: FaultName, settings: FaultSettings): Promise<string> {
  const res = await fetch(new URL(`/chaos/faults/${fault}`, managementUrl), {
    method: 'PUT',
    headers: { 'content-type': 'application/json', 'x-chaos-token': token },
    body: JSON.stringify(settings),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  if (res.status === 404) throw new Error(`fault injection is disabled on ${managementUrl} (CHAOS_ENABLED is not true)`);
  if (!res.ok) throw new Error(`PUT /chaos/faults/${fault} on ${managementUrl} → ${res.status} ${text}`);
  return `${fault} on at ${managementUrl} until ${(JSON.parse(text) as { until?: string }).until ?? '?'}`;
}

export async function clearFault(managementUrl: string, token: string, fault: FaultName): Promise<string> {
  const res = await fetch(new URL(`/chaos/faults/${fault}`, managementUrl), {
    method: 'DELETE',
    headers: { 'x-chaos-token': token },
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`DELETE /chaos/faults/${fault} on ${managementUrl} → ${res.status} ${await res.text()}`);
  return `${fault} off at ${managementUrl}`;
}

/** The curl line a person would type, for dry runs and reports (the token stays a variable). */
export function curlLine(method: 'PUT' | 'DELETE', managementUrl: string, fault: FaultName, settings?: FaultSettings): string {
  const body = settings ? ` -H 'content-type: application/json' -d '${JSON.stringify(settings)}'` : '';
  return `curl -fsS -X ${method} -H "x-chaos-token: $CHAOS_ADMIN_TOKEN"${body} ${managementUrl.replace(/\/$/, '')}/chaos/faults/${fault}`;
}
