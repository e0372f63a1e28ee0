// What a running launcher is, apart from launcher.ts so state-file.ts (which records it) imports one way.

export const SERVICES = ['auth', 'images', 'gateway'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface InstanceInfo {
  label: string;
  port: number;
  managementPort: number;
  pid: number | undefined;
  managementUrl: string;
}

export interface LauncherState {
  appUrl: string;
  httpsUrl?: string;
  dataDir: string;
  services: Record<ServiceName, { url: string; instances: InstanceInfo[] }>;
}
