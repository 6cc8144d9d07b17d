/** The ListSeals RPC: the configured seals, their certificates, and whether their keys can sign right now. */
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type * as grpc from '@grpc/grpc-js';
import {
  CertificateInfoSchema,
  ListSealsResponseSchema,
  SealInfoSchema,
  SealKind,
  type ListSealsRequest,
  type ListSealsResponse,
  type SealInfo,
} from '../gen/seald/v1/seald_pb.ts';
import { callAccess } from './access.ts';
import { requestIdOf } from './call.ts';
import type { ServiceContext } from './context.ts';
import type { ConfiguredSeal } from './seals.ts';
import { grpcStatusOf } from '../rpc/status.ts';
import { expiryWarning } from './seal-expiry.ts';
import { looksLikeSvg } from '../pdf/svg-seal.ts';

/** Images larger than this are left out of ListSeals (a seal image is typically 10–100 KiB). */
export const MAX_LISTED_IMAGE_BYTES = 512 * 1024;

const KIND: Record<ConfiguredSeal['config']['kind'], SealKind> = {
  official: SealKind.ORGANIZATION,
  contract: SealKind.CONTRACT,
  finance: SealKind.FINANCE,
  invoice: SealKind.INVOICE,
  legal_representative: SealKind.LEGAL_REPRESENTATIVE,
  personal: SealKind.PERSONAL,
};

export function listSealsHandler(context: ServiceContext): grpc.handleUnaryCall<ListSealsRequest, ListSealsResponse> {
  return (call, callback) => {
    const requestId = requestIdOf(call);
    const access = callAccess(context, call, 'list', requestId);
    try {
      access.authorize();
      const usable = [...context.seals.values()].filter((seal) => access.allows('seal', seal.config.id));
      const seals = usable.map((seal) => sealInfo(seal, context.isAvailable(seal)));
      callback(null, create(ListSealsResponseSchema, { seals }));
    } catch (error) {
      const status = grpcStatusOf(error, requestId);
      if (status.internal) context.logger.error({ err: error, requestId, rpc: 'ListSeals' }, 'list seals failed');
      else context.logger.info({ requestId, rpc: 'ListSeals', error: status.sealdCode, message: status.details }, 'list seals refused');
      // The refusal is on record before the caller hears of it.
      void access.failed(error).then(() => callback(status));
    }
  };
}

function sealInfo(seal: ConfiguredSeal, available: boolean): SealInfo {
  const certificate = seal.certificate;
  return create(SealInfoSchema, {
    id: seal.config.id,
    kind: KIND[seal.config.kind],
    name: seal.config.name,
    certificate: create(CertificateInfoSchema, {
      subject: certificate.subject,
      issuer: certificate.issuer,
      serialNumber: certificate.serialNumber,
      notBefore: timestampFromDate(certificate.notBefore),
      notAfter: timestampFromDate(certificate.notAfter),
      keyAlgorithm: seal.keyDescription,
    }),
    available,
    activationRequired: seal.config.activation === 'required',
    disabled: seal.config.disabled === true,
    warnings: [expiryWarning(certificate.notAfter)].filter((w): w is string => w !== undefined),
    ...listedImage(seal.imagePng),
    certificateChain: seal.chain ?? [],
    materialSource: seal.materialSource ?? 'file',
  });
}

/** The configured image in the field its format names, told apart as the appearance writer tells them (pdf/svg-seal.ts). */
function listedImage(bytes: Uint8Array | undefined): { imagePng?: Uint8Array; imageSvg?: Uint8Array } {
  if (bytes === undefined || bytes.byteLength > MAX_LISTED_IMAGE_BYTES) return {};
  return looksLikeSvg(bytes) ? { imageSvg: bytes } : { imagePng: bytes };
}
