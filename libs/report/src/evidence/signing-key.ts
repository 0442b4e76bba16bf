import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';

// The deployment's Ed25519 evidence key, as PEM text in and out; reading and writing the files is the caller's.

export interface SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** `sha256:<hex>` of the raw 32-byte public key. */
  readonly fingerprint: string;
}

export function generateSigningKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Reads a PKCS#8 PEM private key; `source` names where it came from in errors. */
export function parseSigningKey(pem: string | Uint8Array, source: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: Buffer.from(pem), format: 'pem' });
  } catch (err) {
    throw new Error(`${source}: not a PEM private key (${(err as Error).message})`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new Error(
      `${source}: is a ${privateKey.asymmetricKeyType ?? 'unknown'} key, evidence is signed with Ed25519`,
    );
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, fingerprint: publicKeyFingerprint(publicKey) };
}

/** Reads an SPKI PEM public key (what `vigil evidence key` writes); `source` names it in errors. */
export function parsePublicKey(pem: string | Uint8Array, source: string): KeyObject {
  // createPublicKey would derive the public half of a private key: an auditor must not be holding that file.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(Buffer.from(pem).toString('latin1')))
    throw new Error(`${source}: holds a private key; give the public key (vigil evidence key)`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(pem), format: 'pem' });
  } catch (err) {
    throw new Error(`${source}: not a PEM public key (${(err as Error).message})`);
  }
  if (key.type !== 'public')
    throw new Error(`${source}: holds a private key; give the public key (vigil evidence key)`);
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(
      `${source}: is a ${key.asymmetricKeyType ?? 'unknown'} key, evidence is signed with Ed25519`,
    );
  return key;
}

export function publicKeyPem(key: KeyObject): string {
  return publicOf(key).export({ type: 'spki', format: 'pem' }).toString();
}

export function publicKeyFingerprint(key: KeyObject): string {
  const jwk = publicOf(key).export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.x)
    throw new Error('publicKeyFingerprint: not an Ed25519 key');
  return 'sha256:' + createHash('sha256').update(Buffer.from(jwk.x, 'base64url')).digest('hex');
}

function publicOf(key: KeyObject): KeyObject {
  return key.type === 'public' ? key : createPublicKey(key);
}
