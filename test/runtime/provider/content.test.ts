// File contents per object type and format (reference azure-provider §2), on real certificates and
// keys: PFX → PEM with the key first and the chain ordered by AKI/SKI, its fallbacks and its cycle
// error, JWK → PUBLIC KEY for RSA and EC curves, and Go's base64/hex decoding errors.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { contentBytes, decodeGoBase64, decodeGoHex } from '../../../runtime/provider/content/encoding';
import { objectContentParts } from '../../../runtime/provider/content/object-content';
import { decodePemBlocks, encodePem } from '../../../runtime/provider/content/pem';
import { pfxToPem } from '../../../runtime/provider/content/pkcs12';
import { publicKeyPem } from '../../../runtime/provider/content/public-key';
import { buildChain, chainCertificates, toPemBundle, toPfxBase64 } from '../../../harness/fakes/x509';

const chain = buildChain({ leafName: 'app.example' });
const leafFirst = chainCertificates(chain, 'leaf-first');
const keyPem = createPrivateKey(chain.leaf.keyPem).export({ type: 'pkcs8', format: 'pem' }).toString();

describe('PFX → PEM', () => {
  it('puts the private key first, then leaf → intermediate → root, whatever the stored order', () => {
    for (const order of ['shuffled', 'root-first', 'leaf-first'] as const) {
      const pem = pfxToPem(toPfxBase64(chain.leaf, chainCertificates(chain, order)), {
        constructPemChain: true,
      });
      expect(pem).toBe(keyPem + leafFirst.map((c) => encodePem('CERTIFICATE', c.certDer)).join(''));
    }
  });

  it('keeps the stored order when --construct-pem-chain is off', () => {
    const stored = chainCertificates(chain, 'root-first');
    const pem = pfxToPem(toPfxBase64(chain.leaf, stored), { constructPemChain: false });
    expect(pem).toBe(keyPem + stored.map((c) => encodePem('CERTIFICATE', c.certDer)).join(''));
  });

  it('keeps the stored order (and reports it) when key identifiers are missing', () => {
    const bare = buildChain({ leafName: 'bare.example', keyIdentifiers: false });
    const stored = chainCertificates(bare, 'shuffled');
    let incomplete = 0;
    const pem = pfxToPem(toPfxBase64(bare.leaf, stored), {
      constructPemChain: true,
      onIncompleteChain: () => incomplete++,
    });
    const certs = decodePemBlocks(pem).filter((b) => b.type === 'CERTIFICATE');
    expect(certs.map((b) => b.bytes)).toEqual(stored.map((c) => c.certDer));
    expect(incomplete).toBe(1);
  });

  it('fails with the upstream error when the chain has a cycle (the root twice)', () => {
    const stored = [chain.leaf, chain.intermediates[0], chain.root, chain.root];
    expect(() => pfxToPem(toPfxBase64(chain.leaf, stored), { constructPemChain: true })).toThrow(
      'constructing chain resulted in cycle',
    );
  });

  it('reads EC keys and OpenSSL-made PFX files (legacy 3DES and current AES)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pfx-'));
    try {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
      const ecKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      fs.writeFileSync(path.join(dir, 'key.pem'), ecKeyPem);
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-new',
          '-key',
          'key.pem',
          '-subj',
          '/CN=ec.example',
          '-days',
          '2',
          '-out',
          'cert.pem',
        ],
        { cwd: dir, stdio: 'pipe' },
      );
      const certDer = decodePemBlocks(fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8'))[0].bytes;
      for (const extra of [
        ['-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1'],
        [],
      ]) {
        execFileSync(
          'openssl',
          [
            'pkcs12',
            '-export',
            '-inkey',
            'key.pem',
            '-in',
            'cert.pem',
            '-passout',
            'pass:',
            '-out',
            'out.pfx',
            ...extra,
          ],
          { cwd: dir, stdio: 'pipe' },
        );
        const pem = pfxToPem(fs.readFileSync(path.join(dir, 'out.pfx')).toString('base64'), {
          constructPemChain: true,
        });
        expect(pem).toBe(ecKeyPem + encodePem('CERTIFICATE', certDer));
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports bad base64 and bad PKCS#12 clearly', () => {
    expect(() => pfxToPem('%%%', { constructPemChain: true })).toThrow('illegal base64 data at input byte 0');
    expect(() => pfxToPem(Buffer.from('not a pfx').toString('base64'), { constructPemChain: true })).toThrow(
      /^pkcs12: /,
    );
  });
});

describe('certificate-backed secrets', () => {
  const props = { constructPemChain: true, writeCertAndKeyInSeparateFiles: false };
  const pemBundle = toPemBundle(chain.leaf, chainCertificates(chain, 'root-first'));

  it('returns a PEM-stored certificate as stored (no reordering)', () => {
    const parts = objectContentParts(
      {
        type: 'secret',
        value: pemBundle,
        id: 'https://kv/secrets/c/v1',
        version: 'v1',
        kid: 'https://kv/keys/c/v1',
        contentType: 'application/x-pem-file',
      },
      '',
      props,
    );
    expect(parts).toEqual([{ suffix: '', content: pemBundle, version: 'v1' }]);
  });

  it('writes .crt, .key and the combined file when asked, in that order', () => {
    const parts = objectContentParts(
      {
        type: 'secret',
        value: pemBundle,
        id: 'i',
        version: 'v1',
        kid: 'k',
        contentType: 'application/x-pem-file',
      },
      '',
      { ...props, writeCertAndKeyInSeparateFiles: true },
    );
    expect(parts.map((p) => p.suffix)).toEqual(['.crt', '.key', '']);
    expect(parts[0].content).toBe(
      chainCertificates(chain, 'root-first')
        .map((c) => encodePem('CERTIFICATE', c.certDer))
        .join(''),
    );
    expect(parts[1].content).toBe(keyPem);
  });

  it('keeps the base64 PFX text for objectFormat: pfx (any case)', () => {
    const pfx = toPfxBase64(chain.leaf, leafFirst);
    const parts = objectContentParts(
      { type: 'secret', value: pfx, id: 'i', version: 'v1', kid: 'k', contentType: 'application/x-pkcs12' },
      'PFX',
      props,
    );
    expect(parts[0].content).toBe(pfx);
    expect(contentBytes(pfx, 'secret', 'base64')).toEqual(Buffer.from(pfx, 'base64'));
  });

  it('rejects unknown content types with the upstream text', () => {
    expect(() =>
      objectContentParts(
        { type: 'secret', value: 'x', id: 'i', version: 'v', kid: 'k', contentType: 'text/plain' },
        '',
        props,
      ),
    ).toThrow("failed to get certificate. unknown content type 'text/plain'");
  });

  it('returns a certificate as its leaf CERTIFICATE PEM', () => {
    const parts = objectContentParts(
      { type: 'cert', id: 'i', version: 'v9', cer: chain.leaf.certDer },
      '',
      props,
    );
    expect(parts).toEqual([{ suffix: '', content: chain.leaf.certPem, version: 'v9' }]);
  });
});

describe('keys → PUBLIC KEY PEM', () => {
  const jwkBytes = (key: KeyObject) => {
    const jwk = key.export({ format: 'jwk' });
    const bytes = (v?: string) => (v === undefined ? undefined : Buffer.from(v, 'base64url'));
    return { kty: jwk.kty, crv: jwk.crv, n: bytes(jwk.n), e: bytes(jwk.e), x: bytes(jwk.x), y: bytes(jwk.y) };
  };

  it.each([
    ['RSA', generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey],
    ['EC P-256', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey],
    ['EC P-384', generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey],
    ['EC P-521', generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey],
  ])('%s', (_name, key) => {
    const expected = key.export({ type: 'spki', format: 'pem' }).toString();
    expect(publicKeyPem(jwkBytes(key))).toBe(expected);
    const hsm = jwkBytes(key);
    expect(publicKeyPem({ ...hsm, kty: `${hsm.kty}-HSM` })).toBe(expected);
  });

  it('names unsupported curves and key types as upstream does', () => {
    expect(() =>
      publicKeyPem({ kty: 'EC', crv: 'P-256K', x: Buffer.alloc(32), y: Buffer.alloc(32) }),
    ).toThrow('curve P-256K is not supported');
    expect(() => publicKeyPem({ kty: 'oct' })).toThrow(
      "failed to get key. key type 'oct' currently not supported",
    );
  });
});

describe('objectEncoding (Go semantics)', () => {
  it('decodes utf-8, hex and base64 for secrets only', () => {
    expect(contentBytes('héllo', 'secret', '')).toEqual(Buffer.from('héllo', 'utf8'));
    expect(contentBytes('68656c6c6f', 'secret', 'HEX')).toEqual(Buffer.from('hello'));
    expect(contentBytes('aGVsbG8=', 'secret', 'Base64')).toEqual(Buffer.from('hello'));
    expect(contentBytes('aGVs\r\nbG8=', 'secret', 'base64')).toEqual(Buffer.from('hello'));
    expect(contentBytes('aGVsbG8=', 'key', 'base64')).toEqual(Buffer.from('aGVsbG8='));
  });

  it('reports Go error texts', () => {
    expect(() => decodeGoBase64('aGVsbG8')).toThrow('illegal base64 data at input byte 4');
    expect(() => decodeGoBase64('a$==')).toThrow('illegal base64 data at input byte 1');
    expect(() => decodeGoHex('zz')).toThrow("encoding/hex: invalid byte: U+007A 'z'");
    expect(() => decodeGoHex('abc')).toThrow('encoding/hex: odd length hex string');
    expect(() => contentBytes('x', 'secret', 'rot13')).toThrow(
      'invalid objectEncoding. Should be utf-8, base64, or hex',
    );
  });
});

describe('PEM shape', () => {
  it('writes 64-character lines and a trailing newline, like Go pem.EncodeToMemory', () => {
    const pem = encodePem('CERTIFICATE', chain.leaf.certDer);
    const lines = pem.trimEnd().split('\n');
    expect(lines[0]).toBe('-----BEGIN CERTIFICATE-----');
    expect(lines.slice(1, -2).every((l) => l.length === 64)).toBe(true);
    expect(pem.endsWith('-----END CERTIFICATE-----\n')).toBe(true);
    expect(pem).toBe(chain.leaf.certPem);
  });
});
