// A stand-in for fetch that reads files from disk, for running the page's
// modules in node without a browser; every path asked for is recorded in
// `fetched`. A missing file answers 404, as a server would.
import { readFile } from "node:fs/promises";

export const fetched = new Set();

export function readFromDisk() {
  globalThis.fetch = async (path) => {
    fetched.add(path);
    try {
      const body = await readFile(path);
      const buffer = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength);
      return { ok: true, status: 200, json: async () => JSON.parse(body.toString("utf8")), arrayBuffer: async () => buffer };
    } catch {
      return { ok: false, status: 404 };
    }
  };
}
