/**
 * Object identifiers of the Chinese commercial cryptography (国密) algorithms and of GM/T 0010's message syntax, as
 * GM/T 0006-2012 (密码应用标识规范) assigns them under 1.2.156.10197 (OSCCA): the 国密 part of seald's one OID table,
 * whose international part is oids.ts (one file per arc's authority; no OID literal lives anywhere else in crypto).
 * Names follow the documents (and OpenSSL's short names where GM/T 0006 gives only a description).
 */

// GM/T 0006-2012 algorithm identifiers
/** SM2 elliptic curve algorithm; also the named curve sm2p256v1 in an id-ecPublicKey SubjectPublicKeyInfo. */
export const id_sm2 = '1.2.156.10197.1.301';
/** SM2-1, the digital signature algorithm of GB/T 32918.2. */
export const id_sm2sign = '1.2.156.10197.1.301.1';
/** SM3 hash algorithm (GB/T 32905). */
export const id_sm3 = '1.2.156.10197.1.401';
/** SM2 signature with SM3 hash: the signatureAlgorithm of SM2 certificates (GM/T 0015-2012). */
export const id_sm2sign_with_sm3 = '1.2.156.10197.1.501';

// GM/T 0010-2012 content types (SM2 cryptographic message syntax), the counterparts of RFC 5652's id-data and
// id-signedData that GB/T 38540 seals carry.
export const id_gmt0010_data = '1.2.156.10197.6.1.4.2.1';
export const id_gmt0010_signedData = '1.2.156.10197.6.1.4.2.2';
