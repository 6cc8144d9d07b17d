// Types of scripts/test-tools.mjs, for the tests that import it.
export interface TestTool {
  /** The Debian package. */
  package: string;
  /** Programs the tests run, looked up on PATH. */
  commands: string[];
  /** Files the tests read by absolute path. */
  files: string[];
}
export interface MissingTool {
  package: string;
  /** The commands and files of that package not found. */
  missing: string[];
}
export type TestToolsPlan =
  | { action: 'none' }
  | { action: 'install'; packages: string[]; commands: string[][] }
  | { action: 'stop'; packages: string[]; message: string };

export declare const TEST_TOOLS: TestTool[];
export declare function onPath(command: string, pathVariable?: string): boolean;
export declare function missingTools(tools?: TestTool[], pathVariable?: string): MissingTool[];
export declare function planTestTools(missing: MissingTool[], host: { isRoot: boolean; hasAptGet: boolean }): TestToolsPlan;
export declare function ensureTestTools(): number;
