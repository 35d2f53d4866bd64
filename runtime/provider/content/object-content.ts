// Turns one fetched Key Vault object into the content of its file(s), with the upstream rules:
// a secret's value as is, a certificate-backed secret as stored (PEM) or converted (PFX → PEM, or
// kept as base64 PFX text for `objectFormat: pfx`), optional `.crt`/`.key` splits, a key's public
// PEM, a certificate's leaf PEM.
import type { FetchedCertificate, FetchedKey, FetchedObject, FetchedSecret } from '../keyvault/types';
import { decodePemBlocks, encodePem } from './pem';
import { pfxToPem } from './pkcs12';
import { publicKeyPem } from './public-key';

const CONTENT_TYPE_PEM = 'application/x-pem-file';
const CONTENT_TYPE_PFX = 'application/x-pkcs12';

/** One file's content before `objectEncoding` decoding. */
export interface ContentPart {
  /** Appended to the file name: '' for the object itself, '.crt' / '.key' for the split files. */
  readonly suffix: '' | '.crt' | '.key';
  readonly content: string;
  readonly version: string;
}

/** Options of the content conversion (the provider's flags). */
export interface ObjectContentProps {
  readonly constructPemChain: boolean;
  readonly writeCertAndKeyInSeparateFiles: boolean;
  /** Called when a PFX chain is incomplete (upstream logs a warning). */
  readonly onIncompleteChain?: () => void;
}

/** Errors of this step are wrapped by the caller with the object's type, name and version. */
export class ObjectContentError extends Error {
  /** True when the upstream message is returned without the object wrapper (the nil checks). */
  constructor(
    message: string,
    readonly unwrapped = false,
  ) {
    super(message);
  }
}

function secretParts(secret: FetchedSecret, objectFormat: string, props: ObjectContentProps): ContentPart[] {
  if (secret.value === undefined) throw new ObjectContentError('secret value is nil', true);
  if (secret.id === undefined) throw new ObjectContentError('secret id is nil', true);
  let content = secret.value;
  const parts: ContentPart[] = [];
  if (secret.kid) {
    const contentType = secret.contentType ?? '';
    if (contentType === CONTENT_TYPE_PFX) {
      if (objectFormat.toLowerCase() !== 'pfx') {
        content = pfxToPem(content, {
          constructPemChain: props.constructPemChain,
          onIncompleteChain: props.onIncompleteChain,
        });
      }
    } else if (contentType !== CONTENT_TYPE_PEM) {
      throw new ObjectContentError(`failed to get certificate. unknown content type '${contentType}'`);
    }
    if (props.writeCertAndKeyInSeparateFiles) {
      let certs = '';
      let keys = '';
      for (const block of decodePemBlocks(content)) {
        if (block.type === 'CERTIFICATE') certs += encodePem(block.type, block.bytes, block.headers);
        else keys += encodePem(block.type, block.bytes, block.headers);
      }
      parts.push(
        { suffix: '.crt', content: certs, version: secret.version },
        { suffix: '.key', content: keys, version: secret.version },
      );
    }
  }
  parts.push({ suffix: '', content, version: secret.version });
  return parts;
}

function keyParts(key: FetchedKey): ContentPart[] {
  if (key.jwk === undefined) throw new ObjectContentError('key value is nil', true);
  if (key.kid === undefined) throw new ObjectContentError('key id is nil', true);
  return [{ suffix: '', content: publicKeyPem(key.jwk), version: key.version }];
}

function certParts(cert: FetchedCertificate): ContentPart[] {
  if (cert.cer === undefined) throw new ObjectContentError('certificate value is nil', true);
  if (cert.id === undefined) throw new ObjectContentError('certificate id is nil', true);
  return [{ suffix: '', content: encodePem('CERTIFICATE', cert.cer), version: cert.version }];
}

export function objectContentParts(
  fetched: FetchedObject,
  objectFormat: string,
  props: ObjectContentProps,
): ContentPart[] {
  switch (fetched.type) {
    case 'secret':
      return secretParts(fetched, objectFormat, props);
    case 'key':
      return keyParts(fetched);
    case 'cert':
      return certParts(fetched);
  }
}
