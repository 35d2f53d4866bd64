// The provider's command line: upstream's flag names and defaults where they exist, plus the knobs
// of our request economy.
import { FlagSpecs } from '../common/go-compat/flags';
import { MEMORY_RELEASE_FLAGS } from '../common/memory/memory-release';
import { DEFAULT_TOKEN_PROXY_URL } from './identity/token-proxy-target';

export const PROVIDER_FLAGS = {
  endpoint: {
    type: 'string',
    default: 'unix:///tmp/azure.sock',
    usage:
      'gRPC endpoint: unix:///<providers dir>/azure.sock (created owner-only; a stale socket is removed)',
  },
  'healthz-port': { type: 'int', default: 8989, usage: 'port of the HTTP health endpoint' },
  'healthz-path': { type: 'string', default: '/healthz', usage: 'path of the HTTP health endpoint' },
  'healthz-timeout': {
    type: 'duration',
    default: 5000,
    usage: 'timeout of the gRPC call /healthz makes over the socket',
  },
  'metrics-port': { type: 'int', default: 8898, usage: 'port of the Prometheus /metrics endpoint' },
  'prometheus-port': { type: 'int', default: -1, usage: 'upstream name of --metrics-port (wins when set)' },
  'http-listen-address': {
    type: 'string',
    default: '',
    usage: 'address the health and metrics endpoints listen on (empty: all interfaces, as upstream)',
  },
  'construct-pem-chain': {
    type: 'bool',
    default: true,
    usage: 'order PFX certificates leaf, intermediates, root',
  },
  'write-cert-and-key-in-separate-files': {
    type: 'bool',
    default: false,
    usage: 'also write <name>.crt and <name>.key for certificate-backed secrets',
  },
  'cloud-name': {
    type: 'string',
    default: 'AzurePublicCloud',
    usage: 'cloud used when the SecretProviderClass sets no cloudName',
  },
  'cloud-env-file-dir': {
    type: 'string',
    default: '',
    usage:
      'directory whose regular files (at most 64 KiB) a SecretProviderClass may name in cloudEnvFileName for cloudName AzureStackCloud; empty: cloudEnvFileName is refused (AZURE_ENVIRONMENT_FILEPATH still applies)',
  },
  'token-proxy-url': {
    type: 'string',
    default: '',
    usage: `URL of the AKS token proxy for identity binding (useAzureTokenProxy); empty: ${DEFAULT_TOKEN_PROXY_URL}`,
  },
  'sni-name': {
    type: 'string',
    default: '',
    usage:
      "TLS server name of the token proxy; empty: computed from the API server's certificate (hcp-kubernetes.<cluster id>.svc.cluster.local)",
  },
  ...MEMORY_RELEASE_FLAGS,
  'log-level': { type: 'string', default: 'info', usage: 'debug, info, warn or error' },
  'cache-max-age': {
    type: 'duration',
    default: 30_000,
    usage: 'how long a Key Vault response is reused for the same identity (0s: no reuse, single-flight only)',
  },
  'rotation-cache-max-age': {
    type: 'duration',
    default: 2_000,
    usage:
      'how long a rotation check reuses a cached latest value or version listing of the same identity (at most --cache-max-age; 0s: single-flight only)',
  },
  'cache-max-entries': { type: 'int', default: 10_000, usage: 'most Key Vault responses kept in memory' },
  'vault-rate-limit': {
    type: 'int',
    default: 50,
    usage: 'Key Vault requests per second per vault from this node (client-side token bucket)',
  },
  'vault-burst': { type: 'int', default: 100, usage: 'token bucket size per vault' },
  'keyvault-timeout': {
    type: 'duration',
    default: 30_000,
    usage: 'timeout of one Key Vault request attempt',
  },
  'keyvault-max-retries': {
    type: 'int',
    default: 3,
    usage: 'retries of a Key Vault request on 429, 5xx, timeouts and network errors',
  },
  'mount-concurrency': { type: 'int', default: 32, usage: 'Key Vault requests in flight per Mount' },
  'mount-admission-slots': {
    type: 'int',
    default: 4,
    usage:
      'Mounts that run at once; the others wait in arrival order (round robin over namespaces), so the first pods of a burst start first (0: no gate)',
  },
  'mount-admission-lease': {
    type: 'duration',
    default: 2_000,
    usage:
      'longest one Mount holds its turn before the next one starts (it carries on, with its own deadline)',
  },
  'max-response-bytes': {
    type: 'int',
    default: 4 * 1024 * 1024,
    usage: "largest Mount response; keep equal to the driver's --max-call-recv-msg-size",
  },
  'outage-max-staleness': {
    type: 'duration',
    default: 0,
    usage:
      'oldest last known content (kept in memory only) a first mount of a SecretProviderClass with serveLastKnownContentOnOutage "true" may get while Key Vault answers 5xx, times out, throttles past the deadline or cannot be reached; never on 401/403/404 (0s: off, at most 168h)',
  },
  'shutdown-grace': {
    type: 'duration',
    default: 10_000,
    usage: 'how long SIGTERM waits for Mounts in flight',
  },
} as const satisfies FlagSpecs;
