/** The part of fontkit 2 (which ships no type declarations) that glyphs.ts uses. */
declare module 'fontkit' {
  export function openSync(path: string, postscriptName?: string): unknown;
}
