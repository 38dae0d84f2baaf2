/**
 * Unix socket files: refusing a live socket, replacing a stale one, and
 * publishing a new one with its final mode already set.
 *
 * @internal
 * @module
 */
import { chmod, link, lstat, mkdtemp, rename, rm, unlink } from "node:fs/promises";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { MAX_UNIX_PATH_BYTES } from "./address.js";

function errno(err: unknown): string | undefined {
  return typeof err === "object" && err !== null ? (err as NodeJS.ErrnoException).code : undefined;
}

/**
 * The error to report when the directory of the socket at `path` is unusable:
 * names `path` and its directory (never the private bind directory).
 */
function directoryError(path: string, err: unknown): unknown {
  const code = errno(err);
  const parent = dirname(path);
  const where = `cannot listen on unix://${path}`;
  if (code === "ENOENT") return new Error(`${where}: directory ${parent} does not exist`, { cause: err });
  if (code === "ENOTDIR") return new Error(`${where}: ${parent} is not a directory`, { cause: err });
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
    return new Error(`${where}: cannot create files in directory ${parent} (${code})`, { cause: err });
  }
  return err;
}

/** Whether something accepts connections on the socket at `path`. */
function isLive(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", (err) => {
      socket.destroy();
      const code = errno(err);
      if (code === "ECONNREFUSED" || code === "ENOENT") resolve(false);
      else reject(err);
    });
  });
}

/**
 * Makes `path` free for a new socket: nothing there is fine; a socket nobody
 * listens on is removed; a live socket or any other file is an error.
 *
 * @internal
 */
export async function clearStaleSocket(path: string): Promise<void> {
  let stats;
  try {
    stats = await lstat(path);
  } catch (err) {
    if (errno(err) === "ENOENT") return; // nothing there (bindUnixSocket checks the directory)
    if (errno(err) === "ENOTDIR") throw directoryError(path, err);
    throw err;
  }
  const address = `unix://${path}`;
  if (!stats.isSocket()) {
    throw new Error(`cannot listen on ${address}: the path exists and is not a socket; remove it or pick another path`);
  }
  if (await isLive(path)) {
    throw new Error(`cannot listen on ${address}: another server is listening there (address in use)`);
  }
  try {
    await unlink(path);
  } catch (err) {
    if (errno(err) !== "ENOENT") throw err;
  }
}

/** The identity of the socket file we published, to remove only our own. */
export interface SocketFile {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
}

/**
 * Binds through `bind(address)` so the socket appears at `path` with `mode`
 * from its first moment: it is created in a fresh 0700 directory next to
 * `path`, chmod-ed there, then hard-linked into place (which, unlike rename,
 * never replaces a socket another server created meanwhile). When that
 * private path would be too long for a socket, binds at `path` directly and
 * chmods right after.
 *
 * @internal
 */
export async function bindUnixSocket(
  path: string,
  mode: number,
  bind: (address: string) => Promise<void>,
): Promise<SocketFile> {
  let dir: string;
  try {
    dir = await mkdtemp(join(dirname(path), ".tds-"));
  } catch (err) {
    // Report the path asked for, not the private directory made next to it.
    throw directoryError(path, err);
  }
  const tmp = join(dir, "s");
  try {
    if (Buffer.byteLength(tmp) > MAX_UNIX_PATH_BYTES) {
      await bind(`unix://${path}`);
      await chmod(path, mode);
    } else {
      await bind(`unix://${tmp}`);
      await chmod(tmp, mode);
      try {
        await link(tmp, path);
      } catch (err) {
        const code = errno(err);
        if (code === "EEXIST") {
          throw new Error(`cannot listen on unix://${path}: another server created the socket meanwhile (address in use)`);
        }
        // A filesystem without hard links for sockets: fall back to rename.
        await rename(tmp, path);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const stats = await lstat(path);
  return { path, dev: stats.dev, ino: stats.ino };
}

/** Removes the socket file if it is still the one we published. @internal */
export async function removeSocketFile(file: SocketFile): Promise<void> {
  try {
    const stats = await lstat(file.path);
    if (stats.dev === file.dev && stats.ino === file.ino) await unlink(file.path);
  } catch (err) {
    if (errno(err) !== "ENOENT") throw err;
  }
}
