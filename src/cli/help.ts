/** Help texts, kept apart from the commands so that `seald help` loads nothing heavy (no PKCS#11, no gRPC). */
import { ENVIRONMENT_VARIABLES } from '../server/config.ts';

/** The client commands' mutual-TLS options (see docs/security.md). */
export const TLS_OPTIONS_HELP = `TLS (all three, or none for plaintext):
  --tls-ca FILE       CA bundle (PEM) that the server's certificate must chain to ($SEALD_TLS_CA)
  --tls-cert FILE     this client's certificate (PEM) ($SEALD_TLS_CERT)
  --tls-key FILE      its private key (PEM) ($SEALD_TLS_KEY)
`;

export const MAIN_HELP = `Usage: seald <command> [options]

seald applies PAdES electronic seals to PDF documents, with keys on PKCS#11 tokens, over gRPC.

Commands:
  serve    run the seal server
  seals    list the seals a server offers
  seal     seal a PDF file through a server
  rollback remove the last seal of a PDF file through a server (撤销签章)
  audit    verify an audit log's hash chain (offline)
  health   ask a server whether it is ready to seal (exit 0 when SERVING)
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

export const SEALS_HELP = `Usage: seald seals [--server ADDRESS] [--json]

List the seals the server is configured with: id, kind, certificate subject, validity, and whether the key
is on a token that is ready to sign.

  --server ADDRESS    server address (default $SEALD_SERVER, else 127.0.0.1:50051); see \`seald help seal\`
  --json              one JSON document with every field
${TLS_OPTIONS_HELP}  -h, --help          this help
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

Other:
  -o, --output FILE   where to write the sealed document (required)
  --server ADDRESS    server address (default $SEALD_SERVER, else 127.0.0.1:50051); repeat it or give
                      a comma list (HOST:PORT,HOST:PORT) or a target (dns:///NAME:PORT, ipv4:IP:PORT,IP:PORT)
                      to spread calls round-robin over several replicas
  --timeout SECONDS   give up after this long (default: no limit)
  --json              print the summary as JSON
${TLS_OPTIONS_HELP}  -h, --help          this help

A call cut off because its server went away (UNAVAILABLE, or reset by a server whose drain time ran out) is
sent again, up to 3 attempts in all, to another replica when there is one; OUT.pdf is only ever written from
a call that completed.
`;

export const ROLLBACK_HELP = `Usage: seald rollback IN.pdf -o OUT.pdf [options]

Remove the last revision of IN.pdf when it is a seal you may roll back (撤销签章). OUT.pdf is byte for byte
the document as it was before that seal. Only the last seal can be removed: roll back later seals first.

  -o, --output FILE   where to write the result (required)
  --server HOST:PORT  server address (default $SEALD_SERVER, else 127.0.0.1:50051)
  --timeout SECONDS   give up after this long (default: no limit)
  --json              print the summary as JSON
${TLS_OPTIONS_HELP}  -h, --help          this help
`;

export const AUDIT_HELP = `Usage: seald audit verify FILE|DIR... [--json]

Check an audit log's hash chain: every record parses, sequence numbers count up by one, and each record
carries the SHA-256 of the one before it (across rotated files, in order; a directory means all its audit
files). Prints the head (last sequence number and its hash): keep it elsewhere to detect a later edit of
the newest record.

Exit status: 0 the chain is whole; 1 a record was edited, inserted or deleted (the first bad line is
named); 3 the chain is whole but the last line is torn (a crash during a write; never acknowledged).

  --json              the report as JSON
  -h, --help          this help
`;

export const HEALTH_HELP = `Usage: seald health [--server HOST:PORT] [--service NAME] [--timeout SECONDS]

Ask one server's grpc.health.v1.Health service for its status and print it (SERVING, NOT_SERVING, UNKNOWN).
Exit 0 when SERVING, 1 otherwise (also when the server cannot be reached). The container image's HEALTHCHECK.

  --server HOST:PORT  server address (default $SEALD_SERVER, else 127.0.0.1:50051)
  --service NAME      the service to ask about (default "": the whole server; or seald.v1.SealService)
  --timeout SECONDS   give up after this long (default 5)
  -h, --help          this help
`;
