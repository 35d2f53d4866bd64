// One Mount: parameters → identity → Key Vault (identity-scoped cache with single-flight, per-vault
// token bucket, bounded parallelism) → files and ObjectVersions in SecretProviderClass order. Upstream
// fetches sequentially and stops at the first error; we fetch in parallel and report the first
// error in SPC order, so the error a user sees is the same.
import * as path from 'node:path';
import { status as grpcStatus } from '@grpc/grpc-js';
import { Semaphore } from '../common/semaphore';
import type { Logger } from '../common/logging/logger';
import type { Redactor } from '../common/logging/redaction';
import type { CloudEnvironment } from './clouds';
import { contentBytes } from './content/encoding';
import { ObjectContentError, objectContentParts } from './content/object-content';
import { identityKey } from './identity/auth-config';
import { CachingCredential } from './identity/caching-credential';
import { CredentialPool } from './identity/credential-pool';
import { checkTokenProxyReady } from './identity/token-proxy-credential';
import type { TokenProxyTarget } from './identity/token-proxy-target';
import { CacheOutcome, ObjectCache } from './keyvault/object-cache';
import { describeKeyVaultError, keyVaultFailureReason } from './keyvault/rest-errors';
import type { RequestPriority } from './keyvault/token-bucket';
import type { FetchedObject, ObjectVersionInfo, VaultObjectType } from './keyvault/types';
import { VaultAccess, VaultAccessProps, VaultCallContext } from './keyvault/vault-access';
import { LastKnownContent, LastKnownContentOutcome } from './last-known-content';
import type { ProviderMetrics } from './metrics';
import { deadlineText, MountDeadlineError, MountWait } from './mount-deadline';
import { MountFailure, MountFailureReason, toMountFailure } from './mount-failure';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  MountRequest,
  MountResponse,
  ObjectVersion,
  ProviderFile,
} from '../wire/provider-v1alpha1';
import { ObjectsCache } from './objects-cache';
import { MountObject, MountParameters, MountRequestError, parseMountRequest } from './parameters';
import {
  AdmissionSaturation,
  AdmissionWaitEnded,
  MountAdmission,
  MountAdmissionProps,
} from './mount-admission';
import { admissionWaitFailure } from './mount-admission-failure';
import { mountAdmissionMetrics } from './mount-admission-metrics';

/** Options of the Mount service (the provider's flags). */
export interface MountServiceProps {
  /** `--construct-pem-chain`. */
  readonly constructPemChain: boolean;
  /** `--write-cert-and-key-in-separate-files`. */
  readonly writeCertAndKeyInSeparateFiles: boolean;
  /** Cloud when the SPC names none (`--cloud-name`). */
  readonly defaultCloud: CloudEnvironment;
  readonly logger: Logger;
  readonly metrics: ProviderMetrics;
  /** The log redactor; each Mount scrubs its error with a scope of it (`Redactor.scope`). @default logger.redactor */
  readonly redactor?: Redactor;
  /** Freshness window of cached Key Vault responses, ms. @default 30000 */
  readonly cacheMaxAgeMs?: number;
  /**
   * Freshness window of a cached "latest" value (and version listing) for a rotation check, ms: at most
   * cacheMaxAgeMs. Short, so a new version reaches a pod within one republish, while the republishes of
   * one burst (a node's pods polled together) still share one Key Vault call. @default 2000
   */
  readonly rotationCacheMaxAgeMs?: number;
  /** Most cached Key Vault responses. @default 10000 */
  readonly cacheMaxEntries?: number;
  /** Key Vault calls in flight per Mount (50 objects in two round trips). @default 32 */
  readonly mountConcurrency?: number;
  /** Largest encoded MountResponse. @default 4 MiB (the driver's default receive limit) */
  readonly maxResponseBytes?: number;
  /** Encoded size of a response (the server passes the real protobuf serializer). */
  readonly measureResponse?: (response: MountResponse) => number;
  /** Key Vault call limits. */
  readonly vault?: VaultAccessProps;
  /** Most target paths remembered to tell rotation from first mounts. @default 10000 */
  readonly maxRememberedTargets?: number;
  /** Environment for AZURE_ENVIRONMENT_FILEPATH. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Directory `cloudEnvFileName` may name files in (--cloud-env-file-dir). @default '' (refused) */
  readonly cloudEnvFileDir?: string;
  /** The AKS token proxy for identity binding (--token-proxy-url, --sni-name). @default the in-cluster one */
  readonly tokenProxy?: TokenProxyTarget;
  /** Oldest last known content a first mount may get on a Key Vault outage (--outage-max-staleness), ms. @default 0 (off) */
  readonly outageMaxStalenessMs?: number;
  /** How many Mounts run at once, in arrival order (--mount-admission-slots, --mount-admission-lease). */
  readonly admission?: MountAdmissionProps;
}

/** How a Mount is called (the gRPC call's signal and deadline). */
export interface MountCallOptions {
  readonly signal?: AbortSignal;
  /** The driver's deadline, epoch ms. @default none */
  readonly deadline?: number;
}

const OBJECT_TYPES: readonly string[] = ['secret', 'key', 'cert'];

/** Waits for all; rejects with the first failure in list order (not the first to happen). */
async function settleInOrder<T>(promises: Array<Promise<T>>): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  return settled.map((result) => {
    if (result.status === 'rejected') throw result.reason;
    return result.value;
  });
}

/** An object version that names no fixed version: its answer changes when a new version is added. */
const isLatest = (version: string) => version === '' || version === 'latest';

function objectError(
  obj: MountObject,
  version: string,
  message: string,
  reason: MountFailureReason,
): MountRequestError {
  return new MountRequestError(
    `failed to get objectType:${obj.objectType}, objectName:${obj.objectName}, objectVersion:${version}: ${message}`,
    true,
    reason,
  );
}

/** Where a Mount is, for the answer it gives when its deadline comes first. */
interface MountProgress {
  /** What the Mount waits for now. */
  wait: () => MountWait;
  /** The SPC's objects, once parsed. */
  objects?: readonly MountObject[];
  /** Objects not fetched yet. */
  readonly pending: Set<MountObject>;
}

/**
 * The answer of a Mount whose deadline came first: what it waited for, worded as upstream words an
 * object's failure (on the first object, in SPC order, still waiting), DEADLINE_EXCEEDED.
 */
function deadlineFailure(
  deadline: MountDeadlineError,
  wait: MountWait,
  progress: MountProgress,
  scope: Redactor,
): MountFailure {
  const text = deadlineText(deadline, wait);
  const obj = progress.objects?.find((o) => progress.pending.has(o)) ?? progress.objects?.[0];
  const message = obj ? objectError(obj, obj.objectVersion, text, 'cancelled').message : text;
  const reason: MountFailureReason =
    wait.on === 'entra' || (wait.on === 'keyvault' && wait.entra)
      ? 'identity'
      : wait.on === 'keyvault'
        ? (wait.throttledForMs ?? 0) > 0
          ? 'keyvault_throttled'
          : 'keyvault_timeout'
        : 'cancelled';
  return new MountFailure(
    scope.redactString(`failed to mount objects, error: ${message}`),
    reason,
    grpcStatus.DEADLINE_EXCEEDED,
  );
}

/**
 * Two objects writing one file, or one writing inside another's file (alias `a` and a history `a/0`),
 * would leave the driver to pick a winner; upstream does not check. Say which objects collide.
 */
function checkFilePaths(files: ReadonlyArray<{ path: string; id: string }>): void {
  const byPath = new Map<string, string>();
  for (const file of files) {
    const other = byPath.get(file.path);
    if (other !== undefined && other !== file.id)
      throw new MountRequestError(
        `objects ${other} and ${file.id} both write the file ${JSON.stringify(file.path)}; give one of them another objectAlias`,
      );
    byPath.set(file.path, file.id);
  }
  for (const file of files) {
    const elements = file.path.split('/');
    for (let i = 1; i < elements.length; i++) {
      const parent = elements.slice(0, i).join('/');
      const owner = byPath.get(parent);
      if (owner !== undefined)
        throw new MountRequestError(
          `object ${file.id} writes ${JSON.stringify(file.path)} inside the file ${JSON.stringify(parent)} of object ${owner}; give one of them another objectAlias`,
        );
    }
  }
}

/** Per-Mount tallies for the log line. */
interface MountTally {
  hit: number;
  miss: number;
  shared: number;
}

/** What one Mount carries through its calls. */
interface MountScope {
  readonly ctx: VaultCallContext;
  readonly semaphore: Semaphore;
  readonly tally: MountTally;
  /** What this Mount fetched or sent: the only values its error is scrubbed with. */
  readonly redactor: Redactor;
  /** The reason of every Key Vault call of this Mount that failed (outage or not). */
  readonly failures: MountFailureReason[];
}

export class MountService {
  readonly cache: ObjectCache<FetchedObject | ObjectVersionInfo[]>;
  readonly credentials: CredentialPool;
  readonly vault: VaultAccess;
  /** Last known content for Key Vault outages; undefined when --outage-max-staleness is off. */
  readonly lastKnown?: LastKnownContent;
  private readonly servedTargets = new Map<string, true>();
  /** The SPCs' `objects` texts as parsed: a node's pods send a few texts over and over. */
  private readonly objectsCache = new ObjectsCache();
  /** Which Mounts of a burst run now. */
  readonly admission: MountAdmission;
  private readonly redactor: Redactor;
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(private readonly props: MountServiceProps) {
    this.redactor = props.redactor ?? props.logger.redactor;
    const report = (state: AdmissionSaturation) => ({
      waiting: state.waiting,
      running: state.running,
      slots: state.slots,
      seconds: Math.round(state.forMs / 100) / 10,
      admittedAfterWaiting: state.admitted,
      endedWhileWaiting: state.abandoned,
    });
    this.admission = new MountAdmission({
      ...props.admission,
      observer: {
        ...mountAdmissionMetrics(props.metrics.registry, () => this.admission.waiting),
        // One line when the queue stays non-empty, one when it empties: never one per Mount.
        saturated: (state) =>
          props.logger.info(
            "the admission queue has not been empty for `seconds`: Mounts wait for the provider's CPU; if this lasts, raise its CPU limit or --mount-admission-slots",
            report(state),
          ),
        drained: (state) => props.logger.info('the admission queue is empty again', report(state)),
      },
    });
    this.cache = new ObjectCache({
      maxAgeMs: props.cacheMaxAgeMs ?? 30_000,
      maxEntries: props.cacheMaxEntries ?? 10_000,
    });
    this.credentials = new CredentialPool({
      onTokenRequest: (kind) => props.metrics.tokenRequests.inc({ identity_type: kind }),
      tokenProxy: props.tokenProxy,
    });
    this.vault = new VaultAccess({
      ...props.vault,
      onRetry: (host, decision, delayMs) => {
        props.metrics.keyvaultRetries.inc({ reason: decision.reason ?? 'other' });
        props.logger.warn('retrying Key Vault request', { vault: host, reason: decision.reason, delayMs });
        props.vault?.onRetry?.(host, decision, delayMs);
      },
      onRateLimitWait: (host, priority) => {
        props.metrics.rateLimitWaits.inc({ priority });
        props.vault?.onRateLimitWait?.(host, priority);
      },
    });
    if ((props.outageMaxStalenessMs ?? 0) > 0)
      this.lastKnown = new LastKnownContent({
        maxStalenessMs: props.outageMaxStalenessMs!,
        registry: props.metrics.registry,
        logger: props.logger,
      });
    this.sweepTimer = setInterval(
      () => {
        this.cache.sweep();
        this.vault.sweep();
        this.lastKnown?.sweep();
      },
      Math.max(1000, props.cacheMaxAgeMs ?? 30_000),
    );
    this.sweepTimer.unref();
  }

  close(): void {
    clearInterval(this.sweepTimer);
    this.admission.close();
    this.vault.close();
  }

  /**
   * Rotation detection: the driver sends the same Mount for a first mount and for a rotation check
   * (driver v1.6 sends no current_object_version), so a target path this process has already served
   * successfully marks a rotation. Rotation waits behind first mounts in the vault's token bucket; a
   * pod waiting to start matters more than a pod that already has its content.
   */
  private priorityFor(targetPath: string): RequestPriority {
    return targetPath !== '' && this.servedTargets.has(targetPath) ? 'rotation' : 'mount';
  }

  private rememberTarget(targetPath: string): void {
    if (targetPath === '') return;
    this.servedTargets.delete(targetPath);
    this.servedTargets.set(targetPath, true);
    const max = this.props.maxRememberedTargets ?? 10_000;
    while (this.servedTargets.size > max)
      this.servedTargets.delete(this.servedTargets.keys().next().value as string);
  }

  /**
   * One Mount. Rejects with a MountFailure whose text is scrubbed with this Mount's own scope only:
   * the values it fetched and the credentials it sent.
   */
  async mount(request: MountRequest, signal?: AbortSignal): Promise<MountResponse> {
    return (await this.mountCall(request, { signal })).response;
  }

  /** One Mount, and whether it was answered with last known content (the server tells the driver). */
  async mountCall(request: MountRequest, options: MountCallOptions = {}): Promise<LastKnownContentOutcome> {
    const redactor = this.redactor.scope();
    const { signal } = options;
    const progress: MountProgress = { wait: () => ({ on: 'request' }), pending: new Set() };
    // Taken first, before the abort reaches the calls this Mount waits on and they unwind.
    let waitedOn: MountWait | undefined;
    const snapshot = () => (waitedOn = progress.wait());
    signal?.addEventListener('abort', snapshot, { once: true });
    try {
      return await this.mountScoped(request, redactor, options, progress);
    } catch (err) {
      // It never started: no vault or Entra ID to name, only the queue it waited in.
      if (err instanceof AdmissionWaitEnded) throw admissionWaitFailure(err);
      if (signal?.reason instanceof MountDeadlineError)
        throw deadlineFailure(signal.reason, waitedOn ?? progress.wait(), progress, redactor);
      throw toMountFailure(err, redactor, signal?.aborted ?? false);
    } finally {
      signal?.removeEventListener('abort', snapshot);
    }
  }

  private async mountScoped(
    request: MountRequest,
    redactor: Redactor,
    { signal, deadline }: MountCallOptions,
    progress: MountProgress,
  ): Promise<LastKnownContentOutcome> {
    const params = await parseMountRequest(request, {
      defaultCloud: this.props.defaultCloud,
      env: this.props.env,
      cloudFiles: { directory: this.props.cloudEnvFileDir ?? '' },
      objectsCache: this.objectsCache,
    });
    progress.objects = params.objects;
    if (params.objects.length === 0) {
      // Upstream answers with no files and no versions, which the driver then fails as
      // "missing object versions"; say what is wrong instead.
      throw new MountRequestError(
        'the objects parameter lists no objects (array is empty); add at least one object to the SecretProviderClass',
      );
    }
    // A burst's Mounts take turns in arrival order (fair over namespaces), so the first ones
    // get the CPU, Entra ID and Key Vault first and answer early (MountAdmission: leased, bounded).
    const admission = await this.admission.admit(params.podNamespace, signal);
    try {
      return await this.mountAdmitted(request, redactor, { signal, deadline }, progress, params);
    } finally {
      admission.release();
    }
  }

  private async mountAdmitted(
    request: MountRequest,
    redactor: Redactor,
    { signal, deadline }: MountCallOptions,
    progress: MountProgress,
    params: MountParameters,
  ): Promise<LastKnownContentOutcome> {
    const priority = this.priorityFor(request.target_path);
    const key = identityKey(params.identity, params.tenantId, params.cloud.activeDirectoryEndpoint);
    if (params.identity.kind === 'service-principal') redactor.registerSecret(params.identity.clientSecret);
    const federated =
      params.identity.kind === 'workload-identity' || params.identity.kind === 'identity-binding';
    if (federated) redactor.registerSecret(params.identity.serviceAccountToken);
    if (params.identity.kind === 'identity-binding') {
      // Upstream's checks when it builds the credential, with its wording.
      await checkTokenProxyReady(this.credentials.tokenProxy, params.tenantId).catch((err: unknown) => {
        throw new MountRequestError(
          `failed to get keyvault client: ${(err as Error).message}`,
          true,
          'identity',
        );
      });
    }
    const credential = this.credentials.credentialFor(key, params.identity, params.tenantId, params.cloud);
    const authority = `${params.cloud.activeDirectoryEndpoint.replace(/\/+$/, '')}/${params.tenantId}`;
    if (federated) {
      const clientId = params.identity.clientId;
      const via = params.identity.kind === 'identity-binding' ? ' through the AKS token proxy' : '';
      progress.wait = () => ({ on: 'entra', authority: `${authority}${via}`, clientId });
      // Nothing cached for this identity is served to a token Entra ID has not accepted for it.
      const first = params.objects[0];
      await this.credentials
        .acceptServiceAccountToken(key, params.identity, params.tenantId, params.cloud, signal)
        .catch((err: unknown) => {
          // Worded as upstream words a token failure: on the first object it fetches.
          throw objectError(first, first.objectVersion, describeKeyVaultError(err), 'identity');
        });
    }
    progress.wait = () => ({
      on: 'keyvault',
      vault: params.keyvaultName,
      vaultUrl: params.vaultUrl,
      throttledForMs: this.vault.bucketFor(new URL(params.vaultUrl).host).pausedUntilMs - Date.now(),
      entra: credential instanceof CachingCredential && credential.isRequesting() ? authority : undefined,
    });
    const baseCtx: VaultCallContext = {
      identityKey: key,
      credential,
      vaultUrl: params.vaultUrl,
      // The SDK checks that the 401 challenge's resource matches the vault host (a token for
      // vault.azure.net must not go to a look-alike host). Built-in clouds keep that check; a custom
      // cloud file (Azure Stack, test doubles, emulators) names its own resource, which need not
      // follow the `*.<resource host>` rule, so the check is off there only.
      disableChallengeResourceVerification: params.cloud.custom,
      priority,
      signal,
    };
    const tally: MountTally = { hit: 0, miss: 0, shared: 0 };
    const fetch = async (fetchSignal: AbortSignal | undefined, failures: MountFailureReason[]) => {
      const scope: MountScope = {
        ctx: { ...baseCtx, signal: fetchSignal },
        semaphore: new Semaphore(this.props.mountConcurrency ?? 32),
        tally,
        redactor,
        failures,
      };
      const perObject = await settleInOrder(
        params.objects.map((obj) => {
          progress.pending.add(obj);
          return this.objectFiles(scope, obj).finally(() => progress.pending.delete(obj));
        }),
      );
      const files = perObject.flat();
      checkFilePaths(files);
      const response: MountResponse = {
        object_version: files.map((f) => ({ id: f.id, version: f.version })),
        files: files.map((f) => ({ path: f.path, mode: f.mode, contents: f.contents })),
        error: null,
      };
      this.checkSize(response);
      return response;
    };
    const outcome: LastKnownContentOutcome =
      this.lastKnown && params.serveLastKnownContentOnOutage
        ? await this.lastKnown.run({
            scope: {
              identityKey: key,
              podNamespace: params.podNamespace,
              vaultUrl: params.vaultUrl,
              tenantId: params.tenantId,
              authorityHost: params.cloud.activeDirectoryEndpoint,
              objects: params.objects,
            },
            firstMount: priority === 'mount',
            fetch,
            // A workload-identity (or identity-binding) token was accepted by Entra ID above; any
            // other identity must still get a token for the vault now.
            proveIdentity: async (proofSignal) => {
              if (federated) return;
              const token = await credential.getToken(`${params.cloud.keyVaultResource}/.default`, {
                abortSignal: proofSignal,
              });
              if (!token) throw new Error('the identity returned no access token');
            },
            signal,
            deadline,
          })
        : { response: await fetch(signal, []) };
    const { response } = outcome;
    this.rememberTarget(request.target_path);
    this.props.logger.info('mounted', {
      pod: `${params.podNamespace}/${params.podName}`,
      secretProviderClass: params.secretProviderClass,
      vault: params.keyvaultName,
      identity: params.identity.kind,
      priority,
      objects: params.objects.length,
      files: response.files.length,
      cache: tally,
      ...(outcome.servedLastKnown
        ? {
            lastKnownContent: {
              reason: outcome.servedLastKnown.reason,
              ageSeconds: Math.floor(outcome.servedLastKnown.ageMs / 1000),
            },
          }
        : {}),
    });
    return outcome;
  }

  private checkSize(response: MountResponse): void {
    const max = this.props.maxResponseBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const size = this.props.measureResponse
      ? this.props.measureResponse(response)
      : response.files.reduce((sum, f) => sum + f.contents.length + f.path.length + 16, 0) +
        response.object_version.reduce((sum, v) => sum + v.id.length + v.version.length + 8, 0);
    if (size <= max) return;
    const largest = [...response.files]
      .sort((a, b) => b.contents.length - a.contents.length)
      .slice(0, 3)
      .map((f) => `${f.path} (${f.contents.length} bytes)`)
      .join(', ');
    throw new MountRequestError(
      `the mount response would be ${size} bytes, more than the ${max}-byte gRPC message limit (largest files: ${largest}); ` +
        "mount fewer or smaller objects, or raise the driver's --max-call-recv-msg-size and this provider's --max-response-bytes together",
      true,
      'response_too_large',
    );
  }

  /**
   * A cached or shared Key Vault call. `load` gets the context of the shared call: its signal aborts
   * only when every Mount waiting on it has gone, so a cancelled Mount never fails the others.
   */
  private async cached<V extends FetchedObject | ObjectVersionInfo[]>(
    cacheKey: string,
    { ctx, tally, failures }: MountScope,
    load: (shared: VaultCallContext) => Promise<V>,
    changes = false,
  ): Promise<V> {
    const onOutcome = (outcome: CacheOutcome) => {
      tally[outcome]++;
      this.props.metrics.cacheRequests.inc({ result: outcome });
    };
    try {
      // A rotation check asks whether what the pod has is still the newest: an answer that can change
      // (a "latest" value, a version listing) is reused only within the short rotation window.
      const maxAgeMs =
        changes && ctx.priority === 'rotation' ? (this.props.rotationCacheMaxAgeMs ?? 2000) : undefined;
      return (await this.cache.getOrLoad(
        cacheKey,
        (signal) => load({ ...ctx, signal }),
        onOutcome,
        ctx.signal,
        maxAgeMs,
      )) as V;
    } catch (err) {
      // Joined calls fail with the caller's MountRequestError too, so every Mount sees every reason.
      failures.push(err instanceof MountRequestError ? err.reason : 'internal');
      throw err;
    }
  }

  private async timed<V>(obj: MountObject, version: string, load: () => Promise<V>): Promise<V> {
    const started = process.hrtime.bigint();
    try {
      const value = await load();
      this.props.metrics.observeKeyVaultRequest(
        Number(process.hrtime.bigint() - started) / 1e9,
        obj.objectType,
        '',
      );
      return value;
    } catch (err) {
      const reason = keyVaultFailureReason(err);
      this.props.metrics.observeKeyVaultRequest(
        Number(process.hrtime.bigint() - started) / 1e9,
        obj.objectType,
        reason,
      );
      throw objectError(obj, version, describeKeyVaultError(err), reason);
    }
  }

  /** The versions to mount: one (single mode) or the newest N enabled ones (history mode). */
  private async resolveVersions(scope: MountScope, obj: MountObject) {
    const { ctx, semaphore } = scope;
    const type = obj.objectType as VaultObjectType;
    const baseName = obj.objectAlias || obj.objectName;
    if (obj.objectVersionHistory <= 1) {
      return [{ fileName: baseName, version: obj.objectVersion, id: `${type}/${obj.objectName}` }];
    }
    const listing = await semaphore.run(() =>
      this.cached(
        `${ctx.identityKey}|${ctx.vaultUrl}|${type}|${obj.objectName}|versions`,
        scope,
        (shared) =>
          this.timed(obj, obj.objectVersion, () => this.vault.listVersions(shared, type, obj.objectName)),
        true,
      ),
    );
    // Newest first; items with enabled=false are skipped; a missing created date counts as the epoch.
    const sorted = listing
      .filter((v) => v.enabled !== false)
      .map((v, index) => ({ ...v, index, created: v.createdOn?.getTime() ?? 0 }))
      .sort((a, b) => b.created - a.created || a.index - b.index);
    const start = isLatest(obj.objectVersion) ? 0 : sorted.findIndex((v) => v.version === obj.objectVersion);
    if (start < 0) return [];
    // Exactly N versions (upstream returns N+1 when more exist).
    return sorted.slice(start, start + obj.objectVersionHistory).map((v, i) => ({
      fileName: path.posix.join(baseName, String(i)),
      version: v.version,
      id: `${type}/${obj.objectName}/${i}`,
    }));
  }

  private async objectFiles(
    scope: MountScope,
    obj: MountObject,
  ): Promise<Array<ProviderFile & ObjectVersion>> {
    if (!OBJECT_TYPES.includes(obj.objectType)) {
      throw objectError(
        obj,
        obj.objectVersion,
        'Invalid vaultObjectTypes. Should be secret, key, or cert',
        'invalid_request',
      );
    }
    const { ctx, semaphore } = scope;
    const type = obj.objectType as VaultObjectType;
    const targets = await this.resolveVersions(scope, obj);
    const perVersion = await settleInOrder(
      targets.map(async (target) => {
        const fetched = await semaphore.run(() =>
          this.cached(
            `${ctx.identityKey}|${ctx.vaultUrl}|${type}|${obj.objectName}|${target.version}`,
            scope,
            (shared) =>
              this.timed(obj, target.version, () =>
                this.vault.getObject(shared, type, obj.objectName, target.version),
              ),
            isLatest(target.version),
          ),
        );
        // Registered for every Mount served the value (cache hits too): its error may name nothing of it.
        if (fetched.type === 'secret') scope.redactor.registerSecret(fetched.value);
        let parts;
        try {
          parts = objectContentParts(fetched, obj.objectFormat, {
            constructPemChain: this.props.constructPemChain,
            writeCertAndKeyInSeparateFiles: this.props.writeCertAndKeyInSeparateFiles,
            onIncompleteChain: () =>
              this.props.logger.warn(
                'certificate chain is not complete due to missing intermediate/root certificates in the cert from key vault',
                {
                  objectName: obj.objectName,
                },
              ),
          });
        } catch (err) {
          if (err instanceof ObjectContentError && err.unwrapped)
            throw new MountRequestError(err.message, true, 'content');
          throw objectError(obj, target.version, (err as Error).message, 'content');
        }
        return parts.map((part) => {
          let contents: Buffer;
          try {
            contents = contentBytes(part.content, obj.objectType, obj.objectEncoding);
          } catch (err) {
            throw objectError(obj, target.version, (err as Error).message, 'content');
          }
          return {
            path: target.fileName + part.suffix,
            mode: obj.fileMode,
            contents,
            id: target.id,
            version: part.version,
          };
        });
      }),
    );
    return perVersion.flat();
  }
}
