/**
 * The classes of change an update may make (changes.ts explains each) and the callback its analysers report with:
 * apart so that the analysers of fields, forms and the catalog need not import changes.ts.
 */
export type ChangeClass = 'signing' | 'metadata' | 'form-fill' | 'annotation' | 'forbidden';

export type Add = (cls: ChangeClass, kind: string, description: string, field?: string) => void;
