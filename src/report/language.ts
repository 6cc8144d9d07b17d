/** The languages a verification report is written in, and the default one from the locale (POSIX: LC_ALL, LC_MESSAGES, LANG). */

export type ReportLanguage = 'zh' | 'en';

export const REPORT_LANGUAGES: readonly ReportLanguage[] = ['zh', 'en'];

export function isReportLanguage(value: string): value is ReportLanguage {
  return (REPORT_LANGUAGES as readonly string[]).includes(value);
}

/** zh when the locale that decides messages starts with `zh` (zh_CN.UTF-8, zh_TW…), else en. */
export function languageFromLocale(env: NodeJS.ProcessEnv): ReportLanguage {
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  return locale.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}
