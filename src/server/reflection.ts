/**
 * gRPC server reflection (grpcurl, Postman, grpcui) over the descriptors protobuf-es already embeds in src/gen.
 * @grpc/reflection only wants a proto-loader style package definition whose entries carry serialized
 * FileDescriptorProtos; we give it seald's files (and their imports, e.g. google/protobuf/timestamp.proto) plus the
 * health service's files, taken from grpc-health-check's own definition.
 */
import { toBinary } from '@bufbuild/protobuf';
import type { DescFile } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import type * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { service as healthService } from 'grpc-health-check';

type PackageDefinition = ConstructorParameters<typeof ReflectionService>[0];

/** Every file in `files` and, transitively, the files they import; imports first. */
function withDependencies(files: readonly DescFile[]): DescFile[] {
  const ordered: DescFile[] = [];
  const seen = new Set<string>();
  const visit = (file: DescFile): void => {
    if (seen.has(file.name)) return;
    seen.add(file.name);
    file.dependencies.forEach(visit);
    ordered.push(file);
  };
  files.forEach(visit);
  return ordered;
}

export function reflectionPackageDefinition(files: readonly DescFile[]): PackageDefinition {
  const serialized = withDependencies(files).map((file) =>
    Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)),
  );
  const healthFiles = healthService.Check!.requestType.fileDescriptorProtos;
  return {
    // Entries shaped like proto-loader message definitions: @grpc/reflection reads only `fileDescriptorProtos` and
    // indexes the files by their own names, so the keys are mere labels.
    'seald.descriptors': { format: 'Protocol Buffer 3 DescriptorProto', type: {}, fileDescriptorProtos: serialized },
    'grpc.health.v1.descriptors': {
      format: 'Protocol Buffer 3 DescriptorProto',
      type: {},
      fileDescriptorProtos: healthFiles,
    },
  };
}

export function addReflection(server: Pick<grpc.Server, 'addService'>, files: readonly DescFile[]): void {
  new ReflectionService(reflectionPackageDefinition(files)).addToServer(server);
}
