/**
 * The kinds of seal a Chinese organisation keeps (issue 22), as the configuration and the policy name them:
 *
 *   official              公章          the organisation's official seal
 *   contract              合同专用章     for contracts
 *   finance               财务专用章     for financial documents (banks, vouchers)
 *   invoice               发票专用章     for invoices (fapiao)
 *   legal_representative  法定代表人章   the legal representative's seal (a person acting for the organisation)
 *   personal              个人章         a natural person's own seal or signature
 *
 * `organization`, the configuration's word before kinds existed, means `official`.
 */
export const SEAL_KINDS = ['official', 'contract', 'finance', 'invoice', 'legal_representative', 'personal'] as const;

export type SealKindName = (typeof SEAL_KINDS)[number];

/** Words accepted for a kind beside its own name. */
const ALIASES: Record<string, SealKindName> = { organization: 'official', organisation: 'official' };

/** The kind a configuration or policy word names, or undefined when it names none. */
export function sealKindOf(word: string): SealKindName | undefined {
  if ((SEAL_KINDS as readonly string[]).includes(word)) return word as SealKindName;
  return ALIASES[word];
}

export const SEAL_KIND_WORDS = [...SEAL_KINDS, ...Object.keys(ALIASES)];
