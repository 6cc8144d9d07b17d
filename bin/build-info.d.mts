// Types of bin/build-info.mjs, for the tests that import it.
export declare const BUILD_INFO: string;
export declare function sourceFingerprint(root: string): string | undefined;
export declare function chooseEntry(root: string, env?: NodeJS.ProcessEnv): { entry: 'dist' | 'source'; reason: string };
