/**
 * The proto Placement (seald.v1.Placement) as the engine's Placement, for Seal and Locate alike. Checks here are the
 * ones the wire format needs (a kind is set, numbers are finite and positive); page specs, edges of pages and
 * keywords are checked by the planner against the document.
 */
import type { Anchor as EngineAnchor, Edge as EngineEdge, Length as EngineLength, Occurrence as EngineOccurrence, Placement } from '../engine/placements.ts';
import { SealdError } from '../errors.ts';
import { Anchor, Edge, LengthUnit, Occurrence, type Length, type Placement as ProtoPlacement } from '../gen/seald/v1/seald_pb.ts';

export function placementOf(given: ProtoPlacement | undefined): Placement {
  const kind = given?.kind;
  if (kind === undefined || kind.case === undefined) {
    // A placement kind newer than this server arrives as an unknown field: the oneof reads as unset.
    throw new SealdError(
      'invalid-input',
      'PLACEMENT_REQUIRED',
      given === undefined ? 'the header needs a placement' : 'the placement kind is not set, or not supported by this server',
    );
  }
  switch (kind.case) {
    case 'position': {
      const { page, x, y } = kind.value;
      if (page < 1) throw new SealdError('invalid-input', 'PAGE_INVALID', 'placement.position.page must be 1 or more');
      finite('placement.position', { x, y });
      return { page, x, y, ...size('placement.position', kind.value) };
    }
    case 'multiPage': {
      const { pages, x, y } = kind.value;
      finite('placement.multi_page', { x, y });
      return { kind: 'multi-page', pages: required('placement.multi_page.pages', pages), x, y, ...size('placement.multi_page', kind.value) };
    }
    case 'crossPage': {
      const v = kind.value;
      return {
        kind: 'cross-page',
        ...(v.pages === '' ? {} : { pages: v.pages }),
        edge: EDGES[v.edge] ?? invalid(`placement.cross_page.edge ${v.edge} is not a known edge`),
        ...(v.along === undefined ? {} : { along: finite('placement.cross_page', { along: v.along }).along }),
        ...(v.maxPages === 0 ? {} : { maxPages: v.maxPages }),
        ...(v.minStripWidth === undefined ? {} : { minStripWidth: positive('placement.cross_page.min_strip_width', v.minStripWidth) }),
        skipFirst: v.skipFirst,
        skipLast: v.skipLast,
        ...size('placement.cross_page', v),
      };
    }
    case 'keyword': {
      const v = kind.value;
      const { dx, dy } = finite('placement.keyword', { dx: v.dx, dy: v.dy });
      return {
        kind: 'keyword',
        keyword: required('placement.keyword.keyword', v.keyword),
        occurrence: occurrenceOf(v.occurrence, v.index, v.hits),
        ...(v.pages === '' ? {} : { pages: v.pages }),
        dx,
        dy,
        ...size('placement.keyword', v),
      };
    }
    case 'relative': {
      const v = kind.value;
      const anchor = ANCHORS[v.anchor];
      if (anchor === undefined) {
        return invalid(v.anchor === Anchor.UNSPECIFIED ? 'placement.relative.anchor is required' : `placement.relative.anchor ${v.anchor} is not a known anchor`);
      }
      return {
        kind: 'relative',
        pages: required('placement.relative.pages', v.pages),
        anchor,
        ...(v.marginX === undefined ? {} : { marginX: lengthOf('placement.relative.margin_x', v.marginX) }),
        ...(v.marginY === undefined ? {} : { marginY: lengthOf('placement.relative.margin_y', v.marginY) }),
        ...size('placement.relative', v),
      };
    }
    default: {
      // Reachable once the proto grows a placement kind this server does not implement yet.
      const name = (kind as { case: string }).case;
      throw new SealdError('invalid-input', 'PLACEMENT_UNSUPPORTED', `placement kind "${name}" is not supported`);
    }
  }
}

const EDGES: Record<number, EngineEdge> = {
  [Edge.UNSPECIFIED]: 'right',
  [Edge.RIGHT]: 'right',
  [Edge.LEFT]: 'left',
  [Edge.TOP]: 'top',
  [Edge.BOTTOM]: 'bottom',
};

const ANCHORS: Record<number, EngineAnchor> = {
  [Anchor.TOP_LEFT]: 'top-left',
  [Anchor.TOP]: 'top',
  [Anchor.TOP_RIGHT]: 'top-right',
  [Anchor.LEFT]: 'left',
  [Anchor.CENTRE]: 'centre',
  [Anchor.RIGHT]: 'right',
  [Anchor.BOTTOM_LEFT]: 'bottom-left',
  [Anchor.BOTTOM]: 'bottom',
  [Anchor.BOTTOM_RIGHT]: 'bottom-right',
};

const UNITS: Record<number, EngineLength['unit']> = {
  [LengthUnit.UNSPECIFIED]: 'pt',
  [LengthUnit.POINT]: 'pt',
  [LengthUnit.MILLIMETRE]: 'mm',
  [LengthUnit.PERCENT]: '%',
};

function lengthOf(where: string, length: Length): EngineLength {
  const unit = UNITS[length.unit] ?? invalid(`${where}.unit ${length.unit} is not a known unit`);
  finite(where, { value: length.value });
  return { value: length.value, unit };
}

function occurrenceOf(occurrence: Occurrence, index: number, hits: readonly number[]): EngineOccurrence {
  if (hits.length > 0 && occurrence !== Occurrence.HITS) invalid('placement.keyword.hits is only read with OCCURRENCE_HITS');
  switch (occurrence) {
    case Occurrence.UNSPECIFIED:
    case Occurrence.FIRST:
      return 'first';
    case Occurrence.LAST:
      return 'last';
    case Occurrence.ALL:
      return 'all';
    case Occurrence.INDEX:
      if (index < 1) return invalid('placement.keyword.index must be 1 or more with OCCURRENCE_INDEX');
      return index;
    case Occurrence.HITS:
      if (hits.length === 0) return invalid('placement.keyword.hits must name at least one hit with OCCURRENCE_HITS');
      if (hits.some((n) => n < 1)) return invalid('placement.keyword.hits are 1-based: 0 is no hit');
      return { hits: [...hits] };
    default:
      return invalid(`placement.keyword.occurrence ${occurrence as number} is not a known occurrence`);
  }
}

function size(where: string, v: { width?: number; height?: number }): { width?: number; height?: number } {
  const out: { width?: number; height?: number } = {};
  for (const name of ['width', 'height'] as const) {
    const value = v[name];
    if (value === undefined) continue;
    if (!Number.isFinite(value) || value <= 0) {
      throw new SealdError('invalid-input', 'SIZE_INVALID', `${where}.${name} must be a positive number of points`);
    }
    out[name] = value;
  }
  return out;
}

function finite<T extends Record<string, number>>(where: string, values: T): T {
  for (const [name, value] of Object.entries(values)) {
    if (!Number.isFinite(value)) {
      throw new SealdError('invalid-input', 'POSITION_INVALID', `${where}.${name} must be a finite number`);
    }
  }
  return values;
}

function positive(where: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) invalid(`${where} must be a positive number of points`);
  return value;
}

function required(where: string, value: string): string {
  if (value.trim() === '') invalid(`${where} is required`);
  return value;
}

function invalid(message: string): never {
  throw new SealdError('invalid-input', 'BAD_PLACEMENT', message);
}
