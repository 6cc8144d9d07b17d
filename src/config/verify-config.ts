/**
 * The `verify` section: the Verify RPC's defaults when a request leaves them unset (docs/verify.md).
 *
 *   verify:
 *     strict: false              # no annotation change after a signature (SEALD_VERIFY_STRICT)
 *     visual_check: true         # the visual shadow check, where pdftoppm is installed (SEALD_VERIFY_VISUAL_CHECK)
 *     visual_budget_ms: 10000    # its rendering time per document (unset: the engine's default)
 *     visual_max_pages: 10       # pages it compares per document (unset: the engine's default)
 */
import { configError, positiveInteger, type Table } from './values.ts';

/** The visual shadow check's operator settings; unset budgets take engine/verify/visual-check.ts's defaults. */
export interface VisualCheckSettings {
  enabled: boolean;
  budgetMs?: number;
  maxPages?: number;
}

export interface VerifySettings {
  strict: boolean;
  visual: VisualCheckSettings;
}

export const VERIFY_KEYS = ['strict', 'visual_check', 'visual_budget_ms', 'visual_max_pages'] as const;

export function verifyFrom(file: Table, strictEnv: string | undefined, visualEnv: string | undefined, source: string): VerifySettings {
  const flag = (key: string, env: string | undefined, envName: string): boolean | undefined => {
    const value = env !== undefined ? env : file[key];
    if (value === undefined || value === null) return undefined;
    if (![true, false, 'true', 'false'].includes(value as string | boolean)) throw configError(`verify.${key}`, 'expected true or false', env !== undefined ? envName : source);
    return value === true || value === 'true';
  };
  return {
    strict: flag('strict', strictEnv, 'SEALD_VERIFY_STRICT') ?? false,
    visual: {
      enabled: flag('visual_check', visualEnv, 'SEALD_VERIFY_VISUAL_CHECK') ?? true,
      ...(file.visual_budget_ms == null ? {} : { budgetMs: positiveInteger(file.visual_budget_ms, 'verify.visual_budget_ms', source) }),
      ...(file.visual_max_pages == null ? {} : { maxPages: positiveInteger(file.visual_max_pages, 'verify.visual_max_pages', source) }),
    },
  };
}
