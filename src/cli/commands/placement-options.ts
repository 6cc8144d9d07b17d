/**
 * The placement options shared by `seald seal` and `seald locate`, and the proto Placement they make:
 *
 *   --page N --x X --y Y                      one position (普通签章)
 *   --pages SPEC --x X --y Y                  the same position on several pages (多页签章)
 *   --cross-page [--pages SPEC] [--edge E] …  strips at a page edge (骑缝章)
 *   --keyword TEXT [--occurrence O] …         centred on a text (关键字签章)
 *   --anchor A (--page N | --pages SPEC) [--margin X[,Y]]   relative to the page as displayed
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { Anchor, Certification, Edge, LengthUnit, Occurrence, PlacementSchema, TimestampMode, type Placement, type SignatureOptionsSchema } from '../../gen/seald/v1/seald_pb.ts';
import { UsageError } from '../io.ts';

export const PLACEMENT_OPTIONS = {
  page: { type: 'string' },
  x: { type: 'string' },
  y: { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  pages: { type: 'string' },
  'cross-page': { type: 'boolean', default: false },
  edge: { type: 'string' },
  along: { type: 'string' },
  'max-pages': { type: 'string' },
  'min-strip': { type: 'string' },
  'skip-first': { type: 'boolean', default: false },
  'skip-last': { type: 'boolean', default: false },
  keyword: { type: 'string' },
  occurrence: { type: 'string' },
  dx: { type: 'string' },
  dy: { type: 'string' },
  anchor: { type: 'string' },
  margin: { type: 'string' },
} as const;

type Values = { [K in keyof typeof PLACEMENT_OPTIONS]?: (typeof PLACEMENT_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

export function placementFromOptions(values: Values, command: string): Placement {
  const num = (name: keyof Values, rules: NumberRules = {}): number | undefined => {
    const text = values[name];
    return typeof text === 'string' ? parseNumber(text, `--${name}`, command, rules) : undefined;
  };
  const need = (name: keyof Values): string => {
    const text = values[name];
    if (typeof text !== 'string' || text === '') throw new UsageError(`--${name} is required`, command);
    return text;
  };
  const forbid = (mode: string, ...names: (keyof Values)[]): void => {
    for (const name of names) {
      if (values[name] !== undefined && values[name] !== false) throw new UsageError(`--${name} does not go with ${mode}`, command);
    }
  };
  const size = {
    ...optional('width', num('width', { positive: true })),
    ...optional('height', num('height', { positive: true })),
  };
  const crossOnly = ['edge', 'along', 'max-pages', 'min-strip', 'skip-first', 'skip-last'] as const;
  const keywordOnly = ['occurrence', 'dx', 'dy'] as const;
  const relativeOnly = ['anchor', 'margin'] as const;

  if (values.anchor !== undefined) {
    forbid('--anchor', 'cross-page', 'keyword', 'x', 'y', ...crossOnly, ...keywordOnly);
    const anchor = ANCHORS[values.anchor];
    if (anchor === undefined) {
      throw new UsageError(`--anchor: expected one of ${Object.keys(ANCHORS).join(', ')}, got "${values.anchor}"`, command);
    }
    if (values.page !== undefined && values.pages !== undefined) throw new UsageError('--page does not go with --pages', command);
    if (values.page !== undefined && !/^-?[1-9]\d*$/.test(values.page)) {
      throw new UsageError(`--page: expected a page number (-1 is the last page), got "${values.page}"`, command);
    }
    const pages = values.pages ?? values.page;
    if (pages === undefined || pages === '') throw new UsageError('--anchor needs --page N or --pages SPEC', command);
    const margins = values.margin === undefined ? [] : values.margin.split(',');
    if (margins.length > 2) throw new UsageError(`--margin: expected X or X,Y, got "${values.margin}"`, command);
    const [mx, my] = margins.map((m) => lengthOf(m, command));
    return create(PlacementSchema, {
      kind: {
        case: 'relative',
        value: { pages, anchor, ...(mx === undefined ? {} : { marginX: mx, marginY: my ?? mx }), ...size },
      },
    });
  }
  if (values.keyword !== undefined) {
    forbid('--keyword', 'cross-page', 'page', 'x', 'y', ...crossOnly, ...relativeOnly);
    return create(PlacementSchema, {
      kind: {
        case: 'keyword',
        value: {
          keyword: need('keyword'),
          ...occurrenceOf(values.occurrence, command),
          pages: values.pages ?? '',
          dx: num('dx') ?? 0,
          dy: num('dy') ?? 0,
          ...size,
        },
      },
    });
  }
  if (values['cross-page'] === true) {
    forbid('--cross-page', 'page', 'x', 'y', ...keywordOnly, ...relativeOnly);
    const edge = values.edge === undefined ? Edge.RIGHT : EDGES[values.edge];
    if (edge === undefined) throw new UsageError(`--edge: expected right, left, top or bottom, got "${values.edge}"`, command);
    return create(PlacementSchema, {
      kind: {
        case: 'crossPage',
        value: {
          pages: values.pages ?? '',
          edge,
          ...optional('along', num('along')),
          maxPages: num('max-pages', { integer: true, min: 2 }) ?? 0,
          ...optional('minStripWidth', num('min-strip', { positive: true })),
          skipFirst: values['skip-first'] === true,
          skipLast: values['skip-last'] === true,
          ...size,
        },
      },
    });
  }
  forbid('a position (use --cross-page, --keyword or --anchor)', ...crossOnly, ...keywordOnly, ...relativeOnly);
  const x = parseNumber(need('x'), '--x', command);
  const y = parseNumber(need('y'), '--y', command);
  if (values.pages !== undefined) {
    forbid('--pages', 'page');
    return create(PlacementSchema, { kind: { case: 'multiPage', value: { pages: need('pages'), x, y, ...size } } });
  }
  const page = parseNumber(need('page'), '--page', command, { integer: true, min: 1 });
  return create(PlacementSchema, { kind: { case: 'position', value: { page, x, y, ...size } } });
}

const ANCHORS: Record<string, Anchor> = {
  'top-left': Anchor.TOP_LEFT,
  top: Anchor.TOP,
  'top-right': Anchor.TOP_RIGHT,
  left: Anchor.LEFT,
  centre: Anchor.CENTRE,
  center: Anchor.CENTRE,
  right: Anchor.RIGHT,
  'bottom-left': Anchor.BOTTOM_LEFT,
  bottom: Anchor.BOTTOM,
  'bottom-right': Anchor.BOTTOM_RIGHT,
};

/** `20mm`, `15pt`, `15` (points), `5%` (of the displayed page's width or height); negative values allowed. */
function lengthOf(text: string, command: string): { value: number; unit: LengthUnit } {
  const m = /^\s*(-?(?:\d+(?:\.\d*)?|\.\d+))\s*(mm|pt|%)?\s*$/.exec(text);
  if (!m) throw new UsageError(`--margin: expected a length such as 20mm, 15pt, 15 or 5%, got "${text}"`, command);
  const unit = m[2] === 'mm' ? LengthUnit.MILLIMETRE : m[2] === '%' ? LengthUnit.PERCENT : LengthUnit.POINT;
  return { value: Number(m[1]), unit };
}

const EDGES: Record<string, Edge> = { right: Edge.RIGHT, left: Edge.LEFT, top: Edge.TOP, bottom: Edge.BOTTOM };

function occurrenceOf(text: string | undefined, command: string): { occurrence: Occurrence; index?: number; hits?: number[] } {
  switch (text) {
    case undefined:
    case 'first':
      return { occurrence: Occurrence.FIRST };
    case 'last':
      return { occurrence: Occurrence.LAST };
    case 'all':
      return { occurrence: Occurrence.ALL };
    default: {
      const numbers = text.split(',').map((t) => t.trim());
      if (numbers.some((t) => !/^\d+$/.test(t) || Number(t) < 1)) {
        throw new UsageError(`--occurrence: expected first, last, all or a number ≥ 1 (or a list of numbers: 1,3), got "${text}"`, command);
      }
      // One number: that hit (OCCURRENCE_INDEX, which every server knows); a list: the chosen hits.
      if (numbers.length === 1) return { occurrence: Occurrence.INDEX, index: Number(text) };
      return { occurrence: Occurrence.HITS, hits: numbers.map(Number) };
    }
  }
}

function optional<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: number };
}

export interface NumberRules {
  integer?: boolean;
  min?: number;
  positive?: boolean;
}

export function parseNumber(text: string, name: string, command: string, rules: NumberRules = {}): number {
  const value = Number(text);
  const ok =
    text.trim() !== '' &&
    Number.isFinite(value) &&
    (rules.integer !== true || Number.isInteger(value)) &&
    (rules.min === undefined || value >= rules.min) &&
    (rules.positive !== true || value > 0);
  if (!ok) {
    const expected = rules.integer ? `an integer ≥ ${rules.min ?? 0}` : rules.positive ? 'a positive number' : 'a number';
    throw new UsageError(`${name}: expected ${expected}, got "${text}"`, command);
  }
  return value;
}

/** The signature-dictionary options of `seal` and `batch`. */
export const SIGNATURE_OPTIONS = {
  reason: { type: 'string' },
  location: { type: 'string' },
  contact: { type: 'string' },
  field: { type: 'string' },
  timestamp: { type: 'boolean' },
  'timestamp-best-effort': { type: 'boolean' },
  certify: { type: 'string' },
  // `--date-stamp` alone or `--date-stamp=FORMAT` (dateStampArgs makes the bare flag an empty value).
  'date-stamp': { type: 'string' },
  'no-date-stamp': { type: 'boolean' },
  'time-zone': { type: 'string' },
} as const;

const CERTIFICATIONS: Record<string, Certification> = {
  'no-changes': Certification.NO_CHANGES,
  'form-filling': Certification.FORM_FILLING,
};

/**
 * `--date-stamp [FORMAT]`: parseArgs has no optional values, so a bare `--date-stamp` becomes `--date-stamp=` (the
 * seal's or the default format) and a format is given as `--date-stamp=YYYY-MM-DD`.
 */
export function dateStampArgs(args: readonly string[]): string[] {
  return args.map((arg) => (arg === '--date-stamp' ? '--date-stamp=' : arg));
}

/**
 * The proto SignatureOptions they make (an unset --timestamp leaves the server's default; --timestamp-best-effort
 * asks for a time-stamp that, should the TSAs fail, is left out and reported instead of failing the seal).
 */
export function signatureOptionsFrom(values: {
  reason?: string;
  location?: string;
  contact?: string;
  field?: string;
  timestamp?: boolean;
  'timestamp-best-effort'?: boolean;
  certify?: string;
  'date-stamp'?: string;
  'no-date-stamp'?: boolean;
  'time-zone'?: string;
}, command = 'seal'): MessageInitShape<typeof SignatureOptionsSchema> {
  const certification = values.certify === undefined ? Certification.UNSPECIFIED : CERTIFICATIONS[values.certify];
  if (certification === undefined) {
    throw new UsageError(`--certify: expected no-changes or form-filling, got "${values.certify}"`, command);
  }
  const stamp = values['date-stamp'];
  if (stamp !== undefined && values['no-date-stamp'] === true) {
    throw new UsageError('--date-stamp and --no-date-stamp exclude each other', command);
  }
  return {
    ...(stamp === undefined ? {} : { dateStamp: { enabled: true, format: stamp } }),
    ...(values['no-date-stamp'] === true ? { dateStamp: { enabled: false } } : {}),
    reason: values.reason ?? '',
    location: values.location ?? '',
    contactInfo: values.contact ?? '',
    fieldName: values.field ?? '',
    ...(values.timestamp === undefined ? {} : { timestamp: values.timestamp }),
    ...(values['timestamp-best-effort'] === true ? { timestampMode: TimestampMode.BEST_EFFORT } : {}),
    certification,
    timeZone: values['time-zone'] ?? '',
  };
}
