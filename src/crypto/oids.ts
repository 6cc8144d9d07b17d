/**
 * Object identifiers used by seald's CMS and certificates, named as the defining documents name them: seald's one OID
 * table, with its 国密 (GM/T 0006) part in oids-gm.ts. X.520 attribute types live with the Name reader that prints them
 * (distinguished-name.ts).
 */

// RFC 5652 §4 / PKCS #7
export const id_data = '1.2.840.113549.1.7.1';
export const id_signedData = '1.2.840.113549.1.7.2';
// RFC 5652 §11.1–11.2
export const id_contentType = '1.2.840.113549.1.9.3';
export const id_messageDigest = '1.2.840.113549.1.9.4';
// RFC 5035 §3
export const id_aa_signingCertificateV2 = '1.2.840.113549.1.9.16.2.47';
// RFC 2634 §5.4 (ESS signing-certificate, v1)
export const id_aa_signingCertificate = '1.2.840.113549.1.9.16.2.12';
// RFC 3161 Appendix A / RFC 5652 (unsigned attribute for a later timestamp)
export const id_aa_signatureTimeStampToken = '1.2.840.113549.1.9.16.2.14';

// RFC 3279 §2.2.1 (OIW), RFC 5754 §2.2–2.4
export const id_sha1 = '1.3.14.3.2.26';
export const id_sha256 = '2.16.840.1.101.3.4.2.1';
export const id_sha384 = '2.16.840.1.101.3.4.2.2';
export const id_sha512 = '2.16.840.1.101.3.4.2.3';
// RFC 4055 §5 / RFC 8017 Appendix A.1
export const rsaEncryption = '1.2.840.113549.1.1.1';
export const sha1WithRSAEncryption = '1.2.840.113549.1.1.5';
export const sha256WithRSAEncryption = '1.2.840.113549.1.1.11';
export const sha384WithRSAEncryption = '1.2.840.113549.1.1.12';
export const sha512WithRSAEncryption = '1.2.840.113549.1.1.13';
// RFC 4055 §3.1, RFC 8017 Appendix A.2.3: RSASSA-PSS and its mask generation function
export const id_RSASSA_PSS = '1.2.840.113549.1.1.10';
export const id_mgf1 = '1.2.840.113549.1.1.8';
// RFC 3279 §2.3.2, RFC 5758 §3.1: DSA (verified in old documents, never made)
export const id_dsa = '1.2.840.10040.4.1';
export const id_dsa_with_sha1 = '1.2.840.10040.4.3';
export const id_dsa_with_sha256 = '2.16.840.1.101.3.4.3.2';
// RFC 5480 §2.1.1, RFC 5758 §3.2
export const id_ecPublicKey = '1.2.840.10045.2.1';
export const ecdsa_with_SHA256 = '1.2.840.10045.4.3.2';
export const ecdsa_with_SHA384 = '1.2.840.10045.4.3.3';
export const ecdsa_with_SHA512 = '1.2.840.10045.4.3.4';
// RFC 5480 §2.1.1.1 named curves
export const secp256r1 = '1.2.840.10045.3.1.7';
export const secp384r1 = '1.3.132.0.34';
export const secp521r1 = '1.3.132.0.35';

// RFC 5280 §4.2.1
export const id_ce_subjectKeyIdentifier = '2.5.29.14';
export const id_ce_keyUsage = '2.5.29.15';
export const id_ce_basicConstraints = '2.5.29.19';
export const id_ce_authorityKeyIdentifier = '2.5.29.35';
// RFC 5280 §4.2.1.12
export const id_ce_extKeyUsage = '2.5.29.37';
export const id_kp_timeStamping = '1.3.6.1.5.5.7.3.8';
export const id_kp_serverAuth = '1.3.6.1.5.5.7.3.1';
export const id_kp_clientAuth = '1.3.6.1.5.5.7.3.2';
// RFC 5280 §4.2.1.6
export const id_ce_subjectAltName = '2.5.29.17';
// RFC 3161 §2.4.2
export const id_ct_TSTInfo = '1.2.840.113549.1.9.16.1.4';
// RFC 5280 §4.2.1.13, §4.2.2.1
export const id_ce_cRLDistributionPoints = '2.5.29.31';
export const id_pe_authorityInfoAccess = '1.3.6.1.5.5.7.1.1';
export const id_ad_ocsp = '1.3.6.1.5.5.7.48.1';
export const id_ad_caIssuers = '1.3.6.1.5.5.7.48.2';
// RFC 6960 §4.2.1, §4.2.2.2
export const id_pkix_ocsp_basic = '1.3.6.1.5.5.7.48.1.1';
export const id_kp_OCSPSigning = '1.3.6.1.5.5.7.3.9';
