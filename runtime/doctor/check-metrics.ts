// The metrics link: the driver's :8095 and the provider's :8898 /metrics on the pod's node, read through
// the API server's pod proxy (a GET) when the doctor may, and the port-forward commands to read them by hand.
import type { InstallSeen } from './check-install';
import type { ClusterFacts } from './cluster-facts';
import type { Findings } from './findings';

/** Sample lines of the counters that say how mounts went. */
function publishCounters(text: string): string {
  const lines = text
    .split('\n')
    .filter((line) =>
      /^(node_publish_total|node_publish_error_total|rotation_reconcile_error_total|grpc_request_count|keyvault_request_count)\b/.test(
        line,
      ),
    )
    .map((line) =>
      line
        .replace(/,?(os_type|otel_scope_name|otel_scope_version|service_name)="[^"]*"/g, '')
        .replace(/\{,/, '{'),
    );
  return lines.slice(0, 6).join('; ');
}

export async function checkMetrics(
  facts: ClusterFacts,
  install: InstallSeen,
  findings: Findings,
  probe: boolean,
): Promise<void> {
  const parts = [
    { what: 'driver', component: install.driver, port: install.driver?.shape.metricsPort ?? 8095 },
    { what: 'provider', component: install.provider, port: install.provider?.shape.metricsPort ?? 8898 },
  ];
  for (const { what, component, port } of parts) {
    if (!component) continue;
    const ns = component.ds.metadata.namespace ?? 'kube-system';
    const target = component.pod ? `pod/${component.pod.metadata.name}` : `ds/${component.ds.metadata.name}`;
    const evidence = `kubectl port-forward -n ${ns} ${target} ${port}:${port} & curl -s localhost:${port}/metrics`;
    if (!probe || !component.pod) {
      findings.add({
        link: 'metrics',
        check: `metrics.${what}`,
        status: 'info',
        summary: `${what} metrics on :${port}/metrics`,
        evidence,
      });
      continue;
    }
    const read = await facts.reader.readPodProxy(ns, component.pod.metadata.name ?? '', port, '/metrics');
    if (read.ok) {
      const counters = publishCounters(read.value);
      findings.add({
        link: 'metrics',
        check: `metrics.${what}`,
        status: 'ok',
        summary: `${what} metrics reachable on ${target}:${port}${counters ? `: ${counters}` : ''}`,
        evidence,
      });
    } else {
      findings.add({
        link: 'metrics',
        check: `metrics.${what}`,
        status: 'info',
        summary: `${what} metrics on ${target}:${port} not reachable through the API server (${read.reason === 'forbidden' ? 'the doctor may not use pods/proxy' : read.message.slice(0, 160)}); read them with port-forward`,
        evidence,
      });
    }
  }
}
