/**
 * The electronic seal part of a signature's report (gm-seal.ts fills it; report.ts carries it): kept apart so the
 * report's types do not import the checker.
 */
import type { SealValidity, SignatureCheck } from '../../crypto/ses/ses-verify.ts';
import type { Trust } from '../../crypto/trust.ts';

/** What the report says of an electronic seal (docs/verify.md, "国密 electronic seals"). */
export interface ElectronicSealReport {
  /** 'GB/T 38540-2020' or 'GM/T 0031-2014': the layout of the SES_Signature. */
  format: string;
  /** SES_Header.version and Vid (the vendor that made the seal). */
  version: number;
  vendor: string;
  /** esID: the seal's code. */
  code: string;
  name: string;
  /** property.type: 1 organisation seal (法人章), 2 personal seal (个人章), others as the issuer defines. */
  type: number;
  createDate: string | null;
  validStart: string | null;
  validEnd: string | null;
  /** The seal's validity period at the signing time. */
  validity: SealValidity;
  /** timeInfo: the signing time the signer claims, ISO 8601. */
  signingTime: string | null;
  /** TBS_Sign.propertyInfo: what the signer says was signed. */
  propertyInfo: string;
  /** The seal's image: its declared type (PNG, JPG, GIF, OFD, SVG…), display size in mm, and the bytes (base64). */
  picture: { type: string; width: number; height: number; data: string };
  /** The seal maker (制章人): certificate, the signature over the seal, and the trust in the certificate. */
  maker: { subject: string; organisation: string | null; serial: string; issuer: string; notBefore: string; notAfter: string } | null;
  makerSignature: SignatureCheck;
  makerTrust: Trust;
}
