/**
 * The bot as it ships: src/cli.ts bundled by esbuild into dist/cli.js, with one chunk per part
 * loaded on demand (serve, doctor, each store). Node 20 resolves, reads and links each module of
 * an unbundled build on its own, about 330 of them before a `status` sends its first SSH packet:
 * the bundle saves a terminal command ~0.1 s of start-up and the container's health check as
 * much CPU each time it runs (bench/results.md). Type-checking stays with tsc (`npm run build`).
 *
 * Only our code and the pure-JavaScript packages the CLI itself uses are bundled (node-ssh in a chunk
 * loaded at the first SSH connect, so that commands which never connect skip ssh2). The others
 * (native addons, Bolt, pg, umzug, …) stay in node_modules and load at run time exactly as they
 * were tested, found from dist/ as from src/: dist/ must stay beside node_modules.
 */
import { readFile, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const REPO = fileURLToPath(new URL("..", import.meta.url));

/** The CLI's pure-JavaScript packages; each was checked to run bundled (zod, yaml: ESM; the rest plain CommonJS). */
const BUNDLED = ["zod", "yaml", "dayjs", "fastest-levenshtein", "node-ssh"];

/** Every other dependency (and its subpaths) is loaded from node_modules, and ssh2 (node-ssh's), a native addon. */
async function external(): Promise<string[]> {
  const pkg = JSON.parse(await readFile(`${REPO}package.json`, "utf8")) as {
    dependencies: Record<string, string>;
  };
  return [...Object.keys(pkg.dependencies).filter((d) => !BUNDLED.includes(d)), "ssh2"];
}

/** Bundles the CLI into `outdir` (emptied first; `tsx scripts/build.ts [OUTDIR]`); returns the entry's path. */
async function bundle(outdir = `${REPO}dist`): Promise<string> {
  await rm(outdir, { recursive: true, force: true });
  await build({
    absWorkingDir: REPO,
    entryPoints: { cli: "src/cli.ts" },
    outdir,
    chunkNames: "chunks/[name]-[hash]",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    external: await external(),
    // The CommonJS packages inside the bundle call require(); an ES module has none of its own.
    banner: {
      js: 'import { createRequire as __mailqRequire } from "node:module";\nconst require = __mailqRequire(import.meta.url);',
    },
    sourcemap: "linked",
    logLevel: "warning",
  });
  return `${outdir}/cli.js`;
}

console.log(`built ${await bundle(process.argv[2])}`);
