// Subject and authority key identifiers of a DER certificate, read with node-forge's generic ASN.1
// parser (node:crypto's X509Certificate does not expose them, and forge's certificate parser
// rejects non-RSA keys). Semantics follow Go's x509: undefined when the extension is absent.
import type * as Forge from 'node-forge';
import { nodeForge } from './node-forge';

const OID_SUBJECT_KEY_ID = '2.5.29.14';
const OID_AUTHORITY_KEY_ID = '2.5.29.35';

export interface KeyIdentifiers {
  readonly subjectKeyId?: Buffer;
  readonly authorityKeyId?: Buffer;
}

function parse(der: string): Forge.asn1.Asn1 {
  return nodeForge().asn1.fromDer(der, { strict: false, decodeBitStrings: false } as unknown as boolean);
}

function children(node: Forge.asn1.Asn1): Forge.asn1.Asn1[] {
  return Array.isArray(node.value) ? node.value : [];
}

export function keyIdentifiers(certificateDer: Uint8Array): KeyIdentifiers {
  const forge = nodeForge();
  const cert = parse(Buffer.from(certificateDer).toString('binary'));
  const tbs = children(cert)[0];
  const extensionsWrapper = children(tbs).find(
    (n) => n.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && n.type === 3,
  );
  if (!extensionsWrapper) return {};
  const extensions = children(
    children(extensionsWrapper)[0] ?? ({ value: [] } as unknown as Forge.asn1.Asn1),
  );
  let subjectKeyId: Buffer | undefined;
  let authorityKeyId: Buffer | undefined;
  for (const extension of extensions) {
    const parts = children(extension);
    const oid = forge.asn1.derToOid(parts[0].value as string);
    const valueNode = parts[parts.length - 1];
    const inner = parse(valueNode.value as string);
    if (oid === OID_SUBJECT_KEY_ID) {
      subjectKeyId = Buffer.from(inner.value as string, 'binary');
    } else if (oid === OID_AUTHORITY_KEY_ID) {
      const keyIdNode = children(inner).find(
        (n) => n.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && n.type === 0,
      );
      if (keyIdNode) authorityKeyId = Buffer.from(keyIdNode.value as string, 'binary');
    }
  }
  return { subjectKeyId, authorityKeyId };
}
