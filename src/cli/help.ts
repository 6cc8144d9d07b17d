/** Help texts, kept apart from the commands so that `seald help` loads nothing heavy (no PKCS#11, no gRPC). */
import { ENVIRONMENT_VARIABLES } from '../config/config.ts';

/** The client commands' mutual-TLS options (see docs/security.md). */
export const TLS_OPTIONS_HELP = `TLS (all three, or none for plaintext):
  --tls-ca FILE       CA bundle (PEM) that the server's certificate must chain to ($SEALD_TLS_CA)
  --tls-cert FILE     this client's certificate (PEM) ($SEALD_TLS_CERT)
  --tls-key FILE      its private key (PEM) ($SEALD_TLS_KEY)
  --data-dir DIR      without --tls-cert/--tls-key: when DIR ($SEALD_DATA_DIR, else ./.seald) holds an embedded
                      demo that serves TLS (started off loopback), use its client certificate and dev CA
`;

/** The placement options of `seal` and `locate` (parsed in commands/placement-options.ts). */
const PLACEMENT_HELP = `Placement (PDF points, 1/72 in, from the lower-left corner of the page as displayed), one of:
  --page N --x X --y Y      one mark centred on (X, Y) of page N
  --pages SPEC --x X --y Y  the same mark on several pages (多页签章). SPEC: 1-3,5  -1 (last page)
                            -3--1 (last three)  all  odd  even; a SPEC that starts with "-" is
                            written --pages=-1
  --cross-page              a cross-page seal (骑缝章): the seal cut into strips, one per page, at an edge
    --pages SPEC            pages to span (default all)
    --edge E                right (default), left, top or bottom, as the page is displayed
    --along POS             centre of the seal along the edge, in points (default: the edge's middle)
    --max-pages N           the most pages one seal spans; more pages get further seals, spread evenly
    --min-strip W           the least strip width in points (default about 3 mm)
    --skip-first            leave out the first page (a cover); --skip-last: the last page
  --keyword TEXT            centre the mark on a text found in the document (关键字签章)
    --occurrence O          first (default), last, all (a mark on every hit), N (the N-th hit) or
                            N,M,… (a mark on each chosen hit, one signature); hits are numbered as
                            \`seald locate\` lists them: page order, then reading order
    --pages SPEC            pages to search (default all); with --occurrence N: the N-th hit on them
    --dx DX --dy DY         move the mark from the text's centre (right and up; a negative value
                            is written --dy=-20)
  --anchor A                a mark relative to the page as displayed, no page size needed: A is
                            top-left, top, top-right, left, centre, right, bottom-left, bottom or
                            bottom-right, the point of both page and mark that are put together
    --page N | --pages SPEC the page (--page=-1: the last page), or a mark on each page of SPEC
    --margin X[,Y]          from the anchor's edges inwards (X from the left/right edge, Y from the
                            top/bottom edge; from the middle: right and up); 20mm, 15pt, 15 (points)
                            or 5% (of the page's width for X, height for Y); one value for both
  --width W, --height H     mark (seal) size (default: the seal's configured size)
`;

/** The signature options of `seal` and `batch` (parsed in commands/placement-options.ts). */
const SIGNATURE_HELP = `Signature:
  --seal ID           seal id (see \`seald seals\`)
  --reason TEXT       /Reason
  --location TEXT     /Location
  --contact TEXT      /ContactInfo
  --field NAME        signature field name (default Seal<n>)
  --timestamp         add a signature time-stamp from the server's TSA (PAdES B-T; default: the server's
                      tsa.seal_timestamp)
  --timestamp-best-effort  ask for that time-stamp, but should the TSAs fail (down, too slow, a bad
                      answer) seal without it (PAdES B-B) and report it missing with the reason, instead
                      of failing (default: the server's tsa.seal_timestamp_mode, strict unless set)
  --certify LEVEL     make the seal a certification signature (DocMDP): no-changes (P=1, no later revision
                      at all) or form-filling (P=2, later form filling and single-mark seals only). Refused
                      on a document that is already certified or already carries a signature
  --date-stamp[=FORMAT]  draw the signing date (/M) under the seal (时间章); FORMAT with YYYY MM DD
                      HH mm ss, digits, - . / : 年 月 日 (default the seal's, else YYYY年MM月DD日)
  --no-date-stamp     no date stamp, even where the seal draws one by default
  --time-zone ZONE    the zone /M is written in and the date stamp drawn in: Asia/Shanghai, +08:00, UTC or
                      local (the server's zone); default the seal's configured time_zone, else UTC
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
  locate   show where a seal's marks would go, without sealing
  verify   verify the signatures of a PDF file (locally, or through a server)
  batch    seal every PDF of a directory through a server (one stream, resumable)
  pool     show the token pool of a server (per token and per seal)
  timestamp add a document time-stamp (RFC 3161) to a PDF file through a server
  ltv      add long-term validation data (PAdES B-LT, --timestamp: B-LTA) through a server
  admin    operator tools: \`seald admin seal-image\` draws a seal image (offline); write-certificate and
           write-image put a seal's certificate chain or image onto its token
  help     show help for a command

Run \`seald help <command>\` or \`seald <command> --help\` for a command's options.
`;

export const SERVE_HELP = `Usage: seald serve [--config FILE] [--data-dir DIR] [--listen HOST:PORT] [--metrics HOST:PORT]

Run the seal server: gRPC (seald.v1.SealService and BatchService, grpc.health.v1.Health, server
reflection) and Prometheus metrics at /metrics. SIGTERM or SIGINT stops it gracefully: no new calls,
running ones may finish within limits.drain_seconds (SealBatch calls answer the documents they received),
then the tokens are released.

With no --config (and no SEALD_CONFIG), a ready-to-run demo configuration (SoftHSM token, two seals, a
development CA) is provisioned in the data directory and used.

  --config FILE        configuration file (YAML)
  --data-dir DIR       data directory (default ./.seald)
  --listen HOST:PORT   gRPC address (default 127.0.0.1:50051)
  --metrics HOST:PORT  metrics address (default 127.0.0.1:9464; "off" disables)
  --log-format F       pretty (default on a terminal) or json (default otherwise); also SEALD_LOG_FORMAT
  --insecure-plaintext-on-network
                       allow gRPC without TLS on a non-loopback --listen (otherwise refused); every
                       caller is then anonymous, and the built-in policy lets it verify and list only
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

export const POOL_HELP = `Usage: seald pool [--server HOST:PORT] [--json]

Show the server's PKCS#11 token pool: each token's state (ready, DOWN, QUARANTINED) and why, its sessions
(open, busy), keys, faults seen and recoveries; and for each seal the ready tokens holding its key.
Exit status 0 when every seal has a ready token, 1 otherwise.

  --server ADDRESS    server address (default $SEALD_SERVER, else 127.0.0.1:50051); see \`seald help seal\`
  --json              one JSON document with every field
${TLS_OPTIONS_HELP}  -h, --help          this help
`;

export const SEAL_HELP = `Usage: seald seal IN.pdf -o OUT.pdf --seal ID <placement> [options]

Seal IN.pdf with a seal of the server and write the result to OUT.pdf. The document is streamed in 1 MiB
chunks both ways; OUT.pdf is written to a temporary file and renamed into place only once the server has
confirmed the seal, so it is never left half-written. OUT.pdf may be IN.pdf.

${PLACEMENT_HELP}
${SIGNATURE_HELP}
Other:
  -o, --output FILE   where to write the sealed document (required)
  --server ADDRESS    server address (default $SEALD_SERVER, else 127.0.0.1:50051); repeat it or give
                      a comma list (HOST:PORT,HOST:PORT) or a target (dns:///NAME:PORT, ipv4:IP:PORT,IP:PORT)
                      to spread calls round-robin over several replicas
  --timeout SECONDS   give up after this long (default: no limit)
  --password-file FILE  the password of an encrypted input (user, or owner to lift its permissions)
  --pin-file FILE     the seal holder's PIN, for a seal that requires signature activation (sent over TLS only)
  --pin-stdin         read that PIN from standard input instead
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
  --password-file FILE  the password of an encrypted input (user, or owner to lift its permissions)
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

export const LOCATE_HELP = `Usage: seald locate IN.pdf --seal ID <placement> [options]

Show where the marks of a seal would go (page, rectangle, strip), without sealing: the server plans the
placement exactly as \`seald seal\` would and signs nothing. Rectangles are in points from the lower-left corner
of the page as displayed: x, y of the lower-left corner, width, height.

${PLACEMENT_HELP}
Other:
  --seal ID           seal id (its size is the default mark size)
  --server ADDRESS    server address (default $SEALD_SERVER, else 127.0.0.1:50051); see \`seald help seal\`
  --timeout SECONDS   give up after this long (default: no limit)
  --password-file FILE  the password of an encrypted input (user, or owner to lift its permissions)
  --json              one JSON document
${TLS_OPTIONS_HELP}  -h, --help          this help
`;

export const VERIFY_HELP = `Usage: seald verify FILE [--json] [--strict] [--no-visual-check] [--trust PEM]... [--server HOST:PORT] [--html OUT.html] [--pdf OUT.pdf]

Verify every signature of FILE: integrity (/ByteRange, digest, CMS, signing certificate), trust in the signer
(chain to a trust anchor, validity at the claimed signing time, key usage, embedded revocation data), and what
changed after each signature (allowed: new signatures, seald's marks, DSS; not allowed: content, pages, overlays).
See docs/verify.md for the report and its JSON form.

By default the document is verified in this process: no server and no token needed.

  --json              print the report as one JSON document (stable; see docs/verify.md)
  --strict            no annotation added, changed or removed after any signature is allowed (default: allowed after
                      approval signatures and reported, as pyHanko and EU DSS do; $SEALD_VERIFY_STRICT=true locally,
                      the server's verify.strict with --server)
  --no-visual-check   skip the visual shadow check (default on where pdftoppm is installed: pages a later annotation
                      or form fill touches are rendered as signed and as now and compared; docs/verify.md;
                      $SEALD_VERIFY_VISUAL_CHECK=false locally, the server's verify.visual_check with --server)
  --trust PEM         trust anchor file (PEM bundle or DER), repeatable; default: $SEALD_TRUST_ANCHORS, else the
                      trust.anchors of --config / $SEALD_CONFIG / DATA_DIR/seald.yaml (the dev CA by default)
  --config FILE       configuration to take trust.anchors from
  --data-dir DIR      data directory whose seald.yaml to use (default $SEALD_DATA_DIR, else ./.seald)
  --server HOST:PORT  ask a running server's VerifyService instead (it uses its own trust anchors)
  --timeout SECONDS   give up after this long
  --password-file FILE  the password of an encrypted input (user, or owner to lift its permissions)
  --html FILE         also write the report for people: one self-contained HTML page (verdict badges, seal images,
                      certificates, changes in plain words; printable on A4), from the same verification
  --pdf FILE          also print that page to a PDF with headless Chromium (chromium on PATH, or $SEALD_CHROMIUM)
  --lang zh|en        language of the --html/--pdf report (default: zh when LC_ALL, LC_MESSAGES or LANG starts with
                      zh, else en)
  --expect-signer WHO a party that must have sealed, repeatable: a subject attribute (O=甲方公司, CN=张三) or a bare
                      name matching O or CN; the exit status is 1 unless each has a VALID seal (确认双方完成签章)
  -h, --help          this help

Exit status: 0 when the verdict is VALID (and every --expect-signer has a VALID seal); 1 when it is INVALID or
INDETERMINATE, an expected signer has no VALID seal, or verification failed; 2 for a command line that cannot be run.
`;

export const BATCH_HELP = `Usage: seald batch IN_DIR -o OUT_DIR --seal ID <placement> [options]

Seal every PDF of IN_DIR (*.pdf, not recursive; regular files and symbolic links to regular files, any other
*.pdf entry is named on stderr with why it is ignored) over one SealBatch stream and write each sealed document to
OUT_DIR under the same name. Documents are pipelined: up to --concurrency are in flight at once (never more
than the server allows). A document the server cannot seal is reported and the batch goes on.

Each output is written to a temporary file and renamed into place only once the server has confirmed the
seal, so a file in OUT_DIR is always complete: a re-run skips the inputs already in OUT_DIR (delete an output
to seal it again). A document sealed by the server but never written (a crash in between) is answered again by
the server's idempotency store on the re-run, without a second signature.

The same placement applies to every document (a keyword is searched in each; a document without it fails
with NOT_FOUND and the batch goes on).

${PLACEMENT_HELP}
${SIGNATURE_HELP}
Other:
  -o, --output DIR    where to write the sealed documents (required; created if missing; not IN_DIR)
  --concurrency N     documents in flight at once (default 8)
  --retries N         rounds of re-sending what the server could not take for now (UNAVAILABLE: shutting
                      down, token down or not ready, connection lost), pausing 1 s, 2 s, 4 s… (default 3)
  --retry-budget S    seconds of retry pauses at most, all rounds together (default 60); the report gives
                      each document's attempts
  --report FILE       the JSON report (default OUT_DIR/seald-batch-report.json)
  --progress MODE     auto (a bar on a terminal, a line per document otherwise), bar, lines or none
  --json              print the report on stdout instead of the totals
  --server ADDRESS    server address (default $SEALD_SERVER, else 127.0.0.1:50051); see \`seald help seal\`
  --timeout SECONDS   give up on the whole batch after this long (default: no limit)
  --prepare-locally   write and hash each revision here and send the server only its digest (no document
                      bytes cross the network; needs the grant sign-digest, see docs/batch.md)
  --password-file FILE  the password of an encrypted input (user, or owner to lift its permissions)
  --pin-file FILE     the seal holder's PIN, for a seal that requires signature activation (sent over TLS only)
  --pin-stdin         read that PIN from standard input instead
${TLS_OPTIONS_HELP}  -h, --help          this help

Exit status: 0 every document sealed or already in OUT_DIR; 3 some documents failed (see the report), the
others were sealed; 1 the batch could not run to its end (e.g. server unreachable) or IN_DIR holds no PDF to
seal; 2 a bad command line.
`;

export const TIMESTAMP_HELP = `Usage: seald timestamp IN.pdf -o OUT.pdf [options]

Append a document time-stamp to IN.pdf: an invisible /DocTimeStamp signature (SubFilter ETSI.RFC3161) whose token,
from the server's time-stamping authorities (tsa.urls), covers the whole document so far. Earlier signatures stay
valid. OUT.pdf is written to a temporary file and renamed into place only once the server has confirmed.

  -o, --output FILE   where to write the time-stamped document (required)
  --field NAME        signature field name (default Timestamp<n>)
  --server ADDRESS    server address (default $SEALD_SERVER, else 127.0.0.1:50051); see \`seald help seal\`
  --timeout SECONDS   give up after this long (default: no limit)
  --password-file FILE  the password of an encrypted input (user, or owner to lift its permissions)
  --json              print the summary as JSON
${TLS_OPTIONS_HELP}  -h, --help          this help
`;

export const LTV_HELP = `Usage: seald ltv IN.pdf -o OUT.pdf [--timestamp] [options]

Add long-term validation data to IN.pdf (PAdES B-LT): a DSS revision with the certificate chains of every
signature and time-stamp up to the server's trust anchors, and an OCSP response (else a CRL) for every
certificate below an anchor, fetched from the URLs the certificates name. The document then validates after
the responders are gone. Run it again before the time-stamps' certificates expire to refresh an archive.

  -o, --output FILE   where to write the extended document (required)
  --timestamp         also add a document time-stamp over the result (B-LTA; needs the server's tsa.urls)
  --server ADDRESS    server address (default $SEALD_SERVER, else 127.0.0.1:50051); see \`seald help seal\`
  --timeout SECONDS   give up after this long (default: no limit)
  --password-file FILE  the password of an encrypted input (user, or owner to lift its permissions)
  --json              print the summary as JSON
${TLS_OPTIONS_HELP}  -h, --help          this help
`;

export const ADMIN_HELP = `Usage: seald admin seal-image --name NAME -o FILE.svg|FILE.png [--kind KIND] [--code DIGITS] [--font FILE] [--size PX]
       seald admin write-certificate --config FILE --key LABEL --chain CHAIN.pem [--token LABEL]
       seald admin write-image --config FILE --key LABEL --image SEAL.png [--token LABEL]

write-certificate, write-image: write a seal's material onto the token that holds its key, so the seal can be configured by its key alone (no
certificates: and no image: in seals[]; seald then reads them from the token at start and at each reload).
The certificates are CKO_CERTIFICATE objects with the key's CKA_ID, the image a CKO_DATA object with CKA_APPLICATION
"seald.seal-image" and the key's label; writing replaces what is there. A chain whose first certificate is not for
the key is refused. The module, token and PIN come from the configuration's pkcs11 section (first token, or --token).

seal-image:
Draw a seal image for a seal that has none yet, offline: the organisation's name in CJK glyphs along the
upper arc, a star, the seal code along the lower arc and the kind's label (合同专用章 …); for an invoice seal
the oval of its pattern (40 × 30 mm: the name along the upper edge, the taxpayer identification number across
the middle, 发票专用章 below); or for a person a square seal (张三之印; a legal representative's: 张三印). Characters come from the outlines seald ships
(its demo names, digits) or an installed CJK font (Debian: fonts-noto-cjk, or fonts-wqy-zenhei) or --font.

Write .svg for the seal's \`image:\` in seald.yaml (drawn as vector paths: a few KB per seal, sharp at any
resolution) or .png for people and other tools.

  --name NAME         the organisation or person (required)
  --kind KIND         official (default), contract, finance, invoice, legal-representative, personal
  --code DIGITS       the seal code along the lower arc, or an invoice seal's taxpayer number (default 13
                      digits derived from the name, 18 for invoice; "" for none)
  --font FILE         a TrueType/OpenType font (or collection) for the characters
  --size PX           the PNG's width (default 600; 42 mm at 300 dpi needs 496); its height is the width,
                      or 3/4 of it for the oval invoice seal
  -o, --output FILE   where to write it (required; .svg or .png)
  -h, --help          this help
`;
