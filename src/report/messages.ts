/**
 * The words of a verification report, in Chinese and English: what each verdict, integrity, trust and change kind
 * means for a person, not the codes of docs/verify.md (those stay in the report as small print).
 */
import type { ChangesAfter, Integrity, Trust, Verdict } from '../engine/verify/report.ts';
import type { VisualCheckResult } from '../engine/verify/visual-report.ts';
import type { ReportLanguage } from './language.ts';

export interface Messages {
  title: string;
  generated: string;
  file: string;
  size: string;
  sha256: string;
  revisions: string;
  verdict: Record<Verdict, string>;
  documentVerdict: Record<Verdict, string>;
  summary: string;
  sealCount(n: number): string;
  noSeals: string;
  order: string;
  unchangedSinceLast: string;
  changedAllowedSinceLast: string;
  changedSinceLast: string;
  expectedSigners: string;
  expectedOutcome: Record<'signed' | 'not-valid' | 'missing', string>;
  allExpectedSigned: string;
  notAllExpectedSigned: string;
  signature(n: number): string;
  field: string;
  revision: string;
  holder: string;
  kind: string;
  kinds: { seal: string; timestamp: string };
  /** The seal's kind (src/auth/seal-kinds.ts), when the verification names it. */
  sealKinds: Record<string, string>;
  placement: Record<string, string>;
  pages: string;
  sealImage: string;
  noSealImage: string;
  where: string;
  pageNumber(n: number): string;
  morePages(n: number): string;
  pageOutlineOnly: string;
  crossPageStrips: string;
  certificate: string;
  subject: string;
  issuer: string;
  serial: string;
  validity: string;
  trusted: string;
  signingTime: string;
  claimedOnly: string;
  timestampProves(time: string): string;
  level: string;
  levels: Record<string, string>;
  algorithms: string;
  algorithmFamily: Record<'GM' | 'INTERNATIONAL', string>;
  checks: string;
  integrity: Record<Integrity, string>;
  trust: Record<Trust, string>;
  changesAfter: Record<ChangesAfter, string>;
  changesAfterTitle: string;
  /** The visual shadow check (engine/verify/visual-check.ts), one sentence per result. */
  visualCheck: Record<VisualCheckResult, string>;
  noChanges: string;
  allowed: string;
  notAllowed: string;
  inRevision(n: number): string;
  changeKinds: Record<string, string>;
  details: string;
  unknown: string;
  footer: string;
}

const zh: Messages = {
  title: '电子签章验证报告',
  generated: '生成时间',
  file: '文件',
  size: '大小',
  sha256: 'SHA-256 摘要',
  revisions: '修订版本数',
  verdict: { VALID: '有效', INVALID: '无效', INDETERMINATE: '无法确定' },
  documentVerdict: {
    VALID: '文档中的全部签章均有效，签章后没有不允许的修改。',
    INVALID: '文档中至少有一个签章无效：签章被篡改、伪造，或签章后文档被以不允许的方式修改。',
    INDETERMINATE: '无法确认文档中的全部签章：例如证书不受信任、已过期，或文档中没有签章。',
  },
  summary: '摘要',
  sealCount: (n) => `文档中共有 ${n} 个签章。`,
  noSeals: '文档中没有签章。',
  order: '签章顺序',
  unchangedSinceLast: '最后一次签章之后，文档未被修改。',
  changedAllowedSinceLast: '最后一次签章之后，文档只有允许的改动（见下文）。',
  changedSinceLast: '最后一次签章之后，文档被修改过（见下文）。',
  expectedSigners: '应签章方核对',
  expectedOutcome: { signed: '已有效签章', 'not-valid': '有签章，但签章无效或无法确定', missing: '未找到该方的签章' },
  allExpectedSigned: '确认：各方均已完成有效签章。',
  notAllExpectedSigned: '注意：并非各方都已完成有效签章。',
  signature: (n) => `第 ${n} 个签章`,
  field: '签名域',
  revision: '所在修订版本',
  holder: '印章持有者',
  kind: '类型',
  kinds: { seal: '电子签章', timestamp: '文档时间戳' },
  sealKinds: {
    official: '公章', contract: '合同专用章', finance: '财务专用章', invoice: '发票专用章', legal_representative: '法定代表人章', personal: '个人章',
  },
  placement: { Position: '普通签章', MultiPage: '多页签章', CrossPage: '骑缝章', Keyword: '关键字签章' },
  pages: '页码',
  sealImage: '印章图像（文档中显示的样子）',
  noSealImage: '该签章没有可显示的印章图像。',
  where: '盖章位置',
  pageNumber: (n) => `第 ${n} 页`,
  morePages: (n) => `另有 ${n} 页盖有该印章，未逐一显示。`,
  pageOutlineOnly: '页面未能渲染：图中为页面轮廓和印章所在的位置。',
  crossPageStrips: '骑缝章：各页上的部分并排显示，拼起来是一枚完整的印章。',
  certificate: '证书',
  subject: '主体',
  issuer: '颁发者',
  serial: '序列号',
  validity: '有效期',
  trusted: '是否受信任',
  signingTime: '签章时间',
  claimedOnly: '签章者自称的时间，没有时间戳证明',
  timestampProves: (time) => `由可信时间戳证明：${time}`,
  level: 'PAdES 级别',
  levels: {
    'B-B': 'B-B（基本签名）',
    'B-T': 'B-T（含可信时间）',
    'B-LT': 'B-LT（含长期验证数据）',
    'B-LTA': 'B-LTA（长期归档）',
  },
  algorithms: '算法',
  algorithmFamily: { GM: '国密', INTERNATIONAL: '国际' },
  checks: '检查结果',
  integrity: {
    INTACT: '签章所覆盖的内容与签章时完全一致。',
    BAD_BYTERANGE: '签名覆盖的范围不正确，签章可能是伪造的。',
    DIGEST_MISMATCH: '签章所覆盖的内容在签章后被改动过。',
    BAD_CMS: '签名数据已损坏，无法读取。',
    BAD_SIGNATURE: '签名值与证书不符：签章是伪造的或已损坏。',
    SIGNER_CERT_MISMATCH: '签名中声明的证书与实际签名的证书不一致。',
    UNSUPPORTED: '签名使用了本程序不支持的算法，无法检查。',
  },
  trust: {
    TRUSTED: '证书由受信任的机构签发，签章时有效。',
    UNTRUSTED: '证书不是由受信任的机构签发的，无法确认印章持有者的身份。',
    EXPIRED: '签章时证书已过期。',
    NOT_YET_VALID: '签章时证书尚未生效。',
    REVOKED: '证书在签章前已被吊销。',
    UNKNOWN: '无法确定证书的状态。',
  },
  changesAfter: {
    NONE: '签章之后文档没有任何改动。',
    ALLOWED: '签章之后只有允许的改动（例如其他方继续签章）。',
    NOT_ALLOWED: '签章之后文档被以不允许的方式修改。',
  },
  changesAfterTitle: '签章之后的改动',
  visualCheck: {
    NOT_NEEDED: '签章之后的改动不会改变页面的显示，无需比对页面。',
    SAME: '比对了签章时与现在的页面：除新增或修改的批注外，显示完全相同。',
    DIFFERENT: '比对了签章时与现在的页面：签章时的内容被遮盖或显示不同（影子攻击）。',
    SKIPPED: '未比对页面（没有页面渲染工具，或已关闭此项检查）。',
    BUDGET_EXCEEDED: '页面比对超出了时间或页数限制，未作判断。',
  },
  noChanges: '无',
  allowed: '允许',
  notAllowed: '不允许',
  inRevision: (n) => `修订版本 ${n}`,
  changeKinds: {
    'visual-difference': '页面比对：签章时的内容被遮盖或显示不同',
    'signature-added': '新增了一个签章',
    'timestamp-added': '新增了一个文档时间戳',
    'signature-widget-added': '新增签章在页面上的显示',
    'seal-mark-added': '新增同一签章在其他页上的印章标记',
    'signature-field-added': '新增了一个空白签名域',
    'signature-field-signed': '在已有的签名域中签章',
    'dss-updated': '新增或更新了长期验证数据（证书、吊销信息）',
    'form-resources-added': '新增了表单资源',
    'form-field-filled': '填写了表单字段',
    'annotation-added': '新增了批注',
    'page-content-changed': '页面内容被修改',
    'page-resources-changed': '页面资源（字体、图像等）被修改',
    'page-changed': '页面属性被修改',
    'pages-changed': '页面被增加、删除或调整顺序',
    'page-tree-changed': '页面结构被修改',
    'catalog-changed': '文档目录被修改',
    'root-repointed': '文档被指向了另一个根目录',
    'acroform-changed': '表单结构被修改',
    'fields-changed': '表单字段列表被修改',
    'field-removed': '删除了一个表单字段',
    'form-field-added': '新增了一个表单字段',
    'unsigned-signature-widget': '新增了一个没有签名的签章外观（伪装签章）',
    'overlay-on-signature': '有内容覆盖在已有签章之上',
    'annotation-removed': '删除了批注',
    'image-replaced': '图像被替换',
    'form-replaced': '图形（表单 XObject，如矢量印章）被替换',
    'object-changed': '文档中的对象被修改',
    'object-deleted': '文档中的对象被删除',
    'xref-points-outside-revision': '更新把对象放进了之前版本的字节中',
    'xref-out-of-place': '交叉引用表位置异常',
    'unreferenced-bytes': '文件末尾有未登记的附加内容',
    'hidden-revision': '文件中有被隐藏的修订版本',
    'damaged-tail': '文件末尾被截断或损坏',
  },
  details: '技术细节',
  unknown: '未知',
  footer: '本报告由 seald 根据对文件的验证生成；验证结论以报告所列文件（SHA-256 摘要）为准。',
};

const en: Messages = {
  title: 'Electronic seal verification report',
  generated: 'Generated',
  file: 'File',
  size: 'Size',
  sha256: 'SHA-256',
  revisions: 'Revisions',
  verdict: { VALID: 'Valid', INVALID: 'Invalid', INDETERMINATE: 'Indeterminate' },
  documentVerdict: {
    VALID: 'Every seal in the document is valid, and nothing that is not allowed changed after them.',
    INVALID: 'At least one seal is invalid: it was altered or forged, or the document was changed in a way that is not allowed after it.',
    INDETERMINATE: 'Not every seal can be confirmed: for example a certificate is not trusted or has expired, or the document has no seal.',
  },
  summary: 'Summary',
  sealCount: (n) => `The document carries ${n} seal${n === 1 ? '' : 's'}.`,
  noSeals: 'The document carries no seal.',
  order: 'Order of sealing',
  unchangedSinceLast: 'The document has not changed since the last seal.',
  changedAllowedSinceLast: 'Since the last seal, the document changed in allowed ways only (see below).',
  changedSinceLast: 'The document was changed after the last seal (see below).',
  expectedSigners: 'Expected signers',
  expectedOutcome: { signed: 'sealed, valid', 'not-valid': 'sealed, but the seal is not valid', missing: 'no seal found' },
  allExpectedSigned: 'Confirmed: every expected party has a valid seal.',
  notAllExpectedSigned: 'Attention: not every expected party has a valid seal.',
  signature: (n) => `Seal ${n}`,
  field: 'Field',
  revision: 'Revision',
  holder: 'Seal holder',
  kind: 'Kind',
  kinds: { seal: 'Electronic seal', timestamp: 'Document time-stamp' },
  sealKinds: {
    official: 'official seal (公章)', contract: 'contract seal (合同专用章)', finance: 'finance seal (财务专用章)',
    invoice: 'invoice seal (发票专用章)', legal_representative: "legal representative's seal (法定代表人章)", personal: 'personal seal (个人章)',
  },
  placement: { Position: 'at a position', MultiPage: 'multi-page seal', CrossPage: 'cross-page seal (across the page edges)', Keyword: 'at a keyword' },
  pages: 'Pages',
  sealImage: 'The seal as it appears in the document',
  noSealImage: 'This signature shows no seal image.',
  where: 'Where the seal is',
  pageNumber: (n) => `page ${n}`,
  morePages: (n) => `The seal marks ${n} more page${n === 1 ? '' : 's'}, not shown here.`,
  pageOutlineOnly: 'The page could not be rendered: its outline, with the position of the seal.',
  crossPageStrips: 'Cross-page seal: its part on each page, side by side; together they make the whole seal.',
  certificate: 'Certificate',
  subject: 'Subject',
  issuer: 'Issuer',
  serial: 'Serial number',
  validity: 'Valid',
  trusted: 'Trusted',
  signingTime: 'Signing time',
  claimedOnly: 'as claimed by the signer; no time-stamp proves it',
  timestampProves: (time) => `proven by a trusted time-stamp: ${time}`,
  level: 'PAdES level',
  levels: {
    'B-B': 'B-B (basic signature)',
    'B-T': 'B-T (with a trusted time)',
    'B-LT': 'B-LT (with long-term validation data)',
    'B-LTA': 'B-LTA (long-term archival)',
  },
  algorithms: 'Algorithms',
  algorithmFamily: { GM: 'Chinese national (国密 SM2/SM3)', INTERNATIONAL: 'international' },
  checks: 'Checks',
  integrity: {
    INTACT: 'What the seal covers is exactly as it was sealed.',
    BAD_BYTERANGE: 'The signature does not cover the document properly: it may be forged.',
    DIGEST_MISMATCH: 'What the seal covers was altered after sealing.',
    BAD_CMS: 'The signature data is damaged and cannot be read.',
    BAD_SIGNATURE: 'The signature does not match its certificate: it is forged or damaged.',
    SIGNER_CERT_MISMATCH: 'The signature names a different certificate from the one that signed.',
    UNSUPPORTED: 'The signature uses an algorithm this checker does not support.',
  },
  trust: {
    TRUSTED: 'The certificate comes from a trusted authority and was valid when the seal was applied.',
    UNTRUSTED: 'The certificate does not come from a trusted authority: the holder cannot be confirmed.',
    EXPIRED: 'The certificate had expired when the seal was applied.',
    NOT_YET_VALID: 'The certificate was not yet valid when the seal was applied.',
    REVOKED: 'The certificate was revoked before the seal was applied.',
    UNKNOWN: 'The status of the certificate cannot be determined.',
  },
  changesAfter: {
    NONE: 'Nothing changed after this seal.',
    ALLOWED: 'Only allowed changes were made after this seal (such as further seals).',
    NOT_ALLOWED: 'The document was changed after this seal in a way that is not allowed.',
  },
  changesAfterTitle: 'Changes after this seal',
  visualCheck: {
    NOT_NEEDED: 'No change after this seal can alter what a page shows; no page comparison was needed.',
    SAME: 'The pages as sealed and as they are now were compared: they look the same but for the annotations added or changed.',
    DIFFERENT: 'The pages as sealed and as they are now were compared: sealed content is covered or shows differently (a shadow attack).',
    SKIPPED: 'The pages were not compared (no page renderer, or the check is switched off).',
    BUDGET_EXCEEDED: 'Comparing the pages ran out of its time or page budget: no judgement was made.',
  },
  noChanges: 'none',
  allowed: 'allowed',
  notAllowed: 'not allowed',
  inRevision: (n) => `revision ${n}`,
  changeKinds: {
    'visual-difference': 'page comparison: sealed content is covered or shows differently',
    'signature-added': 'a seal was added',
    'timestamp-added': 'a document time-stamp was added',
    'signature-widget-added': 'a seal was shown on a page',
    'seal-mark-added': 'the same seal was marked on another page',
    'signature-field-added': 'an empty signature field was added',
    'signature-field-signed': 'an existing signature field was signed',
    'dss-updated': 'long-term validation data (certificates, revocation) was added or updated',
    'form-resources-added': 'form resources were added',
    'form-field-filled': 'a form field was filled in',
    'annotation-added': 'a comment or annotation was added',
    'page-content-changed': 'the content of a page was changed',
    'page-resources-changed': 'the resources of a page (fonts, images) were changed',
    'page-changed': 'a page was changed',
    'pages-changed': 'pages were added, removed or reordered',
    'page-tree-changed': 'the page structure was changed',
    'catalog-changed': 'the document catalog was changed',
    'root-repointed': 'the document was pointed to another catalog',
    'acroform-changed': 'the form structure was changed',
    'fields-changed': 'the list of form fields was changed',
    'field-removed': 'a form field was removed',
    'form-field-added': 'a form field was added',
    'unsigned-signature-widget': 'something that looks like a seal but has no signature was added',
    'overlay-on-signature': 'something was placed over an existing seal',
    'annotation-removed': 'an annotation was removed',
    'image-replaced': 'an image was replaced',
    'form-replaced': 'a drawing (form XObject, e.g. a vector seal) was replaced',
    'object-changed': 'an object of the document was changed',
    'object-deleted': 'an object of the document was deleted',
    'xref-points-outside-revision': 'an update placed objects inside earlier bytes',
    'xref-out-of-place': 'a cross-reference section is out of place',
    'unreferenced-bytes': 'bytes were appended that no revision accounts for',
    'hidden-revision': 'the file hides a revision',
    'damaged-tail': 'the end of the file is cut off or damaged',
  },
  details: 'Technical details',
  unknown: 'unknown',
  footer: 'Generated by seald from the verification of the file identified above by its SHA-256 digest.',
};

export const MESSAGES: Record<ReportLanguage, Messages> = { zh, en };
