/** The file habits of provisioning: look without throwing, write atomically with an exact mode. */
import { constants } from 'node:fs';
import { access, chmod, readFile, rename, writeFile } from 'node:fs/promises';

export async function exists(file: string): Promise<boolean> {
  try {
    await access(file, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** The file's text, or undefined when it cannot be read. */
export async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Write via a temporary file and rename, so an interrupted start never leaves half a file behind. */
export async function writeAtomic(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, data, { mode });
  await chmod(temp, mode); // the umask may have narrowed or (for 0600) we want it exact
  await rename(temp, file);
}
