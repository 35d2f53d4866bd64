// AAD Pod Identity (deprecated upstream, kept for drop-in compatibility): the NMI on the node
// (localhost:2579) returns a token for the pod named in the headers.
import * as http from 'node:http';
import type { AccessToken, TokenCredential } from './token-credential';

/** Options of the NMI credential. */
export interface PodIdentityCredentialProps {
  readonly podName: string;
  readonly podNamespace: string;
  /** Token resource: the cloud's Key Vault endpoint without the trailing slash. */
  readonly resource: string;
  /** NMI port on localhost. @default 2579 */
  readonly nmiPort?: number;
}

export class PodIdentityCredential implements TokenCredential {
  constructor(private readonly props: PodIdentityCredentialProps) {}

  getToken(): Promise<AccessToken> {
    const url = `http://localhost:${this.props.nmiPort ?? 2579}/host/token/?resource=${this.props.resource}`;
    return new Promise<AccessToken>((resolve, reject) => {
      const req = http.get(
        url,
        { headers: { podns: this.props.podNamespace, podname: this.props.podName }, timeout: 30_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200) {
              reject(
                new Error(`nmi response failed with status code: ${res.statusCode}, response body: ${body}`),
              );
              return;
            }
            try {
              const parsed = JSON.parse(body) as {
                token?: { access_token?: string; expires_on?: string | number };
                clientid?: string;
              };
              const accessToken = parsed.token?.access_token ?? '';
              if (accessToken === '' || !parsed.clientid) {
                reject(new Error('nmi did not return expected values in response: token and clientid'));
                return;
              }
              const expiresOn = Number(parsed.token?.expires_on ?? -3600);
              resolve({
                token: accessToken,
                expiresOnTimestamp: (Number.isFinite(expiresOn) ? expiresOn : -3600) * 1000,
              });
            } catch (err) {
              reject(err as Error);
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('nmi did not answer within 30s')));
      req.on('error', reject);
    });
  }
}
