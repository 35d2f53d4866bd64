// lowkey-vault (a Key Vault emulator written by others) on a free loopback port with a certificate the rig
// generates: its CA is handed to clients explicitly (never TLS verification off).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import forge from 'node-forge';
import { createCertificateAuthority, createSignedCertificate } from './certs';
import { freePort, RigProcess, spawnLogged, waitUntil } from './processes';
import type { LowkeyVaultRuntime } from './rig-env';

export interface StartLowkeyVaultProps {
  readonly runtime: LowkeyVaultRuntime;
  /** Receives lowkey-vault.log, its keystore and CA. */
  readonly stateDir: string;
  readonly readyTimeoutMs: number;
  /** The started process is appended here (so the caller stops it). */
  readonly processes: RigProcess[];
}

export interface StartedLowkeyVault {
  /** `https://127.0.0.1:<port>`: lowkey-vault's default vault. */
  readonly url: string;
  /** PEM CA that signed lowkey-vault's serving certificate. */
  readonly caFile: string;
}

export async function startLowkeyVault(props: StartLowkeyVaultProps): Promise<StartedLowkeyVault> {
  const ca = createCertificateAuthority('aks-secrets-store-rig-lowkey-ca');
  const serving = createSignedCertificate(ca, {
    commonName: 'lowkey-vault.local',
    dnsNames: ['localhost', '*.localhost', 'lowkey-vault.local'],
    ipAddresses: ['127.0.0.1'],
  });
  // Spring Boot reads a PKCS12 keystore (server.ssl.*).
  const keystorePassword = crypto.randomBytes(12).toString('hex');
  const p12 = forge.pkcs12.toPkcs12Asn1(
    forge.pki.privateKeyFromPem(serving.keyPem),
    [forge.pki.certificateFromPem(serving.certPem)],
    keystorePassword,
    { algorithm: '3des', friendlyName: 'lowkey-vault' },
  );
  const keystore = path.join(props.stateDir, 'lowkey-vault.p12');
  fs.writeFileSync(keystore, Buffer.from(forge.asn1.toDer(p12).getBytes(), 'binary'), { mode: 0o600 });
  const caFile = path.join(props.stateDir, 'lowkey-vault-ca.crt');
  fs.writeFileSync(caFile, ca.certPem);

  const port = await freePort();
  const tokenPort = await freePort();
  const proc = spawnLogged({
    name: 'lowkey-vault',
    binary: props.runtime.java,
    logDir: props.stateDir,
    args: [
      '-jar',
      props.runtime.jar,
      `--server.port=${port}`,
      `--app.token.port=${tokenPort}`,
      `--server.ssl.key-store=file:${keystore}`,
      `--server.ssl.key-store-type=PKCS12`,
      `--server.ssl.key-store-password=${keystorePassword}`,
      `--server.ssl.key-alias=lowkey-vault`,
      // Vaults are routed by host:port; the default vault is registered for 8443.
      '--LOWKEY_VAULT_RELAXED_PORTS=true',
    ],
  });
  props.processes.push(proc);
  const url = `https://127.0.0.1:${port}`;
  const agent = new https.Agent({ ca: ca.certPem });
  try {
    await waitUntil(
      () =>
        new Promise<boolean>((resolve, reject) => {
          https
            .get(`${url}/ping`, { agent, timeout: 5000 }, (res) => {
              res.resume();
              resolve(res.statusCode === 200);
            })
            .on('error', reject);
        }),
      { what: 'lowkey-vault /ping', timeoutMs: props.readyTimeoutMs, process: proc },
    );
  } finally {
    agent.destroy();
  }
  return { url, caFile };
}
