/**
 * Who is calling. With mutual TLS the principal is the verified client certificate: its subject attributes and its
 * subjectAltNames (RFC 5280 §4.2.1.6), as Node's TLS layer reports them after the handshake checked the chain
 * against the client CA bundle. Without TLS the caller is `anonymous` (the loopback default).
 */
import type { PeerCertificate } from 'node:tls';

export interface Principal {
  /** For logs, audit records and errors: `CN=erp, O=Acme` or `anonymous`. */
  readonly name: string;
  readonly authenticated: boolean;
  /** Subject attributes by short name (CN, O, OU, C…); several values when the attribute repeats. */
  readonly subject: Readonly<Record<string, readonly string[]>>;
  /** subjectAltName entries as `DNS:host`, `URI:spiffe://…`, `email:a@b`, `IP Address:10.0.0.1`. */
  readonly sans: readonly string[];
  /** The client certificate's serial number (hex, upper case as OpenSSL prints it). */
  readonly certificateSerial?: string;
}

export const ANONYMOUS: Principal = { name: 'anonymous', authenticated: false, subject: {}, sans: [] };

/** Most specific first, as people read a name. */
const NAME_ORDER = ['CN', 'OU', 'O', 'L', 'ST', 'C'];

export function principalFromCertificate(certificate: PeerCertificate): Principal {
  const subject: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(certificate.subject ?? {})) {
    subject[key] = (Array.isArray(value) ? value : [value]).map(String);
  }
  const keys = [...NAME_ORDER.filter((k) => k in subject), ...Object.keys(subject).filter((k) => !NAME_ORDER.includes(k)).sort()];
  const name = keys.flatMap((k) => subject[k]!.map((v) => `${k}=${v}`)).join(', ');
  return {
    name: name === '' ? `serial ${certificate.serialNumber}` : name,
    authenticated: true,
    subject,
    sans: parseSubjectAltName(certificate.subjectaltname),
    certificateSerial: certificate.serialNumber,
  };
}

/** Node's `subjectaltname` string: `DNS:a, URI:b, email:c` (values with commas come JSON-quoted). */
export function parseSubjectAltName(text: string | undefined): string[] {
  if (text === undefined || text === '') return [];
  const out: string[] = [];
  const pattern = /([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:,\s*|$)/gy;
  for (let match = pattern.exec(text); match !== null && match[0] !== ''; match = pattern.exec(text)) {
    const value = match[2]!.startsWith('"') ? (JSON.parse(match[2]!) as string) : match[2]!;
    out.push(`${match[1]!.trim()}:${value}`);
  }
  return out;
}
