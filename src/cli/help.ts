/** Help texts, kept apart from the commands so that `seald help` loads nothing heavy (no PKCS#11, no gRPC). */
import { ENVIRONMENT_VARIABLES } from '../server/config.ts';

export const MAIN_HELP = `Usage: seald <command> [options]

seald applies PAdES electronic seals to PDF documents, with keys on PKCS#11 tokens, over gRPC.

Commands:
  serve    run the seal server
  seals    list the seals a server offers
  seal     seal a PDF file through a server
  help     show help for a command

Run \`seald help <command>\` or \`seald <command> --help\` for a command's options.
`;

export const SERVE_HELP = `Usage: seald serve [--config FILE] [--data-dir DIR] [--listen HOST:PORT] [--metrics HOST:PORT]

Run the seal server: gRPC (seald.v1.SealService, grpc.health.v1.Health, server reflection) and Prometheus
metrics at /metrics. SIGTERM or SIGINT stops it gracefully: no new calls, running ones may finish within
limits.drain_seconds, then the tokens are released.

With no --config (and no SEALD_CONFIG), a ready-to-run demo configuration (SoftHSM token, two seals, a
development CA) is provisioned in the data directory and used.

  --config FILE        configuration file (YAML)
  --data-dir DIR       data directory (default ./.seald)
  --listen HOST:PORT   gRPC address (default 127.0.0.1:50051)
  --metrics HOST:PORT  metrics address (default 127.0.0.1:9464; "off" disables)
  -h, --help           this help

Precedence: flag > environment > file > default. Environment variables:
${Object.entries(ENVIRONMENT_VARIABLES)
  .map(([name, setting]) => `  ${name.padEnd(26)}${setting}`)
  .join('\n')}
`;

export const SEALS_HELP = `Usage: seald seals [--server HOST:PORT] [--json]

List the seals the server is configured with: id, kind, certificate subject, validity, and whether the key
is on a token that is ready to sign.

  --server HOST:PORT  server address (default $SEALD_SERVER, else 127.0.0.1:50051)
  --json              one JSON document with every field
  -h, --help          this help
`;

export const SEAL_HELP = `Usage: seald seal IN.pdf -o OUT.pdf --seal ID --page N --x X --y Y [options]

Seal IN.pdf with a seal of the server and write the result to OUT.pdf. The document is streamed in 1 MiB
chunks both ways; OUT.pdf is written to a temporary file and renamed into place only once the server has
confirmed the seal, so it is never left half-written. OUT.pdf may be IN.pdf.

Placement (PDF points, 1/72 in, from the lower-left corner of the page as displayed):
  --page N            1-based page number
  --x X, --y Y        centre of the mark
  --width W           mark width (default: the seal's configured size)
  --height H          mark height (default: the seal's configured size)

Signature:
  --seal ID           seal id (see \`seald seals\`)
  --reason TEXT       /Reason
  --location TEXT     /Location
  --contact TEXT      /ContactInfo
  --field NAME        signature field name (default Seal<n>)
  --timestamp         add a signature time-stamp from the server's TSA (PAdES B-T; default: the server's tsa.seal_timestamp)

Other:
  -o, --output FILE   where to write the sealed document (required)
  --server HOST:PORT  server address (default $SEALD_SERVER, else 127.0.0.1:50051)
  --timeout SECONDS   give up after this long (default: no limit)
  --json              print the summary as JSON
  -h, --help          this help
`;
